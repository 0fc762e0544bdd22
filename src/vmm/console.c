/* console.c — where the guest's COM1 goes: the VMM's stdin/stdout (raw
 * mode on a terminal), a pseudo-terminal whose name is printed on stderr,
 * a unix socket that one client at a time can attach to, or nowhere.
 *
 * Output never blocks a vCPU: pty and socket fds are non-blocking and
 * bytes nobody can take are dropped, as on a serial line with nothing
 * plugged in, except that the unix console keeps the last 64 KiB printed
 * while no client was attached and replays them to the next one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/vm.h"

struct vmm_console_state {
        int in_fd;     /* where guest input comes from, -1 for none */
        int pty_slave; /* kept open so the master never reports a hang-up */
        int listen_fd; /* unix:PATH */
        char *path;    /* unix:PATH, unlinked at exit */
        struct termios saved;
        bool saved_tio;
};

static struct vmm_console_state con = {.in_fd = -1, .pty_slave = -1, .listen_fd = -1};

static void set_output(struct vmm_vm *vm, int fd)
{
        pthread_mutex_lock(&vm->serial.lock);
        vm->serial.out_fd = fd;
        pthread_mutex_unlock(&vm->serial.lock);
}

static void on_input(void *opaque)
{
        struct vmm_vm *vm = opaque;
        uint8_t buf[VMM_SERIAL_FIFO];
        ssize_t n = read(con.in_fd, buf, sizeof(buf));
        if (n < 0 && errno == EAGAIN)
                return;
        if (n <= 0) {
                /* EOF or error: stop listening; the guest keeps running.  A
                 * socket client that left frees the console for the next. */
                vmm_vm_unwatch_fd(vm, con.in_fd);
                if (con.listen_fd >= 0) {
                        set_output(vm, -1);
                        close(con.in_fd);
                }
                con.in_fd = -1;
                return;
        }
        /* Bytes beyond a full FIFO are dropped, as a real UART would. */
        (void) vmm_serial_input(&vm->serial, buf, (unsigned) n);
}

static void on_accept(void *opaque)
{
        struct vmm_vm *vm = opaque;
        int fd = accept4(con.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
                return;
        if (con.in_fd >= 0) {
                close(fd); /* one client at a time */
                return;
        }
        if (vmm_vm_watch_fd(vm, fd, on_input, vm, NULL) < 0) {
                close(fd);
                return;
        }
        con.in_fd = fd;
        /* What the guest printed while nobody listened comes first. */
        pthread_mutex_lock(&vm->serial.lock);
        (void) berth_write_all(fd, vm->serial.backlog, vm->serial.backlog_len);
        vm->serial.backlog_len = 0;
        vm->serial.out_fd = fd;
        pthread_mutex_unlock(&vm->serial.lock);
}

static void raw_mode(int fd, bool keep_output_processing)
{
        struct termios t;
        if (!isatty(fd) || tcgetattr(fd, &t) < 0)
                return;
        if (fd == STDIN_FILENO) {
                con.saved = t;
                con.saved_tio = true;
        }
        /* Raw input so that Ctrl-C and friends reach the guest. */
        t.c_iflag &= ~(tcflag_t) (IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
        t.c_lflag &= ~(tcflag_t) (ECHO | ECHONL | ICANON | ISIG | IEXTEN);
        if (!keep_output_processing)
                t.c_oflag &= ~(tcflag_t) OPOST;
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        (void) tcsetattr(fd, TCSANOW, &t);
}

static int open_pty(struct vmm_vm *vm, berth_error_t *err)
{
        int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
        if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
                return berth_fail(err, errno, "open a pseudo-terminal");
        const char *name = ptsname(m);
        con.pty_slave = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
        if (con.pty_slave < 0)
                return berth_fail(err, errno, "open the pseudo-terminal's slave");
        raw_mode(con.pty_slave, false);
        if (vmm_vm_watch_fd(vm, m, on_input, vm, err) < 0)
                return -1;
        con.in_fd = m;
        set_output(vm, m);
        /* The one line a user needs to attach (screen, minicom, socat). */
        fprintf(stderr, "berth-vmm: console on %s\n", name);
        return 0;
}

static int open_unix(struct vmm_vm *vm, const char *path, berth_error_t *err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct stat st;
        if (strlen(path) >= sizeof(sa.sun_path))
                return berth_fail_status(err, VMM_EXIT_USAGE, ENAMETOOLONG, "console socket `%s`",
                                         path);
        if (lstat(path, &st) == 0)
                return berth_fail_status(err, VMM_EXIT_USAGE, EEXIST, "console socket `%s`", path);
        strcpy(sa.sun_path, path);
        con.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (con.listen_fd < 0 || bind(con.listen_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return berth_fail(err, errno, "bind console socket `%s`", path);
        con.path = berth_xstrdup(path);
        vm->serial.backlog_cap = 64 * 1024;
        vm->serial.backlog = berth_xmalloc(vm->serial.backlog_cap);
        if (listen(con.listen_fd, 1) < 0)
                return berth_fail(err, errno, "listen on `%s`", path);
        return vmm_vm_watch_fd(vm, con.listen_fd, on_accept, vm, err);
}

int vmm_console_init(struct vmm_vm *vm, berth_error_t *err)
{
        switch (vm->cfg->console) {
        case VMM_CONSOLE_STDIO:
                set_output(vm, STDOUT_FILENO);
                if (vmm_vm_watch_fd(vm, STDIN_FILENO, on_input, vm, NULL) < 0) {
                        log_debug("stdin cannot be watched; console input disabled");
                        return 0;
                }
                con.in_fd = STDIN_FILENO;
                /* Output post-processing kept so "\n" still returns the carriage. */
                raw_mode(STDIN_FILENO, true);
                return 0;
        case VMM_CONSOLE_PTY:
                return open_pty(vm, err);
        case VMM_CONSOLE_UNIX:
                return open_unix(vm, vm->cfg->console_path, err);
        case VMM_CONSOLE_NONE:
                break;
        }
        return 0;
}

void vmm_console_fini(struct vmm_vm *vm)
{
        free(vm->serial.backlog);
        vm->serial.backlog = NULL;
        if (con.saved_tio)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &con.saved);
        if (con.in_fd > STDIN_FILENO)
                close(con.in_fd);
        if (con.pty_slave >= 0)
                close(con.pty_slave);
        if (con.listen_fd >= 0)
                close(con.listen_fd);
        if (con.path)
                unlink(con.path);
        free(con.path);
        con = (struct vmm_console_state){.in_fd = -1, .pty_slave = -1, .listen_fd = -1};
}
