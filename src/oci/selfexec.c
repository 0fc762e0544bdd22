/* selfexec.c — run from a sealed memfd copy of our own binary (CVE-2019-5736).
 *
 * A process in the container can open /proc/<pid>/exe of a runtime process
 * that has entered its namespaces and, once the runtime exits, write through
 * it to the host's binary.  Executing from a sealed anonymous copy makes that
 * file unwritable and unrelated to the host's.  The check is cheap
 * (F_GET_SEALS on /proc/self/exe); the copy happens once per invocation of
 * create, run and exec, the commands that enter a container.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "oci/oci.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

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
        for (off_t done = 0; done < st.st_size;) {
                ssize_t n = sendfile(mfd, self, NULL, (size_t) (st.st_size - done));
                if (n <= 0)
                        return berth_fail(err, n < 0 ? errno : EIO, "copy our binary to a memfd");
                done += n;
        }
        if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
                return berth_fail(err, errno, "seal the memfd");
        fexecve(mfd, argv, environ);
        return berth_fail(err, errno, "re-execute from the sealed memfd");
}
