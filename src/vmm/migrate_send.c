/* migrate_send.c — the source side of pre-copy live migration (migrate.h):
 * PUT /migrate starts a thread that copies guest RAM to the destination
 * while the guest runs, round after round of the pages KVM's dirty log
 * says changed, until what is left fits the allowed downtime at the
 * bandwidth measured (or a round limit); then the main loop pauses the VM
 * and serializes its state (snapshot.c's), the thread sends the last pages
 * and the state and waits for the destination's ack.  Only an ack releases
 * the source (the VMM exits, VMM_EXIT_MIGRATED); any failure before it
 * stops the dirty log and resumes the guest here.
 *
 * --auto-converge: a guest that dirties memory faster than it can be sent
 * is throttled: a helper thread kicks the vCPUs out of KVM_RUN every
 * THROTTLE_PERIOD_MS and they sleep a growing share of it (20 %, then
 * +10 % a round, at most 99 %, as QEMU does).
 *
 * copy_storage: the writable disks go round by round beside RAM
 * (migrate_disk.c); their last round, like RAM's, with the VM paused.  A
 * post-copy sends them in rounds first (the guest cannot run on the
 * destination before its disk is there), the rest while paused. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/migrate.h"
#include "vmm/migrate_stream.h"
#include "vmm/postcopy.h"

#define PAGE               VMM_MIG_PAGE
#define THROTTLE_PERIOD_MS 20
#define CONNECT_TIMEOUT_MS 5000

static double now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) t.tv_sec * 1e3 + (double) t.tv_nsec / 1e6;
}

static void sleep_ms(double ms)
{
        if (ms <= 0)
                return;
        uint64_t ns = (uint64_t) (ms * 1e6);
        struct timespec ts = {(time_t) (ns / 1000000000u), (long) (ns % 1000000000u)};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* What one migration's thread works with. */
struct sender {
        struct vmm_migration *mig;
        struct vmm_vm *vm;
        struct vmm_mig_io io;
        struct vmm_dirty dirty;
        uint64_t *bitmap;
        double t_start, t_bw; /* the bandwidth cap's clock and bytes since */
        uint64_t bw_bytes;
        bool throttling; /* vm->mig_throttle runs throttle_thread */
        atomic_bool stop_throttle;
        struct vmm_mig_disks disks;
};

static bool cancelled(struct sender *s)
{
        return atomic_load(&s->vm->stopping) || atomic_load(&s->mig->cancel);
}

/* --bandwidth: sleep until the bytes sent since the cap's start fit it. */
static void bandwidth_wait(struct sender *s)
{
        if (!s->mig->bandwidth_mib)
                return;
        double due = (double) (s->io.bytes - s->bw_bytes) /
                     ((double) s->mig->bandwidth_mib * 1048576.0) * 1e3;
        sleep_ms(due - (now_ms() - s->t_bw));
}

static void pace_wait(void *opaque)
{
        bandwidth_wait(opaque);
}

static bool pace_stop(void *opaque)
{
        return cancelled(opaque);
}

/* A round of the disks' written chunks (copy_storage); the main loop's last
 * one runs under the migration's lock: this takes no lock. */
static int send_disks(struct sender *s, berth_error_t *err)
{
        if (!s->disks.n)
                return 0;
        struct vmm_mig_disks_pace pace = {pace_wait, pace_stop, s};
        return vmm_mig_disks_send(&s->disks, &s->io, &pace, err);
}

static int send_run(struct sender *s, uint32_t type, size_t first, size_t n, berth_error_t *err)
{
        uint8_t rec[VMM_MIG_REC_SIZE];
        vmm_mig_rec_encode(rec, type, (uint32_t) n, (uint64_t) first * PAGE);
        if (vmm_mig_write(&s->io, rec, sizeof(rec), err) < 0)
                return -1;
        if (type == VMM_MIG_REC_PAGES &&
            vmm_mig_write(&s->io, (uint8_t *) s->vm->mem.map + first * PAGE, n * PAGE, err) < 0)
                return -1;
        bandwidth_wait(s);
        return 0;
}

/* Every page whose bit is set in s->bitmap, in runs of like pages (zero
 * pages go as ZERO records, without their bytes); returns the count. */
static int send_pages(struct sender *s, uint64_t *sent, berth_error_t *err)
{
        const uint8_t *ram = s->vm->mem.map;
        size_t pages = s->dirty.pages, run = 0, first = 0;
        uint32_t type = 0;
        *sent = 0;
        for (size_t p = 0; p <= pages; p++) {
                bool dirty = p < pages && (s->bitmap[p / 64] >> (p % 64) & 1);
                if (p < pages && (p % 64) == 0 && s->bitmap[p / 64] == 0 && run == 0) {
                        p += 63;
                        continue;
                }
                uint32_t t = 0;
                if (dirty)
                        t = vmm_mig_page_zero(ram + p * PAGE) ? VMM_MIG_REC_ZERO
                                                              : VMM_MIG_REC_PAGES;
                if (run && (t != type || run == VMM_MIG_MAX_RUN)) {
                        if (send_run(s, type, first, run, err) < 0)
                                return -1;
                        *sent += run;
                        run = 0;
                        if (cancelled(s))
                                return berth_fail(err, ECANCELED, "the migration was cancelled");
                }
                if (t) {
                        if (!run) {
                                first = p;
                                type = t;
                        }
                        run++;
                }
        }
        return 0;
}

static uint64_t popcount(const uint64_t *b, size_t words)
{
        uint64_t n = 0;
        for (size_t i = 0; i < words; i++)
                n += (uint64_t) __builtin_popcountll(b[i]);
        return n;
}

static void *throttle_thread(void *arg)
{
        struct sender *s = arg;
        struct vmm_vm *vm = s->vm;
        while (!atomic_load(&s->stop_throttle) && !atomic_load(&vm->stopping)) {
                uint64_t pct = atomic_load(&vm->throttle_pct);
                atomic_store(&vm->throttle_ns, pct * THROTTLE_PERIOD_MS * 1000000ull / 100);
                atomic_fetch_add(&vm->throttle_ticket, 1);
                for (unsigned i = 0; i < vm->n_vcpus; i++)
                        vmm_vcpu_kick(&vm->vcpus[i]);
                sleep_ms(THROTTLE_PERIOD_MS);
        }
        return NULL;
}

static void throttle_raise(struct sender *s)
{
        struct vmm_vm *vm = s->vm;
        uint64_t pct = atomic_load(&vm->throttle_pct);
        pct = pct == 0 ? 20 : pct + 10 > 99 ? 99 : pct + 10;
        atomic_store(&vm->throttle_pct, pct);
        pthread_mutex_lock(&s->mig->lock);
        s->mig->throttle_pct = pct;
        pthread_mutex_unlock(&s->mig->lock);
        log_info("migration: auto-converge throttles the vCPUs to %llu %%",
                 (unsigned long long) pct);
        berth_error_t err = NULL;
        if (!s->throttling &&
            !(s->throttling = vmm_worker_run(&vm->mig_throttle, throttle_thread, s, &err) == 0)) {
                log_warn("migration: auto-converge: %s", berth_error_msg(err));
                berth_error_release(&err);
        }
}

static void throttle_end(struct sender *s)
{
        atomic_store(&s->vm->throttle_pct, 0);
        atomic_store(&s->vm->throttle_ns, 0);
        if (s->throttling) {
                atomic_store(&s->stop_throttle, true);
                vmm_worker_wait(&s->vm->mig_throttle);
                s->throttling = false;
                atomic_store(&s->stop_throttle, false);
        }
}

static void set_figures(struct vmm_migration *m, uint64_t bytes, uint64_t rounds, uint64_t left,
                        double mbps)
{
        pthread_mutex_lock(&m->lock);
        m->bytes = bytes;
        m->rounds = rounds;
        m->remaining_pages = left;
        m->mbps = mbps;
        pthread_mutex_unlock(&m->lock);
}

/* The switch-over's first half, on the main loop: pause, then state. */
static int ask_switchover(struct sender *s, berth_error_t *err)
{
        struct vmm_migration *m = s->mig;
        uint64_t one = 1;
        if (write(m->req_fd, &one, sizeof(one)) != sizeof(one))
                return berth_fail(err, errno, "ask the main loop to pause the VM");
        pthread_mutex_lock(&m->lock);
        while (!m->state_ready && !cancelled(s))
                pthread_cond_wait(&m->cond, &m->lock);
        int r = m->state_ready ? m->state_ret : -1;
        pthread_mutex_unlock(&m->lock);
        if (!m->state_ready)
                return berth_fail(err, ECANCELED, "the VMM is stopping");
        if (r < 0)
                return berth_fail(err, m->state_errno ? m->state_errno : EIO, "switch-over: %s",
                                  m->state_err ? m->state_err : "failed");
        return 0;
}

/* The STATE record with the saved state's bytes, then END with their checksum. */
static int send_state(struct sender *s, berth_error_t *err)
{
        struct vmm_migration *m = s->mig;
        uint8_t rec[VMM_MIG_REC_SIZE];
        vmm_mig_rec_encode(rec, VMM_MIG_REC_STATE, 0, m->state_buf.len);
        if (vmm_mig_write(&s->io, rec, sizeof(rec), err) < 0 ||
            vmm_mig_write(&s->io, m->state_buf.data, m->state_buf.len, err) < 0)
                return -1;
        vmm_mig_rec_encode(rec, VMM_MIG_REC_END, 0,
                           vmm_snap_fnv1a(VMM_MIG_FNV_SEED, m->state_buf.data, m->state_buf.len));
        if (vmm_mig_write(&s->io, rec, sizeof(rec), err) < 0)
                return -1;
        m->t_state_sent = now_ms(); /* read under lock once this thread ends */
        return 0;
}

static bool postcopy_stop(void *opaque)
{
        return cancelled(opaque);
}

/* Post-copy: pause, the state first, then RAM (postcopy.h).  Past the
 * destination's ack the guest runs there: a failure then loses it.  After
 * pre-copy rounds (switched, s->bitmap holds the pages dirtied since they
 * were sent), those pages are discarded there and fetched again. */
static int postcopy(struct sender *s, bool switched, berth_error_t *err)
{
        struct vmm_migration *m = s->mig;
        struct vmm_vm *vm = s->vm;
        if (ask_switchover(s, err) < 0)
                return -1;
        throttle_end(s);
        /* the guest is paused: what it wrote since the last round, before the state */
        if (send_disks(s, err) < 0)
                return -1;
        if (s->disks.n)
                log_info("migration: disks copied (%llu MiB of data, %llu MiB of zeros)",
                         (unsigned long long) (s->disks.bytes >> 20),
                         (unsigned long long) (s->disks.zero_bytes >> 20));
        uint8_t rec[VMM_MIG_REC_SIZE];
        if (switched) {
                if (vmm_dirty_collect(vm, &s->dirty, s->bitmap, true, err) < 0)
                        return -1;
                vmm_mig_rec_encode(rec, VMM_MIG_REC_POSTCOPY, 0, 0);
                if (vmm_mig_write(&s->io, rec, sizeof(rec), err) < 0)
                        return -1;
                for (size_t p = 0, run = 0; p <= s->dirty.pages; p++) {
                        bool d = p < s->dirty.pages && (s->bitmap[p / 64] >> (p % 64) & 1);
                        if (d && run < VMM_MIG_MAX_RUN) {
                                run++;
                                continue;
                        }
                        if (run) {
                                vmm_mig_rec_encode(rec, VMM_MIG_REC_DISCARD, (uint32_t) run,
                                                   (uint64_t) (p - run) * PAGE);
                                if (vmm_mig_write(&s->io, rec, sizeof(rec), err) < 0)
                                        return -1;
                        }
                        run = d ? 1 : 0;
                }
                pthread_mutex_lock(&m->lock);
                m->postcopy = true;
                pthread_mutex_unlock(&m->lock);
                log_info("migration: switching to post-copy: %llu pages to fetch again",
                         (unsigned long long) popcount(s->bitmap, s->dirty.words));
        }
        if (send_state(s, err) < 0)
                return -1;
        /* Straight to post-copy: push only the pages that hold data.  A page
         * never written here reads as zeros; left missing there, it is
         * fetched if the guest touches it, or zero-filled once post-copy
         * ends. */
        cleanup_free uint64_t *populated = NULL;
        if (!switched) {
                populated = berth_xcalloc(vm->mem.map_size / PAGE / 64 + 1, sizeof(uint64_t));
                if (vmm_mem_populated(&vm->mem, populated) < 0) {
                        free(populated);
                        populated = NULL;
                }
        }
        bool acked = false;
        double t_ack = 0;
        uint64_t requests = 0;
        int r = vmm_postcopy_serve(&s->io, vm->mem.map, vm->mem.map_size,
                                   switched ? s->bitmap : populated, m->bandwidth_mib,
                                   postcopy_stop, s, &acked, &t_ack, &requests, err);
        pthread_mutex_lock(&m->lock);
        m->requests = requests;
        if (acked)
                m->t_ack = t_ack;
        m->lost = r < 0 && acked;
        m->rounds++;
        pthread_mutex_unlock(&m->lock);
        if (r < 0 && acked)
                return berth_wrap(err, "post-copy failed after the destination took the VM "
                                       "over: the VM is lost (this VMM stays paused)");
        return r;
}

static int migrate(struct sender *s, berth_error_t *err)
{
        struct vmm_migration *m = s->mig;
        struct vmm_vm *vm = s->vm;
        int fd = m->hand_fd >= 0 ? m->hand_fd : vmm_mig_connect(m->dest, CONNECT_TIMEOUT_MS, err);
        m->hand_fd = -1; /* the stream's now */
        if (fd < 0)
                return -1;
        vmm_mig_io_fd(&s->io, fd);
        pthread_mutex_lock(&m->lock);
        m->sock = fd;
        pthread_mutex_unlock(&m->lock);
        /* the header: RAM size, vCPUs, and the CPUID the guest was given */
        struct vmm_mig_header *hdr = berth_xcalloc(1, sizeof(*hdr));
        hdr->version = VMM_MIG_VERSION;
        hdr->flags = m->postcopy ? VMM_MIG_FLAG_POSTCOPY : 0;
        hdr->ram_size = vm->mem.ram_size;
        hdr->vcpus = vm->n_vcpus;
        for (unsigned i = 0; vm->cpuid && i < vm->cpuid->nent && i < VMM_MIG_MAX_CPUID; i++) {
                const struct kvm_cpuid_entry2 *e = &vm->cpuid->entries[i];
                hdr->cpuid[hdr->n_cpuid++] = (struct vmm_mig_cpuid){e->function, e->index, e->eax,
                                                                    e->ebx,      e->ecx,   e->edx};
        }
        uint8_t *h;
        size_t hl = vmm_mig_header_encode(hdr, &h);
        free(hdr);
        int r = vmm_mig_write(&s->io, h, hl, err);
        free(h);
        if (r < 0)
                return -1;
        if (m->copy_storage && vmm_mig_disks_start(vm, &s->disks, &s->io, err) < 0)
                return -1;
        if (m->postcopy) {
                /* the disks first, round after round while the guest runs here */
                for (unsigned round = 0; s->disks.n && round < VMM_MIG_MAX_ROUNDS; round++) {
                        double t0 = now_ms();
                        uint64_t b0 = s->io.bytes;
                        if (send_disks(s, err) < 0)
                                return -1;
                        double dt = now_ms() - t0, mbps = 1000;
                        if (dt > 0.5)
                                mbps = (double) (s->io.bytes - b0) / 1048576.0 / (dt / 1e3);
                        if (mbps < 1)
                                mbps = 1;
                        double est_ms =
                                (double) vmm_mig_disks_dirty(&s->disks) / 1048576.0 / mbps * 1e3;
                        if (est_ms <= (double) m->max_downtime_ms)
                                break;
                }
                return postcopy(s, false, err);
        }
        if (vmm_dirty_start(vm, &s->dirty, err) < 0)
                return -1;
        m->user_dirty = s->dirty.shared ? NULL : s->dirty.user; /* else the tracker's */
        s->bitmap = berth_xcalloc(s->dirty.words + 1, sizeof(uint64_t));
        /* Round 1: every page that may hold data.  The destination's RAM is
         * fresh, so a page never written here (pagemap: neither present nor
         * swapped) is neither read nor sent; one written from now on is in
         * the dirty log, which runs already. */
        if (vmm_mem_populated(&vm->mem, s->bitmap) < 0)
                for (size_t p = 0; p < s->dirty.pages; p++)
                        s->bitmap[p / 64] |= 1ull << (p % 64);
        s->t_bw = now_ms();
        s->bw_bytes = s->io.bytes;
        uint64_t rounds = 0, prev_sent = 0;
        double mbps = 0;
        for (;;) {
                uint8_t rec[VMM_MIG_REC_SIZE];
                vmm_mig_rec_encode(rec, VMM_MIG_REC_ROUND, 0, ++rounds);
                if (vmm_mig_write(&s->io, rec, sizeof(rec), err) < 0)
                        return -1;
                double t0 = now_ms();
                uint64_t b0 = s->io.bytes, sent;
                if (send_pages(s, &sent, err) < 0 || send_disks(s, err) < 0)
                        return -1;
                double dt = now_ms() - t0;
                if (dt > 0.5)
                        mbps = (double) (s->io.bytes - b0) / 1048576.0 / (dt / 1e3);
                memset(s->bitmap, 0, s->dirty.words * sizeof(uint64_t));
                if (vmm_dirty_collect(vm, &s->dirty, s->bitmap, false, err) < 0)
                        return -1;
                uint64_t left = popcount(s->bitmap, s->dirty.words);
                set_figures(m, s->io.bytes, rounds, left, mbps);
                if (cancelled(s))
                        return berth_fail(err, ECANCELED, "the VMM is stopping");
                if (atomic_load(&m->to_postcopy))
                        return postcopy(s, true, err);
                double rate = mbps > 0 ? mbps : 1000; /* MiB/s */
                double est_ms = ((double) left * PAGE + (double) vmm_mig_disks_dirty(&s->disks)) /
                                1048576.0 / rate * 1e3;
                log_info("migration: round %llu sent %llu pages (%.1f MiB/s); %llu dirty, "
                         "%.1f ms to send",
                         (unsigned long long) rounds, (unsigned long long) sent, mbps,
                         (unsigned long long) left, est_ms);
                if (est_ms <= (double) m->max_downtime_ms || rounds >= VMM_MIG_MAX_ROUNDS)
                        break;
                /* not converging: the guest dirties at least half of what a round sends */
                if (m->auto_converge && rounds >= 2 && left * 2 >= prev_sent && left * 2 >= sent)
                        throttle_raise(s);
                prev_sent = sent;
        }
        /* switch-over: the main loop pauses the VM, saves its state and sends the last
         * round (final_pages) before it serves any device again */
        m->final_sender = s;
        m->final_round = ++rounds;
        if (ask_switchover(s, err) < 0)
                return -1;
        if (send_state(s, err) < 0)
                return -1;
        set_figures(m, s->io.bytes, rounds, 0, mbps);
        /* the destination loads the state and answers: only then is the VM there */
        if (vmm_mig_ack_read(&s->io, err) < 0)
                return -1;
        return 0;
}

static void *sender_thread(void *arg)
{
        struct vmm_migration *m = arg;
        struct sender *s = berth_xcalloc(1, sizeof(*s));
        s->mig = m;
        s->vm = m->vm;
        s->io.fd = -1;
        s->t_start = now_ms();
        berth_error_t err = NULL;
        int r = migrate(s, &err);
        if (r < 0 && s->io.fd >= 0 && !cancelled(s) && err &&
            (err->errnum == EPIPE || err->errnum == ECONNRESET)) {
                /* cut off: a destination that refused the stream said why in its ack */
                berth_error_t why = NULL;
                s->io.timeout_ms = 1000;
                if (vmm_mig_ack_read(&s->io, &why) < 0 && why && why->errnum != EPIPE &&
                    why->errnum != ECONNRESET && why->errnum != ETIMEDOUT) {
                        berth_error_release(&err);
                        err = why;
                } else
                        berth_error_release(&why);
        }
        throttle_end(s);
        vmm_dirty_stop(s->vm, &s->dirty);
        vmm_mig_disks_stop(&s->disks);
        double end = now_ms();
        pthread_mutex_lock(&m->lock);
        m->total_ms = end - s->t_start;
        if (m->t_pause > 0) {
                m->downtime_ms = (m->t_ack > 0 ? m->t_ack : end) - m->t_pause;
                if (m->t_state_sent > 0)
                        m->downtime_sent_ms = m->t_state_sent - m->t_pause;
        }
        m->bytes = s->io.bytes;
        m->disk_bytes = s->disks.bytes;
        m->disk_zero_bytes = s->disks.zero_bytes;
        if (r < 0)
                m->error = berth_xstrdup(berth_error_msg(err));
        pthread_mutex_unlock(&m->lock);
        if (r < 0) {
                log_error("migration to %s failed: %s", m->dest, berth_error_msg(err));
                berth_error_release(&err);
        } else
                log_info("migration to %s done: %.1f ms in all, %.1f ms down, %llu bytes, "
                         "%llu rounds",
                         m->dest, m->total_ms, m->downtime_ms, (unsigned long long) m->bytes,
                         (unsigned long long) m->rounds);
        pthread_mutex_lock(&m->lock);
        m->sock = -1;
        pthread_mutex_unlock(&m->lock);
        if (s->io.fd >= 0)
                close(s->io.fd);
        free(s->bitmap);
        free(s);
        atomic_store(&m->state, r < 0 ? VMM_MIG_FAILED : VMM_MIG_COMPLETED);
        uint64_t one = 1;
        (void) !write(m->done_fd, &one, sizeof(one));
        return NULL;
}

/* Main loop, at the switch-over of a pre-copy: the pages dirtied since the
 * last round, sent before the loop serves a device again. */
static int final_pages(struct sender *s, uint64_t round, berth_error_t *err)
{
        throttle_end(s);
        if (vmm_dirty_collect(s->vm, &s->dirty, s->bitmap, true, err) < 0)
                return -1;
        uint64_t sent;
        uint8_t rec[VMM_MIG_REC_SIZE];
        vmm_mig_rec_encode(rec, VMM_MIG_REC_ROUND, 0, round);
        if (vmm_mig_write(&s->io, rec, sizeof(rec), err) < 0 || send_pages(s, &sent, err) < 0 ||
            send_disks(s, err) < 0)
                return -1;
        log_info("migration: last round, %llu pages with the VM paused", (unsigned long long) sent);
        if (s->disks.n)
                log_info("migration: disks copied (%llu MiB of data, %llu MiB of zeros)",
                         (unsigned long long) (s->disks.bytes >> 20),
                         (unsigned long long) (s->disks.zero_bytes >> 20));
        return 0;
}

/* Main loop: the thread asks for the switch-over. */
static void on_request(void *opaque)
{
        struct vmm_migration *m = opaque;
        uint64_t n;
        (void) !read(m->req_fd, &n, sizeof(n));
        struct vmm_vm *vm = m->vm;
        m->was_paused = atomic_load(&vm->paused);
        vmm_vm_pause(vm, true);
        m->paused_by_us = !m->was_paused;
        berth_error_t err = NULL;
        pthread_mutex_lock(&m->lock);
        m->t_pause = now_ms();
        m->state_ret = vmm_snapshot_state(vm, &m->state_buf, &err);
        /* the sender thread waits on the condition meanwhile: the stream is ours */
        if (m->state_ret == 0 && m->final_sender)
                m->state_ret = final_pages(m->final_sender, m->final_round, &err);
        if (m->state_ret < 0) {
                m->state_errno = err ? err->errnum : 0;
                m->state_err = berth_xstrdup(berth_error_msg(err));
                berth_error_release(&err);
        }
        m->state_ready = true;
        pthread_cond_broadcast(&m->cond);
        pthread_mutex_unlock(&m->lock);
}

/* Main loop: the thread is done. */
static void on_done(void *opaque)
{
        struct vmm_migration *m = opaque;
        uint64_t n;
        (void) !read(m->done_fd, &n, sizeof(n));
        if (!m->joined) {
                vmm_worker_wait(&m->vm->mig_sender);
                m->joined = true;
        }
        if (atomic_load(&m->state) == VMM_MIG_FAILED && m->paused_by_us && !m->lost) {
                vmm_vm_pause(m->vm, false); /* the guest goes on here */
                m->paused_by_us = false;
        }
        void *conn = m->api_conn;
        m->api_conn = NULL;
        if (conn)
                vmm_api_migrate_done(m->vm, conn);
}

static void migration_free(struct vmm_vm *vm)
{
        struct vmm_migration *m = vm->migration;
        if (!m)
                return;
        if (m->req_fd >= 0) {
                vmm_vm_unwatch_fd(vm, m->req_fd);
                close(m->req_fd);
        }
        if (m->done_fd >= 0) {
                vmm_vm_unwatch_fd(vm, m->done_fd);
                close(m->done_fd);
        }
        if (m->hand_fd >= 0)
                close(m->hand_fd);
        vmm_snap_buf_release(&m->state_buf);
        pthread_mutex_destroy(&m->lock);
        pthread_cond_destroy(&m->cond);
        free(m->user_dirty);
        free(m->state_err);
        free(m->error);
        free(m->dest);
        free(m);
        vm->migration = NULL;
}

int vmm_migrate_start_postcopy(struct vmm_vm *vm, json_t *body, berth_error_t *err)
{
        int on = 0;
        json_error_t je;
        if (!body || json_unpack_ex(body, &je, JSON_STRICT, "{s:b}", "start_postcopy", &on) < 0 ||
            !on)
                return berth_fail(err, EINVAL, "want {\"start_postcopy\": true}");
        if (!vmm_migrate_active(vm))
                return berth_fail(err, EINVAL, "no migration is running");
        if (vm->migration->postcopy)
                return berth_fail(err, EINVAL, "the migration is post-copy already");
        atomic_store(&vm->migration->to_postcopy, true);
        log_info("migration: post-copy requested: switching after this round");
        return 0;
}

bool vmm_migrate_active(struct vmm_vm *vm)
{
        return vm->migration && atomic_load(&vm->migration->state) == VMM_MIG_ACTIVE;
}

int vmm_migrate_start(struct vmm_vm *vm, json_t *body, void *api_conn, berth_error_t *err)
{
        const char *dest = NULL;
        json_int_t downtime = VMM_MIG_DEFAULT_DOWNTIME_MS, bw = 0;
        int ac = 0, pc = 0, cs = 0;
        json_error_t je;
        if (!body ||
            json_unpack_ex(body, &je, JSON_STRICT, "{s:s,s?I,s?I,s?b,s?b,s?b}", "destination",
                           &dest, "max_downtime_ms", &downtime, "bandwidth_mib", &bw,
                           "auto_converge", &ac, "postcopy", &pc, "copy_storage", &cs) < 0)
                return berth_fail(err, EINVAL,
                                  "want {\"destination\": \"tcp:HOST:PORT\" | \"unix:PATH\", "
                                  "\"max_downtime_ms\": N, \"bandwidth_mib\": N, "
                                  "\"auto_converge\": BOOL, \"postcopy\": BOOL, "
                                  "\"copy_storage\": BOOL}");
        if (downtime < 1 || downtime > 3600000 || bw < 0 || bw > 1000000)
                return berth_fail(
                        err, EINVAL,
                        "max_downtime_ms wants 1..3600000, bandwidth_mib 0 (no cap)..1000000");
        /* Jailed, only with --jail-migrate are a migration's threads made and its
         * ioctls allowed (seccomp.c), and no list opens a socket to the
         * destination: the caller hands one in (migrate_hand.c). */
        bool handed = strcmp(dest, "fd") == 0;
        if (vm->cfg->jail && !vm->cfg->jail_migrate)
                return berth_fail(err, ENOTSUP,
                                  "this VMM's jail was made without --jail-migrate: it cannot "
                                  "migrate");
        if (vm->cfg->jail && !handed)
                return berth_fail(err, ENOTSUP,
                                  "a jailed VMM opens no socket: hand it one on `%s` and migrate "
                                  "to \"fd\", not `%s`",
                                  vmm_migrate_hand_path(vm), dest);
        if (!atomic_load(&vm->started))
                return berth_fail(err, EINVAL, "the VM is not started");
        if (vmm_migrate_active(vm))
                return berth_fail(err, EBUSY, "a migration is already running");
        if (vm->migration && !vm->migration->joined) {
                vmm_worker_wait(&vm->mig_sender);
                vm->migration->joined = true;
        }
        int hand_fd = -1;
        if (handed && (hand_fd = vmm_migrate_hand_take(vm)) < 0)
                return berth_fail(err, EINVAL,
                                  "destination \"fd\": no socket was handed over on `%s`",
                                  vmm_migrate_hand_path(vm));
        migration_free(vm);
        struct vmm_migration *m = berth_xcalloc(1, sizeof(*m));
        m->vm = vm;
        m->dest = berth_xstrdup(dest);
        m->max_downtime_ms = (uint64_t) downtime;
        m->bandwidth_mib = (uint64_t) bw;
        m->auto_converge = ac;
        m->postcopy = pc;
        m->copy_storage = cs;
        m->hand_fd = hand_fd;
        m->sock = -1;
        m->joined = true;
        pthread_mutex_init(&m->lock, NULL);
        pthread_cond_init(&m->cond, NULL);
        vmm_snap_buf_init(&m->state_buf);
        m->req_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        m->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        vm->migration = m;
        if (m->req_fd < 0 || m->done_fd < 0) {
                int e = errno;
                migration_free(vm);
                return berth_fail(err, e, "eventfd for the migration");
        }
        if (vmm_vm_watch_fd(vm, m->req_fd, on_request, m, err) < 0 ||
            vmm_vm_watch_fd(vm, m->done_fd, on_done, m, err) < 0) {
                migration_free(vm);
                return -1;
        }
        atomic_store(&m->state, VMM_MIG_ACTIVE);
        m->api_conn = api_conn;
        if (vmm_worker_run(&vm->mig_sender, sender_thread, m, err) < 0) {
                atomic_store(&m->state, VMM_MIG_FAILED);
                m->api_conn = NULL;
                return berth_wrap(err, "start the migration");
        }
        m->joined = false;
        log_info("migration to %s started (%s%s, max downtime %llu ms, bandwidth %s%llu MiB/s%s)",
                 dest, pc ? "post-copy" : "pre-copy", cs ? " with the disks" : "",
                 (unsigned long long) m->max_downtime_ms, bw ? "" : "uncapped ",
                 (unsigned long long) bw, ac ? ", auto-converge" : "");
        return 0;
}

json_t *vmm_migrate_status(struct vmm_vm *vm)
{
        struct vmm_migration *m = vm->migration;
        if (!m)
                return json_pack("{s:s}", "state", "none");
        static const char *names[] = {"none", "active", "completed", "failed"};
        int st = atomic_load(&m->state);
        pthread_mutex_lock(&m->lock);
        json_t *o = json_pack(
                "{s:s,s:s,s:f,s:f,s:I,s:I,s:I,s:f,s:I,s:I,s:I,s:b}", "state",
                names[st >= 0 && st < 4 ? st : 0], "destination", m->dest, "total_ms",
                st == VMM_MIG_ACTIVE ? 0.0 : m->total_ms, "downtime_ms", m->downtime_ms, "bytes",
                (json_int_t) m->bytes, "rounds", (json_int_t) m->rounds, "remaining_pages",
                (json_int_t) m->remaining_pages, "bandwidth_mibps", m->mbps, "throttle_pct",
                (json_int_t) m->throttle_pct, "max_downtime_ms", (json_int_t) m->max_downtime_ms,
                "bandwidth_mib", (json_int_t) m->bandwidth_mib, "auto_converge", m->auto_converge);
        json_object_set_new(o, "postcopy", json_boolean(m->postcopy));
        if (m->copy_storage) {
                json_object_set_new(o, "copy_storage", json_true());
                json_object_set_new(o, "disk_bytes", json_integer((json_int_t) m->disk_bytes));
                json_object_set_new(o, "disk_zero_bytes",
                                    json_integer((json_int_t) m->disk_zero_bytes));
        }
        if (st == VMM_MIG_COMPLETED)
                json_object_set_new(o, "downtime_sent_ms", json_real(m->downtime_sent_ms));
        if (m->postcopy)
                json_object_set_new(o, "postcopy_requests", json_integer((json_int_t) m->requests));
        if (m->error)
                json_object_set_new(o, "error", json_string(m->error));
        pthread_mutex_unlock(&m->lock);
        return o;
}

void vmm_migrate_cancel(struct vmm_vm *vm)
{
        struct vmm_migration *m = vm->migration;
        if (!m)
                return;
        m->api_conn = NULL; /* the API is gone */
        atomic_store(&m->cancel, true);
        pthread_mutex_lock(&m->lock);
        if (m->sock >= 0)
                shutdown(m->sock, SHUT_RDWR);
        pthread_cond_broadcast(&m->cond);
        pthread_mutex_unlock(&m->lock);
        if (!m->joined) {
                vmm_worker_wait(&vm->mig_sender);
                m->joined = true;
        }
}

void vmm_migrate_fini(struct vmm_vm *vm)
{
        vmm_migrate_cancel(vm);
        migration_free(vm);
}
