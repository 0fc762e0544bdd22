/* console.c — `berth vm console`: the terminal on a VM's serial console
 * through its supervisor's console.sock.  The recent output is replayed
 * first; Ctrl+] detaches (virsh's key), as does the VM stopping.  Without
 * a terminal, stdin is forwarded until its end and output is copied on. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/util.h"
#include "vm/vm_internal.h"

#define DETACH_KEY 0x1d /* Ctrl+] */

int vm_console(struct vm_ctx *c, const char *name, berth_error_t *err)
{
        struct vm_rec r;
        if (vm_rec_open(c, name, &r, err) < 0)
                return -1;
        enum vm_status st = vm_rec_reconcile(&r);
        cleanup_free char *path = vm_rec_run_path(&r, "console.sock");
        vm_rec_close(&r);
        if (st != VM_RUNNING && st != VM_PAUSED)
                return berth_fail(err, 0, "VM `%s` is not running (%s)", name, vm_status_name(st));
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return berth_fail(err, ENAMETOOLONG, "console socket `%s`", path);
        strcpy(sa.sun_path, path);
        cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return berth_fail(err, errno, "attach to the console of VM `%s`", name);
        bool tty = isatty(STDIN_FILENO);
        struct termios saved, raw;
        if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
                raw = saved;
                cfmakeraw(&raw);
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &raw);
                fprintf(stderr, "Connected to VM %s (detach: Ctrl+])\r\n", name);
        } else {
                tty = false;
        }
        bool in_open = true;
        int ret = 0;
        for (;;) {
                struct pollfd p[2] = {{fd, POLLIN, 0}, {in_open ? STDIN_FILENO : -1, POLLIN, 0}};
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        ret = berth_fail(err, errno, "poll");
                        break;
                }
                if (p[0].revents) {
                        char buf[4096];
                        ssize_t n = read(fd, buf, sizeof(buf));
                        if (n <= 0)
                                break; /* the VM stopped */
                        if (berth_write_all(STDOUT_FILENO, buf, (size_t) n) < 0)
                                break;
                }
                if (p[1].revents) {
                        char buf[256];
                        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
                        if (n <= 0) {
                                in_open = false;
                                continue;
                        }
                        char *k = tty ? memchr(buf, DETACH_KEY, (size_t) n) : NULL;
                        if (k)
                                n = k - buf;
                        if (n > 0 && berth_write_all(fd, buf, (size_t) n) < 0)
                                break;
                        if (k)
                                break;
                }
        }
        if (tty) {
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
                fprintf(stderr, "\nDetached from VM %s\n", name);
        }
        return ret;
}
