/* devices_bpf.c — device cgroup rules on cgroup v2: an eBPF program.
 *
 * cgroup v2 has no devices.allow/deny files; the kernel asks a
 * BPF_PROG_TYPE_CGROUP_DEVICE program instead, with the access type, major
 * and minor of each open/mknod.  The program is generated from the same
 * list v1 writes (deny all, the config's rules in order, the default
 * devices, the config's devices): the last matching rule decides, so the
 * rules are emitted last-first and the first match returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "oci/cgroup.h"

#define INSN(c, d, s, o, i) \
        ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

struct prog {
        struct bpf_insn *insn;
        size_t n, cap;
};

static void emit(struct prog *p, struct bpf_insn i)
{
        if (p->n == p->cap)
                p->insn = berth_xrealloc(p->insn, (p->cap = p->cap ? p->cap * 2 : 64) * sizeof(i));
        p->insn[p->n++] = i;
}

/* Registers: r2 type, r3 access, r4 major, r5 minor (ctx: access_type, major, minor). */
/* Returns the number of checks: 0 means the rule always matches. */
static int emit_rule(struct prog *p, const struct oci_dev_rule *r)
{
        uint32_t acc = 0;
        int skip = 2; /* r0 = verdict; exit */
        int type = r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : r->type == 'c' ? BPF_DEVCG_DEV_CHAR : 0;
        for (const char *c = r->access; *c; c++)
                acc |= *c == 'r'   ? BPF_DEVCG_ACC_READ
                       : *c == 'w' ? BPF_DEVCG_ACC_WRITE
                                   : BPF_DEVCG_ACC_MKNOD;
        bool all_acc = acc == (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD);
        /* count the checks first: each jumps past the rest of this rule */
        int checks = (type ? 1 : 0) + (all_acc ? 0 : 3) + (r->major >= 0 ? 1 : 0) +
                     (r->minor >= 0 ? 1 : 0);
        int left = checks + skip;
        if (type) {
                left -= 1;
                emit(p, INSN(BPF_JMP | BPF_JNE | BPF_K, 2, 0, (int16_t) left, type));
        }
        if (!all_acc) {
                /* requested access outside the rule's: no match */
                left -= 3;
                emit(p, INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 3, 0, 0));
                emit(p, INSN(BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0, (int32_t) ~acc & 7));
                emit(p, INSN(BPF_JMP | BPF_JNE | BPF_K, 1, 0, (int16_t) left, 0));
        }
        if (r->major >= 0) {
                left -= 1;
                emit(p, INSN(BPF_JMP | BPF_JNE | BPF_K, 4, 0, (int16_t) left, (int32_t) r->major));
        }
        if (r->minor >= 0) {
                left -= 1;
                emit(p, INSN(BPF_JMP | BPF_JNE | BPF_K, 5, 0, (int16_t) left, (int32_t) r->minor));
        }
        emit(p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, r->allow ? 1 : 0));
        emit(p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
        return checks;
}

int oci_devices_bpf_build(const struct oci_dev_rule *rules, size_t n, struct bpf_insn **out,
                          size_t *len)
{
        struct prog p = {0};
        /* r2 = type, r3 = access, r4 = major, r5 = minor */
        emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0));
        emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_X, 3, 2, 0, 0));
        emit(&p, INSN(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xffff));
        emit(&p, INSN(BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16));
        emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0));
        emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, 5, 1, 8, 0));
        int checks = 1;
        /* a rule that always matches ends the program (the verifier refuses dead code) */
        for (size_t i = n; i-- > 0 && checks > 0;)
                checks = emit_rule(&p, &rules[i]);
        if (checks > 0) { /* nothing matched: deny */
                emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
                emit(&p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
        }
        *out = p.insn;
        *len = p.n;
        return 0;
}

/* The full rule list of a container, as the v1 backend writes it.  As runc's: the config's
 * rules, then the default devices; linux.devices only makes nodes, and a node the rules do
 * not allow stays unusable. */
static struct oci_dev_rule *container_rules(const struct oci_resources *r, const struct oci_spec *s,
                                            size_t *n)
{
        static const struct oci_dev_rule defaults[] = {
                {.allow = true, .type = 'c', .major = -1, .minor = -1, .access = "m"},
                {.allow = true, .type = 'b', .major = -1, .minor = -1, .access = "m"},
                {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"},
                {.allow = true, .type = 'c', .major = 1, .minor = 5, .access = "rwm"},
                {.allow = true, .type = 'c', .major = 1, .minor = 7, .access = "rwm"},
                {.allow = true, .type = 'c', .major = 1, .minor = 8, .access = "rwm"},
                {.allow = true, .type = 'c', .major = 1, .minor = 9, .access = "rwm"},
                {.allow = true, .type = 'c', .major = 5, .minor = 0, .access = "rwm"},
                {.allow = true, .type = 'c', .major = 5, .minor = 2, .access = "rwm"},
                {.allow = true, .type = 'c', .major = 136, .minor = -1, .access = "rwm"},
                {.allow = true, .type = 'c', .major = 10, .minor = 200, .access = "rwm"},
        };
        (void) s;
        size_t k = 0;
        struct oci_dev_rule *all =
                berth_xcalloc(1 + r->n_dev_rules + BERTH_ARRAY_SIZE(defaults), sizeof(*all));
        all[k++] = (struct oci_dev_rule){
                .allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"};
        for (size_t i = 0; i < r->n_dev_rules; i++)
                all[k++] = r->dev_rules[i];
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(defaults); i++)
                all[k++] = defaults[i];
        *n = k;
        return all;
}

int oci_devices_bpf_attach(const char *cgroup_dir, const struct oci_resources *r,
                           const struct oci_spec *s, berth_error_t *err)
{
        size_t nrules, len;
        struct bpf_insn *insn = NULL;
        cleanup_free struct oci_dev_rule *rules = container_rules(r, s, &nrules);
        oci_devices_bpf_build(rules, nrules, &insn, &len);
        char log[4096] = "";
        union bpf_attr a;
        memset(&a, 0, sizeof(a));
        a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        a.insns = (uint64_t) (uintptr_t) insn;
        a.insn_cnt = (uint32_t) len;
        a.license = (uint64_t) (uintptr_t) "Apache";
        cleanup_close int prog = (int) syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
        if (prog < 0 && errno != ENOMEM && errno != EPERM) {
                /* again, for the verifier's reason: a log it fills fails a good program
                 * with ENOSPC, so only once the program failed anyway */
                int e = errno;
                a.log_buf = (uint64_t) (uintptr_t) log;
                a.log_size = sizeof(log);
                a.log_level = 1;
                prog = (int) syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
                errno = prog < 0 && errno == ENOSPC ? e : errno;
        }
        free(insn);
        if (prog < 0)
                return berth_fail(err, errno, "load the device cgroup program (%s)", log);
        cleanup_close int dir = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return berth_fail(err, errno, "open cgroup `%s`", cgroup_dir);
        memset(&a, 0, sizeof(a));
        a.target_fd = (uint32_t) dir;
        a.attach_bpf_fd = (uint32_t) prog;
        a.attach_type = BPF_CGROUP_DEVICE;
        a.attach_flags = BPF_F_ALLOW_MULTI;
        if (syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof(a)) < 0)
                return berth_fail(err, errno, "attach the device program to `%s`", cgroup_dir);
        return 0;
}
