/* test_vmm_postcopy.c — post-copy's RAM phase (postcopy.h) end to end
 * without KVM: a source serving a RAM buffer over a socket pair to a
 * destination whose RAM is registered with userfaultfd.  Touching the
 * destination's pages in a scattered order faults them in on demand with
 * the source's bytes; the rest is pushed; both ends say done, and every
 * page matches.  A refusal in the ack reaches the source as such, and a
 * source that goes away ends the destination's phase as failed. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "vmm/postcopy.h"

#define SIZE  (4u << 20)
#define PAGES (SIZE / 4096u)

static atomic_int ended; /* 0 running, 1 ok, 2 failed */

static void on_end(void *opaque, bool ok)
{
        (void) opaque;
        atomic_store(&ended, ok ? 1 : 2);
}

struct source {
        int fd;
        const uint8_t *ram;
        int ret;
        bool acked;
        double t_ack;
        uint64_t requests, bw;
        char msg[256];
};

static void *source_main(void *arg)
{
        struct source *s = arg;
        struct vmm_mig_io io;
        vmm_mig_io_fd(&io, s->fd);
        berth_error_t err = NULL;
        s->ret = vmm_postcopy_serve(&io, s->ram, SIZE, NULL, s->bw, NULL, NULL, &s->acked,
                                    &s->t_ack, &s->requests, &err);
        if (s->ret < 0)
                snprintf(s->msg, sizeof(s->msg), "%s", berth_error_msg(err));
        berth_error_release(&err);
        return NULL;
}

static uint8_t *map(void)
{
        void *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
}

static bool wait_end(void)
{
        for (int i = 0; i < 1000 && !atomic_load(&ended); i++)
                usleep(10000);
        return atomic_load(&ended) != 0;
}

static void test_roundtrip(uint64_t bw)
{
        uint8_t *src = map(), *dst = map();
        for (unsigned i = 0; i < PAGES; i++)
                if (i % 5) /* every fifth page stays zero: sent as ZERO records */
                        memset(src + (size_t) i * 4096, (int) (i * 7 + 1), 4096);
        int sv[2];
        if (!src || !dst || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                tap_skip("post-copy round trip", "mmap or socketpair failed");
                return;
        }
        struct vmm_postcopy *pc;
        berth_error_t err = NULL;
        atomic_store(&ended, 0);
        if (vmm_postcopy_start(dst, SIZE, sv[1], on_end, NULL, &pc, &err) < 0) {
                tap_skip("post-copy round trip", berth_error_msg(err));
                berth_error_release(&err);
                close(sv[0]);
                close(sv[1]);
                return;
        }
        struct source s = {.fd = sv[0], .ram = src, .bw = bw};
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pthread_t t;
        pthread_create(&t, NULL, source_main, &s);
        ok(vmm_postcopy_ack(pc, 0, NULL, &err) == 0, "the destination acks the state");
        /* a "guest" touching pages out of order: each comes in on demand */
        static const unsigned order[] = {1000, 3, 517, 1023, 10, 999, 250, 1};
        bool same = true;
        for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
                const uint8_t *p = dst + (size_t) order[i] * 4096;
                same &= memcmp(p, src + (size_t) order[i] * 4096, 4096) == 0;
        }
        ok(same, "faulted pages hold the source's bytes");
        ok(wait_end() && atomic_load(&ended) == 1, "the destination has all of RAM");
        pthread_join(t, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms =
                (double) (t1.tv_sec - t0.tv_sec) * 1e3 + (double) (t1.tv_nsec - t0.tv_nsec) / 1e6;
        if (bw)
                ok(ms >= 4.0 * 4 / 5 / (double) bw * 1e3 * 0.8,
                   "the push keeps to the bandwidth cap (4 MiB, 4/5 of it not zero)");
        printf("# %.1f ms for 4 MiB%s\n", ms, bw ? " capped" : "");
        is_int(s.ret, 0, "the source's phase ends with the destination's done");
        if (s.ret)
                printf("# source: %s\n", s.msg);
        ok(s.acked, "the source saw the ack");
        ok(memcmp(src, dst, SIZE) == 0, "every page matches");
        uint64_t faults, pages;
        vmm_postcopy_counts(pc, &faults, &pages);
        ok(pages >= PAGES, "every page was placed");
        printf("# %llu faults, %llu requests served\n", (unsigned long long) faults,
               (unsigned long long) s.requests);
        vmm_postcopy_stop(pc);
        close(sv[0]);
        munmap(src, SIZE);
        munmap(dst, SIZE);
}

static void test_refused(void)
{
        uint8_t *src = map(), *dst = map();
        int sv[2];
        if (!src || !dst || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return;
        struct vmm_postcopy *pc;
        berth_error_t err = NULL;
        atomic_store(&ended, 0);
        if (vmm_postcopy_start(dst, SIZE, sv[1], on_end, NULL, &pc, &err) < 0) {
                tap_skip("post-copy refusal", berth_error_msg(err));
                berth_error_release(&err);
                return;
        }
        struct source s = {.fd = sv[0], .ram = src};
        pthread_t t;
        pthread_create(&t, NULL, source_main, &s);
        ok(vmm_postcopy_ack(pc, EINVAL, "cannot load", &err) == 0, "a refusing ack is sent");
        pthread_join(t, NULL);
        ok(s.ret < 0 && !s.acked && strstr(s.msg, "cannot load"),
           "the source hears the refusal, not acked (it may resume the guest)");
        close(sv[0]); /* the source is gone */
        ok(wait_end() && atomic_load(&ended) == 2, "the destination's phase fails");
        vmm_postcopy_stop(pc);
        munmap(src, SIZE);
        munmap(dst, SIZE);
}

int main(void)
{
        test_roundtrip(0);
        test_roundtrip(40);
        test_refused();
        return tap_done();
}
