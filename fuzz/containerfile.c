/* fuzz/containerfile.c — libFuzzer harness for the Containerfile parser and word processor
 * (src/image/containerfile.c): every instruction's arguments go through substitution and
 * splitting as the builder does it.  Instructions parsed have a known name and a line within
 * the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/containerfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lookup(void *ctx, const char *name)
{
        (void) ctx;
        return name[0] == 'A' ? "value with spaces" : name[0] == 'E' ? "" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *in = malloc(size + 1);
        memcpy(in, data, size);
        in[size] = '\0';
        int lines = 1;
        for (size_t i = 0; i < size; i++)
                lines += data[i] == '\n';
        berth_error_t err = NULL;
        struct img_cf cf;
        if (img_cf_parse(in, &cf, &err) == 0) {
                for (size_t i = 0; i < cf.n; i++) {
                        if (cf.v[i].line < 1 || cf.v[i].line > lines || cf.v[i].cmd[0] == '\0')
                                abort();
                        for (int split = 0; split < 2; split++) {
                                char **w = NULL;
                                size_t n = 0;
                                if (img_cf_words(cf.v[i].rest, lookup, NULL, split, &w, &n, &err) ==
                                    0)
                                        img_cf_words_free(w, n);
                                berth_error_release(&err);
                        }
                }
                img_cf_free(&cf);
        }
        berth_error_release(&err);
        free(in);
        return 0;
}
