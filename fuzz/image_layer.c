/* fuzz/image_layer.c — libFuzzer harness for layer unpacking (src/image/layer.c), the
 * code that turns a hostile tarball (any compression) into files on the host.
 *
 * Input: the layer, as a registry or `berth load` would hand it over.  Each input is
 * unpacked into <top>/layer; <top>/canary is a sibling that must stay empty — an entry
 * that escapes the layer (.., absolute, through a symlink or hard link) lands there or
 * elsewhere outside, and the canary check or ASan catches it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char top[] = "/tmp/berth-fuzz-layer-XXXXXX";
static int layer_fd = -1, canary_fd = -1;

static void setup(void)
{
        if (layer_fd >= 0)
                return;
        if (mkdtemp(top) == NULL)
                abort();
        char p[64];
        snprintf(p, sizeof(p), "%s/layer", top);
        mkdir(p, 0755);
        layer_fd = open(p, O_RDONLY | O_DIRECTORY);
        snprintf(p, sizeof(p), "%s/canary", top);
        mkdir(p, 0755);
        canary_fd = open(p, O_RDONLY | O_DIRECTORY);
        if (layer_fd < 0 || canary_fd < 0)
                abort();
}

static int count(int dfd)
{
        int d = dup(dfd);
        DIR *dir = fdopendir(d);
        int n = 0;
        struct dirent *de;
        while (dir && (de = readdir(dir)) != NULL)
                if (de->d_name[0] != '.' || de->d_name[1] > '.')
                        n++;
        if (dir)
                closedir(dir);
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        setup();
        int fd = memfd_create("layer", MFD_CLOEXEC);
        if (fd < 0 || write(fd, data, size) != (ssize_t) size)
                abort();
        lseek(fd, 0, SEEK_SET);
        berth_error_t err = NULL;
        (void) img_layer_unpack(fd, layer_fd, NULL, NULL, &err);
        berth_error_release(&err);
        if (count(canary_fd) != 0)
                abort(); /* an entry escaped the layer */
        if (img_empty_dir(layer_fd, &err) < 0)
                abort();
        lseek(fd, 0, SEEK_SET);
        char diffid[IMG_DIGEST_MAX];
        (void) img_layer_diffid(fd, diffid, NULL, &err);
        berth_error_release(&err);
        close(fd);
        return 0;
}
