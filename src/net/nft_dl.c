/* nft_dl.c — libnftables, loaded on first use (common/dl.h says why: linked, it and libnftnl,
 * libxtables and libgmp were loaded by every `berth` command; only network set-up and
 * teardown use them): trampolines for the nft_* functions firewall.c calls, defined with
 * libnftables.h's own prototypes.  A function newly called fails to link until it is added
 * to NFT_FNS. */
#include <nftables/libnftables.h>

#include "common/dl.h"

/* The ABI's soname (nftables ≥ 0.9.1). */
#define NFT_SONAME "libnftables.so.1"

/* F(return type, name, parameters, arguments); V(name, parameters, arguments) returns void */
#define NFT_FNS(F, V)                                                                         \
        F(struct nft_ctx *, nft_ctx_new, (uint32_t flags), (flags))                           \
        V(nft_ctx_free, (struct nft_ctx * ctx), (ctx))                                        \
        F(int, nft_ctx_buffer_output, (struct nft_ctx * ctx), (ctx))                          \
        F(int, nft_ctx_buffer_error, (struct nft_ctx * ctx), (ctx))                           \
        F(const char *, nft_ctx_get_output_buffer, (struct nft_ctx * ctx), (ctx))             \
        F(const char *, nft_ctx_get_error_buffer, (struct nft_ctx * ctx), (ctx))              \
        V(nft_ctx_output_set_flags, (struct nft_ctx * ctx, unsigned int flags), (ctx, flags)) \
        F(int, nft_run_cmd_from_buffer, (struct nft_ctx * nft, const char *buf), (nft, buf))

BERTH_DL_LIBRARY(NFT_SONAME, NFT_FNS)
