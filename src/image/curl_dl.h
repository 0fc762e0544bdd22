/* curl_dl.h — libcurl, loaded when the registry client first needs it (inside src/image only).
 *
 * Linked, libcurl made every `berth` command load and relocate it and the ~25 libraries behind
 * it (TLS, Kerberos, LDAP, SSH, RTMP, IDN, PSL...) before main(), for a library only pull, push
 * and login use.  curl_dl.c defines the curl_* functions berth calls as trampolines into the
 * library, loaded by img_curl_load: call it before any of them (reg_open does), so that a
 * missing libcurl is an error of that command rather than the end of the process. */
#ifndef BERTH_IMAGE_CURL_DL_H
#define BERTH_IMAGE_CURL_DL_H

#include "common/error.h"

/* Load libcurl once per process (thread-safe); later calls return the first one's result. */
int img_curl_load(berth_error_t *err);

#endif
