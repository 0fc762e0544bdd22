/* migrate_stream.c — the migration stream (migrate_stream.h): I/O over a
 * socket or a buffer, the header, records, the receiving parser, the ack,
 * the CPUID check and the tcp:/unix: addresses. */
#include "vmm/migrate_stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "vmm/snapshot_format.h"

#define DEFAULT_TIMEOUT_MS 30000

static void put32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t) (v >> (8 * i));
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

void vmm_mig_io_buffer(struct vmm_mig_io *io, const uint8_t *buf, size_t len)
{
        *io = (struct vmm_mig_io){.fd = -1, .buf = buf, .len = len, .wake_fd = -1};
}

void vmm_mig_io_fd(struct vmm_mig_io *io, int fd)
{
        *io = (struct vmm_mig_io){.fd = fd, .wake_fd = -1};
}

/* Wait until fd is ready for events, serving wake_fd meanwhile. */
static int io_wait(struct vmm_mig_io *io, short events, berth_error_t *err)
{
        int limit = io->timeout_ms ? io->timeout_ms : DEFAULT_TIMEOUT_MS;
        /* by the clock, not by poll's timeouts: a wake fd that stays readable
         * would return at once every time and the silence would never count */
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                struct pollfd p[2] = {{.fd = io->fd, .events = events},
                                      {.fd = io->wake_fd, .events = POLLIN}};
                int n = poll(p, io->wake_fd >= 0 ? 2 : 1, 200);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_fail(err, errno, "poll the migration stream");
                if (io->wake_fd >= 0 && p[1].revents && io->idle && io->idle(io->opaque))
                        return berth_fail(err, ECANCELED, "the VMM is stopping");
                if (p[0].revents)
                        return 0;
                clock_gettime(CLOCK_MONOTONIC, &t);
                if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= limit)
                        return berth_fail(err, ETIMEDOUT,
                                          "the migration stream was silent for %d s", limit / 1000);
        }
}

int vmm_mig_read(struct vmm_mig_io *io, void *p, size_t n, berth_error_t *err)
{
        uint8_t *d = p;
        if (io->fd < 0) {
                if (n > io->len - io->off) {
                        berth_fail(err, EPROTO, "the migration stream is truncated");
                        return -1;
                }
                memcpy(d, io->buf + io->off, n);
                io->off += n;
                io->bytes += n;
                return 0;
        }
        while (n) {
                ssize_t r = recv(io->fd, d, n, MSG_DONTWAIT);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0 && errno == EAGAIN) {
                        if (io_wait(io, POLLIN, err) < 0)
                                return -1;
                        continue;
                }
                if (r <= 0) {
                        berth_fail(err, r < 0 ? errno : EPIPE, "%s",
                                   r < 0 ? "read the migration stream"
                                         : "the migration stream ended early");
                        return -1;
                }
                d += r;
                n -= (size_t) r;
                io->bytes += (uint64_t) r;
        }
        return 0;
}

int vmm_mig_write(struct vmm_mig_io *io, const void *p, size_t n, berth_error_t *err)
{
        const uint8_t *s = p;
        if (io->fd < 0)
                return berth_fail(err, EBADF, "no stream to write to");
        while (n) {
                ssize_t w = send(io->fd, s, n, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno == EAGAIN) {
                        if (io_wait(io, POLLOUT, err) < 0)
                                return -1;
                        continue;
                }
                if (w <= 0)
                        return berth_fail(err, w < 0 ? errno : EPIPE, "write the migration stream");
                s += w;
                n -= (size_t) w;
                io->bytes += (uint64_t) w;
        }
        return 0;
}

size_t vmm_mig_header_encode(const struct vmm_mig_header *hdr, uint8_t **out)
{
        unsigned n = hdr->n_cpuid > VMM_MIG_MAX_CPUID ? VMM_MIG_MAX_CPUID : hdr->n_cpuid;
        size_t len = VMM_MIG_HEADER_FIXED + (size_t) n * 24 + 8;
        static const uint8_t magic[8] = VMM_MIG_MAGIC; /* no NUL: 8 bytes on the wire */
        uint8_t *p = berth_xcalloc(1, len);
        memcpy(p, magic, sizeof(magic));
        put32(p + 8, hdr->version);
        put32(p + 12, hdr->flags);
        put64(p + 16, hdr->ram_size);
        put32(p + 24, hdr->vcpus);
        put32(p + 28, n);
        for (unsigned i = 0; i < n; i++) {
                uint8_t *e = p + VMM_MIG_HEADER_FIXED + (size_t) i * 24;
                const struct vmm_mig_cpuid *c = &hdr->cpuid[i];
                put32(e, c->function);
                put32(e + 4, c->index);
                put32(e + 8, c->eax);
                put32(e + 12, c->ebx);
                put32(e + 16, c->ecx);
                put32(e + 20, c->edx);
        }
        put64(p + len - 8, vmm_snap_fnv1a(VMM_MIG_FNV_SEED, p, len - 8));
        *out = p;
        return len;
}

int vmm_mig_header_read(struct vmm_mig_io *io, struct vmm_mig_header *hdr, uint64_t max_ram,
                        berth_error_t *err)
{
        uint8_t fixed[VMM_MIG_HEADER_FIXED];
        if (vmm_mig_read(io, fixed, sizeof(fixed), err) < 0)
                return berth_wrap(err, "read the migration header");
        if (memcmp(fixed, VMM_MIG_MAGIC, 8) != 0)
                return berth_fail(err, EPROTO, "not a berth migration stream (bad magic)");
        memset(hdr, 0, sizeof(*hdr));
        hdr->version = get32(fixed + 8);
        hdr->flags = get32(fixed + 12);
        hdr->ram_size = get64(fixed + 16);
        hdr->vcpus = get32(fixed + 24);
        hdr->n_cpuid = get32(fixed + 28);
        if (hdr->version != VMM_MIG_VERSION)
                return berth_fail(err, EPROTO,
                                  "migration stream version %u, this berth-vmm speaks %u",
                                  hdr->version, VMM_MIG_VERSION);
        if (hdr->flags & ~VMM_MIG_FLAG_POSTCOPY)
                return berth_fail(err, EPROTO, "migration stream asks for unknown features (%#x)",
                                  hdr->flags);
        if (hdr->ram_size == 0 || hdr->ram_size % (1u << 20) || hdr->ram_size > max_ram)
                return berth_fail(err, EPROTO,
                                  "migration stream's RAM size %llu is not a whole number of "
                                  "MiB up to %llu MiB",
                                  (unsigned long long) hdr->ram_size,
                                  (unsigned long long) (max_ram >> 20));
        if (hdr->vcpus == 0 || hdr->vcpus > VMM_MIG_MAX_VCPUS)
                return berth_fail(err, EPROTO, "migration stream's vCPU count %u is out of range",
                                  hdr->vcpus);
        if (hdr->n_cpuid > VMM_MIG_MAX_CPUID)
                return berth_fail(err, EPROTO, "migration stream has %u CPUID entries (at most %u)",
                                  hdr->n_cpuid, VMM_MIG_MAX_CPUID);
        size_t rest = (size_t) hdr->n_cpuid * 24 + 8;
        cleanup_free uint8_t *p = berth_xmalloc(rest);
        if (vmm_mig_read(io, p, rest, err) < 0)
                return berth_wrap(err, "read the migration header");
        uint64_t h = vmm_snap_fnv1a(VMM_MIG_FNV_SEED, fixed, sizeof(fixed));
        h = vmm_snap_fnv1a(h, p, rest - 8);
        if (h != get64(p + rest - 8))
                return berth_fail(err, EPROTO, "migration header checksum mismatch (corrupt)");
        for (unsigned i = 0; i < hdr->n_cpuid; i++) {
                const uint8_t *e = p + (size_t) i * 24;
                hdr->cpuid[i] = (struct vmm_mig_cpuid){get32(e),      get32(e + 4),  get32(e + 8),
                                                       get32(e + 12), get32(e + 16), get32(e + 20)};
        }
        return 0;
}

bool vmm_mig_page_zero(const uint8_t *page)
{
        const uint64_t *w = (const uint64_t *) (const void *) page;
        for (size_t i = 0; i < VMM_MIG_PAGE / 8; i++)
                if (w[i])
                        return false;
        return true;
}

void vmm_mig_rec_encode(uint8_t out[VMM_MIG_REC_SIZE], uint32_t type, uint32_t pages, uint64_t arg)
{
        put32(out, type);
        put32(out + 4, pages);
        put64(out + 8, arg);
}

/* A run of pages at a RAM offset: inside RAM, aligned, not empty, capped. */
static int check_run(uint64_t off, uint32_t pages, uint64_t ram_size, berth_error_t *err)
{
        if (pages == 0 || pages > VMM_MIG_MAX_RUN || off % VMM_MIG_PAGE || off >= ram_size ||
            (uint64_t) pages * VMM_MIG_PAGE > ram_size - off)
                return berth_fail(err, EPROTO,
                                  "migration record of %u page(s) at RAM offset %#llx is "
                                  "outside the guest's %llu MiB",
                                  pages, (unsigned long long) off,
                                  (unsigned long long) (ram_size >> 20));
        return 0;
}

size_t vmm_mig_disks_encode(const struct vmm_mig_disk *d, unsigned n, uint8_t **out)
{
        size_t len = VMM_MIG_REC_SIZE + (size_t) n * 16;
        uint8_t *p = berth_xcalloc(1, len);
        vmm_mig_rec_encode(p, VMM_MIG_REC_DISKS, n, 0);
        for (unsigned i = 0; i < n; i++) {
                put32(p + VMM_MIG_REC_SIZE + (size_t) i * 16, d[i].index);
                put64(p + VMM_MIG_REC_SIZE + (size_t) i * 16 + 8, d[i].size);
        }
        *out = p;
        return len;
}

/* The drives a copy_storage source announces: each index once, below the
 * cap, each size a whole number of sectors; the sink opens their targets. */
static int take_disks(struct vmm_mig_io *io, const struct vmm_mig_sink *sink, uint32_t n,
                      uint64_t sizes[VMM_MIG_MAX_DISKS], struct vmm_mig_result *res,
                      berth_error_t *err)
{
        if (!sink->disks)
                return berth_fail(err, EPROTO,
                                  "the source copies its disks (copy_storage), but this VMM has "
                                  "no target for them (--migrate-disk)");
        if (res->n_disks || res->state || n == 0 || n > VMM_MIG_MAX_DISKS)
                return berth_fail(err, EPROTO, "misplaced or malformed disk list (%u drives)", n);
        struct vmm_mig_disk d[VMM_MIG_MAX_DISKS];
        for (uint32_t i = 0; i < n; i++) {
                uint8_t e[16];
                if (vmm_mig_read(io, e, sizeof(e), err) < 0)
                        return -1;
                d[i] = (struct vmm_mig_disk){get32(e), get64(e + 8)};
                if (d[i].index >= VMM_MIG_MAX_DISKS || get32(e + 4) != 0 || d[i].size == 0 ||
                    d[i].size > VMM_MIG_MAX_DISK || d[i].size % VMM_MIG_SECTOR || sizes[d[i].index])
                        return berth_fail(err, EPROTO,
                                          "disk list entry %u (drive %u, %llu bytes) is malformed",
                                          i, d[i].index, (unsigned long long) d[i].size);
                sizes[d[i].index] = d[i].size;
        }
        res->n_disks = n;
        return sink->disks(sink->opaque, d, n, err);
}

/* A DISK or DISK_ZERO record: a run of sectors inside an announced drive. */
static int take_disk_run(struct vmm_mig_io *io, const struct vmm_mig_sink *sink, uint32_t type,
                         uint32_t sectors, uint64_t arg, const uint64_t sizes[VMM_MIG_MAX_DISKS],
                         uint8_t **buf, struct vmm_mig_result *res, berth_error_t *err)
{
        uint64_t index = arg >> VMM_MIG_DISK_SHIFT;
        uint64_t off = arg & ((1ull << VMM_MIG_DISK_SHIFT) - 1);
        uint64_t len = (uint64_t) sectors * VMM_MIG_SECTOR;
        if (res->state || index >= VMM_MIG_MAX_DISKS || !sizes[index] || sectors == 0 ||
            (type == VMM_MIG_REC_DISK && sectors > VMM_MIG_MAX_DISK_RUN) || off % VMM_MIG_SECTOR ||
            off >= sizes[index] || len > sizes[index] - off)
                return berth_fail(err, EPROTO,
                                  "disk record of %u sector(s) at offset %#llx of drive %llu is "
                                  "misplaced or outside the drive",
                                  sectors, (unsigned long long) off, (unsigned long long) index);
        if (type == VMM_MIG_REC_DISK_ZERO) {
                res->disk_zero_bytes += len;
                return sink->disk_write(sink->opaque, (uint32_t) index, off, NULL, len, err);
        }
        if (!*buf)
                *buf = berth_xmalloc((size_t) VMM_MIG_MAX_DISK_RUN * VMM_MIG_SECTOR);
        if (vmm_mig_read(io, *buf, (size_t) len, err) < 0)
                return -1;
        res->disk_bytes += len;
        return sink->disk_write(sink->opaque, (uint32_t) index, off, *buf, len, err);
}

int vmm_mig_receive(struct vmm_mig_io *io, const struct vmm_mig_sink *sink,
                    struct vmm_mig_result *res, berth_error_t *err)
{
        memset(res, 0, sizeof(*res));
        struct vmm_mig_header *hdr = berth_xcalloc(1, sizeof(*hdr));
        int ret = vmm_mig_header_read(io, hdr, VMM_MIG_MAX_RAM, err);
        if (ret == 0 && sink->check_cpuid)
                ret = sink->check_cpuid(sink->opaque, hdr, err);
        uint64_t ram_size = hdr->ram_size;
        res->flags = hdr->flags;
        free(hdr);
        if (ret < 0)
                return -1;
        res->ram = sink->alloc_ram(sink->opaque, ram_size, err);
        if (!res->ram)
                return -1;
        uint64_t sum = 0;
        uint64_t disk_sizes[VMM_MIG_MAX_DISKS] = {0};
        cleanup_free uint8_t *disk_buf = NULL;
        for (;;) {
                uint8_t rec[VMM_MIG_REC_SIZE];
                if (vmm_mig_read(io, rec, sizeof(rec), err) < 0)
                        goto fail;
                uint32_t type = get32(rec), pages = get32(rec + 4);
                uint64_t arg = get64(rec + 8);
                switch (type) {
                case VMM_MIG_REC_PAGES:
                        if (check_run(arg, pages, ram_size, err) < 0 ||
                            vmm_mig_read(io, res->ram + arg, (size_t) pages * VMM_MIG_PAGE, err) <
                                    0)
                                goto fail;
                        res->pages += pages;
                        break;
                case VMM_MIG_REC_ZERO:
                        if (check_run(arg, pages, ram_size, err) < 0)
                                goto fail;
                        /* Before a post-copy switch, the sink drops the run (a no-op on
                         * pages never written).  Else only pages that hold data (sent in
                         * an earlier round) are zeroed: writing zeros over fresh RAM
                         * would make every page resident. */
                        if (sink->discard && !(res->flags & VMM_MIG_FLAG_POSTCOPY)) {
                                sink->discard(sink->opaque, res->ram, arg,
                                              (uint64_t) pages * VMM_MIG_PAGE);
                                res->zero_pages += pages;
                                break;
                        }
                        for (uint32_t i = 0; i < pages; i++) {
                                uint8_t *pg = res->ram + arg + (size_t) i * VMM_MIG_PAGE;
                                if (!vmm_mig_page_zero(pg))
                                        memset(pg, 0, VMM_MIG_PAGE);
                        }
                        res->zero_pages += pages;
                        break;
                case VMM_MIG_REC_POSTCOPY:
                        if (pages != 0 || arg != 0 || res->state) {
                                berth_fail(err, EPROTO, "misplaced post-copy switch");
                                goto fail;
                        }
                        res->flags |= VMM_MIG_FLAG_POSTCOPY;
                        break;
                case VMM_MIG_REC_DISCARD:
                        if (!(res->flags & VMM_MIG_FLAG_POSTCOPY) || res->state) {
                                berth_fail(err, EPROTO, "discard outside a post-copy switch");
                                goto fail;
                        }
                        if (check_run(arg, pages, ram_size, err) < 0)
                                goto fail;
                        if (sink->discard)
                                sink->discard(sink->opaque, res->ram, arg,
                                              (uint64_t) pages * VMM_MIG_PAGE);
                        else
                                memset(res->ram + arg, 0, (size_t) pages * VMM_MIG_PAGE);
                        break;
                case VMM_MIG_REC_DISKS:
                        if (arg != 0 || take_disks(io, sink, pages, disk_sizes, res, err) < 0)
                                goto fail;
                        break;
                case VMM_MIG_REC_DISK:
                case VMM_MIG_REC_DISK_ZERO:
                        if (take_disk_run(io, sink, type, pages, arg, disk_sizes, &disk_buf, res,
                                          err) < 0)
                                goto fail;
                        break;
                case VMM_MIG_REC_ROUND:
                        if (pages != 0 || arg != res->rounds + 1) {
                                berth_fail(err, EPROTO, "migration round %llu out of order",
                                           (unsigned long long) arg);
                                goto fail;
                        }
                        res->rounds = arg;
                        break;
                case VMM_MIG_REC_STATE:
                        if (res->state || pages != 0 || arg < VMM_SNAP_HEADER_SIZE ||
                            arg > VMM_SNAP_MAX_FILE) {
                                berth_fail(err, EPROTO,
                                           "migration state record of %llu bytes refused "
                                           "(a second one, or outside %u..%u)",
                                           (unsigned long long) arg, VMM_SNAP_HEADER_SIZE,
                                           VMM_SNAP_MAX_FILE);
                                goto fail;
                        }
                        res->state = berth_xmalloc((size_t) arg);
                        res->state_len = (size_t) arg;
                        if (vmm_mig_read(io, res->state, res->state_len, err) < 0)
                                goto fail;
                        sum = vmm_snap_fnv1a(VMM_MIG_FNV_SEED, res->state, res->state_len);
                        break;
                case VMM_MIG_REC_END:
                        if (!res->state) {
                                berth_fail(err, EPROTO, "migration stream ended without state");
                                goto fail;
                        }
                        if (pages != 0 || arg != sum) {
                                berth_fail(err, EPROTO, "migration state checksum mismatch");
                                goto fail;
                        }
                        return 0;
                default:
                        berth_fail(err, EPROTO, "unknown migration record type %u", type);
                        goto fail;
                }
        }
fail:
        free(res->state);
        res->state = NULL;
        res->state_len = 0;
        return berth_wrap(err, "receive the migration stream (after %llu bytes)",
                          (unsigned long long) io->bytes);
}

int vmm_mig_ack_send(struct vmm_mig_io *io, int status, const char *msg, berth_error_t *err)
{
        size_t len = msg ? strlen(msg) : 0;
        if (len > VMM_MIG_ACK_MSG_MAX)
                len = VMM_MIG_ACK_MSG_MAX;
        static const uint8_t magic[8] = VMM_MIG_ACK_MAGIC;
        uint8_t head[16];
        memcpy(head, magic, sizeof(magic));
        put32(head + 8, (uint32_t) status);
        put32(head + 12, (uint32_t) len);
        if (vmm_mig_write(io, head, sizeof(head), err) < 0 ||
            (len && vmm_mig_write(io, msg, len, err) < 0))
                return berth_wrap(err, "send the migration ack");
        return 0;
}

int vmm_mig_ack_read(struct vmm_mig_io *io, berth_error_t *err)
{
        uint8_t head[16];
        if (vmm_mig_read(io, head, sizeof(head), err) < 0)
                return berth_wrap(err, "wait for the destination's ack");
        if (memcmp(head, VMM_MIG_ACK_MAGIC, 8) != 0)
                return berth_fail(err, EPROTO, "the destination's ack is malformed");
        int status = (int) get32(head + 8);
        uint32_t len = get32(head + 12);
        if (len > VMM_MIG_ACK_MSG_MAX)
                return berth_fail(err, EPROTO, "the destination's ack is malformed");
        char msg[VMM_MIG_ACK_MSG_MAX + 1];
        if (len && vmm_mig_read(io, msg, len, err) < 0)
                return berth_wrap(err, "read the destination's ack");
        msg[len] = '\0';
        for (uint32_t i = 0; i < len; i++)
                if ((unsigned char) msg[i] < 0x20 || (unsigned char) msg[i] > 0x7e)
                        msg[i] = '?';
        if (status != 0)
                return berth_fail(err, status > 0 && status < 4096 ? status : EPROTO,
                                  "the destination refused the VM: %s", len ? msg : "no reason");
        return 0;
}

static const struct vmm_mig_cpuid *cpuid_find(const struct vmm_mig_cpuid *e, unsigned n,
                                              uint32_t fn, uint32_t index)
{
        for (unsigned i = 0; i < n; i++)
                if (e[i].function == fn && e[i].index == index)
                        return &e[i];
        return NULL;
}

int vmm_mig_cpuid_check(const struct vmm_mig_cpuid *src, unsigned n_src,
                        const struct vmm_mig_cpuid *dst, unsigned n_dst, berth_error_t *err)
{
        /* leaf, subleaf, and which registers hold feature flags (eax..edx as bits 0..3);
         * masks drop what the VMM sets itself (leaf 1: hypervisor, HTT). */
        static const struct {
                uint32_t fn, index;
                uint32_t mask[4];
        } leaves[] = {
                {1, 0, {0, 0, ~(1u << 31), ~(1u << 28)}},
                {7, 0, {0, ~0u, ~0u, ~0u}},
                {0xd, 1, {~0u, 0, 0, 0}},
                {0x80000001u, 0, {0, 0, ~0u, ~0u}},
        };
        static const char regs[4][4] = {"eax", "ebx", "ecx", "edx"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(leaves); i++) {
                const struct vmm_mig_cpuid *s =
                        cpuid_find(src, n_src, leaves[i].fn, leaves[i].index);
                if (!s)
                        continue;
                const struct vmm_mig_cpuid *d =
                        cpuid_find(dst, n_dst, leaves[i].fn, leaves[i].index);
                uint32_t sv[4] = {s->eax, s->ebx, s->ecx, s->edx};
                uint32_t dv[4] = {0};
                if (d) {
                        dv[0] = d->eax;
                        dv[1] = d->ebx;
                        dv[2] = d->ecx;
                        dv[3] = d->edx;
                }
                for (int r = 0; r < 4; r++) {
                        uint32_t missing = sv[r] & ~dv[r] & leaves[i].mask[r];
                        if (missing)
                                return berth_fail(err, ENOTSUP,
                                                  "this host's CPU lacks features the VM uses: "
                                                  "CPUID leaf %#x.%u %s bits %#x",
                                                  leaves[i].fn, leaves[i].index, regs[r], missing);
                }
        }
        return 0;
}

/* "tcp:HOST:PORT" (HOST may be [v6]) or "unix:PATH" into a sockaddr. */
static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *len, int *family,
                      berth_error_t *err)
{
        memset(ss, 0, sizeof(*ss));
        if (berth_str_has_prefix(addr, "unix:")) {
                struct sockaddr_un *un = (struct sockaddr_un *) ss;
                const char *path = addr + 5;
                if (!*path || strlen(path) >= sizeof(un->sun_path))
                        return berth_fail(err, EINVAL, "migration address `%s`: bad unix path",
                                          addr);
                un->sun_family = AF_UNIX;
                strcpy(un->sun_path, path);
                *len = sizeof(*un);
                *family = AF_UNIX;
                return 0;
        }
        if (!berth_str_has_prefix(addr, "tcp:"))
                return berth_fail(err, EINVAL,
                                  "migration address `%s`: want tcp:HOST:PORT or unix:PATH", addr);
        const char *hp = addr + 4, *colon = strrchr(hp, ':');
        if (!colon || colon == hp || !colon[1])
                return berth_fail(err, EINVAL, "migration address `%s`: want tcp:HOST:PORT", addr);
        char host[256];
        size_t hl = (size_t) (colon - hp);
        if (hl >= sizeof(host))
                return berth_fail(err, EINVAL, "migration address `%s`: host too long", addr);
        memcpy(host, hp, hl);
        host[hl] = '\0';
        if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
                memmove(host, host + 1, hl - 2);
                host[hl - 2] = '\0';
        }
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (*end || port <= 0 || port > 65535)
                return berth_fail(err, EINVAL, "migration address `%s`: bad port", addr);
        /* A numeric address needs no resolver: none runs in a jail (no files to read, no
         * code to load), where only these work. */
        memset(ss, 0, sizeof(*ss));
        struct sockaddr_in *v4 = (struct sockaddr_in *) ss;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) ss;
        if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
                v4->sin_family = AF_INET;
                v4->sin_port = htons((uint16_t) port);
                *len = sizeof(*v4);
                *family = AF_INET;
                return 0;
        }
        if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
                v6->sin6_family = AF_INET6;
                v6->sin6_port = htons((uint16_t) port);
                *len = sizeof(*v6);
                *family = AF_INET6;
                return 0;
        }
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
        int r = getaddrinfo(host, colon + 1, &hints, &ai);
        if (r != 0)
                return berth_fail(err, EINVAL, "migration address `%s`: %s", addr, gai_strerror(r));
        memcpy(ss, ai->ai_addr, ai->ai_addrlen);
        *len = ai->ai_addrlen;
        *family = ai->ai_family;
        freeaddrinfo(ai);
        return 0;
}

/* addr parsed into *ss, and a non-blocking stream socket of its family. */
static int addr_socket(const char *addr, struct sockaddr_storage *ss, socklen_t *len, int *family,
                       berth_error_t *err)
{
        if (parse_addr(addr, ss, len, family, err) < 0)
                return -1;
        int fd = socket(*family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return berth_fail(err, errno, "socket for `%s`", addr);
        return fd;
}

int vmm_mig_connect(const char *addr, int timeout_ms, berth_error_t *err)
{
        struct sockaddr_storage ss;
        socklen_t len = 0;
        int family = AF_UNIX;
        int fd = addr_socket(addr, &ss, &len, &family, err);
        if (fd < 0)
                return -1;
        if (connect(fd, (struct sockaddr *) &ss, len) < 0 && errno != EINPROGRESS) {
                int e = errno;
                close(fd);
                return berth_fail(err, e, "connect to `%s`", addr);
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int e = 0;
        socklen_t el = sizeof(e);
        int n = poll(&p, 1, timeout_ms);
        if (n <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e) {
                e = n == 0 ? ETIMEDOUT : e ? e : errno;
                close(fd);
                return berth_fail(err, e, "connect to `%s`", addr);
        }
        if (family != AF_UNIX) {
                int one = 1;
                (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        return fd;
}

int vmm_mig_listen(const char *addr, berth_error_t *err)
{
        struct sockaddr_storage ss;
        socklen_t len = 0;
        int family = AF_UNIX;
        int fd = addr_socket(addr, &ss, &len, &family, err);
        if (fd < 0)
                return -1;
        int one = 1;
        if (family != AF_UNIX)
                (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, 1) < 0) {
                int e = errno;
                close(fd);
                return berth_fail(err, e, "listen on `%s`", addr);
        }
        return fd;
}
