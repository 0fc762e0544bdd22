/* snapshot_format.c — writing and checking the state file's container
 * (snapshot_format.h has the layout).  Nothing here knows a device. */
#include "vmm/snapshot_format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define FNV_OFFSET   0xcbf29ce484222325ull
#define FNV_PRIME    0x100000001b3ull
#define OFF_CHECKSUM 24

uint64_t vmm_snap_fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                h ^= p[i];
                h *= FNV_PRIME;
        }
        return h;
}

static uint64_t checksum(const uint8_t *p, size_t len)
{
        static const uint8_t zero[8];
        uint64_t h = vmm_snap_fnv1a(FNV_OFFSET, p, OFF_CHECKSUM);
        h = vmm_snap_fnv1a(h, zero, sizeof(zero));
        return vmm_snap_fnv1a(h, p + OFF_CHECKSUM + 8, len - OFF_CHECKSUM - 8);
}

static void le_store(uint8_t *p, uint64_t v, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static uint64_t le_load(const uint8_t *p, unsigned n)
{
        uint64_t v = 0;
        for (unsigned i = 0; i < n; i++)
                v |= (uint64_t) p[i] << (8 * i);
        return v;
}

void vmm_snap_buf_init(struct vmm_snap_buf *b)
{
        *b = (struct vmm_snap_buf){0};
        b->cap = 4096;
        b->data = berth_xcalloc(1, b->cap);
        b->len = VMM_SNAP_HEADER_SIZE;
}

void vmm_snap_buf_release(struct vmm_snap_buf *b)
{
        free(b->data);
        *b = (struct vmm_snap_buf){0};
}

void vmm_snap_put_bytes(struct vmm_snap_buf *b, const void *p, size_t n)
{
        if (b->len + n > b->cap) {
                while (b->len + n > b->cap)
                        b->cap *= 2;
                b->data = berth_xrealloc(b->data, b->cap);
        }
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
}

static void put_le(struct vmm_snap_buf *b, uint64_t v, unsigned n)
{
        uint8_t tmp[8];
        le_store(tmp, v, n);
        vmm_snap_put_bytes(b, tmp, n);
}

void vmm_snap_put_u8(struct vmm_snap_buf *b, uint8_t v)
{
        put_le(b, v, 1);
}

void vmm_snap_put_u16(struct vmm_snap_buf *b, uint16_t v)
{
        put_le(b, v, 2);
}

void vmm_snap_put_u32(struct vmm_snap_buf *b, uint32_t v)
{
        put_le(b, v, 4);
}

void vmm_snap_put_u64(struct vmm_snap_buf *b, uint64_t v)
{
        put_le(b, v, 8);
}

static void close_section(struct vmm_snap_buf *b)
{
        if (!b->section)
                return;
        le_store(b->data + b->section + 24, b->len - b->section - VMM_SNAP_SECTION_HEAD, 8);
        b->section = 0;
}

void vmm_snap_section(struct vmm_snap_buf *b, const char *name, uint32_t instance, uint32_t version)
{
        close_section(b);
        uint8_t head[VMM_SNAP_SECTION_HEAD] = {0};
        size_t n = strlen(name);
        memcpy(head, name, n > VMM_SNAP_NAME_MAX ? VMM_SNAP_NAME_MAX : n);
        le_store(head + 16, instance, 4);
        le_store(head + 20, version, 4);
        b->section = b->len;
        vmm_snap_put_bytes(b, head, sizeof(head));
        b->n_sections++;
}

void vmm_snap_finish(struct vmm_snap_buf *b)
{
        close_section(b);
        memcpy(b->data, VMM_SNAP_MAGIC, 8);
        le_store(b->data + 8, VMM_SNAP_FORMAT, 4);
        le_store(b->data + 12, b->n_sections, 4);
        le_store(b->data + 16, b->len, 8);
        le_store(b->data + OFF_CHECKSUM, checksum(b->data, b->len), 8);
}

void vmm_snap_reseal(uint8_t *data, size_t len)
{
        le_store(data + 16, len, 8);
        le_store(data + OFF_CHECKSUM, checksum(data, len), 8);
}

int vmm_snap_parse(struct vmm_snap *s, const uint8_t *data, size_t len, berth_error_t *err)
{
        *s = (struct vmm_snap){0};
        if (len < VMM_SNAP_HEADER_SIZE || memcmp(data, VMM_SNAP_MAGIC, 8) != 0)
                return berth_fail(err, EINVAL,
                                  len < 8 ? "not a berth-vmm snapshot (%zu bytes)"
                                          : "not a berth-vmm snapshot (no BERTHSNP magic, %zu "
                                            "bytes)",
                                  len);
        uint32_t format = (uint32_t) le_load(data + 8, 4);
        uint32_t n = (uint32_t) le_load(data + 12, 4);
        uint64_t total = le_load(data + 16, 8);
        if (format != VMM_SNAP_FORMAT)
                return berth_fail(err, EINVAL,
                                  "snapshot format %u, but this berth-vmm reads format %u", format,
                                  VMM_SNAP_FORMAT);
        if (total != len)
                return berth_fail(err, EINVAL,
                                  total > len ? "snapshot truncated: %zu of %llu bytes"
                                              : "snapshot has %zu bytes, its header says %llu",
                                  len, (unsigned long long) total);
        if (len > VMM_SNAP_MAX_FILE)
                return berth_fail(err, EFBIG,
                                  "snapshot state of %zu bytes is over the %u MiB limit", len,
                                  VMM_SNAP_MAX_FILE >> 20);
        if (le_load(data + OFF_CHECKSUM, 8) != checksum(data, len))
                return berth_fail(err, EINVAL, "snapshot corrupt: checksum mismatch");
        if (n > VMM_SNAP_MAX_SECTIONS)
                return berth_fail(err, EINVAL, "snapshot corrupt: %u sections", n);
        s->sec = berth_xcalloc(n ? n : 1, sizeof(*s->sec));
        size_t off = VMM_SNAP_HEADER_SIZE;
        for (uint32_t i = 0; i < n; i++) {
                struct vmm_snap_section *c = &s->sec[i];
                if (len - off < VMM_SNAP_SECTION_HEAD)
                        goto bad;
                const uint8_t *h = data + off;
                if (h[VMM_SNAP_NAME_MAX] != 0 || h[0] == 0)
                        goto bad;
                memcpy(c->name, h, VMM_SNAP_NAME_MAX + 1);
                c->instance = (uint32_t) le_load(h + 16, 4);
                c->version = (uint32_t) le_load(h + 20, 4);
                c->len = le_load(h + 24, 8);
                off += VMM_SNAP_SECTION_HEAD;
                if (c->len > len - off)
                        goto bad;
                c->data = data + off;
                off += c->len;
                s->n = i + 1;
        }
        if (off != len)
                goto bad;
        return 0;
bad:
        vmm_snap_release(s);
        return berth_fail(err, EINVAL, "snapshot corrupt: its sections do not fit the file");
}

void vmm_snap_release(struct vmm_snap *s)
{
        free(s->sec);
        *s = (struct vmm_snap){0};
}

const struct vmm_snap_section *vmm_snap_find(const struct vmm_snap *s, const char *name,
                                             uint32_t instance)
{
        for (unsigned i = 0; i < s->n; i++)
                if (s->sec[i].instance == instance && strcmp(s->sec[i].name, name) == 0)
                        return &s->sec[i];
        return NULL;
}

const struct vmm_snap_section *vmm_snap_need(const struct vmm_snap *s, const char *name,
                                             uint32_t instance, berth_error_t *err)
{
        const struct vmm_snap_section *c = vmm_snap_find(s, name, instance);
        if (!c)
                berth_fail(err, EINVAL, "snapshot has no `%s` state (instance %u)", name, instance);
        return c;
}

void vmm_snap_rd_init(struct vmm_snap_rd *r, const struct vmm_snap_section *sec)
{
        *r = (struct vmm_snap_rd){.sec = sec};
}

void vmm_snap_get_bytes(struct vmm_snap_rd *r, void *p, size_t n)
{
        if (r->short_read || n > r->sec->len - r->off) {
                r->short_read = true;
                memset(p, 0, n);
                return;
        }
        memcpy(p, r->sec->data + r->off, n);
        r->off += n;
}

static uint64_t get_le(struct vmm_snap_rd *r, unsigned n)
{
        uint8_t tmp[8];
        vmm_snap_get_bytes(r, tmp, n);
        return le_load(tmp, n);
}

uint8_t vmm_snap_get_u8(struct vmm_snap_rd *r)
{
        return (uint8_t) get_le(r, 1);
}

uint16_t vmm_snap_get_u16(struct vmm_snap_rd *r)
{
        return (uint16_t) get_le(r, 2);
}

uint32_t vmm_snap_get_u32(struct vmm_snap_rd *r)
{
        return (uint32_t) get_le(r, 4);
}

uint64_t vmm_snap_get_u64(struct vmm_snap_rd *r)
{
        return get_le(r, 8);
}

bool vmm_snap_get_bool(struct vmm_snap_rd *r)
{
        uint8_t v = vmm_snap_get_u8(r);
        if (v > 1)
                r->short_read = true; /* not a bool: the section is bad all the same */
        return v == 1;
}

int vmm_snap_rd_end(struct vmm_snap_rd *r, berth_error_t *err)
{
        if (r->short_read || r->off != r->sec->len)
                return berth_fail(err, EINVAL, "snapshot's `%s` state (instance %u) is malformed",
                                  r->sec->name, r->sec->instance);
        return 0;
}

int vmm_snap_check_version(const struct vmm_snap_section *sec, uint32_t max, berth_error_t *err)
{
        if (sec->version == 0 || sec->version > max)
                return berth_fail(err, EINVAL,
                                  "snapshot's `%s` state is version %u; this berth-vmm reads "
                                  "1 to %u",
                                  sec->name, sec->version, max);
        return 0;
}
