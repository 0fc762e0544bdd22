/* crypto_dl.c — libcrypto (SHA-256 and base64 only), loaded on first use (common/dl.h says
 * why: linked, OpenSSL's relocations and constructors cost every `berth` command ~0.7 ms,
 * and only commands that hash content or encode credentials need it): trampolines defined
 * with evp.h's own prototypes.  A function newly called fails to link until it is added to
 * CRYPTO_FNS. */
#include <openssl/evp.h>

#include "common/dl.h"

/* The ABI's soname (OpenSSL 3). */
#define CRYPTO_SONAME "libcrypto.so.3"

/* F(return type, name, parameters, arguments); V(name, parameters, arguments) returns void */
#define CRYPTO_FNS(F, V)                                                                      \
        F(EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())                                           \
        V(EVP_MD_CTX_free, (EVP_MD_CTX * ctx), (ctx))                                         \
        F(const EVP_MD *, EVP_sha256, (void), ())                                             \
        F(int, EVP_DigestInit_ex, (EVP_MD_CTX * ctx, const EVP_MD *type, ENGINE *impl),       \
          (ctx, type, impl))                                                                  \
        F(int, EVP_DigestUpdate, (EVP_MD_CTX * ctx, const void *d, size_t n), (ctx, d, n))    \
        F(int, EVP_DigestFinal_ex, (EVP_MD_CTX * ctx, unsigned char *md, unsigned int *s),    \
          (ctx, md, s))                                                                       \
        F(int, EVP_EncodeBlock, (unsigned char *t, const unsigned char *f, int n), (t, f, n)) \
        F(int, EVP_DecodeBlock, (unsigned char *t, const unsigned char *f, int n), (t, f, n))

#define ENUM_F(ret, name, params, args) I_##name,
#define ENUM_V(name, params, args)      I_##name,
enum { CRYPTO_FNS(ENUM_F, ENUM_V) N_FNS };

#define NAME_F(ret, name, params, args) #name,
#define NAME_V(name, params, args)      #name,
static const char *const names[] = {CRYPTO_FNS(NAME_F, NAME_V)};
static void *slots[N_FNS];
static struct berth_dl lib = BERTH_DL_INIT(CRYPTO_SONAME, names, slots);

#define TRAMPOLINE_F(ret, name, params, args) BERTH_DL_FN(lib, I_##name, ret, name, params, args)
#define TRAMPOLINE_V(name, params, args)      BERTH_DL_VOID_FN(lib, I_##name, name, params, args)
CRYPTO_FNS(TRAMPOLINE_F, TRAMPOLINE_V)
