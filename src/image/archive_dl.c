/* archive_dl.c — libarchive, loaded on first use (common/dl.h says why): one trampoline per
 * function berth calls, defined with archive.h's own prototypes, so that every caller (image,
 * engine's cp, the API's archive routes) is unchanged and the compiler still checks each
 * signature against the header.  A libarchive function newly called anywhere in berth fails
 * to link until it is added to ARCHIVE_FNS. */
#include <archive.h>
#include <archive_entry.h>
#include <stdarg.h>
#include <stdio.h>

#include "common/dl.h"

/* The ABI's soname (libarchive 3.x). */
#define ARCHIVE_SONAME "libarchive.so.13"

/* F(return type, name, parameters, arguments); V(name, parameters, arguments) returns void */
#define ARCHIVE_FNS(F, V)                                                                          \
        F(time_t, archive_entry_atime, (struct archive_entry * a0), (a0))                          \
        F(int, archive_entry_atime_is_set, (struct archive_entry * a0), (a0))                      \
        F(long, archive_entry_atime_nsec, (struct archive_entry * a0), (a0))                       \
        V(archive_entry_copy_stat, (struct archive_entry * a0, const struct stat *a1), (a0, a1))   \
        F(mode_t, archive_entry_filetype, (struct archive_entry * a0), (a0))                       \
        V(archive_entry_free, (struct archive_entry * a0), (a0))                                   \
        F(la_int64_t, archive_entry_gid, (struct archive_entry * a0), (a0))                        \
        F(const char *, archive_entry_hardlink, (struct archive_entry * a0), (a0))                 \
        F(mode_t, archive_entry_mode, (struct archive_entry * a0), (a0))                           \
        F(time_t, archive_entry_mtime, (struct archive_entry * a0), (a0))                          \
        F(long, archive_entry_mtime_nsec, (struct archive_entry * a0), (a0))                       \
        F(struct archive_entry *, archive_entry_new, (void), ())                                   \
        F(const char *, archive_entry_pathname, (struct archive_entry * a0), (a0))                 \
        F(mode_t, archive_entry_perm, (struct archive_entry * a0), (a0))                           \
        F(dev_t, archive_entry_rdev, (struct archive_entry * a0), (a0))                            \
        F(dev_t, archive_entry_rdevmajor, (struct archive_entry * a0), (a0))                       \
        F(dev_t, archive_entry_rdevminor, (struct archive_entry * a0), (a0))                       \
        V(archive_entry_set_filetype, (struct archive_entry * a0, unsigned int a1), (a0, a1))      \
        V(archive_entry_set_gname, (struct archive_entry * a0, const char *a1), (a0, a1))          \
        V(archive_entry_set_hardlink, (struct archive_entry * a0, const char *a1), (a0, a1))       \
        V(archive_entry_set_mtime, (struct archive_entry * a0, time_t a1, long a2), (a0, a1, a2))  \
        V(archive_entry_set_pathname, (struct archive_entry * a0, const char *a1), (a0, a1))       \
        V(archive_entry_set_perm, (struct archive_entry * a0, mode_t a1), (a0, a1))                \
        V(archive_entry_set_size, (struct archive_entry * a0, la_int64_t a1), (a0, a1))            \
        V(archive_entry_set_symlink, (struct archive_entry * a0, const char *a1), (a0, a1))        \
        V(archive_entry_set_uname, (struct archive_entry * a0, const char *a1), (a0, a1))          \
        F(la_int64_t, archive_entry_size, (struct archive_entry * a0), (a0))                       \
        F(int, archive_entry_size_is_set, (struct archive_entry * a0), (a0))                       \
        F(const char *, archive_entry_symlink, (struct archive_entry * a0), (a0))                  \
        F(la_int64_t, archive_entry_uid, (struct archive_entry * a0), (a0))                        \
        V(archive_entry_unset_atime, (struct archive_entry * a0), (a0))                            \
        V(archive_entry_unset_birthtime, (struct archive_entry * a0), (a0))                        \
        V(archive_entry_unset_ctime, (struct archive_entry * a0), (a0))                            \
        V(archive_entry_xattr_add_entry,                                                           \
          (struct archive_entry * a0, const char *a1, const void *a2, size_t a3),                  \
          (a0, a1, a2, a3))                                                                        \
        F(int, archive_entry_xattr_next,                                                           \
          (struct archive_entry * a0, const char **a1, const void **a2, size_t *a3),               \
          (a0, a1, a2, a3))                                                                        \
        F(int, archive_entry_xattr_reset, (struct archive_entry * a0), (a0))                       \
        F(int, archive_errno, (struct archive * a0), (a0))                                         \
        F(const char *, archive_error_string, (struct archive * a0), (a0))                         \
        F(la_ssize_t, archive_read_data, (struct archive * a0, void *a1, size_t a2), (a0, a1, a2)) \
        F(int, archive_read_data_block,                                                            \
          (struct archive * a0, const void **a1, size_t *a2, la_int64_t *a3), (a0, a1, a2, a3))    \
        F(int, archive_read_free, (struct archive * a0), (a0))                                     \
        F(struct archive *, archive_read_new, (void), ())                                          \
        F(int, archive_read_next_header, (struct archive * a0, struct archive_entry * *a1),        \
          (a0, a1))                                                                                \
        F(int, archive_read_open,                                                                  \
          (struct archive * a0, void *a1, archive_open_callback *a2, archive_read_callback *a3,    \
           archive_close_callback *a4),                                                            \
          (a0, a1, a2, a3, a4))                                                                    \
        F(int, archive_read_open_fd, (struct archive * a0, int a1, size_t a2), (a0, a1, a2))       \
        F(int, archive_read_open_filename, (struct archive * a0, const char *a1, size_t a2),       \
          (a0, a1, a2))                                                                            \
        F(int, archive_read_support_filter_all, (struct archive * a0), (a0))                       \
        F(int, archive_read_support_format_all, (struct archive * a0), (a0))                       \
        F(int, archive_read_support_format_raw, (struct archive * a0), (a0))                       \
        F(int, archive_read_support_format_tar, (struct archive * a0), (a0))                       \
        F(int, archive_write_close, (struct archive * a0), (a0))                                   \
        F(la_ssize_t, archive_write_data, (struct archive * a0, const void *a1, size_t a2),        \
          (a0, a1, a2))                                                                            \
        F(int, archive_write_free, (struct archive * a0), (a0))                                    \
        F(int, archive_write_header, (struct archive * a0, struct archive_entry * a1), (a0, a1))   \
        F(struct archive *, archive_write_new, (void), ())                                         \
        F(int, archive_write_open,                                                                 \
          (struct archive * a0, void *a1, archive_open_callback *a2, archive_write_callback *a3,   \
           archive_close_callback *a4),                                                            \
          (a0, a1, a2, a3, a4))                                                                    \
        F(int, archive_write_open_fd, (struct archive * a0, int a1), (a0, a1))                     \
        F(int, archive_write_open_filename, (struct archive * a0, const char *a1), (a0, a1))       \
        F(int, archive_write_set_bytes_in_last_block, (struct archive * a0, int a1), (a0, a1))     \
        F(int, archive_write_set_format_pax_restricted, (struct archive * a0), (a0))

enum { ARCHIVE_FNS(BERTH_DL_ENUM_F, BERTH_DL_ENUM_V) I_archive_set_error, N_FNS };

static const char *const names[] = {
        ARCHIVE_FNS(BERTH_DL_NAME_F, BERTH_DL_NAME_V) "archive_set_error"};
static void *slots[N_FNS];
static struct berth_dl lib = BERTH_DL_INIT(ARCHIVE_SONAME, names, slots);

ARCHIVE_FNS(BERTH_DL_TRAMPOLINE_F, BERTH_DL_TRAMPOLINE_V)

/* Variadic: formatted here, passed on as a plain string. */
void archive_set_error(struct archive *a, int err, const char *fmt, ...)
{
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        ((void (*)(struct archive *, int, const char *, ...)) berth_dl_sym(
                &lib, I_archive_set_error))(a, err, "%s", msg);
}
