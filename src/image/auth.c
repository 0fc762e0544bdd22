/* auth.c — registry credentials in Docker's config.json shape:
 *   {"auths": {"127.0.0.1:5000": {"auth": "<base64 of user:password>"}}}
 * kept in one file, mode 0600, rewritten atomically. */
#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "image/image.h"

static json_t *auth_load(const char *path, berth_error_t *err)
{
        cleanup_free char *buf = NULL;
        size_t len = 0;
        berth_error_t sub = NULL;
        if (berth_read_file(path, &buf, &len, &sub) < 0) {
                bool missing = sub->errnum == ENOENT;
                berth_error_release(&sub);
                if (missing)
                        return json_pack("{s:{}}", "auths");
                berth_fail(err, errno, "read credentials `%s`", path);
                return NULL;
        }
        json_t *j = json_loadb(buf, len, 0, NULL);
        if (!json_is_object(j)) {
                json_decref(j);
                berth_fail(err, EINVAL, "parse credentials `%s`", path);
                return NULL;
        }
        if (!json_is_object(json_object_get(j, "auths")))
                json_object_set_new(j, "auths", json_object());
        return j;
}

static int auth_save(const char *path, json_t *j, berth_error_t *err)
{
        cleanup_free char *text = json_dumps(j, JSON_INDENT(2));
        return berth_write_file_atomic(path, text, strlen(text), 0600, err);
}

int img_auth_get(const char *auth_file, const char *registry, char **user, char **password,
                 berth_error_t *err)
{
        *user = *password = NULL;
        if (auth_file == NULL)
                return 0;
        json_t *j = auth_load(auth_file, err);
        if (j == NULL)
                return -1;
        const char *b64 = json_string_value(
                json_object_get(json_object_get(json_object_get(j, "auths"), registry), "auth"));
        size_t got = 0;
        cleanup_free char *raw = b64 ? img_base64_decode(b64, &got) : NULL;
        char *colon = raw ? strchr(raw, ':') : NULL;
        if (colon) {
                *colon = '\0';
                *user = berth_xstrdup(raw);
                *password = berth_xstrdup(colon + 1);
                explicit_bzero(raw, got);
        }
        json_decref(j);
        return 0;
}

int img_auth_put(const char *auth_file, const char *registry, const char *user,
                 const char *password, berth_error_t *err)
{
        json_t *j = auth_load(auth_file, err);
        if (j == NULL)
                return -1;
        cleanup_free char *plain = berth_xasprintf("%s:%s", user, password);
        cleanup_free char *b64 = img_base64_encode(plain, strlen(plain));
        explicit_bzero(plain, strlen(plain));
        json_object_set_new(json_object_get(j, "auths"), registry, json_pack("{s:s}", "auth", b64));
        int ret = auth_save(auth_file, j, err);
        json_decref(j);
        return ret;
}

int img_logout(const char *auth_file, const char *registry, berth_error_t *err)
{
        json_t *j = auth_load(auth_file, err);
        if (j == NULL)
                return -1;
        int ret = 0;
        if (json_object_del(json_object_get(j, "auths"), registry) == 0)
                ret = auth_save(auth_file, j, err) < 0 ? -1 : 1;
        json_decref(j);
        return ret;
}
