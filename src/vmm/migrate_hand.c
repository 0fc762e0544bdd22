/* migrate_hand.c — the socket a live migration goes over, handed in by the
 * VMM's caller.  Beside the API socket, `<api-sock>.fd` takes one descriptor
 * per connection (SCM_RIGHTS, with one byte of data), answered by a byte
 * ('1' taken); PUT /migrate {"destination": "fd"} then sends over it.  A jailed VMM thus migrates
 * without being able to open a network socket itself: berth connects to the
 * destination and hands the connection in.  Only the socket file's owner
 * (root, for berth's VMMs) can connect.  The descriptor must be a stream
 * socket; a later one replaces it. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/log.h"
#include "common/util.h"
#include "vmm/migrate.h"

#define HAND_WAIT_MS 500 /* for the byte and descriptor after the connect */

struct vmm_hand {
        int listen_fd, fd;
        char *path;
};

/* One connection: its descriptor, checked, becomes the handed socket. */
static int take_one(struct vmm_hand *h, int conn)
{
        struct pollfd p = {.fd = conn, .events = POLLIN};
        if (poll(&p, 1, HAND_WAIT_MS) <= 0)
                return -1;
        berth_error_t err = NULL;
        int fd = berth_recv_fd(conn, &err);
        if (fd < 0) {
                berth_error_release(&err);
                return -1;
        }
        struct stat st;
        int type = 0;
        socklen_t tl = sizeof(type);
        if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) ||
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM) {
                close(fd);
                return -1;
        }
        /* as vmm_mig_connect makes its own: non-blocking, no Nagle on tcp */
        (void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        int one = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (h->fd >= 0)
                close(h->fd);
        h->fd = fd;
        return 0;
}

static void on_hand(void *opaque)
{
        struct vmm_hand *h = opaque;
        int conn = accept4(h->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
                return;
        /* the answer, a byte ('1' taken, '0' not), orders the hand before the caller's
         * PUT /migrate, which comes on another socket */
        bool ok = take_one(h, conn) == 0;
        if (!ok)
                log_warn("migration: `%s`: no stream socket handed over", h->path);
        else
                log_info("migration: a socket was handed over on `%s`", h->path);
        (void) !write(conn, ok ? "1" : "0", 1);
        close(conn);
}

int vmm_migrate_hand_start(struct vmm_vm *vm, const char *api_path, berth_error_t *err)
{
        struct vmm_hand *h = berth_xcalloc(1, sizeof(*h));
        h->listen_fd = h->fd = -1;
        h->path = berth_xasprintf("%s.fd", api_path);
        vm->hand = h;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(h->path) >= sizeof(sa.sun_path))
                return berth_fail(err, ENAMETOOLONG, "migration socket `%s`", h->path);
        strcpy(sa.sun_path, h->path);
        (void) unlink(h->path); /* the API socket's own check ran first */
        h->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (h->listen_fd < 0 || bind(h->listen_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            listen(h->listen_fd, 2) < 0)
                return berth_fail(err, errno, "migration socket `%s`", h->path);
        return vmm_vm_watch_fd(vm, h->listen_fd, on_hand, h, err);
}

int vmm_migrate_hand_take(struct vmm_vm *vm)
{
        if (!vm->hand)
                return -1;
        int fd = vm->hand->fd;
        vm->hand->fd = -1;
        return fd;
}

const char *vmm_migrate_hand_path(const struct vmm_vm *vm)
{
        return vm->hand ? vm->hand->path : "(no API socket)";
}

void vmm_migrate_hand_stop(struct vmm_vm *vm)
{
        struct vmm_hand *h = vm->hand;
        if (!h)
                return;
        if (h->listen_fd >= 0) {
                vmm_vm_unwatch_fd(vm, h->listen_fd);
                close(h->listen_fd);
                unlink(h->path);
        }
        if (h->fd >= 0)
                close(h->fd);
        free(h->path);
        free(h);
        vm->hand = NULL;
}
