/* qcow2.c — placeholder until the qcow2 driver lands (next commit). */
#include <errno.h>
#include <unistd.h>

#include "disk/disk_internal.h"

int qcow2_open(struct disk *d, int fd, unsigned flags, struct disk_chain *chain,
               berth_error_t *err)
{
        close(fd);
        return berth_fail(err, ENOTSUP, "qcow2 is not supported yet");
}

int qcow2_create(const char *path, const struct disk_create_opts *o, berth_error_t *err)
{
        return berth_fail(err, ENOTSUP, "create `%s`: qcow2 is not supported yet", path);
}
