/* detach.c — detach keys in an input stream (see detach.h). */
#include "engine/detach.h"

#include <string.h>

#include "common/util.h"

int eng_detach_init(struct eng_detach *d, const char *spec, berth_error_t *err)
{
        *d = (struct eng_detach){0};
        const char *s = spec ? spec : "ctrl-p,ctrl-q";
        cleanup_free char *copy = berth_xstrdup(s);
        char *save = NULL;
        for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
                if (d->n == ENG_DETACH_MAX)
                        break;
                if (strncmp(k, "ctrl-", 5) == 0 && strlen(k) == 6) {
                        char ch = k[5];
                        if (ch >= 'a' && ch <= 'z')
                                d->keys[d->n++] = (unsigned char) (ch - 'a' + 1);
                        else if (ch >= '@' && ch <= '_')
                                d->keys[d->n++] = (unsigned char) (ch - '@');
                        else
                                goto bad;
                } else if (strlen(k) == 1) {
                        d->keys[d->n++] = (unsigned char) k[0];
                } else {
                        goto bad;
                }
        }
        if (d->n)
                return 0;
bad:
        d->n = 0;
        return berth_fail_status(err, 125, 0, "invalid detach keys (%s) provided", s);
}

bool eng_detach_filter(struct eng_detach *d, const char *in, size_t n, char *out, size_t *n_out)
{
        *n_out = 0;
        for (size_t i = 0; i < n; i++) {
                unsigned char b = (unsigned char) in[i];
                if (d->n && b == d->keys[d->matched]) {
                        if (++d->matched == d->n) {
                                d->matched = 0;
                                return true;
                        }
                        continue;
                }
                /* a broken match: what was held back is input after all */
                memcpy(out + *n_out, d->keys, d->matched);
                *n_out += d->matched;
                d->matched = 0;
                if (d->n && b == d->keys[0])
                        d->matched = 1;
                else
                        out[(*n_out)++] = (char) b;
        }
        return false;
}
