/* mhd_dl.c — libmicrohttpd (and the two GnuTLS calls that check clients' certificates),
 * loaded on first use (common/dl.h says why: linked, libmicrohttpd and GnuTLS with its
 * nettle, gmp, p11-kit, tasn1 and idn2 were loaded by every `berth` command, and only
 * `berth system service` serves HTTP): trampolines defined with the headers' own prototypes.
 * A function newly called fails to link until it is added to MHD_FNS or TLS_FNS. */
#include <stdarg.h>
#include <stdint.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "common/dl.h"

/* The ABIs' sonames. */
#define MHD_SONAME    "libmicrohttpd.so.12"
#define GNUTLS_SONAME "libgnutls.so.30"

/* F(return type, name, parameters, arguments); V(name, parameters, arguments) returns void */
#define MHD_FNS(F, V)                                                                            \
        F(enum MHD_Result, MHD_add_response_header,                                              \
          (struct MHD_Response * r, const char *header, const char *content),                    \
          (r, header, content))                                                                  \
        F(struct MHD_Response *, MHD_create_response_for_upgrade,                                \
          (MHD_UpgradeHandler handler, void *cls), (handler, cls))                               \
        F(struct MHD_Response *, MHD_create_response_from_buffer,                                \
          (size_t size, void *buffer, enum MHD_ResponseMemoryMode mode), (size, buffer, mode))   \
        F(struct MHD_Response *, MHD_create_response_from_callback,                              \
          (uint64_t size, size_t block_size, MHD_ContentReaderCallback crc, void *crc_cls,       \
           MHD_ContentReaderFreeCallback crfc),                                                  \
          (size, block_size, crc, crc_cls, crfc))                                                \
        V(MHD_destroy_response, (struct MHD_Response * r), (r))                                  \
        F(int, MHD_get_connection_values,                                                        \
          (struct MHD_Connection * c, enum MHD_ValueKind kind, MHD_KeyValueIterator it,          \
           void *cls),                                                                           \
          (c, kind, it, cls))                                                                    \
        F(const char *, MHD_lookup_connection_value,                                             \
          (struct MHD_Connection * c, enum MHD_ValueKind kind, const char *key), (c, kind, key)) \
        F(enum MHD_Result, MHD_queue_response,                                                   \
          (struct MHD_Connection * c, unsigned int status, struct MHD_Response *r),              \
          (c, status, r))                                                                        \
        V(MHD_stop_daemon, (struct MHD_Daemon * d), (d))

#define TLS_FNS(F, V)                                                                              \
        F(const gnutls_datum_t *, gnutls_certificate_get_peers,                                    \
          (gnutls_session_t session, unsigned int *list_size), (session, list_size))               \
        F(int, gnutls_certificate_verify_peers2, (gnutls_session_t session, unsigned int *status), \
          (session, status))

enum {
        MHD_FNS(BERTH_DL_ENUM_F, BERTH_DL_ENUM_V) I_MHD_start_daemon_va,
        I_MHD_get_connection_info,
        I_MHD_upgrade_action,
        N_MHD_FNS
};
enum { TLS_FNS(BERTH_DL_ENUM_F, BERTH_DL_ENUM_V) N_TLS_FNS };

static const char *const mhd_names[] = {
        MHD_FNS(BERTH_DL_NAME_F, BERTH_DL_NAME_V) "MHD_start_daemon_va", "MHD_get_connection_info",
        "MHD_upgrade_action"};
static void *mhd_slots[N_MHD_FNS];
static struct berth_dl mhd = BERTH_DL_INIT(MHD_SONAME, mhd_names, mhd_slots);
static const char *const tls_names[] = {TLS_FNS(BERTH_DL_NAME_F, BERTH_DL_NAME_V)};
static void *tls_slots[N_TLS_FNS];
static struct berth_dl tls = BERTH_DL_INIT(GNUTLS_SONAME, tls_names, tls_slots);

#define MHD_F(ret, name, params, args) BERTH_DL_FN(mhd, I_##name, ret, name, params, args)
#define MHD_V(name, params, args)      BERTH_DL_VOID_FN(mhd, I_##name, name, params, args)
#define TLS_F(ret, name, params, args) BERTH_DL_FN(tls, I_##name, ret, name, params, args)
#define TLS_V(name, params, args)      BERTH_DL_VOID_FN(tls, I_##name, name, params, args)
MHD_FNS(MHD_F, MHD_V)
TLS_FNS(TLS_F, TLS_V)

/* Variadic: the options, passed on through the library's va_list form. */
struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
        struct MHD_Daemon *(*fn)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
                                 MHD_AccessHandlerCallback, void *, va_list) =
                (struct MHD_Daemon * (*) (unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
                                          MHD_AccessHandlerCallback, void *, va_list))
                        berth_dl_sym(&mhd, I_MHD_start_daemon_va);
        va_list ap;
        va_start(ap, dh_cls);
        struct MHD_Daemon *d = fn(flags, port, apc, apc_cls, dh, dh_cls, ap);
        va_end(ap);
        return d;
}

/* Variadic in name only: no information berth asks for (the TLS session, the socket) nor
 * upgrade action it takes (close) reads further arguments, so none are passed on. */
const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *c,
                                                        enum MHD_ConnectionInfoType type, ...)
{
        return ((const union MHD_ConnectionInfo *(*) (struct MHD_Connection *,
                                                      enum MHD_ConnectionInfoType, ...))
                        berth_dl_sym(&mhd, I_MHD_get_connection_info))(c, type);
}

enum MHD_Result MHD_upgrade_action(struct MHD_UpgradeResponseHandle *urh,
                                   enum MHD_UpgradeAction action, ...)
{
        return ((enum MHD_Result(*)(struct MHD_UpgradeResponseHandle *, enum MHD_UpgradeAction,
                                    ...)) berth_dl_sym(&mhd, I_MHD_upgrade_action))(urh, action);
}
