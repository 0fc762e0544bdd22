/* nettle_dl.c — GNU Nettle (SHA-256 and base64 only), loaded on first use (common/dl.h says
 * why): trampolines defined with sha2.h's and base64.h's own prototypes.  Nettle, not
 * OpenSSL's libcrypto: the same SHA-NI speed within a tenth, and a fraction of the memory
 * (libcrypto's first digest left 3.4 MB resident in `berth system service`; nettle is already
 * mapped there, behind GnuTLS, and behind libarchive everywhere).  A function newly called fails
 * to link until it is added to NETTLE_FNS. */
#include <nettle/base64.h>
#include <nettle/sha2.h>

#include "common/dl.h"

/* The ABI's soname (Nettle 3). */
#define NETTLE_SONAME "libnettle.so.8"

/* F(return type, name, parameters, arguments); V(name, parameters, arguments) returns void */
#define NETTLE_FNS(F, V)                                                                          \
        V(nettle_sha256_init, (struct sha256_ctx * ctx), (ctx))                                   \
        V(nettle_sha256_update, (struct sha256_ctx * ctx, size_t length, const uint8_t *data),    \
          (ctx, length, data))                                                                    \
        V(nettle_sha256_digest, (struct sha256_ctx * ctx, size_t length, uint8_t * digest),       \
          (ctx, length, digest))                                                                  \
        V(nettle_base64_encode_raw, (char *dst, size_t length, const uint8_t *src),               \
          (dst, length, src))                                                                     \
        V(nettle_base64_decode_init, (struct base64_decode_ctx * ctx), (ctx))                     \
        F(int, nettle_base64_decode_update,                                                       \
          (struct base64_decode_ctx * ctx, size_t * dst_length, uint8_t * dst, size_t src_length, \
           const char *src),                                                                      \
          (ctx, dst_length, dst, src_length, src))                                                \
        F(int, nettle_base64_decode_final, (struct base64_decode_ctx * ctx), (ctx))

BERTH_DL_LIBRARY(NETTLE_SONAME, NETTLE_FNS)
