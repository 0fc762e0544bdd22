/* qcow2_header.c — reading, validating and rewriting the qcow2 header and
 * its extensions (backing format, feature-name table, unknown ones kept).
 *
 * The header is hostile input: every field that sizes an allocation or
 * points into the file is checked here, before any other code uses it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "disk/qcow2_int.h"

static uint32_t rd32(const uint8_t *p)
{
        uint32_t v;
        memcpy(&v, p, 4);
        return be32toh(v);
}

static uint64_t rd64(const uint8_t *p)
{
        uint64_t v;
        memcpy(&v, p, 8);
        return be64toh(v);
}

static void wr32(uint8_t *p, uint32_t v)
{
        v = htobe32(v);
        memcpy(p, &v, 4);
}

static void wr64(uint8_t *p, uint64_t v)
{
        v = htobe64(v);
        memcpy(p, &v, 8);
}

int qcow2_pwrite_be32(struct qcow2 *q, uint64_t off, uint32_t v, berth_error_t *err)
{
        uint8_t b[4];
        wr32(b, v);
        if (disk_full_pwrite(q->fd, b, 4, off) < 0)
                return berth_fail(err, errno, "write header field at %llu",
                                  (unsigned long long) off);
        return 0;
}

int qcow2_pwrite_be64(struct qcow2 *q, uint64_t off, uint64_t v, berth_error_t *err)
{
        uint8_t b[8];
        wr64(b, v);
        if (disk_full_pwrite(q->fd, b, 8, off) < 0)
                return berth_fail(err, errno, "write header field at %llu",
                                  (unsigned long long) off);
        return 0;
}

/* The names we print for features when the image carries no name table. */
static const struct {
        uint8_t type, bit;
        const char *name;
} builtin_features[] = {
        {0, 0, "dirty bit"},        {0, 1, "corrupt bit"},         {0, 2, "external data file"},
        {0, 3, "compression type"}, {0, 4, "extended L2 entries"}, {1, 0, "lazy refcounts"},
        {2, 0, "bitmaps"},          {2, 1, "raw external data"},
};

const char *qcow2_feature_name(const struct qcow2 *q, uint8_t type, uint8_t bit)
{
        for (size_t i = 0; i < q->n_features; i++)
                if (q->features[i].type == type && q->features[i].bit == bit)
                        return q->features[i].name;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(builtin_features); i++)
                if (builtin_features[i].type == type && builtin_features[i].bit == bit)
                        return builtin_features[i].name;
        return NULL;
}

static int parse_extensions(struct qcow2 *q, const uint8_t *h, uint64_t start, uint64_t end,
                            berth_error_t *err)
{
        uint64_t p = start;
        while (p + 8 <= end) {
                uint32_t type = rd32(h + p), len = rd32(h + p + 4);
                p += 8;
                if (type == QCOW2_EXT_END)
                        return 0;
                if (len > end - p)
                        return berth_fail(err, EINVAL,
                                          "header extension 0x%08x overruns the first cluster",
                                          type);
                const uint8_t *data = h + p;
                if (type == QCOW2_EXT_BACKING_FORMAT) {
                        free(q->backing_fmt);
                        q->backing_fmt = strndup((const char *) data, len);
                        if (q->backing_fmt == NULL)
                                abort();
                } else if (type == QCOW2_EXT_FEATURE_TABLE) {
                        size_t n = len / 48;
                        free(q->features);
                        q->features = berth_xcalloc(n, sizeof(*q->features));
                        q->n_features = n;
                        for (size_t i = 0; i < n; i++) {
                                q->features[i].type = data[i * 48];
                                q->features[i].bit = data[i * 48 + 1];
                                memcpy(q->features[i].name, data + i * 48 + 2, 46);
                                q->features[i].name[46] = 0;
                        }
                } else {
                        q->exts = berth_xrealloc(q->exts, (q->n_exts + 1) * sizeof(*q->exts));
                        struct qcow2_ext *e = &q->exts[q->n_exts++];
                        e->type = type;
                        e->len = len;
                        e->data = berth_xmalloc(len);
                        memcpy(e->data, data, len);
                }
                p += ((uint64_t) len + 7) & ~7ull;
        }
        return 0;
}

static int refuse_features(struct qcow2 *q, uint64_t bits, berth_error_t *err)
{
        char msg[512] = "";
        size_t used = 0;
        for (unsigned b = 0; b < 64; b++) {
                if (!(bits & (1ull << b)))
                        continue;
                const char *name = qcow2_feature_name(q, 0, (uint8_t) b);
                int n = snprintf(msg + used, sizeof(msg) - used, "%s%s (bit %u)", used ? ", " : "",
                                 name ? name : "unknown", b);
                if (n < 0 || (size_t) n >= sizeof(msg) - used)
                        break;
                used += (size_t) n;
        }
        return berth_fail(err, ENOTSUP, "unsupported incompatible qcow2 feature: %s", msg);
}

int qcow2_read_header(struct qcow2 *q, berth_error_t *err)
{
        uint8_t first[112];
        if (disk_full_pread(q->fd, first, sizeof(first), 0) < 0)
                return berth_fail(err, errno, "read the qcow2 header");
        if (rd32(first) != QCOW2_MAGIC)
                return berth_fail(err, EINVAL, "not a qcow2 image (bad magic)");
        q->version = rd32(first + 4);
        if (q->version != 2 && q->version != 3)
                return berth_fail(err, ENOTSUP, "qcow2 version %u is not supported (2 or 3)",
                                  q->version);
        q->cluster_bits = rd32(first + 20);
        if (q->cluster_bits < 9 || q->cluster_bits > 21)
                return berth_fail(err, EINVAL, "cluster size 2^%u is outside 512 B .. 2 MiB",
                                  q->cluster_bits);
        q->cluster_size = 1ull << q->cluster_bits;
        cleanup_free uint8_t *h = berth_xmalloc(q->cluster_size);
        if (disk_full_pread(q->fd, h, q->cluster_size, 0) < 0)
                return berth_fail(err, errno, "read the qcow2 header cluster");

        uint64_t backing_off = rd64(h + 8);
        uint32_t backing_len = rd32(h + 16);
        q->size = rd64(h + 24);
        uint32_t crypt = rd32(h + 32);
        q->l1_size = rd32(h + 36);
        q->l1_offset = rd64(h + 40);
        q->rt_offset = rd64(h + 48);
        q->rt_clusters = rd32(h + 56);
        q->nb_snapshots = rd32(h + 60);
        q->snapshots_offset = rd64(h + 64);
        if (q->version == 3) {
                q->incompat = rd64(h + 72);
                q->compat = rd64(h + 80);
                q->autoclear = rd64(h + 88);
                q->refcount_order = rd32(h + 96);
                q->header_length = rd32(h + 100);
                if (q->header_length < 104 || q->header_length % 8 ||
                    q->header_length > q->cluster_size)
                        return berth_fail(err, EINVAL, "bad qcow2 header length %u",
                                          q->header_length);
                if (q->header_length > 104)
                        q->compression_type = h[104];
        } else {
                q->refcount_order = 4;
                q->header_length = 72;
        }

        if (parse_extensions(q, h, q->header_length,
                             backing_off && backing_off < q->cluster_size ? backing_off
                                                                          : q->cluster_size,
                             err) < 0)
                return -1;

        uint64_t unknown = q->incompat & ~QCOW2_INCOMPAT_KNOWN;
        if (unknown)
                return refuse_features(q, unknown, err);
        if (crypt != 0)
                return berth_fail(err, ENOTSUP, "encrypted qcow2 images are not supported");
        if (q->incompat & QCOW2_INCOMPAT_COMPRESSION) {
                if (q->compression_type > 1)
                        return berth_fail(err, ENOTSUP, "unknown compression type %u",
                                          q->compression_type);
        } else if (q->compression_type != 0) {
                return berth_fail(err, EINVAL,
                                  "compression type %u set without the compression feature bit",
                                  q->compression_type);
        }
        if (q->refcount_order > 6)
                return berth_fail(err, EINVAL, "refcount order %u is larger than 6",
                                  q->refcount_order);
        if (q->size > QCOW2_MAX_SIZE)
                return berth_fail(err, EFBIG, "virtual size %llu is too large",
                                  (unsigned long long) q->size);

        if (backing_off) {
                if (backing_len == 0 || backing_len > 1023 || backing_off > q->cluster_size ||
                    backing_len > q->cluster_size - backing_off)
                        return berth_fail(err, EINVAL,
                                          "backing file name (%u bytes at %llu) is not inside "
                                          "the first cluster",
                                          backing_len, (unsigned long long) backing_off);
                q->backing_name = strndup((const char *) h + backing_off, backing_len);
                if (q->backing_name == NULL)
                        abort();
                if (strlen(q->backing_name) != backing_len)
                        return berth_fail(err, EINVAL, "backing file name contains a NUL byte");
        }

        q->l2_entries = q->cluster_size / 8;
        if ((uint64_t) q->l1_size * 8 > QCOW2_MAX_L1_BYTES)
                return berth_fail(err, EFBIG, "L1 table of %u entries is too large", q->l1_size);
        uint64_t per_l1 = q->l2_entries * q->cluster_size;
        uint64_t need = (q->size + per_l1 - 1) / per_l1;
        if (need > q->l1_size)
                return berth_fail(err, EINVAL,
                                  "L1 table (%u entries) is too small for the virtual size",
                                  q->l1_size);
        if (q->l1_offset % q->cluster_size || (q->l1_size && q->l1_offset == 0))
                return berth_fail(err, EINVAL, "L1 table offset %llu is not cluster aligned",
                                  (unsigned long long) q->l1_offset);
        if (q->rt_offset % q->cluster_size || q->rt_offset == 0)
                return berth_fail(err, EINVAL, "refcount table offset %llu is invalid",
                                  (unsigned long long) q->rt_offset);
        if ((uint64_t) q->rt_clusters * q->cluster_size > QCOW2_MAX_REFTABLE_BYTES ||
            q->rt_clusters == 0)
                return berth_fail(err, EFBIG, "refcount table of %u clusters is invalid",
                                  q->rt_clusters);
        if (q->nb_snapshots > QCOW2_MAX_SNAPSHOTS)
                return berth_fail(err, EFBIG, "%u snapshots are too many", q->nb_snapshots);
        if (q->snapshots_offset % q->cluster_size)
                return berth_fail(err, EINVAL, "snapshot table offset is not cluster aligned");
        return 0;
}

/* Lay out the header cluster from our state.  Returns the bytes used, or 0
 * when it does not fit (the caller then drops the optional feature table). */
static size_t build_header(struct qcow2 *q, const uint8_t *old, uint8_t *h, bool with_features)
{
        uint64_t cs = q->cluster_size;
        memset(h, 0, cs);
        uint32_t hl = q->version == 3 ? (q->header_length >= 112 ? q->header_length : 112) : 72;
        if (old && q->version == 3 && q->header_length > 104)
                memcpy(h + 104, old + 104, q->header_length - 104); /* fields we don't know */
        wr32(h, QCOW2_MAGIC);
        wr32(h + 4, q->version);
        wr32(h + 20, q->cluster_bits);
        wr64(h + 24, q->size);
        wr32(h + 36, q->l1_size);
        wr64(h + 40, q->l1_offset);
        wr64(h + 48, q->rt_offset);
        wr32(h + 56, q->rt_clusters);
        wr32(h + 60, q->nb_snapshots);
        wr64(h + 64, q->snapshots_offset);
        if (q->version == 3) {
                wr64(h + 72, q->incompat);
                wr64(h + 80, q->compat);
                wr64(h + 88, q->autoclear);
                wr32(h + 96, q->refcount_order);
                wr32(h + 100, hl);
                h[104] = q->compression_type;
        }
        size_t p = hl;
#define NEED(n)                       \
        do {                          \
                if (p + (n) + 8 > cs) \
                        return 0;     \
        } while (0)
        if (q->backing_fmt && q->backing_name) {
                size_t l = strlen(q->backing_fmt);
                NEED(8 + ((l + 7) & ~7u));
                wr32(h + p, QCOW2_EXT_BACKING_FORMAT);
                wr32(h + p + 4, (uint32_t) l);
                memcpy(h + p + 8, q->backing_fmt, l);
                p += 8 + ((l + 7) & ~7u);
        }
        if (with_features && q->version == 3) {
                size_t n = BERTH_ARRAY_SIZE(builtin_features);
                NEED(8 + n * 48);
                wr32(h + p, QCOW2_EXT_FEATURE_TABLE);
                wr32(h + p + 4, (uint32_t) (n * 48));
                for (size_t i = 0; i < n; i++) {
                        uint8_t *e = h + p + 8 + i * 48;
                        e[0] = builtin_features[i].type;
                        e[1] = builtin_features[i].bit;
                        strncpy((char *) e + 2, builtin_features[i].name, 46);
                }
                p += 8 + n * 48;
        }
        for (size_t i = 0; i < q->n_exts; i++) {
                size_t l = q->exts[i].len;
                NEED(8 + ((l + 7) & ~7u));
                wr32(h + p, q->exts[i].type);
                wr32(h + p + 4, (uint32_t) l);
                memcpy(h + p + 8, q->exts[i].data, l);
                p += 8 + ((l + 7) & ~7u);
        }
        p += 8; /* end-of-extensions marker: already zero */
        if (q->backing_name) {
                size_t l = strlen(q->backing_name);
                if (p + l > cs)
                        return 0;
                wr64(h + 8, p);
                wr32(h + 16, (uint32_t) l);
                memcpy(h + p, q->backing_name, l);
                p += l;
        }
#undef NEED
        q->header_length = hl;
        return p;
}

/* Rewrite the whole header cluster.  Used for changes that touch the
 * extensions or the backing name (rebase, create); field updates that fit one
 * sector write only those bytes. */
int qcow2_write_header(struct qcow2 *q, berth_error_t *err)
{
        cleanup_free uint8_t *old = berth_xcalloc(1, q->cluster_size);
        cleanup_free uint8_t *h = berth_xmalloc(q->cluster_size);
        if (disk_full_pread(q->fd, old, q->cluster_size, 0) < 0)
                return berth_fail(err, errno, "read the qcow2 header");
        size_t n = build_header(q, old, h, true);
        if (n == 0)
                n = build_header(q, old, h, false);
        if (n == 0)
                return berth_fail(err, ENOSPC,
                                  "the header, its extensions and the backing file name do not "
                                  "fit in one %llu-byte cluster",
                                  (unsigned long long) q->cluster_size);
        if (disk_full_pwrite(q->fd, h, q->cluster_size, 0) < 0)
                return berth_fail(err, errno, "write the qcow2 header");
        return 0;
}

int qcow2_set_incompat(struct qcow2 *q, uint64_t bits, bool on, berth_error_t *err)
{
        if (q->version < 3)
                return 0;
        uint64_t v = on ? (q->incompat | bits) : (q->incompat & ~bits);
        if (v == q->incompat)
                return 0;
        if (qcow2_pwrite_be64(q, QH_INCOMPAT, v, err) < 0)
                return -1;
        if (fdatasync(q->fd) < 0)
                return berth_fail(err, errno, "flush the qcow2 header");
        q->incompat = v;
        return 0;
}
