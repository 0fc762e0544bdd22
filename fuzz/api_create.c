/* fuzz/api_create.c — libFuzzer harness for the body of the Engine API's POST
 * /containers/create: whatever a client sends on berth's socket is laid over the run flags'
 * defaults, shape-checked and normalised (src/api/containers_create.c).  A body the checks
 * let through must also survive the route and filter parsing around it.
 *
 * Input: the JSON body; its first byte's low bit picks whether a container name comes along.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/containers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_error_t je;
        json_t *body = json_loadb((const char *) data, size, JSON_DECODE_ANY, &je);
        if (body && json_is_object(body)) {
                struct eng_run_flags f;
                memset(&f, 0, sizeof(f));
                berth_error_t err = NULL;
                (void) api_create_flags(body, size && (data[0] & 1) ? "fuzzed" : NULL, &f, &err);
                berth_error_release(&err);
                eng_runflags_release(&f);
        }
        json_decref(body);
        /* the same bytes as a path against a pattern with both kinds of capture */
        char *path = malloc(size + 2);
        path[0] = '/';
        memcpy(path + 1, data, size);
        path[size + 1] = '\0';
        char *caps[API_MAX_PARAMS];
        int n = 0;
        (void) api_route_match("/images/{*}/push/{}", path, caps, &n);
        while (n > 0)
                free(caps[--n]);
        (void) api_version_parse(path + 1, size);
        free(path);
        return 0;
}
