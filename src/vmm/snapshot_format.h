/* snapshot_format.h — the container of a berth-vmm snapshot's state file:
 * a header, then named, versioned sections that each device writes and
 * reads beside its own code (serial_state.c, vcpu_state.c, …).
 *
 * A state file is untrusted input: vmm_snap_parse() checks the magic, the
 * format version, the length against the header (truncation), a checksum
 * over every byte, and that the sections tile the file exactly, before any
 * device sees a byte; each device then reads its section through a bounded
 * reader that cannot run past the section's end.
 *
 * On disk, little-endian:
 *   header  "BERTHSNP" u32 format  u32 n_sections  u64 total_len  u64 fnv1a64
 *   section char name[16] (NUL-padded)  u32 instance  u32 version  u64 len  data[len]
 * The checksum is FNV-1a over the whole file with its own 8 bytes as zeros.
 */
#ifndef BERTH_VMM_SNAPSHOT_FORMAT_H
#define BERTH_VMM_SNAPSHOT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define VMM_SNAP_MAGIC        "BERTHSNP"
#define VMM_SNAP_FORMAT       1
#define VMM_SNAP_HEADER_SIZE  32
#define VMM_SNAP_SECTION_HEAD 32
#define VMM_SNAP_NAME_MAX     15
#define VMM_SNAP_MAX_SECTIONS 512
/* No section (XSAVE, the config document, the irqchip) comes near this. */
#define VMM_SNAP_MAX_FILE (16u << 20)

/* A state file being written: a growing buffer. */
struct vmm_snap_buf {
        uint8_t *data;
        size_t len, cap;
        size_t section; /* offset of the open section's head, or 0 */
        uint32_t n_sections;
};

void vmm_snap_buf_init(struct vmm_snap_buf *b);
void vmm_snap_buf_release(struct vmm_snap_buf *b);
void vmm_snap_put_u8(struct vmm_snap_buf *b, uint8_t v);
void vmm_snap_put_u16(struct vmm_snap_buf *b, uint16_t v);
void vmm_snap_put_u32(struct vmm_snap_buf *b, uint32_t v);
void vmm_snap_put_u64(struct vmm_snap_buf *b, uint64_t v);
void vmm_snap_put_bytes(struct vmm_snap_buf *b, const void *p, size_t n);
/* Open a section (closing any open one); what is put next is its data. */
void vmm_snap_section(struct vmm_snap_buf *b, const char *name, uint32_t instance,
                      uint32_t version);
/* Close the last section and fill in the header: b->data[0, b->len) is the file. */
void vmm_snap_finish(struct vmm_snap_buf *b);

struct vmm_snap_section {
        char name[VMM_SNAP_NAME_MAX + 1];
        uint32_t instance, version;
        const uint8_t *data;
        uint64_t len;
};

/* A parsed state file; sections point into the caller's buffer. */
struct vmm_snap {
        struct vmm_snap_section *sec;
        unsigned n;
};

/* Check data[0, len) as a whole and index its sections.  Every refusal
 * says what is wrong (truncated, corrupt, another format). */
int vmm_snap_parse(struct vmm_snap *s, const uint8_t *data, size_t len, berth_error_t *err);
void vmm_snap_release(struct vmm_snap *s);
const struct vmm_snap_section *vmm_snap_find(const struct vmm_snap *s, const char *name,
                                             uint32_t instance);
/* vmm_snap_find, or an error naming the missing section. */
const struct vmm_snap_section *vmm_snap_need(const struct vmm_snap *s, const char *name,
                                             uint32_t instance, berth_error_t *err);

/* A bounded reader over one section: reads past the end give zeros and
 * mark it short, which vmm_snap_rd_end() reports. */
struct vmm_snap_rd {
        const struct vmm_snap_section *sec;
        uint64_t off;
        bool short_read;
};

void vmm_snap_rd_init(struct vmm_snap_rd *r, const struct vmm_snap_section *sec);
uint8_t vmm_snap_get_u8(struct vmm_snap_rd *r);
uint16_t vmm_snap_get_u16(struct vmm_snap_rd *r);
uint32_t vmm_snap_get_u32(struct vmm_snap_rd *r);
uint64_t vmm_snap_get_u64(struct vmm_snap_rd *r);
bool vmm_snap_get_bool(struct vmm_snap_rd *r); /* a byte that must be 0 or 1 */
void vmm_snap_get_bytes(struct vmm_snap_rd *r, void *p, size_t n);
/* 0 when the section was read exactly to its end, else an error naming it. */
int vmm_snap_rd_end(struct vmm_snap_rd *r, berth_error_t *err);
/* The section's version is one this build reads (1..max), else an error. */
int vmm_snap_check_version(const struct vmm_snap_section *sec, uint32_t max, berth_error_t *err);

/* Make data[0, len) pass the header's length and checksum checks again
 * (len >= VMM_SNAP_HEADER_SIZE): for tests and the fuzzer, which must get
 * past the checksum to reach the section walker and the device loaders. */
void vmm_snap_reseal(uint8_t *data, size_t len);

uint64_t vmm_snap_fnv1a(uint64_t h, const uint8_t *p, size_t n);

#endif
