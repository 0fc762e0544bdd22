/* reference.c — image names as Docker spells them: [host[:port]/]path[:tag][@digest].
 * Names are kept in Docker's familiar form (docker.io/library/busybox is busybox),
 * with ":latest" added when neither a tag nor a digest is given. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "image/image.h"

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A path component: alnum runs joined by ".", "_", "__" or runs of "-". */
static bool component_valid(const char *s, size_t n)
{
        if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++) {
                if (is_lower_alnum(s[i]))
                        continue;
                if (s[i] == '.' || s[i] == '_') {
                        size_t run = 1;
                        while (i + run < n && s[i + run] == s[i])
                                run++;
                        if (s[i] == '.' && run > 1)
                                return false;
                        if (s[i] == '_' && run > 2)
                                return false;
                        i += run - 1;
                        continue;
                }
                if (s[i] == '-')
                        continue;
                return false;
        }
        return true;
}

static bool domain_valid(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '.' && s[i] != '-' && s[i] != ':')
                        return false;
        return true;
}

static bool tag_valid(const char *t)
{
        size_t n = strlen(t);
        if (n == 0 || n > 128 || !(isalnum((unsigned char) t[0]) || t[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!isalnum((unsigned char) t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
                        return false;
        return true;
}

/* Docker's "familiar" form: docker.io/library/x and docker.io/x are x. */
static const char *familiar(const char *in)
{
        static const char *const prefixes[] = {"docker.io/library/", "index.docker.io/library/",
                                               "docker.io/", "index.docker.io/"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(prefixes); i++) {
                if (!berth_str_has_prefix(in, prefixes[i]))
                        continue;
                /* not when what is left would read as a host of its own
                 * (docker.io/library/example.com/x): normalizing stays idempotent */
                const char *rest = in + strlen(prefixes[i]);
                const char *slash = strchr(rest, '/');
                if (slash && (memchr(rest, '.', (size_t) (slash - rest)) ||
                              memchr(rest, ':', (size_t) (slash - rest)) ||
                              strncmp(rest, "localhost/", 10) == 0))
                        return in;
                return rest;
        }
        return in;
}

static bool has_upper(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (isupper((unsigned char) s[i]))
                        return true;
        return false;
}

/* Why in is no reference, in the words of Docker's parser: the repository's path (what
 * follows the domain, with library/ for an official image, up to a ':') must be lowercase; a
 * first component is a domain when it has a '.' or ':', is localhost, or has capitals. */
static int invalid(const char *in, berth_error_t *err)
{
        const char *slash = strchr(in, '/');
        size_t n = slash ? (size_t) (slash - in) : 0;
        bool domain = slash && (memchr(in, '.', n) || memchr(in, ':', n) ||
                                (n == 9 && strncmp(in, "localhost", 9) == 0) || has_upper(in, n));
        const char *rest = domain ? slash + 1 : in;
        bool hub = !domain || (n == 9 && strncmp(in, "docker.io", 9) == 0) ||
                   (n == 15 && strncmp(in, "index.docker.io", 15) == 0);
        size_t rn = strcspn(rest, ":");
        if (has_upper(rest, rn))
                return berth_fail(err, 0,
                                  "invalid reference format: repository name (%s%.*s) must be "
                                  "lowercase",
                                  hub && !memchr(rest, '/', strlen(rest)) ? "library/" : "",
                                  (int) rn, rest);
        return berth_fail(err, 0, "invalid reference format");
}

int img_ref_normalize(const char *in, char **out, berth_error_t *err)
{
        cleanup_free char *s = berth_xstrdup(familiar(in));
        char *digest = strchr(s, '@');
        if (digest) {
                *digest++ = '\0';
                if (!img_digest_valid(digest))
                        return invalid(in, err);
        }
        char *slash = strrchr(s, '/');
        char *colon = strrchr(slash ? slash : s, ':');
        char *tag = NULL;
        if (colon) {
                *colon = '\0';
                tag = colon + 1;
                if (!tag_valid(tag))
                        return invalid(in, err);
        }
        /* s is now the name: the first part is a domain when it looks like a host. */
        const char *p = s;
        const char *first_slash = strchr(s, '/');
        if (first_slash) {
                size_t n = (size_t) (first_slash - s);
                bool host = memchr(s, '.', n) || memchr(s, ':', n) ||
                            (n == 9 && strncmp(s, "localhost", 9) == 0);
                if (host) {
                        if (!domain_valid(s, n))
                                return invalid(in, err);
                        p = first_slash + 1;
                }
        }
        if (*p == '\0' || strlen(s) > 255)
                return invalid(in, err);
        while (*p) {
                const char *e = strchr(p, '/');
                size_t n = e ? (size_t) (e - p) : strlen(p);
                if (!component_valid(p, n))
                        return invalid(in, err);
                p += n;
                if (*p == '/')
                        p++;
                if (e && *p == '\0')
                        return invalid(in, err);
        }
        if (digest)
                *out = tag ? berth_xasprintf("%s:%s@%s", s, tag, digest)
                           : berth_xasprintf("%s@%s", s, digest);
        else
                *out = berth_xasprintf("%s:%s", s, tag ? tag : "latest");
        return 0;
}

void img_ref_split(const char *name, char **repo, char **tag)
{
        cleanup_free char *s = berth_xstrdup(name);
        char *at = strchr(s, '@');
        if (at)
                *at = '\0';
        char *slash = strrchr(s, '/');
        char *colon = strrchr(slash ? slash : s, ':');
        if (colon) {
                *colon = '\0';
                *tag = berth_xstrdup(colon + 1);
        } else {
                *tag = berth_xstrdup("<none>");
        }
        *repo = berth_xstrdup(s);
}
