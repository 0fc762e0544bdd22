/* import.c — `berth import`: a root filesystem tarball becomes a one-layer
 * image, with Dockerfile-style --change lines applied to its config. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "common/units.h"
#include "common/util.h"
#include "image/image.h"

void img_config_add_layer(json_t *cfg, const char *diffid)
{
        json_t *rootfs = json_object_get(cfg, "rootfs");
        if (!json_is_object(rootfs) || !json_is_array(json_object_get(rootfs, "diff_ids"))) {
                rootfs = json_pack("{s:s, s:[]}", "type", "layers", "diff_ids");
                json_object_set_new(cfg, "rootfs", rootfs);
        }
        if (diffid)
                json_array_append_new(json_object_get(rootfs, "diff_ids"), json_string(diffid));
}

const char *img_host_arch(void)
{
        struct utsname u;
        return uname(&u) == 0 && strcmp(u.machine, "aarch64") == 0 ? "arm64" : "amd64";
}

char *img_now_rfc3339(void)
{
        /* Go's RFC3339Nano: trailing zeros of the fraction trimmed.  Go tools (skopeo)
         * re-serialize configs; written any other way, the image ID would change */
        char buf[64];
        berth_rfc3339(berth_now_ns(), true, buf, sizeof(buf));
        return berth_xstrdup(buf);
}

/* JSON array form ["a","b"] or shell form (wrapped in /bin/sh -c). */
static json_t *cmd_form(const char *arg, bool shell)
{
        json_t *j = json_loads(arg, JSON_DECODE_ANY, NULL);
        if (json_is_array(j)) {
                size_t i;
                json_t *v;
                bool strings = true;
                json_array_foreach(j, i, v)
                {
                        strings &= json_is_string(v);
                }
                if (strings)
                        return j;
        }
        json_decref(j);
        if (!shell)
                return NULL;
        return json_pack("[s,s,s]", "/bin/sh", "-c", arg);
}

/* "A=1 B=2" or "A 1" → pairs, calling fn on each. */
static int key_values(const char *arg, json_t *obj, bool env, berth_error_t *err)
{
        cleanup_free char *copy = berth_xstrdup(arg);
        if (strchr(copy, '=') == NULL) {
                char *sp = strpbrk(copy, " \t");
                if (sp == NULL)
                        return berth_fail(err, EINVAL, "`%s`: expected KEY=VALUE or KEY VALUE",
                                          arg);
                *sp++ = '\0';
                while (*sp == ' ' || *sp == '\t')
                        sp++;
                json_object_set_new(obj, copy, json_string(sp));
                return 0;
        }
        char *save = NULL;
        for (char *kv = strtok_r(copy, " \t", &save); kv; kv = strtok_r(NULL, " \t", &save)) {
                char *eq = strchr(kv, '=');
                if (eq == NULL || eq == kv)
                        return berth_fail(err, EINVAL, "`%s`: expected KEY=VALUE", kv);
                *eq++ = '\0';
                size_t n = strlen(eq);
                if (n >= 2 && (eq[0] == '"' || eq[0] == '\'') && eq[n - 1] == eq[0]) {
                        eq[n - 1] = '\0';
                        eq++;
                }
                json_object_set_new(obj, kv, json_string(eq));
        }
        (void) env;
        return 0;
}

static int apply_env(json_t *c, const char *arg, berth_error_t *err)
{
        json_t *kv = json_object();
        if (key_values(arg, kv, true, err) < 0) {
                json_decref(kv);
                return -1;
        }
        json_t *env = json_object_get(c, "Env");
        if (!json_is_array(env)) {
                env = json_array();
                json_object_set_new(c, "Env", env);
        }
        const char *k;
        json_t *v;
        json_object_foreach(kv, k, v)
        {
                cleanup_free char *line = berth_xasprintf("%s=%s", k, json_string_value(v));
                size_t klen = strlen(k), i;
                json_t *old;
                bool replaced = false;
                json_array_foreach(env, i, old)
                {
                        const char *o = json_string_value(old);
                        if (o && strncmp(o, k, klen) == 0 && o[klen] == '=') {
                                json_array_set_new(env, i, json_string(line));
                                replaced = true;
                                break;
                        }
                }
                if (!replaced)
                        json_array_append_new(env, json_string(line));
        }
        json_decref(kv);
        return 0;
}

static json_t *obj_field(json_t *c, const char *key)
{
        json_t *o = json_object_get(c, key);
        if (!json_is_object(o)) {
                o = json_object();
                json_object_set_new(c, key, o);
        }
        return o;
}

int img_config_apply_change(json_t *cfg, const char *change, berth_error_t *err)
{
        while (*change == ' ' || *change == '\t')
                change++;
        const char *sp = strpbrk(change, " \t");
        if (sp == NULL)
                return berth_fail(err, EINVAL, "invalid change `%s`: no argument", change);
        cleanup_free char *instr = berth_xasprintf("%.*s", (int) (sp - change), change);
        const char *arg = sp;
        while (*arg == ' ' || *arg == '\t')
                arg++;
        for (char *p = instr; *p; p++)
                *p = (char) (*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        json_t *c = obj_field(cfg, "config");
        if (strcmp(instr, "CMD") == 0 || strcmp(instr, "ENTRYPOINT") == 0) {
                json_t *v = cmd_form(arg, true);
                json_object_set_new(c, instr[0] == 'C' ? "Cmd" : "Entrypoint", v);
        } else if (strcmp(instr, "ENV") == 0) {
                return apply_env(c, arg, err);
        } else if (strcmp(instr, "LABEL") == 0) {
                return key_values(arg, obj_field(c, "Labels"), false, err);
        } else if (strcmp(instr, "WORKDIR") == 0) {
                json_object_set_new(c, "WorkingDir", json_string(arg));
        } else if (strcmp(instr, "USER") == 0) {
                json_object_set_new(c, "User", json_string(arg));
        } else if (strcmp(instr, "STOPSIGNAL") == 0) {
                json_object_set_new(c, "StopSignal", json_string(arg));
        } else if (strcmp(instr, "EXPOSE") == 0) {
                cleanup_free char *copy = berth_xstrdup(arg);
                char *save = NULL;
                json_t *ports = obj_field(c, "ExposedPorts");
                for (char *p = strtok_r(copy, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
                        cleanup_free char *key =
                                strchr(p, '/') ? berth_xstrdup(p) : berth_xasprintf("%s/tcp", p);
                        json_object_set_new(ports, key, json_object());
                }
        } else if (strcmp(instr, "VOLUME") == 0) {
                json_t *vols = obj_field(c, "Volumes");
                json_t *arr = cmd_form(arg, false);
                if (arr) {
                        size_t i;
                        json_t *v;
                        json_array_foreach(arr, i, v)
                        {
                                json_object_set_new(vols, json_string_value(v), json_object());
                        }
                        json_decref(arr);
                } else {
                        cleanup_free char *copy = berth_xstrdup(arg);
                        char *save = NULL;
                        for (char *p = strtok_r(copy, " \t", &save); p;
                             p = strtok_r(NULL, " \t", &save))
                                json_object_set_new(vols, p, json_object());
                }
        } else {
                /* Docker's words, the instruction lowercased as its parser has it (CMD,
                 * ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME and WORKDIR are) */
                for (char *p = instr; *p; p++)
                        *p = (char) tolower((unsigned char) *p);
                return berth_fail(err, EINVAL, "%s is not a valid change command", instr);
        }
        return 0;
}

json_t *img_config_new(void)
{
        cleanup_free char *now = img_now_rfc3339();
        return json_pack("{s:s, s:s, s:s, s:{}, s:{s:s, s:[]}, s:[]}", "created", now,
                         "architecture", img_host_arch(), "os", "linux", "config", "rootfs", "type",
                         "layers", "diff_ids", "history");
}

int img_import_rootfs(struct img_store *s, int fd, const char *name,
                      const struct img_change *change, char out[IMG_DIGEST_MAX], berth_error_t *err)
{
        /* the tarball is stored as it came (compressed or not); its diffID is
         * the digest of the uncompressed stream, read back from the temporary
         * file before the blob becomes visible, so a broken tarball never does */
        /* the --change instructions first: a bad one must not cost the whole tarball
         * (which may be stdin, not to be sent twice) nor leave its blob behind */
        json_t *cfg = img_config_new();
        for (size_t i = 0; change && i < change->n; i++) {
                if (img_config_apply_change(cfg, change->changes[i], err) < 0) {
                        json_decref(cfg);
                        return -1;
                }
        }
        struct img_desc layer = {0};
        struct img_blob_writer w;
        if (img_blob_begin(s, &w, err) < 0) {
                json_decref(cfg);
                return -1;
        }
        if (img_blob_write_fd(&w, fd, err) < 0) {
                img_blob_abort(&w);
                json_decref(cfg);
                return berth_wrap(err, "read the tarball");
        }
        char diffid[IMG_DIGEST_MAX];
        if (lseek(w.fd, 0, SEEK_SET) < 0 || img_layer_diffid(w.fd, diffid, NULL, err) < 0) {
                img_blob_abort(&w);
                json_decref(cfg);
                return berth_wrap(err, "read the tarball");
        }
        cleanup_free char *mt = berth_xstrdup(img_layer_media_type(w.fd));
        layer.media_type = mt;
        layer.size = (int64_t) w.size;
        if (img_blob_commit(&w, NULL, layer.digest, err) < 0) {
                json_decref(cfg);
                return berth_wrap(err, "store the tarball");
        }
        img_config_add_layer(cfg, diffid);
        json_t *hist = json_pack("{s:O, s:s}", "created", json_object_get(cfg, "created"),
                                 "created_by", "berth import");
        if (change && change->message)
                json_object_set_new(hist, "comment", json_string(change->message));
        json_array_append_new(json_object_get(cfg, "history"), hist);
        int ret = img_image_commit(s, cfg, &layer, 1, name ? &name : NULL, name ? 1 : 0, out, err);
        if (ret == 0)
                img_event(s, out, "import", NULL);
        json_decref(cfg);
        return ret;
}
