/* virtio_blk.c — virtio block device (device id 2) on berth's block layer
 * (src/disk/disk.h): read, write, flush, discard, get-id, read-only.
 *
 * Requests are served on a worker thread per disk, so slow storage never
 * stalls the main loop or the other devices: the guest's notification only
 * kicks the worker, which takes a batch off the ring under the transport
 * lock, does the I/O without it, and pushes the results back (unless the
 * driver reset the queue meanwhile).  With io=uring on a raw disk the worker
 * queues a batch's reads, writes and flushes on an io_uring and waits for
 * them together (blk_uring.c) instead of one system call at a time; when
 * io_uring is missing it says so and stays synchronous.  Every sector range is checked
 * against the disk's size before the driver sees it, and a bad request
 * fails with IOERR/UNSUPP without breaking the queue.
 *
 * A migration that copies the disk (copy_storage, migrate_disk.c) reads it
 * from its own thread: the worker's I/O and those reads take io_lock (a
 * qcow2's tables are not shared between threads), and while tracking is on
 * every write and discard marks its chunks, after the I/O, under that lock,
 * so a chunk read before a write lands is marked again and sent again.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "disk/disk.h"
#include "vmm/blk_uring.h"
#include "vmm/jail.h"
#include "vmm/ratelimit.h"
#include "vmm/snapshot_format.h"
#include "vmm/virtio_blk.h"
#include "vmm/virtio_devices.h"

#define SECTOR      512ull
#define BLK_SEG_MAX (VIRTQ_MAX_SEG - 2)
#define BLK_ID_LEN  20

struct virtio_blk_stats {
        uint64_t reads, writes, flushes, discards, errors;
        uint64_t read_bytes, write_bytes;
        uint64_t uring_ops; /* reads, writes and flushes done through io_uring */
};

#define BLK_BATCH 32

/* A request of the batch on its way through the io_uring. */
struct blk_pending {
        struct iovec iov[VIRTQ_MAX_SEG];
        uint64_t len, off;
        int res;
        bool queued, done;
        enum blk_uring_op op;
};

struct virtio_blk {
        struct virtio_mmio_dev *t;
        pthread_t worker;
        bool worker_started;
        int kick_fd; /* eventfd: the guest notified */
        atomic_bool stop;
        struct virtq_elem *batch;    /* BLK_BATCH requests taken off the ring */
        struct blk_uring *uring;     /* NULL: synchronous I/O on the worker */
        struct blk_pending *pending; /* BLK_BATCH of them, with uring */
        bool direct;
        struct vmm_limiter limit;
        struct disk *disk;
        bool readonly;
        char id[BLK_ID_LEN];
        struct virtio_blk_config config;
        struct virtio_blk_stats stats;
        unsigned in_flight; /* under the transport lock: popped and not yet pushed back */
        /* copy_storage: the disk's I/O, and the chunks written since they were sent */
        pthread_mutex_t io_lock;
        uint64_t *track; /* NULL: not tracking */
        uint64_t track_chunk, track_chunks;
};

/* Under io_lock (or on the worker with it held): [off, off + len) was written. */
static void track_mark(struct virtio_blk *b, uint64_t off, uint64_t len)
{
        if (!b->track || !len)
                return;
        uint64_t last = (off + len - 1) / b->track_chunk;
        for (uint64_t c = off / b->track_chunk; c <= last && c < b->track_chunks; c++)
                b->track[c / 64] |= 1ull << (c % 64);
}

/* Checks that [sector, sector + len) lies inside the disk; no overflow. */
static bool range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t len)
{
        uint64_t size = b->disk->size;
        if (sector > size / SECTOR)
                return false;
        return len <= size - sector * SECTOR;
}

/* The data part of a request as its own iovec: `len` bytes of src after
 * `skip` (the header of a write, nothing for a read).  Returns the count. */
static int data_iov(const struct iovec *src, unsigned n, size_t skip, uint64_t len,
                    struct iovec *dst)
{
        int k = 0;
        for (unsigned i = 0; i < n && len; i++) {
                if (skip >= src[i].iov_len) {
                        skip -= src[i].iov_len;
                        continue;
                }
                size_t c = src[i].iov_len - skip;
                if (c > len)
                        c = (size_t) len;
                dst[k++] = (struct iovec){(uint8_t *) src[i].iov_base + skip, c};
                len -= c;
                skip = 0;
        }
        return k;
}

static uint8_t disk_status(int r, berth_error_t *err)
{
        if (r >= 0)
                return VIRTIO_BLK_S_OK;
        log_warn("virtio-blk: %s", berth_error_msg(*err));
        berth_error_release(err);
        return VIRTIO_BLK_S_IOERR;
}

/* The data of a read or write as an iovec, after the checks: OK with *len
 * and the count returned in *n, or the status that fails the request. */
static uint8_t rw_iov(const struct virtio_blk *b, const struct virtq_elem *e, bool write,
                      uint64_t sector, struct iovec *iov, int *n, uint64_t *len)
{
        if (write && b->readonly)
                return VIRTIO_BLK_S_IOERR;
        /* A read's data is its in segments minus the trailing status byte; a
         * write's, its out segments after the header. */
        *len = write ? e->out_len - sizeof(struct virtio_blk_outhdr) : e->in_len - 1;
        if (!range_ok(b, sector, *len))
                return VIRTIO_BLK_S_IOERR;
        *n = write ? data_iov(e->iov, e->n_out, sizeof(struct virtio_blk_outhdr), *len, iov)
                   : data_iov(e->iov + e->n_out, e->n_in, 0, *len, iov);
        return VIRTIO_BLK_S_OK;
}

static void account(struct virtio_blk *b, bool write, uint64_t len)
{
        if (write) {
                b->stats.writes++;
                b->stats.write_bytes += len;
        } else {
                b->stats.reads++;
                b->stats.read_bytes += len;
        }
}

static uint8_t do_rw(struct virtio_blk *b, struct virtq_elem *e, bool write, uint64_t sector,
                     size_t *done)
{
        struct iovec iov[VIRTQ_MAX_SEG];
        int n;
        uint64_t len;
        uint8_t st = rw_iov(b, e, write, sector, iov, &n, &len);
        if (st != VIRTIO_BLK_S_OK)
                return st;
        berth_error_t err = NULL;
        uint64_t off = sector * SECTOR;
        st = disk_status(write ? disk_pwritev(b->disk, iov, n, off, &err)
                               : disk_preadv(b->disk, iov, n, off, &err),
                         &err);
        if (write)
                track_mark(b, off, len); /* a failed write may have changed part of it */
        if (st == VIRTIO_BLK_S_OK) {
                *done = write ? 0 : len;
                account(b, write, len);
        }
        return st;
}

static uint8_t do_discard(struct virtio_blk *b, struct virtq_elem *e)
{
        if (b->readonly)
                return VIRTIO_BLK_S_IOERR;
        struct virtio_blk_discard_write_zeroes seg;
        size_t hdr = sizeof(struct virtio_blk_outhdr);
        /* max_discard_seg is 1: exactly one segment. */
        if (e->out_len != hdr + sizeof(seg) ||
            virtq_iov_to_buf(e->iov, e->n_out, hdr, &seg, sizeof(seg)) != sizeof(seg))
                return VIRTIO_BLK_S_UNSUPP;
        if (seg.flags != 0 || !range_ok(b, seg.sector, (uint64_t) seg.num_sectors * SECTOR))
                return VIRTIO_BLK_S_IOERR;
        berth_error_t err = NULL;
        uint8_t st = disk_status(disk_discard(b->disk, seg.sector * SECTOR,
                                              (uint64_t) seg.num_sectors * SECTOR, &err),
                                 &err);
        track_mark(b, seg.sector * SECTOR, (uint64_t) seg.num_sectors * SECTOR);
        if (st == VIRTIO_BLK_S_OK)
                b->stats.discards++;
        return st;
}

/* Rate limit: bytes moved (data segments) and one operation per request. */
static bool throttled(struct virtio_blk *b, struct virtq_elem *e)
{
        if (!b->t || !vmm_limiter_active(&b->limit))
                return false;
        uint64_t bytes = e->in_len > 1 ? e->in_len - 1 : 0;
        if (e->out_len > sizeof(struct virtio_blk_outhdr))
                bytes += e->out_len - sizeof(struct virtio_blk_outhdr);
        uint64_t wait;
        if (vmm_limiter_take(&b->limit, bytes, &wait))
                return false;
        virtio_mmio_retry_after(b->t, 0, wait);
        return true;
}

static int serve_one(struct virtio_blk *b, struct virtq_elem *e);

/* Write the status byte; the count of bytes the device wrote. */
static int finish(struct virtio_blk *b, struct virtq_elem *e, uint8_t status, size_t done)
{
        if (status != VIRTIO_BLK_S_OK)
                b->stats.errors++;
        virtq_buf_to_iov(e->iov + e->n_out, e->n_in, e->in_len - 1, &status, 1);
        return (int) (done + 1);
}

/* What O_DIRECT accepts without the disk layer's bounce buffers. */
static bool direct_aligned(const struct iovec *iov, int n, uint64_t off)
{
        const uint64_t a = 4096;
        if (off % a)
                return false;
        for (int i = 0; i < n; i++)
                if ((uintptr_t) iov[i].iov_base % a || iov[i].iov_len % a)
                        return false;
        return true;
}

int virtio_blk_request(void *opaque, struct virtq_elem *e)
{
        struct virtio_blk *b = opaque;
        if (e->in_len && throttled(b, e))
                return VIRTIO_REQ_RETRY;
        return serve_one(b, e);
}

static int serve_one(struct virtio_blk *b, struct virtq_elem *e)
{
        struct virtio_blk_outhdr h;
        if (e->in_len == 0)
                return 0; /* nowhere to put a status: drop it */
        size_t done = 0;
        uint8_t status;
        berth_error_t err = NULL;
        if (virtq_iov_to_buf(e->iov, e->n_out, 0, &h, sizeof(h)) != sizeof(h)) {
                status = VIRTIO_BLK_S_IOERR;
        } else {
                switch (h.type) {
                case VIRTIO_BLK_T_IN:
                case VIRTIO_BLK_T_OUT:
                        status = do_rw(b, e, h.type == VIRTIO_BLK_T_OUT, h.sector, &done);
                        break;
                case VIRTIO_BLK_T_FLUSH:
                        /* a failed flush is logged: it is the one a user most needs to see */
                        status = disk_status(disk_flush(b->disk, &err), &err);
                        b->stats.flushes++;
                        break;
                case VIRTIO_BLK_T_GET_ID:
                        done = virtq_buf_to_iov(e->iov + e->n_out, e->n_in, 0, b->id,
                                                e->in_len - 1 < BLK_ID_LEN ? e->in_len - 1
                                                                           : BLK_ID_LEN);
                        status = VIRTIO_BLK_S_OK;
                        break;
                case VIRTIO_BLK_T_DISCARD:
                        status = do_discard(b, e);
                        break;
                default:
                        status = VIRTIO_BLK_S_UNSUPP;
                }
        }
        return finish(b, e, status, done);
}

/* The io_uring path: queue request i of the batch if it is a read, write or
 * flush the ring can do; -1 then, else what serve_one() wrote. */
static int uring_queue(struct virtio_blk *b, struct virtq_elem *e, unsigned i)
{
        struct blk_pending *p = &b->pending[i];
        struct virtio_blk_outhdr h;
        p->queued = p->done = false;
        if (e->in_len == 0 || virtq_iov_to_buf(e->iov, e->n_out, 0, &h, sizeof(h)) != sizeof(h))
                return serve_one(b, e);
        if (h.type == VIRTIO_BLK_T_FLUSH) {
                p->op = BLK_URING_FLUSH;
                blk_uring_queue(b->uring, p->op, i, NULL, 0, 0);
                p->queued = true;
                return -1;
        }
        if (h.type != VIRTIO_BLK_T_IN && h.type != VIRTIO_BLK_T_OUT)
                return serve_one(b, e);
        bool write = h.type == VIRTIO_BLK_T_OUT;
        int n;
        if (rw_iov(b, e, write, h.sector, p->iov, &n, &p->len) != VIRTIO_BLK_S_OK ||
            (b->direct && !direct_aligned(p->iov, n, h.sector * SECTOR)))
                return serve_one(b, e); /* fails the same way, or bounces */
        p->op = write ? BLK_URING_WRITE : BLK_URING_READ;
        p->off = h.sector * SECTOR;
        blk_uring_queue(b->uring, p->op, i, p->iov, n, p->off);
        p->queued = true;
        return -1;
}

static void uring_done(void *ctx, unsigned tag, int res)
{
        struct virtio_blk *b = ctx;
        b->pending[tag].res = res;
        b->pending[tag].done = true;
}

/* A completed operation's status; a short transfer is redone synchronously
 * (the disk layer finishes it piecewise). */
static int uring_finish(struct virtio_blk *b, struct virtq_elem *e, struct blk_pending *p)
{
        if (!p->done || (p->op != BLK_URING_FLUSH && p->res >= 0 && (uint64_t) p->res != p->len))
                return serve_one(b, e);
        if (p->op == BLK_URING_WRITE)
                track_mark(b, p->off, p->len);
        b->stats.uring_ops++;
        if (p->op == BLK_URING_FLUSH)
                b->stats.flushes++;
        if (p->res < 0) {
                log_warn("virtio-blk: %s: %s",
                         p->op == BLK_URING_READ    ? "read"
                         : p->op == BLK_URING_WRITE ? "write"
                                                    : "flush",
                         strerror(-p->res));
                return finish(b, e, VIRTIO_BLK_S_IOERR, 0);
        }
        if (p->op == BLK_URING_FLUSH)
                return finish(b, e, VIRTIO_BLK_S_OK, 0);
        account(b, p->op == BLK_URING_WRITE, p->len);
        return finish(b, e, VIRTIO_BLK_S_OK, p->op == BLK_URING_READ ? p->len : 0);
}

/* Serve a batch through the ring; requests it cannot take are served as
 * they come.  If the ring fails, the rest is done synchronously and the
 * disk stays synchronous from then on. */
static void uring_serve(struct virtio_blk *b, unsigned n, int *written)
{
        for (unsigned i = 0; i < n; i++)
                written[i] = uring_queue(b, &b->batch[i], i);
        int r = blk_uring_run(b->uring, uring_done, b);
        if (r < 0) {
                log_warn("virtio-blk: io_uring failed (%s); synchronous I/O from now on",
                         strerror(-r));
                blk_uring_free(b->uring);
                b->uring = NULL;
        }
        for (unsigned i = 0; i < n; i++)
                if (b->pending[i].queued)
                        written[i] = uring_finish(b, &b->batch[i], &b->pending[i]);
}

/* Take what the guest posted, serve it without the lock, give it back. */
static void blk_drain(struct virtio_blk *b)
{
        struct virtio_mmio_dev *t = b->t;
        int written[BLK_BATCH];
        for (;;) {
                unsigned n = 0;
                pthread_mutex_lock(&t->lock);
                uint32_t epoch = t->epoch;
                while (n < BLK_BATCH && virtio_mmio_pop_host(t, 0, &b->batch[n]) == 1) {
                        if (b->batch[n].in_len && throttled(b, &b->batch[n])) {
                                virtq_unpop(&t->vq[0]); /* the retry timer is armed */
                                break;
                        }
                        n++;
                }
                b->in_flight = n;
                pthread_mutex_unlock(&t->lock);
                if (n == 0)
                        return;
                pthread_mutex_lock(&b->io_lock);
                if (b->uring)
                        uring_serve(b, n, written);
                else
                        for (unsigned i = 0; i < n; i++)
                                written[i] = serve_one(b, &b->batch[i]);
                pthread_mutex_unlock(&b->io_lock);
                pthread_mutex_lock(&t->lock);
                if (t->epoch == epoch) { /* else the driver reset the queue: drop */
                        for (unsigned i = 0; i < n; i++)
                                virtq_push(&t->vq[0], b->batch[i].head, (uint32_t) written[i]);
                        virtio_mmio_used(t, 0);
                }
                b->in_flight = 0;
                pthread_mutex_unlock(&t->lock);
        }
}

static void *blk_worker(void *arg)
{
        struct virtio_blk *b = arg;
        berth_error_t err = NULL;
        if (vmm_jail_thread(VMM_THREAD_BLK, &err) < 0) {
                /* never serve the guest unconfined: the disk stays silent
                 * and the VMM stops */
                log_error("disk `%s`: %s", b->disk->path, berth_error_msg(err));
                berth_error_release(&err);
                vmm_vm_stop(b->t->vm, VMM_EXIT_ERROR);
                return NULL;
        }
        while (!atomic_load(&b->stop)) {
                uint64_t v;
                if (read(b->kick_fd, &v, sizeof(v)) < 0 && errno != EINTR)
                        break;
                if (!atomic_load(&b->stop))
                        blk_drain(b);
        }
        return NULL;
}

static void blk_kick(struct virtio_blk *b)
{
        uint64_t one = 1;
        (void) !write(b->kick_fd, &one, sizeof(one));
}

static void blk_notify(void *dev, struct virtio_mmio_dev *t, unsigned q)
{
        struct virtio_blk *b = dev;
        if (b->worker_started)
                blk_kick(b);
        else
                virtio_mmio_serve(t, q, virtio_blk_request);
}

static void blk_config_read(void *dev, uint32_t off, uint8_t *data, unsigned len)
{
        struct virtio_blk *b = dev;
        memcpy(data, (const uint8_t *) &b->config + off, len);
}

void virtio_blk_free(void *dev)
{
        struct virtio_blk *b = dev;
        if (b->worker_started) {
                atomic_store(&b->stop, true);
                blk_kick(b);
                pthread_join(b->worker, NULL);
        }
        if (b->kick_fd >= 0)
                close(b->kick_fd);
        if (b->pending)
                log_info("disk `%s`: %llu requests through io_uring", b->disk->path,
                         (unsigned long long) b->stats.uring_ops);
        blk_uring_free(b->uring);
        free(b->pending);
        free(b->batch);
        berth_error_t err = NULL;
        if (!b->readonly && disk_flush(b->disk, &err) < 0)
                berth_error_report(&err, 0);
        disk_close(b->disk);
        free(b->track);
        pthread_mutex_destroy(&b->io_lock);
        free(b);
}

static void blk_metrics(void *dev, virtio_metric_fn put, void *ctx)
{
        const struct virtio_blk *b = dev;
        put(ctx, "reads", b->stats.reads);
        put(ctx, "writes", b->stats.writes);
        put(ctx, "flushes", b->stats.flushes);
        put(ctx, "discards", b->stats.discards);
        put(ctx, "errors", b->stats.errors);
        put(ctx, "read_bytes", b->stats.read_bytes);
        put(ctx, "write_bytes", b->stats.write_bytes);
        put(ctx, "uring_ops", b->stats.uring_ops);
}

/* Snapshot state: the disk as the guest saw it.  A restore onto a disk of
 * another size or mode is another configuration and refused. */
#define BLK_STATE_VERSION 1

static bool blk_busy(void *dev)
{
        return ((const struct virtio_blk *) dev)->in_flight > 0;
}

static void blk_save(void *dev, struct vmm_snap_buf *sb)
{
        struct virtio_blk *b = dev;
        /* What the guest wrote must be in the file the restoring VMM opens
         * (a qcow2's tables live in this process until flushed). */
        berth_error_t err = NULL;
        if (!b->readonly && disk_flush(b->disk, &err) < 0)
                berth_error_report(&err, 0);
        vmm_snap_put_u64(sb, b->config.capacity);
        vmm_snap_put_u8(sb, b->readonly);
}

static int blk_load(void *dev, struct vmm_snap_rd *r, uint32_t version, berth_error_t *err)
{
        const struct virtio_blk *b = dev;
        uint64_t capacity = vmm_snap_get_u64(r);
        bool readonly = vmm_snap_get_bool(r);
        if (!r->short_read && (capacity != b->config.capacity || readonly != b->readonly))
                return berth_fail(err, EINVAL,
                                  "disk `%s` has %llu sectors%s, the snapshot's had %llu%s: made "
                                  "for another configuration",
                                  b->disk->path, (unsigned long long) b->config.capacity,
                                  b->readonly ? " (read-only)" : "", (unsigned long long) capacity,
                                  readonly ? " (read-only)" : "");
        return 0;
}

static struct virtio_dev_ops blk_ops = {
        .name = "blk",
        .device_id = 2,
        .n_queues = 1,
        .features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                    (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_DISCARD),
        .config_size = sizeof(struct virtio_blk_config),
        .config_read = blk_config_read,
        .queue_notify = blk_notify,
        .destroy = virtio_blk_free,
        .metrics = blk_metrics,
        .state_version = BLK_STATE_VERSION,
        .save = blk_save,
        .load = blk_load,
        .busy = blk_busy,
};

static struct virtio_dev_ops blk_ro_ops;

struct virtio_blk *virtio_blk_new(struct disk *d, bool readonly, const char *id)
{
        struct virtio_blk *b = berth_xcalloc(1, sizeof(*b));
        b->kick_fd = -1;
        pthread_mutex_init(&b->io_lock, NULL);
        b->disk = d;
        b->readonly = readonly || d->readonly;
        snprintf(b->id, sizeof(b->id), "%s", id);
        b->config.capacity = d->size / SECTOR;
        b->config.seg_max = BLK_SEG_MAX;
        b->config.blk_size = 512;
        b->config.max_discard_sectors = 0x3fffff;
        b->config.max_discard_seg = 1;
        b->config.discard_sector_alignment = 1;
        return b;
}

/* io=uring: a ring for the worker, or a clear word on why not. */
static void uring_init(struct virtio_blk *b, const char *path)
{
        int fd = disk_raw_fd(b->disk, &b->direct);
        if (fd < 0) {
                log_warn("disk `%s`: io=uring needs a raw disk; using the worker thread's "
                         "synchronous I/O",
                         path);
                return;
        }
        berth_error_t err = NULL;
        b->uring = blk_uring_new(fd, BLK_BATCH, &err);
        if (!b->uring) {
                log_warn("disk `%s`: io_uring unavailable (%s); using the worker thread's "
                         "synchronous I/O",
                         path, berth_error_msg(err));
                berth_error_release(&err);
                return;
        }
        b->pending = berth_xcalloc(BLK_BATCH, sizeof(*b->pending));
        log_info("disk `%s`: io_uring, up to %u requests in flight", path, BLK_BATCH);
}

int virtio_blk_add(struct vmm_vm *vm, const struct vmm_disk_config *dc, berth_error_t *err)
{
        struct disk *d;
        unsigned flags = (dc->readonly ? DISK_RDONLY : 0) | (dc->direct ? DISK_DIRECT : 0);
        struct disk_open_opts o = {.backing_allow = dc->backing};
        if (disk_open_ex(dc->path, (enum disk_format) dc->format, flags, &o, &d, err) < 0)
                return berth_wrap(err, "attach disk `%s`", dc->path);
        char id[BLK_ID_LEN];
        snprintf(id, sizeof(id), "berth%u", vm->n_virtio);
        struct virtio_blk *b = virtio_blk_new(d, dc->readonly, id);
        const struct virtio_dev_ops *ops = &blk_ops;
        if (b->readonly) {
                blk_ro_ops = blk_ops;
                blk_ro_ops.features = (blk_ops.features | (1ull << VIRTIO_BLK_F_RO)) &
                                      ~(1ull << VIRTIO_BLK_F_DISCARD);
                ops = &blk_ro_ops;
        }
        vmm_limiter_init(&b->limit, &dc->limit, vmm_now_ns());
        /* On failure the VM's teardown destroys the device. */
        if (virtio_mmio_add(vm, ops, b, &b->t, err) < 0)
                return -1;
        if (vmm_limiter_active(&b->limit) && virtio_mmio_retry_init(b->t, err) < 0)
                return -1;
        if (dc->io_uring)
                uring_init(b, dc->path);
        b->kick_fd = eventfd(0, EFD_CLOEXEC);
        b->batch = berth_xcalloc(BLK_BATCH, sizeof(*b->batch));
        if (b->kick_fd < 0)
                return berth_fail(err, errno, "eventfd for the I/O thread of disk `%s`", dc->path);
        int pe = pthread_create(&b->worker, NULL, blk_worker, b); /* returns, not errno */
        if (pe != 0)
                return berth_fail(err, pe, "start the I/O thread of disk `%s`", dc->path);
        b->worker_started = true;
        return 0;
}

/* Does the image d name `file` as its backing file (the same inode)? */
static bool backed_by(struct disk *d, const char *file)
{
        const char *name = disk_backing_name(d);
        if (!name)
                return false;
        cleanup_free char *p = disk_backing_path(d->path, name);
        struct stat a, c;
        return p && stat(p, &a) == 0 && stat(file, &c) == 0 && a.st_dev == c.st_dev &&
               a.st_ino == c.st_ino;
}

int virtio_blk_switch(struct virtio_blk *b, const char *path, const char *backing,
                      berth_error_t *err)
{
        if (b->readonly)
                return berth_fail(err, EROFS, "a read-only drive keeps its file");
        struct disk *d;
        struct disk_open_opts o = {.backing_allow = backing};
        unsigned flags = b->direct ? DISK_DIRECT : 0;
        /* An overlay on the drive's own file takes the open disk as its backing
         * file: nothing below it is opened again (a jailed VMM could not, as its
         * uid).  Any other file is opened whole, with the policy given. */
        if (disk_open_ex(path, DISK_FORMAT_AUTO, flags | DISK_NO_BACKING, &o, &d, err) < 0)
                return -1;
        bool adopt = backed_by(d, b->disk->path);
        if (!adopt && disk_backing_name(d)) {
                disk_close(d);
                if (disk_open_ex(path, DISK_FORMAT_AUTO, flags, &o, &d, err) < 0)
                        return -1;
        }
        if (d->size != b->disk->size || d->readonly) {
                int e = d->readonly ? EROFS : EINVAL;
                uint64_t size = d->size;
                disk_close(d);
                return berth_fail(err, e,
                                  "`%s` has %llu bytes%s, the drive %llu: the guest's disk "
                                  "cannot change under it",
                                  path, (unsigned long long) size,
                                  e == EROFS ? " and is read-only" : "",
                                  (unsigned long long) b->disk->size);
        }
        /* no request is between its I/O and its completion under io_lock */
        pthread_mutex_lock(&b->io_lock);
        int r = adopt ? disk_freeze(b->disk, err) : disk_flush(b->disk, err);
        if (r == 0) {
                struct disk *old = b->disk;
                b->disk = d;
                /* the ring was made on the old file's descriptor */
                if (b->uring) {
                        blk_uring_free(b->uring);
                        b->uring = NULL;
                        free(b->pending);
                        b->pending = NULL;
                }
                if (adopt)
                        d->backing = old; /* closed with d */
                else
                        disk_close(old);
        }
        pthread_mutex_unlock(&b->io_lock);
        if (r < 0)
                disk_close(d);
        return r;
}

struct virtio_blk *virtio_blk_of_drive(struct vmm_vm *vm, unsigned drive)
{
        for (unsigned i = 0, n = 0; i < vm->n_virtio; i++) {
                if (vm->virtio[i]->ops->device_id != 2)
                        continue;
                if (n++ == drive)
                        return vm->virtio[i]->dev;
        }
        return NULL;
}

bool virtio_blk_is_readonly(const struct virtio_blk *b)
{
        return b->readonly;
}

uint64_t virtio_blk_size(const struct virtio_blk *b)
{
        return b->disk->size;
}

void virtio_blk_track(struct virtio_blk *b, uint64_t chunk)
{
        pthread_mutex_lock(&b->io_lock);
        free(b->track);
        b->track = NULL;
        if (chunk) {
                b->track_chunk = chunk;
                b->track_chunks = (b->disk->size + chunk - 1) / chunk;
                b->track = berth_xcalloc(b->track_chunks / 64 + 1, sizeof(uint64_t));
                for (uint64_t c = 0; c < b->track_chunks; c++) /* all of it to send */
                        b->track[c / 64] |= 1ull << (c % 64);
        }
        pthread_mutex_unlock(&b->io_lock);
}

static bool chunk_dirty(const struct virtio_blk *b, uint64_t c)
{
        return b->track[c / 64] >> (c % 64) & 1;
}

uint64_t virtio_blk_dirty_bytes(struct virtio_blk *b)
{
        uint64_t n = 0;
        pthread_mutex_lock(&b->io_lock);
        for (uint64_t w = 0; b->track && w <= b->track_chunks / 64; w++)
                n += (uint64_t) __builtin_popcountll(b->track[w]);
        uint64_t chunk = b->track_chunk;
        pthread_mutex_unlock(&b->io_lock);
        return n * chunk;
}

int virtio_blk_take_dirty(struct virtio_blk *b, uint64_t *off, uint8_t *buf, size_t max,
                          struct virtio_blk_run *run, berth_error_t *err)
{
        int ret = 0;
        *run = (struct virtio_blk_run){0};
        pthread_mutex_lock(&b->io_lock);
        uint64_t c = *off / b->track_chunk, n = b->track ? b->track_chunks : 0;
        while (c < n && !chunk_dirty(b, c))
                c = (c % 64 == 0 && b->track[c / 64] == 0) ? c + 64 : c + 1;
        if (c >= n) {
                *off = b->disk->size;
                goto out;
        }
        run->off = c * b->track_chunk;
        /* a run of dirty chunks: up to max bytes of data, or much more of what the
         * image says reads as zeros (unallocated, or zero clusters) */
        struct disk_extent ext;
        uint64_t want = (uint64_t) max, zero_max = VIRTIO_BLK_ZERO_RUN_MAX;
        bool zero = disk_block_status(b->disk, run->off, zero_max, &ext, err) == 0 &&
                    (ext.flags & DISK_BS_ZERO) && !(ext.flags & DISK_BS_DATA) &&
                    ext.off == run->off && ext.len >= b->track_chunk;
        if (!zero && err && *err)
                berth_error_release(err);
        if (zero)
                want = ext.len / b->track_chunk * b->track_chunk;
        uint64_t end = c; /* want >= one chunk: the run has at least c */
        while (end < n && chunk_dirty(b, end) && (end - c + 1) * b->track_chunk <= want) {
                b->track[end / 64] &= ~(1ull << (end % 64));
                end++;
        }
        run->len = (end - c) * b->track_chunk;
        if (run->off + run->len > b->disk->size)
                run->len = b->disk->size - run->off;
        run->zero = zero;
        *off = run->off + run->len;
        if (!zero && disk_pread(b->disk, buf, (size_t) run->len, run->off, err) < 0) {
                /* sent again later, or the migration fails on it */
                track_mark(b, run->off, run->len);
                ret = berth_wrap(err, "read disk `%s` at %llu to copy it", b->disk->path,
                                 (unsigned long long) run->off);
        }
out:
        pthread_mutex_unlock(&b->io_lock);
        return ret;
}
