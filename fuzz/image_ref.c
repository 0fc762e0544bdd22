/* fuzz/image_ref.c — libFuzzer harness for image reference parsing (src/image/reference.c):
 * names typed by users and names inside archives (RepoTags, OCI annotations).  What
 * normalizes must split back into a repository and a tag, and normalize to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *in = malloc(size + 1);
        memcpy(in, data, size);
        in[size] = '\0';
        berth_error_t err = NULL;
        char *out = NULL;
        if (img_ref_normalize(in, &out, &err) == 0) {
                char *again = NULL;
                if (img_ref_normalize(out, &again, &err) != 0 || strcmp(out, again) != 0)
                        abort(); /* normalizing is idempotent */
                char *repo, *tag;
                img_ref_split(out, &repo, &tag);
                if (repo[0] == '\0')
                        abort();
                free(repo);
                free(tag);
                free(again);
                free(out);
        }
        berth_error_release(&err);
        free(in);
        return 0;
}
