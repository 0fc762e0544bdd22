/* virtio_blk.h — virtio-blk's request handling on its own, for the VM
 * (virtio_blk_add in virtio_devices.h) and for fuzz/virtio_blk.c. */
#ifndef BERTH_VMM_VIRTIO_BLK_H
#define BERTH_VMM_VIRTIO_BLK_H

#include <stdbool.h>

#include "disk/disk.h"
#include "vmm/virtqueue.h"

struct virtio_blk;

/* A device on an open disk (owned from here on); id is its GET_ID serial. */
struct virtio_blk *virtio_blk_new(struct disk *d, bool readonly, const char *id);
/* Serve one request; returns the bytes written into its in segments. */
int virtio_blk_request(void *blk, struct virtq_elem *e);
/* Flush (unless read-only), close the disk, free. */
void virtio_blk_free(void *blk);

/* PATCH /drives/{id} on a running VM: the drive goes on in another file of
 * the same size (a new overlay on the old one: berth vm's --disk-only
 * snapshots); the old file is flushed and closed.  io_uring stops: the
 * new file goes through the disk layer. */
int virtio_blk_switch(struct virtio_blk *b, const char *path, const char *backing,
                      berth_error_t *err);

/* Copying a running VM's disk (migration's copy_storage, migrate_disk.c). */
struct vmm_vm;
/* The device of the VM's drive at this config index, or NULL. */
struct virtio_blk *virtio_blk_of_drive(struct vmm_vm *vm, unsigned drive);
bool virtio_blk_is_readonly(const struct virtio_blk *b);
uint64_t virtio_blk_size(const struct virtio_blk *b);
/* Track writes in chunks of this many bytes (a multiple of 512), every chunk
 * dirty to begin with; 0 stops tracking. */
void virtio_blk_track(struct virtio_blk *b, uint64_t chunk);
uint64_t virtio_blk_dirty_bytes(struct virtio_blk *b);

#define VIRTIO_BLK_ZERO_RUN_MAX (1ull << 30) /* bytes of zeros taken in one run */

/* A run taken off the dirty chunks: data read into the caller's buffer, or
 * zeros (nothing read); len 0: none left at or after the offset asked. */
struct virtio_blk_run {
        uint64_t off, len;
        bool zero;
};
/* The first dirty run at or after *off (max bytes of data, max >= the
 * chunk), its chunks marked clean, its data in buf; *off moves past it. */
int virtio_blk_take_dirty(struct virtio_blk *b, uint64_t *off, uint8_t *buf, size_t max,
                          struct virtio_blk_run *run, berth_error_t *err);

#endif
