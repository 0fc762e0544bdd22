/* vmm_kvm_order.c — times berth-vmm's start-up KVM ioctls in a given order,
 * to see which ordering avoids KVM's waits (docs/performance.md, "Process
 * start to first KVM_RUN").  Not part of the build:
 *
 *   cc -O2 -o /tmp/kvm_order bench/vmm_kvm_order.c
 *   for o in mip ipm mipc ipcm mmip; do /tmp/kvm_order $o; done
 *
 * Each letter is one ioctl on a fresh VM: m a 64 MiB memory slot (the next
 * m adds another slot after it), i KVM_CREATE_IRQCHIP, p KVM_CREATE_PIT2
 * (after i), t KVM_SET_TSS_ADDR, c KVM_CREATE_VCPU, e a KVM_IOEVENTFD, f a
 * KVM_IRQFD.  Prints the milliseconds each took. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

static double now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) t.tv_sec * 1e3 + (double) t.tv_nsec / 1e6;
}

static int step(int vm, char op, char *mem)
{
        static unsigned slot, ioev, gsi = 5;
        switch (op) {
        case 'm': {
                struct kvm_userspace_memory_region r = {
                        .slot = slot,
                        .guest_phys_addr = (unsigned long long) slot << 26,
                        .memory_size = 64 << 20,
                        .userspace_addr = (unsigned long long) (mem + ((size_t) slot << 26)),
                };
                slot++;
                return ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
        }
        case 'i':
                return ioctl(vm, KVM_CREATE_IRQCHIP, 0);
        case 'p': {
                struct kvm_pit_config pit = {0};
                return ioctl(vm, KVM_CREATE_PIT2, &pit);
        }
        case 't':
                return ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);
        case 'c':
                return ioctl(vm, KVM_CREATE_VCPU, 0) < 0 ? -1 : 0;
        case 'e': {
                struct kvm_ioeventfd e = {
                        .addr = 0xd0000050 + 0x1000ull * ioev++, .len = 4, .fd = eventfd(0, 0)};
                return ioctl(vm, KVM_IOEVENTFD, &e);
        }
        case 'f': {
                struct kvm_irqfd f = {.fd = (unsigned) eventfd(0, 0), .gsi = gsi++};
                return ioctl(vm, KVM_IRQFD, &f);
        }
        default:
                return -1;
        }
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: kvm_order LETTERS (m i p t c e f)\n");
                return 2;
        }
        int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        char *mem = mmap(NULL, 4ul << 26, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (kvm < 0 || mem == MAP_FAILED) {
                perror("kvm_order");
                return 1;
        }
        double t0 = now_ms();
        int vm = ioctl(kvm, KVM_CREATE_VM, 0);
        printf("create_vm %.3f", now_ms() - t0);
        for (const char *o = argv[1]; *o; o++) {
                double t = now_ms();
                if (step(vm, *o, mem) < 0)
                        perror(" step");
                printf(" %c %.3f", *o, now_ms() - t);
        }
        printf(" total %.3f\n", now_ms() - t0);
        return 0;
}
