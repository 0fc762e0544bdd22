/* digest.c — sha256 digests ("sha256:<hex>") and base64, through GNU Nettle (nettle_dl.c). */
#include <nettle/base64.h>
#include <nettle/sha2.h>
#include <string.h>

#include "common/util.h"
#include "image/image.h"

struct img_sha256 {
        struct sha256_ctx ctx;
};

struct img_sha256 *img_sha256_new(void)
{
        struct img_sha256 *h = berth_xcalloc(1, sizeof(*h));
        sha256_init(&h->ctx);
        return h;
}

void img_sha256_update(struct img_sha256 *h, const void *buf, size_t len)
{
        if (len)
                sha256_update(&h->ctx, len, buf);
}

void img_sha256_free(struct img_sha256 *h)
{
        free(h);
}

void img_sha256_final(struct img_sha256 *h, char out[IMG_DIGEST_MAX])
{
        uint8_t md[SHA256_DIGEST_SIZE];
        sha256_digest(&h->ctx, sizeof(md), md);
        memcpy(out, "sha256:", 7);
        for (unsigned i = 0; i < 32; i++) {
                static const char hex[] = "0123456789abcdef";
                out[7 + 2 * i] = hex[md[i] >> 4];
                out[8 + 2 * i] = hex[md[i] & 15];
        }
        out[71] = '\0';
        img_sha256_free(h);
}

void img_sha256_digest(const void *buf, size_t len, char out[IMG_DIGEST_MAX])
{
        struct img_sha256 *h = img_sha256_new();
        img_sha256_update(h, buf, len);
        img_sha256_final(h, out);
}

char *img_base64_encode(const void *buf, size_t len)
{
        char *out = berth_xmalloc(BASE64_ENCODE_RAW_LENGTH(len) + 1);
        base64_encode_raw(out, len, buf);
        out[BASE64_ENCODE_RAW_LENGTH(len)] = '\0';
        return out;
}

void *img_base64_decode(const char *b64, size_t *len)
{
        size_t n = strlen(b64);
        uint8_t *out = berth_xmalloc(BASE64_DECODE_LENGTH(n) + 1);
        struct base64_decode_ctx ctx;
        base64_decode_init(&ctx);
        size_t got = 0;
        if (!base64_decode_update(&ctx, &got, out, n, b64) || !base64_decode_final(&ctx)) {
                free(out);
                return NULL;
        }
        out[got] = '\0';
        *len = got;
        return out;
}

bool img_digest_valid(const char *d)
{
        if (d == NULL || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
                return false;
        for (const char *p = d + 7; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

const char *img_digest_hex(const char *d)
{
        return d + 7;
}
