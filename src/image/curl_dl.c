/* curl_dl.c — libcurl, loaded on first use (curl_dl.h, common/dl.h say why): trampolines for
 * the curl_* functions berth calls, defined with curl.h's own prototypes.  A curl function
 * newly called in berth fails to link until it is added to CURL_FNS. */
#include <curl/curl.h>
#include <stdarg.h>

#include "common/dl.h"
#include "image/curl_dl.h"

/* The ABI's soname: libcurl has kept it since 7.16 (2006). */
#define CURL_SONAME "libcurl.so.4"

/* F(return type, name, parameters, arguments); V(name, parameters, arguments) returns void */
#define CURL_FNS(F, V)                                                                            \
        F(CURL *, curl_easy_init, (void), ())                                                     \
        V(curl_easy_cleanup, (CURL * c), (c))                                                     \
        V(curl_easy_reset, (CURL * c), (c))                                                       \
        F(CURLcode, curl_easy_perform, (CURL * c), (c))                                           \
        F(const char *, curl_easy_strerror, (CURLcode rc), (rc))                                  \
        F(char *, curl_easy_escape, (CURL * c, const char *s, int len), (c, s, len))              \
        V(curl_free, (void *p), (p))                                                              \
        F(struct curl_slist *, curl_slist_append, (struct curl_slist * l, const char *s), (l, s)) \
        V(curl_slist_free_all, (struct curl_slist * l), (l))

enum { CURL_FNS(BERTH_DL_ENUM_F, BERTH_DL_ENUM_V) I_curl_easy_setopt, I_curl_easy_getinfo, N_FNS };

static const char *const names[] = {CURL_FNS(BERTH_DL_NAME_F, BERTH_DL_NAME_V) "curl_easy_setopt",
                                    "curl_easy_getinfo"};
static void *slots[N_FNS];
static struct berth_dl lib = BERTH_DL_INIT(CURL_SONAME, names, slots);

int img_curl_load(berth_error_t *err)
{
        if (berth_dl_load(&lib, err) < 0)
                return berth_wrap(err, "registry access needs libcurl");
        return 0;
}

CURL_FNS(BERTH_DL_TRAMPOLINE_F, BERTH_DL_TRAMPOLINE_V)

typedef CURLcode (*setopt_fn)(CURL *, CURLoption, ...);

/* Variadic: the option's number says its argument's type (curl reads it the same way).  The
 * name is parenthesised: curl.h makes curl_easy_setopt a type-checking macro under GCC. */
CURLcode(curl_easy_setopt)(CURL *c, CURLoption opt, ...)
{
        setopt_fn fn = (setopt_fn) berth_dl_sym(&lib, I_curl_easy_setopt);
        va_list ap;
        va_start(ap, opt);
        CURLcode rc;
        /* the branches differ in va_arg's type, which clang-tidy does not compare */
        // NOLINTBEGIN(bugprone-branch-clone)
        if (opt < CURLOPTTYPE_OBJECTPOINT)
                rc = fn(c, opt, va_arg(ap, long));
        else if (opt >= CURLOPTTYPE_FUNCTIONPOINT && opt < CURLOPTTYPE_OFF_T)
                rc = fn(c, opt, va_arg(ap, void (*)(void)));
        else if (opt >= CURLOPTTYPE_OFF_T && opt < CURLOPTTYPE_BLOB)
                rc = fn(c, opt, va_arg(ap, curl_off_t));
        else /* objects, strings, lists, blobs */
                rc = fn(c, opt, va_arg(ap, void *));
        // NOLINTEND(bugprone-branch-clone)
        va_end(ap);
        return rc;
}

/* Variadic: every CURLINFO_* takes one pointer. */
CURLcode(curl_easy_getinfo)(CURL *c, CURLINFO info, ...)
{
        CURLcode (*fn)(CURL *, CURLINFO, ...) =
                (CURLcode(*)(CURL *, CURLINFO, ...)) berth_dl_sym(&lib, I_curl_easy_getinfo);
        va_list ap;
        va_start(ap, info);
        void *p = va_arg(ap, void *);
        va_end(ap);
        return fn(c, info, p);
}
