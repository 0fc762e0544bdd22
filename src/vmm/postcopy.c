/* postcopy.c — post-copy's RAM phase (postcopy.h): the destination's
 * userfaultfd service and the source's page server. */
#include "vmm/postcopy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/jail.h"

#define PAGE          VMM_MIG_PAGE
#define PUSH_RUN      64u /* pages per pushed record: a request waits behind at most this */
#define PUSH_QUEUE    (128u << 10) /* bytes of push the socket may hold unsent: ditto */
#define REQ_RUN       16u          /* pages sent for a request: the fault's neighbours come along */
#define IO_TIMEOUT_MS 60000

static double now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) t.tv_sec * 1e3 + (double) t.tv_nsec / 1e6;
}

static uint32_t get32(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
        return (uint64_t) get32(p) | (uint64_t) get32(p + 4) << 32;
}

struct vmm_postcopy {
        uint8_t *ram;
        size_t size;
        int fd, uffd, stop_fd;
        pthread_mutex_t wlock; /* one writer on fd at a time */
        /* the ack is sent (under wlock): only then may the DONE follow, even when
         * the source pushed all of RAM before the state was loaded here */
        bool acked;    /* the main thread's ack said yes */
        bool ack_sent; /* it has answered, yes or no */
        pthread_cond_t acked_cond;
        pthread_t fault_thread, recv_thread;
        bool fault_started, recv_started;
        void (*on_end)(void *opaque, bool ok);
        void *opaque;
        atomic_bool ended;
        atomic_ullong faults, pages;
        uint8_t *buf; /* a PAGES record's payload: never inside the registered range */
};

static int locked_write(struct vmm_postcopy *pc, const void *p, size_t n, berth_error_t *err)
{
        struct vmm_mig_io io;
        vmm_mig_io_fd(&io, pc->fd);
        io.timeout_ms = IO_TIMEOUT_MS;
        pthread_mutex_lock(&pc->wlock);
        int r = vmm_mig_write(&io, p, n, err);
        pthread_mutex_unlock(&pc->wlock);
        return r;
}

static void end(struct vmm_postcopy *pc, bool ok)
{
        if (!atomic_exchange(&pc->ended, true) && pc->on_end)
                pc->on_end(pc->opaque, ok);
}

/* Jailed: the thread's allow-list (seccomp.c), or the VM stops: never unconfined. */
static bool lock_down(struct vmm_postcopy *pc)
{
        berth_error_t err = NULL;
        if (vmm_jail_thread(VMM_THREAD_POSTCOPY, &err) == 0)
                return true;
        log_error("post-copy: %s", berth_error_msg(err));
        berth_error_release(&err);
        end(pc, false);
        return false;
}

/* Faults become requests; the page's arrival (recv_thread) wakes the faulting thread. */
static void *fault_main(void *arg)
{
        struct vmm_postcopy *pc = arg;
        pthread_setname_np(pthread_self(), "postcopy-fault");
        if (!lock_down(pc))
                return NULL;
        for (;;) {
                struct pollfd p[2] = {{.fd = pc->uffd, .events = POLLIN},
                                      {.fd = pc->stop_fd, .events = POLLIN}};
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        break;
                if (p[1].revents)
                        break;
                if (!p[0].revents)
                        continue;
                struct uffd_msg msg[16];
                ssize_t n = read(pc->uffd, msg, sizeof(msg));
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        continue;
                if (n <= 0)
                        break;
                for (size_t i = 0; i < (size_t) n / sizeof(msg[0]); i++) {
                        if (msg[i].event != UFFD_EVENT_PAGEFAULT)
                                continue;
                        uint64_t addr = msg[i].arg.pagefault.address;
                        if (addr < (uintptr_t) pc->ram || addr >= (uintptr_t) pc->ram + pc->size)
                                continue;
                        uint64_t off = (addr - (uintptr_t) pc->ram) & ~(uint64_t) (PAGE - 1);
                        uint8_t rec[VMM_MIG_REC_SIZE];
                        vmm_mig_rec_encode(rec, VMM_MIG_REC_REQ, 1, off);
                        berth_error_t err = NULL;
                        if (locked_write(pc, rec, sizeof(rec), &err) < 0) {
                                log_error("post-copy: ask for a page: %s", berth_error_msg(err));
                                berth_error_release(&err);
                                end(pc, false);
                                return NULL;
                        }
                        atomic_fetch_add(&pc->faults, 1);
                }
        }
        return NULL;
}

/* Pages in place: a run may meet pages already there (EEXIST), skipped. */
static int place(struct vmm_postcopy *pc, uint64_t off, uint32_t pages, bool zero,
                 berth_error_t *err)
{
        uint64_t done = 0, len = (uint64_t) pages * PAGE;
        while (done < len) {
                int r;
                int64_t moved;
                if (zero) {
                        struct uffdio_zeropage z = {
                                .range = {(uintptr_t) pc->ram + off + done, len - done}};
                        r = ioctl(pc->uffd, UFFDIO_ZEROPAGE, &z);
                        moved = z.zeropage;
                } else {
                        struct uffdio_copy c = {.dst = (uintptr_t) pc->ram + off + done,
                                                .src = (uintptr_t) pc->buf + done,
                                                .len = len - done};
                        r = ioctl(pc->uffd, UFFDIO_COPY, &c);
                        moved = c.copy;
                }
                if (r == 0)
                        break;
                if (moved > 0)
                        done += (uint64_t) moved;
                if (errno == EEXIST)
                        done = (done / PAGE + 1) * PAGE; /* that page is there: the next */
                else if (errno != EAGAIN)
                        return berth_fail(err, errno, "post-copy: put a page in place");
        }
        atomic_fetch_add(&pc->pages, pages);
        return 0;
}

static int stop_requested(void *opaque)
{
        struct vmm_postcopy *pc = opaque;
        struct pollfd p = {.fd = pc->stop_fd, .events = POLLIN};
        return poll(&p, 1, 0) > 0;
}

/* Until the main thread has answered; false if it refused (the source may have pushed all of
 * RAM and said DONE before it heard so) or if told to stop first. */
static bool wait_acked(struct vmm_postcopy *pc)
{
        pthread_mutex_lock(&pc->wlock);
        while (!pc->ack_sent && !stop_requested(pc)) {
                struct timespec t;
                clock_gettime(CLOCK_REALTIME, &t);
                t.tv_nsec += 50 * 1000 * 1000;
                if (t.tv_nsec >= 1000000000) {
                        t.tv_sec++;
                        t.tv_nsec -= 1000000000;
                }
                pthread_cond_timedwait(&pc->acked_cond, &pc->wlock, &t);
        }
        bool ok = pc->acked;
        pthread_mutex_unlock(&pc->wlock);
        return ok;
}

static void *recv_main(void *arg)
{
        struct vmm_postcopy *pc = arg;
        pthread_setname_np(pthread_self(), "postcopy-recv");
        if (!lock_down(pc))
                return NULL;
        struct vmm_mig_io io;
        vmm_mig_io_fd(&io, pc->fd);
        io.timeout_ms = IO_TIMEOUT_MS;
        io.wake_fd = pc->stop_fd;
        io.idle = stop_requested;
        io.opaque = pc;
        berth_error_t err = NULL;
        bool ok = false;
        for (;;) {
                uint8_t rec[VMM_MIG_REC_SIZE];
                if (vmm_mig_read(&io, rec, sizeof(rec), &err) < 0)
                        break;
                uint32_t type = get32(rec), pages = get32(rec + 4);
                uint64_t off = get64(rec + 8);
                if (type == VMM_MIG_REC_DONE) {
                        if (!wait_acked(pc)) {
                                berth_fail(&err, ECANCELED, "%s",
                                           pc->ack_sent ? "post-copy: the state was refused here"
                                                        : "post-copy: stopped before the ack");
                                break;
                        }
                        vmm_mig_rec_encode(rec, VMM_MIG_REC_DONE, 0, 0);
                        if (locked_write(pc, rec, sizeof(rec), &err) < 0)
                                break;
                        ok = true;
                        break;
                }
                if (type != VMM_MIG_REC_PAGES && type != VMM_MIG_REC_ZERO) {
                        berth_fail(&err, EPROTO, "post-copy: unexpected record type %u", type);
                        break;
                }
                if (pages == 0 || pages > VMM_MIG_MAX_RUN || off % PAGE || off >= pc->size ||
                    (uint64_t) pages * PAGE > pc->size - off) {
                        berth_fail(&err, EPROTO,
                                   "post-copy: %u page(s) at RAM offset %#llx are outside RAM",
                                   pages, (unsigned long long) off);
                        break;
                }
                if (type == VMM_MIG_REC_PAGES &&
                    vmm_mig_read(&io, pc->buf, (size_t) pages * PAGE, &err) < 0)
                        break;
                if (place(pc, off, pages, type == VMM_MIG_REC_ZERO, &err) < 0)
                        break;
        }
        if (ok) {
                struct uffdio_range r = {(uintptr_t) pc->ram, pc->size};
                if (ioctl(pc->uffd, UFFDIO_UNREGISTER, &r) < 0)
                        log_warn("post-copy: UFFDIO_UNREGISTER: %s", strerror(errno));
                log_info("post-copy: all of RAM is here (%llu faults served on demand)",
                         (unsigned long long) atomic_load(&pc->faults));
        } else if (!stop_requested(pc)) {
                log_error("post-copy: %s: the VM is lost", berth_error_msg(err));
        }
        berth_error_release(&err);
        end(pc, ok);
        return NULL;
}

int vmm_postcopy_start(uint8_t *ram, size_t size, int fd, void (*on_end)(void *opaque, bool ok),
                       void *opaque, struct vmm_postcopy **out, berth_error_t *err)
{
        *out = NULL;
        struct vmm_postcopy *pc = berth_xcalloc(1, sizeof(*pc));
        pc->ram = ram;
        pc->size = size;
        pc->fd = fd;
        pc->on_end = on_end;
        pc->opaque = opaque;
        pc->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        pthread_mutex_init(&pc->wlock, NULL);
        pthread_cond_init(&pc->acked_cond, NULL);
        pc->buf = berth_xmalloc((size_t) VMM_MIG_MAX_RUN * PAGE);
        pc->uffd = (int) syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
        int ret = 0;
        if (pc->stop_fd < 0)
                ret = berth_fail(err, errno, "eventfd");
        else if (pc->uffd < 0)
                ret = berth_fail(err, errno,
                                 "userfaultfd (post-copy needs it: as root, or "
                                 "vm.unprivileged_userfaultfd=1)");
        if (ret == 0) {
                struct uffdio_api api = {.api = UFFD_API};
                struct uffdio_register reg = {.range = {(uintptr_t) ram, size},
                                              .mode = UFFDIO_REGISTER_MODE_MISSING};
                if (ioctl(pc->uffd, UFFDIO_API, &api) < 0)
                        ret = berth_fail(err, errno, "UFFDIO_API");
                else if (ioctl(pc->uffd, UFFDIO_REGISTER, &reg) < 0)
                        ret = berth_fail(err, errno, "UFFDIO_REGISTER guest RAM");
                else if (!(reg.ioctls & (1ull << _UFFDIO_COPY)) ||
                         !(reg.ioctls & (1ull << _UFFDIO_ZEROPAGE)))
                        ret = berth_fail(err, ENOTSUP, "userfaultfd lacks COPY or ZEROPAGE");
        }
        if (ret == 0) {
                int r = pthread_create(&pc->fault_thread, NULL, fault_main, pc);
                pc->fault_started = r == 0;
                if (r == 0)
                        r = pthread_create(&pc->recv_thread, NULL, recv_main, pc);
                pc->recv_started = pc->fault_started && r == 0;
                if (r != 0)
                        ret = berth_fail(err, r, "start the post-copy threads");
        }
        if (ret < 0) {
                pc->fd = -1; /* the caller's still */
                vmm_postcopy_stop(pc);
                return -1;
        }
        *out = pc;
        return 0;
}

int vmm_postcopy_ack(struct vmm_postcopy *pc, int status, const char *msg, berth_error_t *err)
{
        struct vmm_mig_io io;
        vmm_mig_io_fd(&io, pc->fd);
        io.timeout_ms = IO_TIMEOUT_MS;
        pthread_mutex_lock(&pc->wlock);
        int r = vmm_mig_ack_send(&io, status, msg, err);
        pc->acked = r == 0 && status == 0;
        pc->ack_sent = true;
        pthread_cond_broadcast(&pc->acked_cond);
        pthread_mutex_unlock(&pc->wlock);
        return r;
}

void vmm_postcopy_counts(struct vmm_postcopy *pc, uint64_t *faults, uint64_t *pages)
{
        *faults = atomic_load(&pc->faults);
        *pages = atomic_load(&pc->pages);
}

void vmm_postcopy_stop(struct vmm_postcopy *pc)
{
        if (!pc)
                return;
        uint64_t one = 1;
        if (pc->stop_fd >= 0)
                (void) !write(pc->stop_fd, &one, sizeof(one));
        if (pc->fd >= 0)
                shutdown(pc->fd, SHUT_RDWR);
        /* closing the uffd lets any pending fault go on (onto a zero page) */
        if (pc->uffd >= 0)
                close(pc->uffd);
        pc->uffd = -1;
        if (pc->recv_started)
                pthread_join(pc->recv_thread, NULL);
        if (pc->fault_started)
                pthread_join(pc->fault_thread, NULL);
        if (pc->fd >= 0)
                close(pc->fd);
        if (pc->stop_fd >= 0)
                close(pc->stop_fd);
        pthread_mutex_destroy(&pc->wlock);
        pthread_cond_destroy(&pc->acked_cond);
        free(pc->buf);
        free(pc);
}

/* The source's side. */

/* Up to max pages from first on (unsent ones only when !force), one record
 * of like pages (zero or not); marks them sent. */
static int send_from(struct vmm_mig_io *io, const uint8_t *ram, size_t pages, uint64_t *sent,
                     size_t first, unsigned max, bool force, berth_error_t *err)
{
        bool zero = vmm_mig_page_zero(ram + first * PAGE);
        size_t n = 0;
        while (n < max && first + n < pages &&
               (n == 0 || force || !(sent[(first + n) / 64] >> ((first + n) % 64) & 1)) &&
               vmm_mig_page_zero(ram + (first + n) * PAGE) == zero)
                n++;
        uint8_t rec[VMM_MIG_REC_SIZE];
        vmm_mig_rec_encode(rec, zero ? VMM_MIG_REC_ZERO : VMM_MIG_REC_PAGES, (uint32_t) n,
                           (uint64_t) first * PAGE);
        if (vmm_mig_write(io, rec, sizeof(rec), err) < 0 ||
            (!zero && vmm_mig_write(io, ram + first * PAGE, n * PAGE, err) < 0))
                return -1;
        for (size_t i = first; i < first + n; i++)
                sent[i / 64] |= 1ull << (i % 64);
        return 0;
}

int vmm_postcopy_serve(struct vmm_mig_io *io, const uint8_t *ram, size_t size, const uint64_t *only,
                       uint64_t bandwidth_mib, bool (*stop)(void *opaque), void *opaque,
                       bool *acked, double *t_ack_ms, uint64_t *requests, berth_error_t *err)
{
        double t0 = now_ms();
        uint64_t b0 = io->bytes, answered = 0;
        size_t pages = size / PAGE, cursor = 0;
        uint64_t *sent = berth_xcalloc(pages / 64 + 1, sizeof(uint64_t));
        for (size_t w = 0; only && w <= pages / 64; w++)
                sent[w] = ~only[w]; /* what the destination holds already counts as sent */
        /* An answer to a request queues behind the push the socket holds
         * already, which loopback TCP lets grow to megabytes: milliseconds
         * the faulting vCPU waits.  Keep that queue short (POLLOUT only once
         * it drained), by TCP_NOTSENT_LOWAT, or a send buffer for a unix socket. */
        int lowat = (int) PUSH_QUEUE;
        if (setsockopt(io->fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat)) < 0 &&
            setsockopt(io->fd, SOL_SOCKET, SO_SNDBUF, &lowat, sizeof(lowat)) < 0)
                log_debug("post-copy: cannot shorten the stream's send queue: %s", strerror(errno));
        bool done_sent = false;
        int ret = 0;
        double idle_since = now_ms();
        *acked = false;
        *requests = 0;
        while (ret == 0) {
                if (stop && stop(opaque)) {
                        ret = berth_fail(err, ECANCELED, "post-copy was cancelled");
                        break;
                }
                bool push = !done_sent;
                int wait = 200;
                if (push && bandwidth_mib) { /* ahead of the cap: hold the push back */
                        /* the cap is the push's: answers to faults go at once, as QEMU's
                         * urgent pages do, and do not hold the push back further */
                        double due = (double) (io->bytes - b0 - answered) /
                                     ((double) bandwidth_mib * 1048576.0) * 1e3;
                        double ahead = due - (now_ms() - t0);
                        if (ahead > 0) {
                                push = false;
                                wait = ahead < 200 ? (int) ahead + 1 : 200;
                        }
                }
                struct pollfd p = {.fd = io->fd, .events = (short) (POLLIN | (push ? POLLOUT : 0))};
                int n = poll(&p, 1, wait);
                if (n < 0 && errno != EINTR) {
                        ret = berth_fail(err, errno, "poll the migration stream");
                        break;
                }
                if (n <= 0) {
                        if (!done_sent && !push)
                                idle_since = now_ms(); /* held back by the cap, not silent */
                        if (now_ms() - idle_since > IO_TIMEOUT_MS)
                                ret = berth_fail(err, ETIMEDOUT,
                                                 "the destination was silent for %d s",
                                                 IO_TIMEOUT_MS / 1000);
                        continue;
                }
                idle_since = now_ms();
                if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
                        uint8_t rec[VMM_MIG_REC_SIZE];
                        if (vmm_mig_read(io, rec, sizeof(rec), err) < 0) {
                                ret = -1;
                                break;
                        }
                        if (memcmp(rec, VMM_MIG_ACK_MAGIC, 8) == 0) {
                                /* the ack's head is a record's size: hand it back whole */
                                struct vmm_mig_io one;
                                vmm_mig_io_buffer(&one, rec, sizeof(rec));
                                uint32_t len = get32(rec + 12);
                                uint8_t msg[16 + VMM_MIG_ACK_MSG_MAX];
                                if (len > VMM_MIG_ACK_MSG_MAX) {
                                        ret = berth_fail(err, EPROTO,
                                                         "the destination's ack is malformed");
                                        break;
                                }
                                memcpy(msg, rec, sizeof(rec));
                                if (len && vmm_mig_read(io, msg + 16, len, err) < 0) {
                                        ret = -1;
                                        break;
                                }
                                vmm_mig_io_buffer(&one, msg, 16 + len);
                                if (vmm_mig_ack_read(&one, err) < 0) {
                                        ret = -1;
                                        break;
                                }
                                *acked = true;
                                *t_ack_ms = now_ms();
                                continue;
                        }
                        uint32_t type = get32(rec);
                        uint64_t off = get64(rec + 8);
                        if (type == VMM_MIG_REC_DONE) {
                                if (!done_sent || !*acked)
                                        ret = berth_fail(err, EPROTO,
                                                         "the destination said done too early");
                                break;
                        }
                        if (type != VMM_MIG_REC_REQ || off % PAGE || off >= size) {
                                ret = berth_fail(err, EPROTO,
                                                 "the destination sent a bad request (type %u, "
                                                 "offset %#llx)",
                                                 type, (unsigned long long) off);
                                break;
                        }
                        ++*requests;
                        /* asked for: sent again even if pushed already (it may be in flight) */
                        uint64_t before = io->bytes;
                        ret = send_from(io, ram, pages, sent, off / PAGE, REQ_RUN, true, err);
                        answered += io->bytes - before;
                        continue;
                }
                if (push && (p.revents & POLLOUT)) {
                        while (cursor < pages && (sent[cursor / 64] >> (cursor % 64) & 1))
                                cursor++;
                        if (cursor < pages) {
                                ret = send_from(io, ram, pages, sent, cursor, PUSH_RUN, false, err);
                        } else {
                                uint8_t rec[VMM_MIG_REC_SIZE];
                                vmm_mig_rec_encode(rec, VMM_MIG_REC_DONE, 0, 0);
                                ret = vmm_mig_write(io, rec, sizeof(rec), err);
                                done_sent = true;
                        }
                }
        }
        free(sent);
        return ret;
}
