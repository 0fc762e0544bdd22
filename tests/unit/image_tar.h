/* image_tar.h — crafted layer tars (and small helpers) for the image unit tests (libarchive writer
 * into a memfd). */
#ifndef BERTH_TESTS_IMAGE_TAR_H
#define BERTH_TESTS_IMAGE_TAR_H

#include <archive.h>
#include <dirent.h>
#include <archive_entry.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct ent {
        const char *path;
        mode_t type;      /* AE_IF*; 0 = hard link */
        const char *data; /* file content, or symlink/hardlink target */
        mode_t perm;
        int64_t size; /* > strlen(data): a sparse file of this size, data at its end */
};

static inline int make_tar(const struct ent *ents, size_t n, const char *filter)
{
        int fd = memfd_create("layer", MFD_CLOEXEC);
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        if (filter && strcmp(filter, "gzip") == 0)
                archive_write_add_filter_gzip(a);
        if (filter && strcmp(filter, "zstd") == 0)
                archive_write_add_filter_zstd(a);
        archive_write_open_fd(a, fd);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, ents[i].path);
                archive_entry_set_perm(e, ents[i].perm ? ents[i].perm : 0644);
                archive_entry_set_uid(e, 1234);
                archive_entry_set_gid(e, 5678);
                archive_entry_set_mtime(e, 1000000000, 0);
                if (ents[i].type == 0) {
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_hardlink(e, ents[i].data);
                } else {
                        archive_entry_set_filetype(e, ents[i].type);
                }
                if (ents[i].type == AE_IFLNK)
                        archive_entry_set_symlink(e, ents[i].data);
                if (ents[i].type == AE_IFCHR)
                        archive_entry_set_rdev(e, makedev(1, 3));
                size_t len = ents[i].type == AE_IFREG && ents[i].data ? strlen(ents[i].data) : 0;
                archive_entry_set_size(e, (la_int64_t) len);
                if (ents[i].size > (int64_t) len) {
                        /* sparse: a hole, then the data at the end */
                        archive_entry_set_size(e, ents[i].size);
                        archive_entry_sparse_add_entry(e, ents[i].size - (int64_t) len,
                                                       (la_int64_t) len);
                }
                if (ents[i].type == AE_IFREG && strcmp(ents[i].path, "xattr") == 0)
                        archive_entry_xattr_add_entry(e, "user.berth", "v", 1);
                archive_write_header(a, e);
                /* the pax writer takes the logical content and drops the holes itself */
                static const char zeros[1 << 16];
                for (int64_t left = ents[i].size - (int64_t) len; left > 0;) {
                        size_t chunk =
                                left > (int64_t) sizeof(zeros) ? sizeof(zeros) : (size_t) left;
                        archive_write_data(a, zeros, chunk);
                        left -= (int64_t) chunk;
                }
                if (len)
                        archive_write_data(a, ents[i].data, len);
                archive_entry_free(e);
        }
        archive_write_close(a);
        archive_write_free(a);
        lseek(fd, 0, SEEK_SET);
        return fd;
}

/* Entries in a directory, dot files excluded (-1 counts as none). */
static inline int count_entries(const char *path)
{
        DIR *d = opendir(path);
        int n = 0;
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL)
                if (de->d_name[0] != '.')
                        n++;
        if (d)
                closedir(d);
        return n;
}

#endif
