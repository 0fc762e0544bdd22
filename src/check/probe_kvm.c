/* probe_kvm.c — /dev/kvm (open it, API version, capabilities, create a VM
 * and a vCPU), which KVM it is (hardware VT-x/AMD-V or the PVM software
 * hypervisor), and the CPU's virtualization flags. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "check/check.h"
#include "common/util.h"

#define VMM_DISABLES "berth-vmm (microVMs) and every VM test"

enum kvm_kind { KVM_KIND_NONE, KVM_KIND_INTEL, KVM_KIND_AMD, KVM_KIND_PVM };

static enum kvm_kind kvm_kind(const char *sys)
{
        static const struct {
                const char *module;
                enum kvm_kind kind;
        } mods[] = {{"kvm_pvm", KVM_KIND_PVM},
                    {"kvm_intel", KVM_KIND_INTEL},
                    {"kvm_amd", KVM_KIND_AMD}};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(mods); i++) {
                cleanup_free char *path = berth_xasprintf("%s/module/%s", sys, mods[i].module);
                if (access(path, F_OK) == 0)
                        return mods[i].kind;
        }
        return KVM_KIND_NONE;
}

static const char *const kind_names[] = {"unknown", "intel-vmx", "amd-svm", "pvm"};
static const char *const kind_text[] = {
        "no kvm_intel, kvm_amd or kvm_pvm module found",
        "hardware virtualization (Intel VT-x, kvm_intel)",
        "hardware virtualization (AMD-V, kvm_amd)",
        ("software hypervisor PVM (kvm_pvm): runs only PVM-enabled guest kernels; stock Linux "
         "kernels stop part-way through boot (berth-vmm's own test guest runs)"),
};

static const struct {
        const char *name;
        long cap;
} caps[] = {
        {"user_memory", KVM_CAP_USER_MEMORY},
        {"irqchip", KVM_CAP_IRQCHIP},
        {"pit2", KVM_CAP_PIT2},
        {"ioeventfd", KVM_CAP_IOEVENTFD},
        {"irqfd", KVM_CAP_IRQFD},
        {"ext_cpuid", KVM_CAP_EXT_CPUID},
        {"immediate_exit", KVM_CAP_IMMEDIATE_EXIT},
        {"tsc_deadline_timer", KVM_CAP_TSC_DEADLINE_TIMER},
};

struct kvm_facts {
        int api;
        int nr_vcpus, max_vcpus, nr_memslots;
        json_t *caps;
        char missing_caps[256];
};

static int kvm_probe(const struct check_paths *p, struct kvm_facts *f, berth_error_t *err)
{
        cleanup_close int fd = open(p->dev_kvm, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return berth_fail(err, errno, "open `%s`", p->dev_kvm);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return berth_fail(err, errno, "stat `%s`", p->dev_kvm);
        if (!S_ISCHR(st.st_mode))
                return berth_fail(err, ENODEV, "`%s` is not a character device", p->dev_kvm);
        f->api = ioctl(fd, KVM_GET_API_VERSION, 0);
        if (f->api < 0)
                return berth_fail(err, errno,
                                  "`%s` (device %u:%u) is not KVM: ioctl KVM_GET_API_VERSION",
                                  p->dev_kvm, major(st.st_rdev), minor(st.st_rdev));
        if (f->api != KVM_API_VERSION)
                return berth_fail(err, EPROTO, "KVM API version %d, berth needs %d", f->api,
                                  KVM_API_VERSION);
        f->nr_vcpus = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
        f->max_vcpus = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
        f->nr_memslots = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
        if (f->max_vcpus <= 0)
                f->max_vcpus = f->nr_vcpus > 0 ? f->nr_vcpus : 4; /* the API's documented default */
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(caps); i++) {
                int v = ioctl(fd, KVM_CHECK_EXTENSION, caps[i].cap);
                json_object_set_new(f->caps, caps[i].name, json_boolean(v > 0));
                if (v <= 0 &&
                    strlen(f->missing_caps) + strlen(caps[i].name) + 2 < sizeof(f->missing_caps)) {
                        strcat(f->missing_caps, *f->missing_caps ? " " : "");
                        strcat(f->missing_caps, caps[i].name);
                }
        }
        if (!p->act)
                return 0;
        /* By doing: a VM and one vCPU, as berth-vmm makes them. */
        cleanup_close int vm = ioctl(fd, KVM_CREATE_VM, 0);
        if (vm < 0)
                return berth_fail(err, errno, "ioctl KVM_CREATE_VM");
        cleanup_close int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
        if (vcpu < 0)
                return berth_fail(err, errno, "ioctl KVM_CREATE_VCPU");
        return 0;
}

void check_probe_kvm(struct check_report *r, const struct check_paths *p)
{
        json_t *facts = check_report_section(r, "kvm");
        enum kvm_kind kind = kvm_kind(p->sys);
        struct kvm_facts f = {.caps = json_object()};
        berth_error_t err = NULL;
        int ret = kvm_probe(p, &f, &err);

        json_object_set_new(facts, "usable", json_boolean(ret == 0));
        json_object_set_new(facts, "kind", json_string(kind_names[kind]));
        json_object_set_new(facts, "software", json_boolean(kind == KVM_KIND_PVM));
        if (ret == 0) {
                json_object_set_new(facts, "api_version", json_integer(f.api));
                json_object_set_new(facts, "recommended_vcpus", json_integer(f.nr_vcpus));
                json_object_set_new(facts, "max_vcpus", json_integer(f.max_vcpus));
                json_object_set_new(facts, "memslots", json_integer(f.nr_memslots));
                json_object_set_new(facts, "capabilities", f.caps);
                check_report_add(r, "kvm", "/dev/kvm", CHECK_OK, NULL,
                                 "API version %d; max vCPUs %d (recommended %d); %d memory "
                                 "slots%s%s",
                                 f.api, f.max_vcpus, f.nr_vcpus, f.nr_memslots,
                                 p->act ? "; created a VM and a vCPU" : "",
                                 *f.missing_caps ? "" : "; irqchip, PIT, ioeventfd, irqfd present");
                if (*f.missing_caps)
                        check_report_add(r, "kvm", "capabilities", CHECK_MISSING,
                                         "berth-vmm (it needs these KVM capabilities)",
                                         "missing: %s", f.missing_caps);
        } else {
                json_decref(f.caps);
                json_object_set_new(facts, "error", json_string(berth_error_msg(err)));
                check_report_add(r, "kvm", "/dev/kvm", CHECK_MISSING, VMM_DISABLES, "unusable: %s",
                                 berth_error_msg(err));
        }
        berth_error_release(&err);
        check_report_add(r, "kvm", "kind",
                         kind == KVM_KIND_INTEL || kind == KVM_KIND_AMD ? CHECK_OK : CHECK_NOTE,
                         NULL, "%s", kind_text[kind]);
}

void check_probe_cpu(struct check_report *r, const struct check_paths *p)
{
        json_t *facts = check_report_section(r, "cpu");
        cleanup_free char *path = berth_xasprintf("%s/cpuinfo", p->proc);
        cleanup_free char *text = NULL;
        berth_error_t err = NULL;
        if (berth_read_file(path, &text, NULL, &err) < 0) {
                check_report_add(r, "cpu", "flags", CHECK_NOTE, NULL, "%s", berth_error_msg(err));
                berth_error_release(&err);
                return;
        }
        char model[256] = "unknown";
        bool vmx = false, svm = false, hyp = false, seen_flags = false;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *colon = strchr(line, ':');
                if (colon == NULL)
                        continue;
                const char *val = colon + 1 + (colon[1] == ' ');
                if (berth_str_has_prefix(line, "model name") && strcmp(model, "unknown") == 0) {
                        snprintf(model, sizeof(model), "%s", val);
                } else if (berth_str_has_prefix(line, "flags") && !seen_flags) {
                        seen_flags = true; /* the first CPU speaks for all */
                        char *fsave = NULL;
                        cleanup_free char *flags = berth_xstrdup(val);
                        for (char *fl = strtok_r(flags, " \t", &fsave); fl;
                             fl = strtok_r(NULL, " \t", &fsave)) {
                                vmx |= strcmp(fl, "vmx") == 0;
                                svm |= strcmp(fl, "svm") == 0;
                                hyp |= strcmp(fl, "hypervisor") == 0;
                        }
                }
        }
        json_object_set_new(facts, "model", json_string(model));
        json_object_set_new(facts, "vmx", json_boolean(vmx));
        json_object_set_new(facts, "svm", json_boolean(svm));
        json_object_set_new(facts, "hypervisor", json_boolean(hyp));
        if (vmx || svm)
                check_report_add(r, "cpu", "flags", CHECK_OK, NULL, "%s present (%s)%s",
                                 vmx ? "vmx" : "svm", model,
                                 hyp ? "; running under a hypervisor" : "");
        else
                check_report_add(r, "cpu", "flags", CHECK_NOTE, NULL,
                                 "no vmx or svm flag (%s)%s: hardware virtualization is not "
                                 "exposed, so KVM here can only be a software one such as PVM",
                                 model, hyp ? "; running under a hypervisor" : "");
}
