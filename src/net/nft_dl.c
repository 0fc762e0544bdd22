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

#define ENUM_F(ret, name, params, args) I_##name,
#define ENUM_V(name, params, args)      I_##name,
enum { NFT_FNS(ENUM_F, ENUM_V) N_FNS };

#define NAME_F(ret, name, params, args) #name,
#define NAME_V(name, params, args)      #name,
static const char *const names[] = {NFT_FNS(NAME_F, NAME_V)};
static void *slots[N_FNS];
static struct berth_dl lib = BERTH_DL_INIT(NFT_SONAME, names, slots);

#define TRAMPOLINE_F(ret, name, params, args) BERTH_DL_FN(lib, I_##name, ret, name, params, args)
#define TRAMPOLINE_V(name, params, args)      BERTH_DL_VOID_FN(lib, I_##name, name, params, args)
NFT_FNS(TRAMPOLINE_F, TRAMPOLINE_V)
