/* spec_driver.c — a test tool (not installed): `berth run` flags in, config.json out, through
 * eng_runflags_parse() and eng_spec_build(), so tests/e2e/spec.bats can run the result with runc
 * and look from inside the container.
 *
 *   spec_driver --rootfs DIR [--id ID] [--hostname H] [--init PATH] [--image-config FILE]
 *               [--volumes DIR] [--hosts FILE] [--cgroup PATH] [--rootless UID:GID]
 *               -- [RUN FLAGS] IMAGE [CMD...]
 *
 * Named volumes become DIR/NAME, anonymous ones DIR/anon-N; `container:NAME` modes take NAME as
 * a pid.  --rootless maps container root to the host's UID:GID (one id each) and sets
 * eng_spec_input.rootless.  Exit status: 0, or the error's status (125 for bad flags). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "engine/runflags.h"
#include "engine/spec.h"

static int volume(void *ctx, const char *name, const char *dest, bool nocopy, char **path,
                  berth_error_t *err)
{
        static int anon;
        const char *dir = ctx;
        *path = name ? berth_xasprintf("%s/%s", dir, name)
                     : berth_xasprintf("%s/anon-%d", dir, ++anon);
        return berth_mkdir_p(*path, 0755, err);
}

static int container_pid(void *ctx, const char *name, pid_t *pid, berth_error_t *err)
{
        *pid = (pid_t) atoi(name);
        if (*pid <= 0)
                return berth_fail(err, 0, "no such container: %s", name);
        return 0;
}

int main(int argc, char **argv)
{
        struct eng_spec_input in = {.id = "0123456789abcdef", .hostname = "0123456789ab"};
        const char *image_cfg = NULL;
        char *vols = NULL;
        int i;
        for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
                if (i + 1 >= argc)
                        return 2;
                const char *k = argv[i], *v = argv[i + 1];
                if (strcmp(k, "--rootfs") == 0)
                        in.rootfs = v;
                else if (strcmp(k, "--id") == 0)
                        in.id = v;
                else if (strcmp(k, "--hostname") == 0)
                        in.hostname = v;
                else if (strcmp(k, "--init") == 0)
                        in.init_path = v;
                else if (strcmp(k, "--image-config") == 0)
                        image_cfg = v;
                else if (strcmp(k, "--volumes") == 0)
                        vols = argv[i + 1];
                else if (strcmp(k, "--hosts") == 0)
                        in.hosts_path = v;
                else if (strcmp(k, "--cgroup") == 0)
                        in.cgroups_path = v;
                else if (strcmp(k, "--rootless") == 0) {
                        unsigned uid, gid;
                        if (sscanf(v, "%u:%u", &uid, &gid) != 2)
                                return 2;
                        in.rootless = true;
                        in.uid_mappings = json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
                                                    (json_int_t) uid, "size", 1);
                        in.gid_mappings = json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
                                                    (json_int_t) gid, "size", 1);
                } else
                        return 2;
        }
        if (i >= argc || in.rootfs == NULL) {
                fprintf(stderr, "usage: spec_driver --rootfs DIR [...] -- RUN-FLAGS IMAGE [CMD]\n");
                return 2;
        }
        berth_error_t err = NULL;
        struct eng_run_flags f = {0};
        static char run[] = "run";
        argv[i] = run;
        if (eng_runflags_parse(argc - i, argv + i, ENG_RUN_RUN, &f, &err) < 0)
                goto fail;
        json_error_t jerr;
        if (image_cfg && (in.image_config = json_load_file(image_cfg, 0, &jerr)) == NULL) {
                fprintf(stderr, "spec_driver: %s: %s\n", image_cfg, jerr.text);
                return 2;
        }
        const char *h = json_string_value(json_object_get(f.config, "Hostname"));
        if (h && *h)
                in.hostname = h;
        in.config = f.config;
        in.host_config = f.host_config;
        in.volume = vols ? volume : NULL;
        in.volume_ctx = vols;
        in.container_pid = container_pid;
        json_t *spec;
        if (eng_spec_build(&in, &spec, &err) < 0)
                goto fail;
        json_dumpf(spec, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(spec);
        json_decref(in.image_config);
        json_decref(in.uid_mappings);
        json_decref(in.gid_mappings);
        eng_runflags_release(&f);
        return 0;
fail:
        json_decref(in.image_config);
        eng_runflags_release(&f);
        fprintf(stderr, "berth: %s\n", berth_error_msg(err));
        int st = err->status ? err->status : 125;
        berth_error_release(&err);
        return st;
}
