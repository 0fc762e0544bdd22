/* blk_uring.h — virtio-blk's optional io_uring engine (--disk ...,io=uring,
 * or "io_engine": "Async" in a config): the disk's worker thread queues a
 * batch of reads, writes and flushes on a raw file and waits for all of
 * them, instead of doing them one system call at a time.  Without liburing
 * at build time, or io_uring at run time, blk_uring_new() fails and the
 * caller keeps the synchronous path. */
#ifndef BERTH_VMM_BLK_URING_H
#define BERTH_VMM_BLK_URING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/error.h"

struct blk_uring;

enum blk_uring_op { BLK_URING_READ, BLK_URING_WRITE, BLK_URING_FLUSH };

/* A ring of `depth` entries on file descriptor fd (not owned). */
struct blk_uring *blk_uring_new(int fd, unsigned depth, berth_error_t *err);
void blk_uring_free(struct blk_uring *u);

/* Queue one operation (iov must stay valid until blk_uring_run returns);
 * a flush waits for everything queued before it.  At most `depth` per run. */
void blk_uring_queue(struct blk_uring *u, enum blk_uring_op op, unsigned tag,
                     const struct iovec *iov, int iovcnt, uint64_t off);

/* Submit what is queued and wait for all of it: done(ctx, tag, res) per
 * operation, res being the byte count or -errno.  Returns how many ran, or
 * -errno when the ring itself failed: done() was called for what completed,
 * the caller must do the rest itself and stop using the ring. */
int blk_uring_run(struct blk_uring *u, void (*done)(void *ctx, unsigned tag, int res), void *ctx);

#endif
