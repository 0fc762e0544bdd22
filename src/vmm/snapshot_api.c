/* snapshot_api.c — Firecracker's snapshot requests on berth-vmm's REST API:
 *   PUT /snapshot/create {"snapshot_type": "Full"|"Diff", "snapshot_path": P,
 *                         "mem_file_path": P}
 *   PUT /snapshot/load   {"snapshot_path": P, "mem_backend": {"backend_type": "File",
 *                          "backend_path": P}, "resume_vm": B, "track_dirty_pages": B,
 *                          "mem_diff_paths": [P, ...]}
 * (docs/vmm-api.yaml).  mem_diff_paths is berth's: a Diff snapshot loads over
 * its Full base's memory without Firecracker's offline rebase.  The Uffd
 * backend is refused by name. */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "common/log.h"
#include "vmm/snapshot.h"

/* A jailed VMM's main thread may make the KVM_GET_* ioctls and create
 * files only when the jail has a writable directory for snapshots
 * (--jail-rw; seccomp.c): without one, a snapshot would kill the VMM. */
static int refuse_jailed(const struct vmm_vm *vm, berth_error_t *err)
{
        if (!vm->cfg->jail || vm->cfg->jail_rw)
                return 0;
        return berth_fail(err, ENOTSUP,
                          "snapshots of a VMM under --jail need --jail-rw DIR, a directory "
                          "for them inside the jail");
}

int vmm_snapshot_api_create(struct vmm_vm *vm, json_t *body, berth_error_t *err)
{
        if (refuse_jailed(vm, err) < 0)
                return -1;
        const char *type = "Full", *state, *mem, *version = NULL;
        json_error_t je;
        if (!body ||
            json_unpack_ex(body, &je, JSON_STRICT, "{s?s,s:s,s:s,s?s}", "snapshot_type", &type,
                           "snapshot_path", &state, "mem_file_path", &mem, "version", &version) < 0)
                return berth_fail(err, EINVAL,
                                  "want {\"snapshot_type\": \"Full\", \"snapshot_path\": PATH, "
                                  "\"mem_file_path\": PATH}");
        if (strcmp(type, "Full") != 0 && strcmp(type, "Diff") != 0)
                return berth_fail(err, EINVAL, "snapshot_type `%s`: want Full or Diff", type);
        return vmm_snapshot_create(vm, state, mem, strcmp(type, "Diff") == 0, err);
}

int vmm_snapshot_api_load(struct vmm_vm *vm, json_t *body, berth_error_t *err)
{
        const char *state, *old_mem = NULL, *btype = NULL, *bpath = NULL;
        int resume = 0, diff = 0, track = 0;
        json_t *backend = NULL, *diffs = NULL;
        json_error_t je;
        if (!body ||
            json_unpack_ex(body, &je, JSON_STRICT, "{s:s,s?s,s?o,s?b,s?b,s?b,s?o}", "snapshot_path",
                           &state, "mem_file_path", &old_mem, "mem_backend", &backend, "resume_vm",
                           &resume, "enable_diff_snapshots", &diff, "track_dirty_pages", &track,
                           "mem_diff_paths", &diffs) < 0 ||
            (backend && json_unpack_ex(backend, &je, JSON_STRICT, "{s:s,s:s}", "backend_type",
                                       &btype, "backend_path", &bpath) < 0) ||
            !!backend == !!old_mem)
                return berth_fail(err, EINVAL,
                                  "want {\"snapshot_path\": PATH, \"mem_backend\": "
                                  "{\"backend_type\": \"File\", \"backend_path\": PATH}, "
                                  "\"resume_vm\": BOOL}");
        if (refuse_jailed(vm, err) < 0)
                return -1;
        if (btype && strcmp(btype, "File") != 0)
                return berth_fail(err, ENOTSUP, "mem_backend `%s`: only File so far", btype);
        const char *dp[VMM_MAX_MEM_DIFFS];
        size_t nd = json_array_size(diffs), i;
        json_t *d;
        if (diffs && (!json_is_array(diffs) || nd > VMM_MAX_MEM_DIFFS))
                return berth_fail(err, EINVAL, "mem_diff_paths: want up to %u paths, oldest first",
                                  VMM_MAX_MEM_DIFFS);
        json_array_foreach(diffs, i, d)
        {
                if (!(dp[i] = json_string_value(d)) || !*dp[i])
                        return berth_fail(err, EINVAL, "mem_diff_paths[%zu]: want a path", i);
        }
        if (atomic_load(&vm->started))
                return berth_fail(err, EINVAL,
                                  "the VM is already started: load a snapshot into a fresh "
                                  "berth-vmm");
        if (vmm_snapshot_open(vm, state, bpath ? bpath : old_mem, dp, (unsigned) nd, err) < 0)
                return -1;
        /* Firecracker's two names for it, old and new */
        if (track || diff)
                vm->api_cfg.track_dirty = true;
        /* Parked before their first KVM_RUN unless asked to resume. */
        atomic_store(&vm->paused, !resume);
        if (vmm_vm_boot(vm, err) < 0) {
                /* Half-built: the VMM cannot go back to waiting. */
                log_error("snapshot load: %s", berth_error_msg(*err));
                vmm_vm_stop(vm, VMM_EXIT_ERROR);
                return -1;
        }
        vmm_snapshot_close(vm);
        log_info("VM restored from `%s`%s", state, resume ? " and resumed" : " (paused)");
        return 0;
}
