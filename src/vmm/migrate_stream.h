/* migrate_stream.h — berth-vmm's live-migration stream: framing, the
 * header's checks and the receiving side's parser, apart from sockets and
 * KVM so that unit tests and the fuzzer drive it from a buffer.
 *
 * Little-endian, in this order:
 *   header  "BERTHMIG" u32 version  u32 flags  u64 ram_size  u32 vcpus  u32 n_cpuid
 *           n_cpuid × {u32 function, index, eax, ebx, ecx, edx}  u64 fnv1a64(everything before)
 *   records u32 type  u32 pages  u64 arg, then a payload:
 *           PAGES  arg = RAM offset (page aligned), pages × 4096 bytes of RAM
 *           ZERO   arg = RAM offset, pages of zeros (no payload)
 *           ROUND  arg = the round that starts (no payload)
 *           STATE  arg = length, the state file's bytes (snapshot_format.h), at most once
 *           END    arg = fnv1a64 of the state bytes; nothing follows
 *   ack (destination → source, after END)  "BERTHACK" i32 status (0 or an errno)  u32 len  msg[len]
 *   a pre-copy may switch: POSTCOPY, then DISCARD records (pages dirtied since they were sent),
 *           then STATE and END as post-copy's
 *   post-copy (header flag POSTCOPY): END comes before RAM; then the source pushes PAGES/ZERO
 *           and a DONE, the destination sends REQ records (a page its guest waits for), the
 *           ack, and a DONE once every page is in place (postcopy.h)
 *
 * Everything received is untrusted: RAM offsets and runs are checked against
 * the header's RAM size, lengths against caps, the version and the magic
 * first; any refusal names what was wrong and nothing past it is read. */
#ifndef BERTH_VMM_MIGRATE_STREAM_H
#define BERTH_VMM_MIGRATE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define VMM_MIG_MAGIC        "BERTHMIG"
#define VMM_MIG_ACK_MAGIC    "BERTHACK"
#define VMM_MIG_VERSION      1
#define VMM_MIG_PAGE         4096u
#define VMM_MIG_MAX_RUN      1024u /* pages in one PAGES record: 4 MiB */
#define VMM_MIG_MAX_CPUID    512u
#define VMM_MIG_MAX_RAM      (1ull << 40)
#define VMM_MIG_MAX_VCPUS    32u
#define VMM_MIG_HEADER_FIXED 32u /* up to n_cpuid */
#define VMM_MIG_REC_SIZE     16u
#define VMM_MIG_ACK_MSG_MAX  1024u
#define VMM_MIG_FNV_SEED     0xcbf29ce484222325ull /* FNV-1a 64 offset basis */
#define VMM_MIG_SECTOR       512u
#define VMM_MIG_MAX_DISKS    8u
#define VMM_MIG_MAX_DISK_RUN 8192u        /* sectors in one DISK record: 4 MiB */
#define VMM_MIG_DISK_SHIFT   56           /* a DISK record's arg: the drive index above it */
#define VMM_MIG_MAX_DISK     (1ull << 50) /* bytes: 1 PiB */

enum vmm_mig_rec_type {
        VMM_MIG_REC_PAGES = 1,
        VMM_MIG_REC_ZERO = 2,
        VMM_MIG_REC_ROUND = 3,
        VMM_MIG_REC_STATE = 4,
        VMM_MIG_REC_END = 5,
        /* post-copy (postcopy.h), after the ack: */
        VMM_MIG_REC_DONE = 6, /* source: every page sent; destination: every page in place */
        VMM_MIG_REC_REQ = 7,  /* destination: send the page at arg now (a guest waits on it) */
        /* a pre-copy switching to post-copy, before END: */
        VMM_MIG_REC_POSTCOPY = 8, /* post-copy follows END (as the header's flag says) */
        VMM_MIG_REC_DISCARD =
                9, /* pages at arg sent before are stale: drop them (they come again) */
        /* copy_storage, before STATE: */
        VMM_MIG_REC_DISKS = 10,     /* the drives whose contents follow */
        VMM_MIG_REC_DISK = 11,      /* sectors of a drive */
        VMM_MIG_REC_DISK_ZERO = 12, /* sectors of a drive that read as zeros */
};

/* A drive the source copies (DISKS). */
struct vmm_mig_disk {
        uint32_t index;
        uint64_t size;
};

/* header flags */
#define VMM_MIG_FLAG_POSTCOPY 1u /* the state comes first; RAM follows, on demand and pushed */

struct vmm_mig_cpuid {
        uint32_t function, index, eax, ebx, ecx, edx;
};

struct vmm_mig_header {
        uint32_t version, flags;
        uint64_t ram_size;
        uint32_t vcpus, n_cpuid;
        struct vmm_mig_cpuid cpuid[VMM_MIG_MAX_CPUID];
};

/* A byte channel: a socket (fd >= 0) or, for tests and the fuzzer, a buffer. */
struct vmm_mig_io {
        int fd;
        const uint8_t *buf; /* fd < 0: read from buf[0, len) */
        size_t len, off;
        /* Waiting on fd: also wake on wake_fd (>= 0) and call idle(opaque);
         * idle returns non-zero to give up (the VMM is stopping). */
        int wake_fd;
        int (*idle)(void *opaque);
        void *opaque;
        int timeout_ms; /* silence this long is an error; 0: 30 s */
        uint64_t bytes; /* moved so far */
};

void vmm_mig_io_buffer(struct vmm_mig_io *io, const uint8_t *buf, size_t len);
void vmm_mig_io_fd(struct vmm_mig_io *io, int fd);
int vmm_mig_read(struct vmm_mig_io *io, void *p, size_t n, berth_error_t *err);
int vmm_mig_write(struct vmm_mig_io *io, const void *p, size_t n, berth_error_t *err);

/* Encode a header (hdr->n_cpuid entries) into out (malloc'ed). */
size_t vmm_mig_header_encode(const struct vmm_mig_header *hdr, uint8_t **out);
/* Read and check a header: magic, version, RAM size (a whole number of MiB,
 * at most max_ram), vCPUs, the CPUID count and the checksum. */
int vmm_mig_header_read(struct vmm_mig_io *io, struct vmm_mig_header *hdr, uint64_t max_ram,
                        berth_error_t *err);

/* A page of guest RAM that is all zeros: sent as a ZERO record, no payload. */
bool vmm_mig_page_zero(const uint8_t *page);
void vmm_mig_rec_encode(uint8_t out[VMM_MIG_REC_SIZE], uint32_t type, uint32_t pages, uint64_t arg);
/* A DISKS record with its payload (malloc'ed into *out); the length. */
size_t vmm_mig_disks_encode(const struct vmm_mig_disk *d, unsigned n, uint8_t **out);

/* What the destination receives into: RAM is asked for once the header is
 * checked (alloc_ram returns NULL with err set to refuse); check_cpuid
 * (may be NULL) refuses a source with features this host lacks. */
struct vmm_mig_sink {
        uint8_t *(*alloc_ram)(void *opaque, uint64_t ram_size, berth_error_t *err);
        int (*check_cpuid)(void *opaque, const struct vmm_mig_header *hdr, berth_error_t *err);
        /* DISCARD, and ZERO before a post-copy switch: make [off, off+len)
         * of RAM missing again, reading as zeros (NULL: zero it) */
        void (*discard)(void *opaque, uint8_t *ram, uint64_t off, uint64_t len);
        /* copy_storage (NULL: a DISKS record is refused): the drives announced, then
         * their data (NULL: zeros) at a byte offset, inside the announced size */
        int (*disks)(void *opaque, const struct vmm_mig_disk *d, unsigned n, berth_error_t *err);
        int (*disk_write)(void *opaque, uint32_t index, uint64_t off, const uint8_t *data,
                          uint64_t len, berth_error_t *err);
        void *opaque;
};

struct vmm_mig_result {
        uint8_t *ram;   /* from alloc_ram */
        uint8_t *state; /* malloc'ed: the state file's bytes */
        size_t state_len;
        uint64_t pages, zero_pages, rounds;
        uint64_t disk_bytes, disk_zero_bytes; /* copy_storage: data and zero runs received */
        unsigned n_disks;                     /* drives the DISKS record announced */
        uint32_t flags;                       /* the header's */
};

/* Receive a whole stream up to END: header, records into RAM, the state
 * bytes.  On error, res->state is freed; res->ram is the caller's. */
int vmm_mig_receive(struct vmm_mig_io *io, const struct vmm_mig_sink *sink,
                    struct vmm_mig_result *res, berth_error_t *err);

/* The destination's answer after END. */
int vmm_mig_ack_send(struct vmm_mig_io *io, int status, const char *msg, berth_error_t *err);
/* Read it: 0 when the destination took the VM, else an error with its message. */
int vmm_mig_ack_read(struct vmm_mig_io *io, berth_error_t *err);

/* Every feature bit the source's guest may use (leaves 1, 7.0, 0xd.1,
 * 0x80000001) must be one the destination supports; 0 or an error naming
 * the first missing leaf and bits. */
int vmm_mig_cpuid_check(const struct vmm_mig_cpuid *src, unsigned n_src,
                        const struct vmm_mig_cpuid *dst, unsigned n_dst, berth_error_t *err);

/* "tcp:HOST:PORT" or "unix:PATH" → a connected (or, listen, a listening)
 * socket; errors name the address. */
int vmm_mig_connect(const char *addr, int timeout_ms, berth_error_t *err);
int vmm_mig_listen(const char *addr, berth_error_t *err);

#endif
