/* platform.c — a platform as `docker pull --platform` and the Engine API's `platform` name it
 * ("os[/arch[/variant]]", or an architecture alone), normalised as containerd does
 * (x86_64 is amd64, aarch64 is arm64), and matched against an image index's entries. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "image/image.h"

static const char *const known_os[] = {"linux", "windows", "darwin", "freebsd"};

static const struct {
        const char *alias, *arch, *variant;
} arch_aliases[] = {
        {"x86_64", "amd64", ""}, {"x86-64", "amd64", ""}, {"aarch64", "arm64", ""},
        {"armhf", "arm", "v7"},  {"armel", "arm", "v6"},  {"i386", "386", ""},
};

static const char *const known_arch[] = {"amd64",   "arm64", "arm",     "386",
                                         "ppc64le", "s390x", "riscv64", "mips64le"};

static bool in(const char *s, const char *const *list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(s, list[i]) == 0)
                        return true;
        return false;
}

static bool word_ok(const char *s)
{
        if (*s == '\0')
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && *s != '_' && *s != '-')
                        return false;
        return true;
}

static void set_arch(struct img_platform *p, const char *arch)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(arch_aliases); i++)
                if (strcmp(arch, arch_aliases[i].alias) == 0) {
                        snprintf(p->arch, sizeof(p->arch), "%s", arch_aliases[i].arch);
                        if (p->variant[0] == '\0')
                                snprintf(p->variant, sizeof(p->variant), "%s",
                                         arch_aliases[i].variant);
                        return;
                }
        snprintf(p->arch, sizeof(p->arch), "%s", arch);
}

void img_platform_host(struct img_platform *p)
{
        memset(p, 0, sizeof(*p));
        snprintf(p->os, sizeof(p->os), "linux");
        snprintf(p->arch, sizeof(p->arch), "%s", img_host_arch());
}

int img_platform_parse(const char *s, struct img_platform *p, berth_error_t *err)
{
        img_platform_host(p);
        char buf[3 * IMG_PLATFORM_WORD];
        if (s == NULL || strlen(s) >= sizeof(buf))
                goto bad;
        for (size_t i = 0;; i++) {
                buf[i] = (char) tolower((unsigned char) s[i]);
                if (s[i] == '\0')
                        break;
        }
        char *parts[4] = {0};
        size_t n = 0;
        for (char *save = NULL, *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
                if (n == 3 || !word_ok(t) || strlen(t) >= IMG_PLATFORM_WORD)
                        goto bad;
                parts[n++] = t;
        }
        if (n == 0 || s[0] == '/' || s[strlen(s) - 1] == '/' || strstr(s, "//"))
                goto bad;
        if (n == 1) {
                /* one word: an operating system (this host's architecture) or an architecture */
                if (in(parts[0], known_os, BERTH_ARRAY_SIZE(known_os))) {
                        snprintf(p->os, sizeof(p->os), "%s", parts[0]);
                        return 0;
                }
                bool alias = false;
                for (size_t i = 0; i < BERTH_ARRAY_SIZE(arch_aliases); i++)
                        alias = alias || strcmp(parts[0], arch_aliases[i].alias) == 0;
                if (!alias && !in(parts[0], known_arch, BERTH_ARRAY_SIZE(known_arch)))
                        goto bad;
                p->arch[0] = '\0';
                set_arch(p, parts[0]);
                return 0;
        }
        snprintf(p->os, sizeof(p->os), "%s", parts[0]);
        if (n == 3)
                snprintf(p->variant, sizeof(p->variant), "%s", parts[2]);
        set_arch(p, parts[1]);
        /* arm64's only variant is v8: naming it asks for nothing more */
        if (strcmp(p->arch, "arm64") == 0 && strcmp(p->variant, "v8") == 0)
                p->variant[0] = '\0';
        return 0;
bad:
        /* containerd's words, which dockerd passes on */
        return berth_fail_status(
                err, 1, 0, "\"%s\": unknown operating system or architecture: invalid argument",
                s ? s : "");
}

bool img_platform_match(const struct img_platform *want, const char *os, const char *arch,
                        const char *variant)
{
        if (os == NULL || arch == NULL || strcmp(os, want->os) != 0)
                return false;
        struct img_platform got = {0};
        if (variant)
                snprintf(got.variant, sizeof(got.variant), "%s", variant);
        set_arch(&got, arch);
        if (strcmp(got.arch, want->arch) != 0)
                return false;
        if (strcmp(got.arch, "arm64") == 0 && strcmp(got.variant, "v8") == 0)
                got.variant[0] = '\0';
        return want->variant[0] == '\0' || strcmp(got.variant, want->variant) == 0;
}

void img_platform_format(const struct img_platform *p, char *buf, size_t len)
{
        snprintf(buf, len, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "", p->variant);
}
