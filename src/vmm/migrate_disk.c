/* migrate_disk.c — copying a running VM's disks with its migration
 * (PUT /migrate {"copy_storage": true}, QEMU's --copy-storage-all): the
 * destination has empty images of the same size, and the source's writable
 * drives go over the migration stream beside RAM (migrate_stream.h: DISKS,
 * DISK, DISK_ZERO).
 *
 * The sender announces the drives, turns on write tracking in their
 * devices (virtio_blk.c: every chunk dirty to begin with) and sends, each
 * round, the chunks written since they were last sent; runs the image says
 * read as zeros (unallocated, zero clusters) go as DISK_ZERO without being
 * read.  The last round runs with the VM paused, so the destination's disk
 * then equals what the guest saw.  Read-only drives cannot change: berth
 * copies their files before the migration (src/vm/migrate.c).
 *
 * The destination (berth-vmm --migrate-disk INDEX:PATH) opens its targets
 * when the drives are announced and writes what comes; a zero run is
 * written only where the target does not read as zeros already. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/migrate.h"
#include "vmm/migrate_stream.h"
#include "vmm/virtio_blk.h"

#define CHUNK   (64u * 1024u) /* the tracking granularity: a qcow2's default cluster */
#define RUN_MAX ((size_t) VMM_MIG_MAX_DISK_RUN * VMM_MIG_SECTOR)

static bool all_zero(const uint8_t *p, size_t n)
{
        return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

int vmm_mig_disks_start(struct vmm_vm *vm, struct vmm_mig_disks *md, struct vmm_mig_io *io,
                        berth_error_t *err)
{
        struct vmm_mig_disk list[VMM_MIG_MAX_DISKS];
        md->n = 0;
        for (unsigned i = 0; i < vm->cfg->n_disks && i < VMM_MIG_MAX_DISKS; i++) {
                struct virtio_blk *b = virtio_blk_of_drive(vm, i);
                if (!b || virtio_blk_is_readonly(b))
                        continue;
                md->blk[md->n] = b;
                list[md->n] = (struct vmm_mig_disk){i, virtio_blk_size(b)};
                md->n++;
        }
        if (md->n == 0)
                return 0; /* nothing writable: the files are all there is */
        md->buf = berth_xmalloc(RUN_MAX);
        for (unsigned i = 0; i < md->n; i++)
                virtio_blk_track(md->blk[i], CHUNK);
        md->tracking = true;
        uint8_t *rec;
        size_t len = vmm_mig_disks_encode(list, md->n, &rec);
        int r = vmm_mig_write(io, rec, len, err);
        free(rec);
        for (unsigned i = 0; i < md->n; i++)
                md->index[i] = list[i].index;
        log_info("migration: copying %u disk(s) with the VM", md->n);
        return r;
}

uint64_t vmm_mig_disks_dirty(struct vmm_mig_disks *md)
{
        uint64_t n = 0;
        for (unsigned i = 0; i < md->n; i++)
                n += virtio_blk_dirty_bytes(md->blk[i]);
        return n;
}

int vmm_mig_disks_send(struct vmm_mig_disks *md, struct vmm_mig_io *io,
                       const struct vmm_mig_disks_pace *pace, berth_error_t *err)
{
        for (unsigned i = 0; i < md->n; i++) {
                uint64_t size = virtio_blk_size(md->blk[i]);
                for (uint64_t off = 0; off < size;) {
                        struct virtio_blk_run run;
                        if (virtio_blk_take_dirty(md->blk[i], &off, md->buf, RUN_MAX, &run, err) <
                            0)
                                return -1;
                        if (run.len == 0)
                                break;
                        bool zero = run.zero || all_zero(md->buf, (size_t) run.len);
                        /* a zero run may exceed a record's count of sectors */
                        for (uint64_t o = 0; o < run.len;) {
                                uint64_t n = run.len - o, cap = zero ? UINT32_MAX : RUN_MAX;
                                if (n > cap / VMM_MIG_SECTOR * VMM_MIG_SECTOR)
                                        n = cap / VMM_MIG_SECTOR * VMM_MIG_SECTOR;
                                uint8_t rec[VMM_MIG_REC_SIZE];
                                vmm_mig_rec_encode(rec,
                                                   zero ? VMM_MIG_REC_DISK_ZERO : VMM_MIG_REC_DISK,
                                                   (uint32_t) (n / VMM_MIG_SECTOR),
                                                   (uint64_t) md->index[i] << VMM_MIG_DISK_SHIFT |
                                                           (run.off + o));
                                if (vmm_mig_write(io, rec, sizeof(rec), err) < 0 ||
                                    (!zero && vmm_mig_write(io, md->buf + o, (size_t) n, err) < 0))
                                        return -1;
                                o += n;
                        }
                        if (zero)
                                md->zero_bytes += run.len;
                        else
                                md->bytes += run.len;
                        if (pace->wait)
                                pace->wait(pace->opaque);
                        if (pace->stop && pace->stop(pace->opaque))
                                return berth_fail(err, ECANCELED, "the migration was cancelled");
                }
        }
        return 0;
}

void vmm_mig_disks_stop(struct vmm_mig_disks *md)
{
        if (md->tracking)
                for (unsigned i = 0; i < md->n; i++)
                        virtio_blk_track(md->blk[i], 0);
        md->tracking = false;
        free(md->buf);
        md->buf = NULL;
}

/* The destination's side: the targets named by --migrate-disk. */

int vmm_mig_disks_open(struct vmm_mig_targets *t, const struct vmm_config *cfg,
                       const struct vmm_mig_disk *d, unsigned n, berth_error_t *err)
{
        for (unsigned i = 0; i < n; i++) {
                const char *path =
                        d[i].index < VMM_MAX_DISKS ? cfg->migrate_disk[d[i].index] : NULL;
                if (!path)
                        return berth_fail(err, EPROTO,
                                          "the source copies its drive %u, but no --migrate-disk "
                                          "names a target for it",
                                          d[i].index);
                if (disk_open(path, DISK_FORMAT_AUTO, 0, &t->disk[d[i].index], err) < 0)
                        return berth_wrap(err, "open the migration's target disk");
                if (t->disk[d[i].index]->size != d[i].size)
                        return berth_fail(err, EINVAL,
                                          "target disk `%s` has %llu bytes, the source's drive %u "
                                          "%llu",
                                          path, (unsigned long long) t->disk[d[i].index]->size,
                                          d[i].index, (unsigned long long) d[i].size);
        }
        return 0;
}

int vmm_mig_disks_write(struct vmm_mig_targets *t, uint32_t index, uint64_t off,
                        const uint8_t *data, uint64_t len, berth_error_t *err)
{
        struct disk *d = index < VMM_MAX_DISKS ? t->disk[index] : NULL;
        if (!d)
                return berth_fail(err, EPROTO, "disk data for drive %u, never announced", index);
        if (data)
                return disk_pwrite(d, data, (size_t) len, off, err);
        /* zeros: written only over what does not read as zeros already (a fresh
         * target is all holes; writing them would allocate every cluster) */
        for (uint64_t end = off + len; off < end;) {
                struct disk_extent ext;
                if (disk_block_status(d, off, end - off, &ext, err) < 0)
                        return -1;
                uint64_t n =
                        ext.off == off && ext.len && ext.len <= end - off ? ext.len : end - off;
                if (!(ext.flags & DISK_BS_ZERO) || (ext.flags & DISK_BS_DATA) || ext.off != off)
                        if (disk_write_zeroes(d, off, n, err) < 0)
                                return -1;
                off += n;
        }
        return 0;
}

void vmm_mig_disks_close(struct vmm_mig_targets *t)
{
        /* no flush on the switch-over's path: the device opens the same files next,
         * and a qcow2's close writes its tables back itself */
        for (unsigned i = 0; i < VMM_MAX_DISKS; i++) {
                disk_close(t->disk[i]);
                t->disk[i] = NULL;
        }
}
