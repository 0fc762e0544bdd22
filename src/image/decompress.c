/* decompress.c — a layer's uncompressed stream (plain tar, gzip or zstd), hashed as
 * it is read, so that unpacking a layer and checking its diffID is one pass over
 * the data instead of two.  Other compressions (xz, bzip2: rootfs tarballs) are
 * left to libarchive's filters by the caller. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "common/util.h"
#include "image/image.h"

#define CHUNK (1u << 17)

enum kind { RAW, GZIP, ZSTD };

struct img_decomp {
        int fd;
        enum kind kind;
        z_stream z;
        ZSTD_DStream *zs;
        size_t zstd_pending; /* ZSTD_decompressStream's last hint: 0 = at a frame's end */
        unsigned char *in, *out;
        size_t in_len, in_pos;
        bool in_eof, done;
        struct img_sha256 *hash;
        uint64_t total;
};

bool img_decomp_supported(int fd)
{
        /* img_layer_media_type knows gzip, zstd and "anything else"; an xz or bzip2
         * stream must not be taken for a plain tar */
        unsigned char m[3] = {0};
        if (pread(fd, m, sizeof(m), 0) == (ssize_t) sizeof(m) &&
            ((m[0] == 0xfd && m[1] == '7' && m[2] == 'z') || (m[0] == 'B' && m[1] == 'Z')))
                return false;
        return true;
}

int img_decomp_open(int fd, struct img_decomp **out, berth_error_t *err)
{
        struct img_decomp *d = berth_xcalloc(1, sizeof(*d));
        d->fd = fd;
        const char *mt = img_layer_media_type(fd);
        d->kind = strcmp(mt, IMG_MT_OCI_LAYER_GZIP) == 0   ? GZIP
                  : strcmp(mt, IMG_MT_OCI_LAYER_ZSTD) == 0 ? ZSTD
                                                           : RAW;
        d->in = berth_xmalloc(CHUNK);
        d->out = berth_xmalloc(CHUNK);
        d->hash = img_sha256_new();
        if (d->kind == GZIP && inflateInit2(&d->z, 16 + MAX_WBITS) != Z_OK) {
                img_decomp_free(d);
                return berth_fail(err, ENOMEM, "initialise gzip");
        }
        if (d->kind == ZSTD && (d->zs = ZSTD_createDStream()) == NULL) {
                img_decomp_free(d);
                return berth_fail(err, ENOMEM, "initialise zstd");
        }
        *out = d;
        return 0;
}

void img_decomp_free(struct img_decomp *d)
{
        if (d == NULL)
                return;
        if (d->kind == GZIP)
                inflateEnd(&d->z);
        if (d->zs)
                ZSTD_freeDStream(d->zs);
        img_sha256_free(d->hash);
        free(d->in);
        free(d->out);
        free(d);
}

static int fill(struct img_decomp *d, berth_error_t *err)
{
        if (d->in_pos < d->in_len || d->in_eof)
                return 0;
        ssize_t n;
        do
                n = read(d->fd, d->in, CHUNK);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return berth_fail(err, errno, "read layer");
        d->in_len = (size_t) n;
        d->in_pos = 0;
        d->in_eof = n == 0;
        return 0;
}

ssize_t img_decomp_read(struct img_decomp *d, const void **buf, berth_error_t *err)
{
        size_t produced = 0;
        while (produced == 0 && !d->done) {
                if (fill(d, err) < 0)
                        return -1;
                size_t avail = d->in_len - d->in_pos;
                if (d->kind == RAW) {
                        if (d->in_eof) {
                                d->done = true;
                                break;
                        }
                        memcpy(d->out, d->in + d->in_pos, avail);
                        d->in_pos = d->in_len;
                        produced = avail;
                } else if (d->kind == GZIP) {
                        if (avail == 0 && d->in_eof)
                                return berth_fail(err, EINVAL, "read layer: truncated gzip stream");
                        d->z.next_in = d->in + d->in_pos;
                        d->z.avail_in = (uInt) avail;
                        d->z.next_out = d->out;
                        d->z.avail_out = CHUNK;
                        int r = inflate(&d->z, Z_NO_FLUSH);
                        if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
                                return berth_fail(err, EINVAL, "read layer: gzip: %s",
                                                  d->z.msg ? d->z.msg : "corrupt data");
                        d->in_pos = d->in_len - d->z.avail_in;
                        produced = CHUNK - d->z.avail_out;
                        if (r == Z_STREAM_END) {
                                /* gzip files may hold several members back to back */
                                if (fill(d, err) < 0)
                                        return -1;
                                if (d->in_pos == d->in_len && d->in_eof)
                                        d->done = true;
                                else
                                        inflateReset(&d->z);
                        }
                } else {
                        if (avail == 0 && d->in_eof) {
                                if (d->zstd_pending != 0 || d->total == 0)
                                        return berth_fail(err, EINVAL,
                                                          "read layer: truncated zstd stream");
                                d->done = true;
                                break;
                        }
                        ZSTD_inBuffer in = {d->in + d->in_pos, avail, 0};
                        ZSTD_outBuffer o = {d->out, CHUNK, 0};
                        size_t r = ZSTD_decompressStream(d->zs, &o, &in);
                        if (ZSTD_isError(r))
                                return berth_fail(err, EINVAL, "read layer: zstd: %s",
                                                  ZSTD_getErrorName(r));
                        d->in_pos += in.pos;
                        /* r == 0: a frame ended; otherwise data of an open frame is pending */
                        d->zstd_pending = r;
                        produced = o.pos;
                }
        }
        if (produced) {
                img_sha256_update(d->hash, d->out, produced);
                d->total += produced;
        }
        *buf = d->out;
        return (ssize_t) produced;
}

int img_decomp_finish(struct img_decomp *d, char out[IMG_DIGEST_MAX], uint64_t *size,
                      berth_error_t *err)
{
        const void *buf;
        ssize_t n;
        while ((n = img_decomp_read(d, &buf, err)) > 0)
                ;
        if (n < 0)
                return -1;
        img_sha256_final(d->hash, out);
        d->hash = NULL;
        if (size)
                *size = d->total;
        return 0;
}
