/* fuzz/runflags.c — libFuzzer harness for the `berth run` flag parser, which reads whatever a
 * user (or a script built from untrusted names) puts on the command line.
 *
 * Input: argv words separated by newlines (at most 64).  Words naming files are dropped so the
 * fuzzer doesn't wander the host's filesystem (--env-file, --label-file, seccomp=FILE read
 * files; /dev/zero would be slow, not a bug).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/runflags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = malloc(size + 1);
        memcpy(text, data, size);
        text[size] = '\0';
        char *argv[66];
        int argc = 0;
        static char run[] = "run";
        argv[argc++] = run;
        for (char *s = NULL, *w = strtok_r(text, "\n", &s); w && argc < 65;
             w = strtok_r(NULL, "\n", &s)) {
                if (strstr(w, "file") || strchr(w, '/'))
                        continue;
                argv[argc++] = w;
        }
        argv[argc] = NULL;
        struct eng_run_flags f;
        berth_error_t err = NULL;
        if (eng_runflags_parse(argc, argv, (size & 1) ? ENG_RUN_CREATE : ENG_RUN_RUN, &f, &err) ==
            0)
                eng_runflags_release(&f);
        berth_error_release(&err);
        free(text);
        return 0;
}
