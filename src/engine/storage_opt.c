/* storage_opt.c — --storage-opt size=N through XFS project quotas (see storage_opt.h).
 *
 * Each container's overlay upper directory gets a project id of its own (one more than the
 * highest among the existing snapshots, chosen under a lock) with PROJINHERIT, so that all it
 * writes is charged to that project, and the project gets a hard block limit.  quotactl wants
 * a block device: like Docker, berth makes a node of the filesystem's st_dev in its data
 * directory rather than trusting the mount's source name. */
#include "engine/storage_opt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/dqblk_xfs.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/quota.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/paths.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/rootfs.h"

#ifndef XFS_SUPER_MAGIC
#define XFS_SUPER_MAGIC 0x58465342
#endif
#ifndef PRJQUOTA
#define PRJQUOTA 2
#endif

#define NO_QUOTA_MSG \
        "--storage-opt is supported only for overlay over xfs with 'pquota' mount option"

/* The super options of the mount whose device is dev (the field after "- FSTYPE SOURCE" in
 * /proc/self/mountinfo); malloc'ed, NULL when not found. */
static char *super_options(dev_t dev)
{
        cleanup_file FILE *f = fopen("/proc/self/mountinfo", "re");
        cleanup_free char *line = NULL;
        size_t cap = 0;
        char want[32];
        snprintf(want, sizeof(want), "%u:%u", major(dev), minor(dev));
        while (f && getline(&line, &cap, f) >= 0) {
                char id[16], parent[16], devno[32];
                if (sscanf(line, "%15s %15s %31s", id, parent, devno) != 3 ||
                    strcmp(devno, want) != 0)
                        continue;
                char *sep = strstr(line, " - ");
                char fstype[64], source[4096], opts[4096];
                if (sep && sscanf(sep + 3, "%63s %4095s %4095s", fstype, source, opts) == 3)
                        return berth_xstrdup(opts);
        }
        return NULL;
}

bool eng_storage_has_pquota(const char *path, dev_t *dev)
{
        struct statfs sf;
        struct stat st;
        if (statfs(path, &sf) < 0 || sf.f_type != XFS_SUPER_MAGIC || stat(path, &st) < 0)
                return false;
        cleanup_free char *opts = super_options(st.st_dev);
        if (opts == NULL)
                return false;
        bool on = false;
        char *save = NULL;
        /* prjquota (alias pquota) enforces; pqnoenforce only accounts, which caps nothing */
        for (char *o = strtok_r(opts, ",", &save); o && !on; o = strtok_r(NULL, ",", &save))
                on = strcmp(o, "prjquota") == 0 || strcmp(o, "pquota") == 0;
        if (on && dev)
                *dev = st.st_dev;
        return on;
}

int eng_storage_opts_check(struct eng_ctx *e, json_t *hc, int64_t *size, berth_error_t *err)
{
        json_t *opts = json_object_get(hc, "StorageOpt");
        *size = 0;
        if (!json_is_object(opts) || json_object_size(opts) == 0)
                return 0;
        /* Docker's overlay2 asks for quota support first, then reads the options */
        if (json_object_get(opts, "size")) {
                cleanup_free char *images = berth_path_join(e->data_dir, "images");
                if (eng_storage_driver(e) != IMG_DRIVER_OVERLAY ||
                    !eng_storage_has_pquota(images, NULL))
                        return berth_fail_status(err, 125, 0, NO_QUOTA_MSG);
        }
        const char *k;
        json_t *v;
        json_object_foreach(opts, k, v)
        {
                if (strcmp(k, "size") != 0)
                        return berth_fail_status(err, 125, 0, "Unknown option %s", k);
                const char *val = json_string_value(v);
                if (val == NULL || berth_parse_bytes(val, "--storage-opt size", size, err) < 0) {
                        if (val == NULL)
                                berth_fail(err, 0, "--storage-opt size: expected a string");
                        (*err)->status = 125;
                        return -1;
                }
        }
        return 0;
}

static uint32_t projid_of(const char *dir)
{
        cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct fsxattr fsx;
        if (fd < 0 || ioctl(fd, FS_IOC_FSGETXATTR, &fsx) < 0)
                return 0;
        return fsx.fsx_projid;
}

/* One more than the highest project id among the snapshots' upper directories. */
static uint32_t next_projid(const char *snapshots)
{
        uint32_t max = 0;
        cleanup_dir DIR *d = opendir(snapshots);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                cleanup_free char *upper = berth_xasprintf("%s/%s/upper", snapshots, de->d_name);
                uint32_t p = projid_of(upper);
                if (p > max)
                        max = p;
        }
        return max + 1;
}

static int set_projid(const char *dir, uint32_t id, berth_error_t *err)
{
        cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct fsxattr fsx;
        if (fd < 0 || ioctl(fd, FS_IOC_FSGETXATTR, &fsx) < 0)
                return berth_fail(err, errno, "read the project of %s", dir);
        fsx.fsx_projid = id;
        fsx.fsx_xflags |= FS_XFLAG_PROJINHERIT;
        if (ioctl(fd, FS_IOC_FSSETXATTR, &fsx) < 0)
                return berth_fail(err, errno, "set project %u on %s", id, dir);
        return 0;
}

int eng_storage_quota_apply(struct eng_ctx *e, const char *id, int64_t size, berth_error_t *err)
{
        cleanup_free char *images = berth_path_join(e->data_dir, "images");
        cleanup_free char *snapshots = berth_path_join(images, "snapshots");
        cleanup_free char *upper = berth_xasprintf("%s/%s/upper", snapshots, id);
        cleanup_free char *node = berth_path_join(e->data_dir, "quota-backing-dev");
        dev_t dev;
        if (!eng_storage_has_pquota(images, &dev))
                return berth_fail_status(err, 125, 0, NO_QUOTA_MSG);
        /* two creates must not take the same project id */
        cleanup_free char *lock_path = berth_path_join(e->data_dir, "quota.lock");
        cleanup_close int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lock < 0 || flock(lock, LOCK_EX) < 0)
                return berth_fail(err, errno, "lock %s", lock_path);
        unlink(node);
        if (mknod(node, S_IFBLK | 0600, dev) < 0)
                return berth_fail(err, errno, "make the quota device node %s", node);
        uint32_t projid = next_projid(snapshots);
        if (set_projid(upper, projid, err) < 0)
                return -1;
        struct fs_disk_quota q = {
                .d_version = FS_DQUOT_VERSION,
                .d_flags = FS_PROJ_QUOTA,
                .d_fieldmask = FS_DQ_BSOFT | FS_DQ_BHARD,
                .d_id = projid,
                /* in 512-byte basic blocks */
                .d_blk_hardlimit = (uint64_t) size / 512,
                .d_blk_softlimit = (uint64_t) size / 512,
        };
        if (quotactl(QCMD(Q_XSETQLIM, PRJQUOTA), node, (int) projid, (caddr_t) &q) < 0)
                return berth_fail_status(err, 125, errno, "set the quota of project %u on %s",
                                         projid, node);
        return 0;
}
