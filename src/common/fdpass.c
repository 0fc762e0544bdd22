/* fdpass.c — SCM_RIGHTS (see fdpass.h). */
#include "common/fdpass.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

int berth_send_fd(int sock, int fd, const void *data, size_t len, berth_error_t *err)
{
        char cbuf[CMSG_SPACE(sizeof(int))] = {0};
        /* iovec is not const; data is only read */
        /* NOLINTNEXTLINE(performance-no-int-to-ptr): drops const past -Wcast-qual, not an int */
        struct iovec iov = {(void *) (uintptr_t) data, len};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cbuf,
                            .msg_controllen = sizeof(cbuf)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
                return berth_fail(err, errno, "send a file descriptor");
        return 0;
}

int berth_recv_fd(int sock, berth_error_t *err)
{
        char buf[4096], cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {buf, sizeof(buf)};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cbuf,
                            .msg_controllen = sizeof(cbuf)};
        if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) < 0)
                return berth_fail(err, errno, "receive a file descriptor");
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        if (c == NULL || c->cmsg_type != SCM_RIGHTS)
                return berth_fail(err, EPROTO, "no file descriptor came with the message");
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        return fd;
}
