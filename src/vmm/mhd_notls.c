/* mhd_notls.c — libmicrohttpd linked statically into berth-vmm, without
 * GnuTLS.  The shared libmicrohttpd needs GnuTLS, and GnuTLS nettle,
 * hogweed, gmp, p11-kit, tasn1, idn2 and unistring: about 2.4 MiB of every
 * VMM's RSS (their pages touched by relocation and GnuTLS's initialisation;
 * docs/performance.md, "berth vm"), for a REST API on a unix socket that
 * never speaks TLS.  A lazy dlopen (common/dl.h) cannot help here: the
 * jailed VMM's root holds no libraries and its seccomp lists refuse
 * executable mappings, so what the API needs must be loaded at exec.
 *
 * So the static libmicrohttpd is linked with these definitions of the
 * GnuTLS functions it refers to: the library's initialiser gets success,
 * and everything else — reached only by a daemon started with MHD_USE_TLS,
 * which berth-vmm never asks for — ends the process.  meson.build links the
 * shared library instead when this combination does not link (another
 * libmicrohttpd calling other GnuTLS functions). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Declared here, not from <gnutls/gnutls.h>: only the symbols matter, and
 * none of these is ever called with arguments that are read. */
int gnutls_global_init(void);
void gnutls_global_deinit(void);
extern void *(*gnutls_malloc)(size_t);

void *(*gnutls_malloc)(size_t) = malloc;

int gnutls_global_init(void)
{
        return 0;
}

void gnutls_global_deinit(void)
{
}

static void __attribute__((noreturn)) no_tls(const char *fn)
{
        dprintf(STDERR_FILENO, "berth-vmm: %s: built without TLS\n", fn);
        abort();
}

#define NO_TLS(name)           \
        int name(void);        \
        int name(void)         \
        {                      \
                no_tls(#name); \
        }

NO_TLS(gnutls_alpn_set_protocols)
NO_TLS(gnutls_bye)
NO_TLS(gnutls_certificate_allocate_credentials)
NO_TLS(gnutls_certificate_free_credentials)
NO_TLS(gnutls_certificate_server_set_request)
NO_TLS(gnutls_certificate_set_dh_params)
NO_TLS(gnutls_certificate_set_retrieve_function2)
NO_TLS(gnutls_certificate_set_retrieve_function3)
NO_TLS(gnutls_certificate_set_x509_key_mem)
NO_TLS(gnutls_certificate_set_x509_key_mem2)
NO_TLS(gnutls_certificate_set_x509_trust_mem)
NO_TLS(gnutls_cipher_get)
NO_TLS(gnutls_credentials_set)
NO_TLS(gnutls_deinit)
NO_TLS(gnutls_dh_params_deinit)
NO_TLS(gnutls_dh_params_import_pkcs3)
NO_TLS(gnutls_dh_params_init)
NO_TLS(gnutls_handshake)
NO_TLS(gnutls_init)
NO_TLS(gnutls_priority_deinit)
NO_TLS(gnutls_priority_init)
NO_TLS(gnutls_priority_set)
NO_TLS(gnutls_protocol_get_version)
NO_TLS(gnutls_psk_allocate_server_credentials)
NO_TLS(gnutls_psk_free_server_credentials)
NO_TLS(gnutls_psk_set_server_credentials_function)
NO_TLS(gnutls_record_check_pending)
NO_TLS(gnutls_record_get_direction)
NO_TLS(gnutls_record_recv)
NO_TLS(gnutls_record_send)
NO_TLS(gnutls_session_get_ptr)
NO_TLS(gnutls_session_set_ptr)
NO_TLS(gnutls_strerror)
NO_TLS(gnutls_transport_set_int2)
