/* snapshot_api.c — Firecracker's snapshot requests on berth-vmm's REST API:
 *   PUT /snapshot/create {"snapshot_type": "Full", "snapshot_path": P, "mem_file_path": P}
 *   PUT /snapshot/load   {"snapshot_path": P, "mem_backend": {"backend_type": "File",
 *                          "backend_path": P}, "resume_vm": B}
 * (docs/vmm-api.yaml).  Diff snapshots and the Uffd backend are refused by name. */
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
        if (strcmp(type, "Full") != 0)
                return berth_fail(err, ENOTSUP, "snapshot_type `%s`: only Full snapshots so far",
                                  type);
        return vmm_snapshot_create(vm, state, mem, err);
}

int vmm_snapshot_api_load(struct vmm_vm *vm, json_t *body, berth_error_t *err)
{
        const char *state, *old_mem = NULL, *btype = NULL, *bpath = NULL;
        int resume = 0, diff = 0;
        json_t *backend = NULL;
        json_error_t je;
        if (!body ||
            json_unpack_ex(body, &je, JSON_STRICT, "{s:s,s?s,s?o,s?b,s?b}", "snapshot_path", &state,
                           "mem_file_path", &old_mem, "mem_backend", &backend, "resume_vm", &resume,
                           "enable_diff_snapshots", &diff) < 0 ||
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
        if (atomic_load(&vm->started))
                return berth_fail(err, EINVAL,
                                  "the VM is already started: load a snapshot into a fresh "
                                  "berth-vmm");
        if (vmm_snapshot_open(vm, state, bpath ? bpath : old_mem, err) < 0)
                return -1;
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
