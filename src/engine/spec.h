/* spec.h — from a container as Docker describes it (Config, HostConfig, the image's config) to
 * the OCI runtime-spec 1.1 config.json that berth-oci (or runc) runs, with Docker's semantics:
 * env merging, entrypoint/cmd rules, --user resolved in the rootfs's /etc/passwd and /etc/group,
 * Docker's default capabilities, mounts, masked paths, devices and seccomp profile, resources,
 * namespaces per --network/--ipc/--pid/--uts, --init, --read-only, --privileged.
 *
 *   struct eng_spec_input in = {
 *           .config = f.config, .host_config = f.host_config, .image_config = img_cfg,
 *           .rootfs = "/var/lib/berth/…/merged", .id = id, .hostname = "4f2a…",
 *           .hosts_path = …, .hostname_path = …, .resolv_path = …,
 *           .cgroups_path = "/berth/<id>", .init_path = "/usr/libexec/berth/init",
 *           .volume = resolve_volume, .volume_ctx = store,
 *           .container_pid = resolve_pid, .container_ctx = store,
 *   };
 *   json_t *spec;
 *   if (eng_spec_build(&in, &spec, err) < 0) ...   // errors carry exit status 125
 *
 * Side effects: like Docker, a missing host directory named by `-v /src:/dst` is created
 * (`--mount type=bind` with a missing source is an error instead).  Nothing else is written. */
#ifndef BERTH_ENGINE_SPEC_H
#define BERTH_ENGINE_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

/* Resolve a volume to a host directory, creating it if needed (and, for a new named volume
 * without nocopy, filling it from the image's content at dest, as Docker does).  name is NULL
 * for an anonymous volume (`-v /data`, or an image VOLUME not covered by another mount); the
 * callback then makes up a name.  *host_path is malloc'ed by the callback. */
typedef int (*eng_volume_fn)(void *ctx, const char *name, const char *dest, bool nocopy,
                             char **host_path, berth_error_t *err);

/* Resolve a running container's name or id (from `--network container:NAME`, `--ipc`,
 * `--pid`) to the pid of its init, whose namespaces (/proc/PID/ns) the new container joins. */
typedef int (*eng_container_pid_fn)(void *ctx, const char *name_or_id, pid_t *pid,
                                    berth_error_t *err);

/* The mounts of a container for --volumes-from NAME, as `docker inspect` shows them (Type,
 * Source, Destination, RW, …), with RW already false where ro (the mode asked for read-only)
 * or where they were read-only there; *mounts is a new reference.  The container need not be
 * running. */
typedef int (*eng_container_mounts_fn)(void *ctx, const char *name_or_id, bool ro, json_t **mounts,
                                       berth_error_t *err);

struct eng_spec_input {
        json_t *config;       /* Docker Config, as from eng_runflags_parse() (required) */
        json_t *host_config;  /* Docker HostConfig (required) */
        json_t *image_config; /* the image's OCI "config" object (Env, Cmd, …), or NULL */
        const char *rootfs;   /* absolute path of the container's root filesystem (required) */
        const char *id;       /* container id (required) */
        const char *hostname; /* the container's hostname (Config.Hostname or the short id) */
        /* files the caller prepared, bind-mounted at /etc/hosts, /etc/hostname and
         * /etc/resolv.conf; NULL leaves the image's own */
        const char *hosts_path, *hostname_path, *resolv_path;
        const char *cgroups_path; /* linux.cgroupsPath, e.g. "/berth/<id>"; NULL = none */
        const char *init_path;    /* host path of berth's init for --init (bind-mounted read-only
                                     at /sbin/berth-init, args become `/sbin/berth-init -- CMD…`) */
        /* The seam for bridge networks: a network namespace prepared by the caller that the
         * container joins when NetworkMode is "default"/"bridge"/a network name.  NULL: the
         * container gets a new namespace with only loopback (what "none" gives). */
        const char *netns_path;
        /* Rootless: OCI idMapping arrays ([{containerID, hostID, size}]); both NULL = no user
         * namespace (unless the caller's own setup adds one). */
        json_t *uid_mappings, *gid_mappings;
        /* Rootless (berth run by an unprivileged user, with uid/gid mappings above): what an
         * unprivileged user namespace can't do is done another way or left out (device nodes
         * are the runtime's to bind-mount, as runc and crun do): /sys is bound from the host when
         * the container has no network namespace of its own, devpts drops gid=5 unless gid 5 is
         * mapped, rlimits are clamped to berth's own hard limits, an oomScoreAdj below berth's
         * own is left out, and without a unified cgroup v2 hierarchy there are no resource
         * limits and no cgroupsPath (a warning says so when limits were asked for). */
        bool rootless;
        eng_volume_fn volume; /* NULL: named and anonymous volumes are an error */
        void *volume_ctx;
        eng_container_pid_fn container_pid; /* NULL: container:NAME modes are an error */
        void *container_ctx;
        /* HostConfig.VolumesFrom ("NAME[:ro|:rw]"): the binds and volumes of those containers
         * are mounted at the same places (read-only when either side says so); a mount of the
         * container's own at the same destination wins.  NULL: --volumes-from is an error. */
        eng_container_mounts_fn container_mounts;
        void *mounts_ctx;
        /* Docker's daemon warnings (a limit the host can't apply, discarded) are appended
         * here as strings for the client; NULL: logged as warnings. */
        json_t *warnings;
};

/* Build config.json.  *out is a new reference. */
int eng_spec_build(const struct eng_spec_input *in, json_t **out, berth_error_t *err);

/* linux.resources (memory, cpu, pids) for a HostConfig, as eng_spec_build writes them; for
 * `update`, which changes them later.  A new reference. */
json_t *eng_spec_resources(json_t *host_config);

/* Docker's merge of a container's Config with its image's config, in place: Env (image first,
 * then the container's by key; "KEY" without "=" unsets), Cmd and Entrypoint (an Entrypoint
 * given by the user drops the image's Cmd too), WorkingDir, User, ExposedPorts, Volumes,
 * Labels, StopSignal, Healthcheck fields the user left unset.  What `docker inspect` shows as
 * Config.  image_config may be NULL (then only normalisation happens). */
void eng_config_merge_image(json_t *config, json_t *image_config);

/* The process's args as Docker builds them: Entrypoint + Cmd (an Entrypoint of [""] is
 * empty).  Fails with exit status 125 and Docker's message when both are empty. */
int eng_config_args(json_t *config, json_t **args, berth_error_t *err);

/* The user of a process, resolved as Docker does in the container's rootfs:
 * "name", "uid", "name:group", "uid:gid"; a numeric uid not in /etc/passwd is fine (gid 0).
 * The supplementary groups, as Docker's daemon sets them: the primary group, then (without an
 * explicit group) those of /etc/group that list the user, then groups_add (--group-add: names
 * or numbers).
 * *home is malloc'ed ("/" when unknown). */
struct eng_user {
        uid_t uid;
        gid_t gid;
        gid_t *gids; /* supplementary groups, malloc'ed */
        size_t ngids;
        char *home;
};
int eng_user_resolve(const char *rootfs, const char *user, json_t *groups_add, struct eng_user *out,
                     berth_error_t *err);
void eng_user_release(struct eng_user *u);

/* linux.seccomp for a container: Docker's default policy (berth's own profile, see
 * data/seccomp-default.json) adjusted to the container's capabilities, or a Docker-format
 * profile (`--security-opt seccomp=FILE`, given as its JSON).  caps: the container's final
 * capability list. */
int eng_seccomp_default(json_t *caps, json_t **out, berth_error_t *err);
int eng_seccomp_from_docker(json_t *profile, json_t *caps, json_t **out, berth_error_t *err);

#endif
