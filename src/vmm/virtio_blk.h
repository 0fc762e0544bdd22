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

#endif
