/* selfexec.c — run from a sealed memfd copy of our own binary (CVE-2019-5736).
 *
 * A process in the container can open /proc/<pid>/exe of a runtime process
 * that has entered its namespaces and, once the runtime exits, write through
 * it to the host's binary.  Executing from a sealed anonymous copy makes that
 * file unwritable and unrelated to the host's.  The check is cheap
 * (F_GET_SEALS on /proc/self/exe); the copy happens once per invocation of
 * create, run and exec, the commands that enter a container.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "oci/oci.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* How much of the ELF file fd (size bytes) an exec reads: up to the end of the
 * last part a program header names.  What follows (section headers, symbols,
 * debug info: most of a -g build) is not copied.  The whole file when the
 * headers do not read as expected. */
static off_t image_size(int fd, off_t size)
{
        Elf64_Ehdr eh;
        if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t) sizeof(eh) ||
            memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
            eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64)
                return size;
        Elf64_Phdr ph[64];
        size_t len = (size_t) eh.e_phnum * sizeof(Elf64_Phdr);
        if (eh.e_phoff > (uint64_t) size || pread(fd, ph, len, (off_t) eh.e_phoff) != (ssize_t) len)
                return size;
        uint64_t end = eh.e_phoff + len;
        for (unsigned i = 0; i < eh.e_phnum; i++)
                if (ph[i].p_offset + ph[i].p_filesz > end)
                        end = ph[i].p_offset + ph[i].p_filesz;
        return end < (uint64_t) size ? (off_t) end : size;
}

int oci_ensure_sealed_self(char **argv, berth_error_t *err)
{
        cleanup_close int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (self < 0)
                return berth_fail(err, errno, "open /proc/self/exe");
        int seals = fcntl(self, F_GET_SEALS);
        if (seals >= 0 && (seals & SEALS) == SEALS)
                return 0;
        if (fstat(self, &st) < 0)
                return berth_fail(err, errno, "stat /proc/self/exe");
        cleanup_close int mfd = memfd_create("berth-oci", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return berth_fail(err, errno, "memfd_create");
        off_t size = image_size(self, st.st_size);
        for (off_t done = 0; done < size;) {
                ssize_t n = sendfile(mfd, self, NULL, (size_t) (size - done));
                if (n <= 0)
                        return berth_fail(err, n < 0 ? errno : EIO, "copy our binary to a memfd");
                done += n;
        }
        /* F_SEAL_WRITE fails with EBUSY while the kernel still holds a reference to a page
         * sendfile just filled (its splice pipe lets go a moment later): try again briefly */
        int sealed, tries = 0;
        while ((sealed = fcntl(mfd, F_ADD_SEALS, SEALS)) < 0 && errno == EBUSY && tries++ < 50)
                usleep(1000);
        if (sealed < 0)
                return berth_fail(err, errno, "seal the memfd");
        fexecve(mfd, argv, environ);
        return berth_fail(err, errno, "re-execute from the sealed memfd");
}
