/* blk_uring.c — io_uring for virtio-blk's worker thread (see blk_uring.h). */
#include "vmm/blk_uring.h"

#include <errno.h>
#include <stdlib.h>

#include "common/util.h"

#ifdef BERTH_HAVE_LIBURING
#include <liburing.h>

struct blk_uring {
        struct io_uring ring;
        int fd;
        unsigned queued;
};

struct blk_uring *blk_uring_new(int fd, unsigned depth, berth_error_t *err)
{
        struct blk_uring *u = berth_xcalloc(1, sizeof(*u));
        int r = io_uring_queue_init(depth, &u->ring, 0);
        if (r < 0) {
                free(u);
                berth_fail(err, -r, "io_uring_queue_init");
                return NULL;
        }
        u->fd = fd;
        return u;
}

void blk_uring_free(struct blk_uring *u)
{
        if (!u)
                return;
        io_uring_queue_exit(&u->ring);
        free(u);
}

void blk_uring_queue(struct blk_uring *u, enum blk_uring_op op, unsigned tag,
                     const struct iovec *iov, int iovcnt, uint64_t off)
{
        struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
        if (!sqe)
                abort(); /* more than `depth` queued: a caller bug */
        if (op == BLK_URING_READ) {
                io_uring_prep_readv(sqe, u->fd, iov, (unsigned) iovcnt, off);
        } else if (op == BLK_URING_WRITE) {
                io_uring_prep_writev(sqe, u->fd, iov, (unsigned) iovcnt, off);
        } else {
                io_uring_prep_fsync(sqe, u->fd, IORING_FSYNC_DATASYNC);
                /* A flush covers the writes queued before it. */
                io_uring_sqe_set_flags(sqe, IOSQE_IO_DRAIN);
        }
        io_uring_sqe_set_data64(sqe, tag);
        u->queued++;
}

int blk_uring_run(struct blk_uring *u, void (*done)(void *ctx, unsigned tag, int res), void *ctx)
{
        unsigned want = u->queued, sent = 0, got = 0;
        int err = 0, r;
        u->queued = 0;
        while (sent < want) {
                r = io_uring_submit(&u->ring);
                if (r == -EINTR)
                        continue;
                if (r <= 0) {
                        err = r < 0 ? r : -EIO;
                        break;
                }
                sent += (unsigned) r;
        }
        /* Reap everything that went in, even after a failed submit. */
        while (got < sent) {
                struct io_uring_cqe *cqe;
                r = io_uring_wait_cqe(&u->ring, &cqe);
                if (r == -EINTR)
                        continue;
                if (r < 0)
                        return r;
                done(ctx, (unsigned) io_uring_cqe_get_data64(cqe), cqe->res);
                io_uring_cqe_seen(&u->ring, cqe);
                got++;
        }
        return err ? err : (int) got;
}

#else /* built without liburing: the worker thread's synchronous I/O only */

struct blk_uring {
        int unused;
};

struct blk_uring *blk_uring_new(int fd, unsigned depth, berth_error_t *err)
{
        (void) fd;
        (void) depth;
        berth_fail(err, ENOTSUP, "berth-vmm was built without liburing");
        return NULL;
}

void blk_uring_free(struct blk_uring *u)
{
        (void) u;
}

void blk_uring_queue(struct blk_uring *u, enum blk_uring_op op, unsigned tag,
                     const struct iovec *iov, int iovcnt, uint64_t off)
{
        (void) u, (void) op, (void) tag, (void) iov, (void) iovcnt, (void) off;
        abort(); /* blk_uring_new never succeeds */
}

int blk_uring_run(struct blk_uring *u, void (*done)(void *ctx, unsigned tag, int res), void *ctx)
{
        (void) u, (void) done, (void) ctx;
        return -ENOTSUP;
}
#endif
