/* digest.c — sha256 digests ("sha256:<hex>") through OpenSSL's libcrypto. */
#include <openssl/evp.h>
#include <string.h>

#include "common/util.h"
#include "image/image.h"

struct img_sha256 {
        EVP_MD_CTX *ctx;
};

struct img_sha256 *img_sha256_new(void)
{
        struct img_sha256 *h = berth_xcalloc(1, sizeof(*h));
        h->ctx = EVP_MD_CTX_new();
        if (h->ctx == NULL || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
                fprintf(stderr, "berth: OpenSSL cannot initialise sha256\n");
                abort();
        }
        return h;
}

void img_sha256_update(struct img_sha256 *h, const void *buf, size_t len)
{
        if (len)
                EVP_DigestUpdate(h->ctx, buf, len);
}

void img_sha256_free(struct img_sha256 *h)
{
        if (h == NULL)
                return;
        EVP_MD_CTX_free(h->ctx);
        free(h);
}

void img_sha256_final(struct img_sha256 *h, char out[IMG_DIGEST_MAX])
{
        unsigned char md[32];
        unsigned int n = 0;
        EVP_DigestFinal_ex(h->ctx, md, &n);
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
