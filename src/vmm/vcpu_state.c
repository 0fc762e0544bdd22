/* vcpu_state.c — one vCPU's snapshot state: multiprocessor state,
 * registers, segment and control registers, FPU/SSE/AVX (XSAVE, or the
 * legacy FPU image where KVM has no XSAVE), XCRs, the local APIC, every MSR
 * KVM lists, pending events, and the TSC frequency.  The KVM structures are
 * kernel ABI on x86-64: saved as they are, their lengths checked on load,
 * their contents checked by KVM.  Loaded in the order KVM needs (MP state
 * and registers before the LAPIC, MSRs, then events). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/snapshot.h"

#define VCPU_STATE_VERSION 1
#define VCPU_MAX_MSRS      1024

static int kvm_fail(berth_error_t *err, unsigned id, const char *what)
{
        int e = errno;
        if (e == ENOTTY || e == EINVAL)
                return berth_fail(err, e, "vCPU %u: %s: not supported by this KVM", id, what);
        return berth_fail(err, e, "vCPU %u: %s", id, what);
}

static const struct {
        const char *name;
        unsigned long get, set;
        size_t size;
        bool optional; /* a KVM without it still snapshots (xsave falls back to fpu) */
} raw[] = {
        {"cpu.mpstate", KVM_GET_MP_STATE, KVM_SET_MP_STATE, sizeof(struct kvm_mp_state), false},
        {"cpu.regs", KVM_GET_REGS, KVM_SET_REGS, sizeof(struct kvm_regs), false},
        {"cpu.sregs", KVM_GET_SREGS, KVM_SET_SREGS, sizeof(struct kvm_sregs), false},
        {"cpu.xsave", KVM_GET_XSAVE, KVM_SET_XSAVE, sizeof(struct kvm_xsave), true},
        {"cpu.fpu", KVM_GET_FPU, KVM_SET_FPU, sizeof(struct kvm_fpu), false},
        {"cpu.xcrs", KVM_GET_XCRS, KVM_SET_XCRS, sizeof(struct kvm_xcrs), true},
        {"cpu.debugregs", KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS, sizeof(struct kvm_debugregs), true},
        {"cpu.lapic", KVM_GET_LAPIC, KVM_SET_LAPIC, sizeof(struct kvm_lapic_state), false},
};
#define RAW_EVENTS_NAME "cpu.events"
#define MSR_BATCH       64

static struct kvm_msrs *new_batch(void)
{
        return berth_xcalloc(1, sizeof(struct kvm_msrs) + MSR_BATCH * sizeof(struct kvm_msr_entry));
}

static int save_msrs(struct vmm_vcpu *v, struct vmm_snap_buf *b, berth_error_t *err)
{
        struct kvm_msr_list probe = {.nmsrs = 0};
        if (ioctl(v->vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
                return kvm_fail(err, v->id, "KVM_GET_MSR_INDEX_LIST");
        uint32_t n = probe.nmsrs > VCPU_MAX_MSRS ? VCPU_MAX_MSRS : probe.nmsrs;
        cleanup_free struct kvm_msr_list *list =
                berth_xcalloc(1, sizeof(*list) + n * sizeof(uint32_t));
        list->nmsrs = n;
        if (ioctl(v->vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0)
                return kvm_fail(err, v->id, "KVM_GET_MSR_INDEX_LIST");
        n = list->nmsrs < n ? list->nmsrs : n;
        cleanup_free struct kvm_msrs *m =
                berth_xcalloc(1, sizeof(*m) + n * sizeof(struct kvm_msr_entry));
        /* KVM stops at the first MSR it cannot read: read on past it, so
         * one the host lists but this vCPU lacks costs only itself. */
        uint32_t got = 0;
        cleanup_free struct kvm_msrs *batch = new_batch();
        for (uint32_t i = 0; i < n;) {
                uint32_t k = n - i < MSR_BATCH ? n - i : MSR_BATCH;
                batch->nmsrs = k;
                for (uint32_t j = 0; j < k; j++)
                        batch->entries[j] = (struct kvm_msr_entry){.index = list->indices[i + j]};
                int r = ioctl(v->fd, KVM_GET_MSRS, batch);
                if (r < 0)
                        return kvm_fail(err, v->id, "KVM_GET_MSRS");
                for (int j = 0; j < r; j++)
                        m->entries[got++] = batch->entries[j];
                i += (uint32_t) r < k ? (uint32_t) r + 1 : k;
        }
        vmm_snap_section(b, "cpu.msrs", v->id, VCPU_STATE_VERSION);
        vmm_snap_put_u32(b, got);
        for (uint32_t i = 0; i < got; i++) {
                vmm_snap_put_u32(b, m->entries[i].index);
                vmm_snap_put_u64(b, m->entries[i].data);
        }
        return 0;
}

/* The CPUID the guest saw: saved as KVM gives it, set again on restore
 * (a guest keeps using what it probed at boot) once checked against what
 * this host's KVM supports. */
#define VCPU_MAX_CPUID 256

static struct kvm_cpuid2 *get_cpuid(struct vmm_vcpu *v, berth_error_t *err)
{
        struct kvm_cpuid2 *c =
                berth_xcalloc(1, sizeof(*c) + VCPU_MAX_CPUID * sizeof(struct kvm_cpuid_entry2));
        c->nent = VCPU_MAX_CPUID;
        if (ioctl(v->fd, KVM_GET_CPUID2, c) < 0) {
                kvm_fail(err, v->id, "KVM_GET_CPUID2");
                free(c);
                return NULL;
        }
        return c;
}

static int save_cpuid(struct vmm_vcpu *v, struct vmm_snap_buf *b, berth_error_t *err)
{
        cleanup_free struct kvm_cpuid2 *c = get_cpuid(v, err);
        if (!c)
                return -1;
        vmm_snap_section(b, "cpu.cpuid", v->id, VCPU_STATE_VERSION);
        vmm_snap_put_u32(b, c->nent);
        for (uint32_t i = 0; i < c->nent; i++) {
                const struct kvm_cpuid_entry2 *e = &c->entries[i];
                const uint32_t w[] = {e->function, e->index, e->flags, e->eax,
                                      e->ebx,      e->ecx,   e->edx};
                for (size_t k = 0; k < BERTH_ARRAY_SIZE(w); k++)
                        vmm_snap_put_u32(b, w[k]);
        }
        return 0;
}

static const struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid2 *c, uint32_t fn,
                                                 uint32_t index)
{
        for (uint32_t i = 0; i < c->nent; i++)
                if (c->entries[i].function == fn &&
                    (!(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
                     c->entries[i].index == index))
                        return &c->entries[i];
        return NULL;
}

/* Feature leaves whose bits a guest relies on once it has seen them. */
static const struct {
        uint32_t fn, index;
        bool ebx, ecx, edx;
} feature_leaves[] = {
        {1, 0, false, true, true},
        {7, 0, true, true, true},
        {0x80000001, 0, false, true, true},
};

/* Every feature bit the snapshot's guest saw must be one a new vCPU on
 * this host has.  Both sides are read with KVM_GET_CPUID2, not compared
 * with KVM_GET_SUPPORTED_CPUID: kvm_pvm's vCPUs report more than that
 * table (their CPUID is the host's), so only like compares with like. */
static int cpuid_compatible(const struct kvm_cpuid2 *saved, const struct kvm_cpuid2 *host,
                            unsigned id, berth_error_t *err)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(feature_leaves); i++) {
                uint32_t fn = feature_leaves[i].fn, index = feature_leaves[i].index;
                const struct kvm_cpuid_entry2 *s = cpuid_find(saved, fn, index);
                const struct kvm_cpuid_entry2 *h = cpuid_find(host, fn, index);
                if (!s)
                        continue;
                uint32_t hb = h ? h->ebx : 0, hc = h ? h->ecx : 0, hd = h ? h->edx : 0;
                if (fn == 1)
                        hc |= 1u << 31, hd |= 1u << 28; /* hypervisor, HTT: ours */
                uint32_t miss_b = feature_leaves[i].ebx ? s->ebx & ~hb : 0;
                uint32_t miss_c = feature_leaves[i].ecx ? s->ecx & ~hc : 0;
                uint32_t miss_d = feature_leaves[i].edx ? s->edx & ~hd : 0;
                if (miss_b | miss_c | miss_d)
                        return berth_fail(err, ENOTSUP,
                                          "vCPU %u: this host's CPU lacks features the snapshot's "
                                          "guest uses: CPUID leaf %#x ebx %#x ecx %#x edx %#x",
                                          id, fn, miss_b, miss_c, miss_d);
        }
        return 0;
}

static int load_cpuid(struct vmm_vcpu *v, const struct vmm_snap *snap, berth_error_t *err)
{
        const struct vmm_snap_section *sec = vmm_snap_need(snap, "cpu.cpuid", v->id, err);
        if (!sec || vmm_snap_check_version(sec, VCPU_STATE_VERSION, err) < 0)
                return -1;
        struct vmm_snap_rd r;
        vmm_snap_rd_init(&r, sec);
        uint32_t n = vmm_snap_get_u32(&r);
        if (n > VCPU_MAX_CPUID || (uint64_t) n * 28 + 4 != sec->len)
                return berth_fail(err, EINVAL, "snapshot's CPUID of vCPU %u is malformed", v->id);
        cleanup_free struct kvm_cpuid2 *c =
                berth_xcalloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
        c->nent = n;
        for (uint32_t i = 0; i < n; i++) {
                struct kvm_cpuid_entry2 *e = &c->entries[i];
                e->function = vmm_snap_get_u32(&r);
                e->index = vmm_snap_get_u32(&r);
                e->flags = vmm_snap_get_u32(&r);
                e->eax = vmm_snap_get_u32(&r);
                e->ebx = vmm_snap_get_u32(&r);
                e->ecx = vmm_snap_get_u32(&r);
                e->edx = vmm_snap_get_u32(&r);
        }
        if (vmm_snap_rd_end(&r, err) < 0)
                return -1;
        cleanup_free struct kvm_cpuid2 *here = get_cpuid(v, err);
        if (!here || cpuid_compatible(c, here, v->id, err) < 0)
                return -1;
        if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
                return kvm_fail(err, v->id, "KVM_SET_CPUID2 (the snapshot's CPUID)");
        return 0;
}

int vmm_vcpu_save(struct vmm_vcpu *v, struct vmm_snap_buf *b, berth_error_t *err)
{
        if (save_cpuid(v, b, err) < 0)
                return -1;
        union {
                struct kvm_xsave xsave;
                struct kvm_lapic_state lapic;
                struct kvm_sregs sregs;
                struct kvm_vcpu_events events;
        } buf;
        bool have_xsave = false;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(raw); i++) {
                if (raw[i].get == KVM_GET_FPU && have_xsave)
                        continue;
                memset(&buf, 0, sizeof(buf));
                if (ioctl(v->fd, raw[i].get, &buf) < 0) {
                        if (raw[i].optional && (errno == ENOTTY || errno == EINVAL)) {
                                log_debug("vCPU %u: %s not saved: %s", v->id, raw[i].name,
                                          strerror(errno));
                                continue;
                        }
                        return kvm_fail(err, v->id, raw[i].name);
                }
                have_xsave = have_xsave || raw[i].get == KVM_GET_XSAVE;
                vmm_snap_section(b, raw[i].name, v->id, VCPU_STATE_VERSION);
                vmm_snap_put_bytes(b, &buf, raw[i].size);
        }
        if (save_msrs(v, b, err) < 0)
                return -1;
        memset(&buf, 0, sizeof(buf));
        if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &buf.events) < 0)
                return kvm_fail(err, v->id, "KVM_GET_VCPU_EVENTS");
        vmm_snap_section(b, RAW_EVENTS_NAME, v->id, VCPU_STATE_VERSION);
        vmm_snap_put_bytes(b, &buf.events, sizeof(buf.events));
        int khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
        vmm_snap_section(b, "cpu.tsc", v->id, VCPU_STATE_VERSION);
        vmm_snap_put_u32(b, khz > 0 ? (uint32_t) khz : 0);
        return 0;
}

static int load_raw(struct vmm_vcpu *v, const struct vmm_snap_section *sec, unsigned long set,
                    size_t size, berth_error_t *err)
{
        if (vmm_snap_check_version(sec, VCPU_STATE_VERSION, err) < 0)
                return -1;
        if (sec->len != size)
                return berth_fail(err, EINVAL,
                                  "snapshot's `%s` state of vCPU %u has %llu bytes, "
                                  "not %zu",
                                  sec->name, v->id, (unsigned long long) sec->len, size);
        cleanup_free void *p = berth_xmalloc(size);
        memcpy(p, sec->data, size);
        if (ioctl(v->fd, set, p) < 0)
                return kvm_fail(err, v->id, sec->name);
        return 0;
}

static int load_msrs(struct vmm_vcpu *v, const struct vmm_snap *snap, berth_error_t *err)
{
        const struct vmm_snap_section *sec = vmm_snap_need(snap, "cpu.msrs", v->id, err);
        if (!sec || vmm_snap_check_version(sec, VCPU_STATE_VERSION, err) < 0)
                return -1;
        struct vmm_snap_rd r;
        vmm_snap_rd_init(&r, sec);
        uint32_t n = vmm_snap_get_u32(&r);
        if (n > VCPU_MAX_MSRS || (uint64_t) n * 12 + 4 != sec->len)
                return berth_fail(err, EINVAL, "snapshot's MSRs of vCPU %u are malformed", v->id);
        cleanup_free struct kvm_msrs *m =
                berth_xcalloc(1, sizeof(*m) + n * sizeof(struct kvm_msr_entry));
        for (uint32_t i = 0; i < n; i++) {
                m->entries[i].index = vmm_snap_get_u32(&r);
                m->entries[i].data = vmm_snap_get_u64(&r);
        }
        if (vmm_snap_rd_end(&r, err) < 0)
                return -1;
        /* As on save, KVM stops at a refused MSR: name it and go on. */
        cleanup_free struct kvm_msrs *batch = new_batch();
        for (uint32_t i = 0; i < n;) {
                uint32_t k = n - i < MSR_BATCH ? n - i : MSR_BATCH;
                batch->nmsrs = k;
                memcpy(batch->entries, &m->entries[i], k * sizeof(batch->entries[0]));
                int got = ioctl(v->fd, KVM_SET_MSRS, batch);
                if (got < 0)
                        return kvm_fail(err, v->id, "KVM_SET_MSRS");
                if ((uint32_t) got < k)
                        log_warn("vCPU %u: KVM refused MSR %#x from the snapshot", v->id,
                                 batch->entries[got].index);
                i += (uint32_t) got < k ? (uint32_t) got + 1 : k;
        }
        return 0;
}

int vmm_vcpu_load(struct vmm_vcpu *v, const struct vmm_snap *snap, berth_error_t *err)
{
        if (load_cpuid(v, snap, err) < 0)
                return -1;
        const struct vmm_snap_section *tsc = vmm_snap_need(snap, "cpu.tsc", v->id, err);
        if (!tsc)
                return -1;
        struct vmm_snap_rd r;
        vmm_snap_rd_init(&r, tsc);
        uint32_t khz = vmm_snap_get_u32(&r);
        if (vmm_snap_rd_end(&r, err) < 0)
                return -1;
        int here = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
        /* The guest calibrated its clock against the saved frequency: keep
         * it where KVM can scale the TSC, say so where it cannot. */
        if (khz && here > 0 && (uint32_t) here != khz &&
            ioctl(v->fd, KVM_SET_TSC_KHZ, (unsigned long) khz) < 0)
                log_warn("vCPU %u: TSC runs at %d kHz here, the snapshot's at %u kHz "
                         "(KVM_SET_TSC_KHZ: %s)",
                         v->id, here, khz, strerror(errno));
        bool have_xsave = vmm_snap_find(snap, "cpu.xsave", v->id) != NULL;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(raw); i++) {
                if (raw[i].set == KVM_SET_FPU && have_xsave)
                        continue;
                const struct vmm_snap_section *sec = vmm_snap_find(snap, raw[i].name, v->id);
                if (!sec && raw[i].optional)
                        continue;
                if (!sec)
                        return berth_fail(err, EINVAL, "snapshot has no `%s` state for vCPU %u",
                                          raw[i].name, v->id);
                if (load_raw(v, sec, raw[i].set, raw[i].size, err) < 0)
                        return -1;
        }
        if (load_msrs(v, snap, err) < 0)
                return -1;
        const struct vmm_snap_section *ev = vmm_snap_need(snap, RAW_EVENTS_NAME, v->id, err);
        if (!ev)
                return -1;
        return load_raw(v, ev, KVM_SET_VCPU_EVENTS, sizeof(struct kvm_vcpu_events), err);
}
