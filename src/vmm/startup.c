/* startup.c — --wait-fd: the VMM reads the descriptor to its end before it
 * builds the VM, while berth vm's supervisor puts it in the VM's cgroup
 * (in parallel with the exec and the jail, not before them). */
#include <errno.h>
#include <unistd.h>

#include "vmm/vmm.h"

void vmm_wait_fd(int fd)
{
        char buf[16];
        ssize_t n;
        /* EOF, or an error: nothing more is coming either way */
        while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
                ;
        close(fd);
}
