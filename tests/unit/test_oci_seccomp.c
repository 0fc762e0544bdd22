/* test_oci_seccomp.c — linux.seccomp as berth-oci loads it: runc's -ENOSYS stub (a syscall
 * newer than any the profile names fails with ENOSYS, an older unnamed one gets the default
 * action; no stub without architectures or with an allowing default), the refusals of NOTIFY
 * for write and as the default action, and the notify fd handed to an agent on a unix socket
 * with runc's containerProcessState.  Filters are loaded in forked children (with
 * no_new_privs), so no root is needed. */
#include <errno.h>
#include <jansson.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "oci/internal.h"
#include "tap.h"

/* The default spec with linux.seccomp = sc (stolen); NULL and *msg when refused. */
static struct oci_spec *with_seccomp(json_t *sc, char **msg)
{
        char *text = oci_spec_default_json(false, 0, 0);
        json_t *j = json_loads(text, 0, NULL);
        free(text);
        json_object_set_new(json_object_get(j, "linux"), "seccomp", sc);
        text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        struct oci_spec *s = NULL;
        berth_error_t err = NULL;
        *msg = NULL;
        if (oci_spec_parse(text, strlen(text), &s, &err) < 0) {
                *msg = berth_xstrdup(berth_error_msg(err));
                berth_error_release(&err);
        }
        free(text);
        return s;
}

/* Every syscall name of the native architecture numbered below `below`, but `skip`. */
static json_t *names_below(int below, int skip)
{
        json_t *a = json_array();
        for (int nr = 0; nr < below; nr++) {
                char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
                if (n && nr != skip)
                        json_array_append_new(a, json_string(n));
                free(n);
        }
        return a;
}

/* In a child under sc's filter: the errno of syscall nr (0: it worked), per nr. */
static void errnos_under(const struct oci_seccomp *sc, const long *nrs, int n, int *out)
{
        int p[2];
        for (int i = 0; i < n; i++)
                out[i] = -1;
        if (pipe(p) < 0)
                return;
        pid_t pid = fork();
        if (pid == 0) {
                int res[8] = {0}, fd;
                berth_error_t err = NULL;
                close(p[0]);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                    oci_seccomp_load(sc, &fd, &err) < 0)
                        _exit(1);
                for (int i = 0; i < n && i < 8; i++)
                        res[i] = syscall(nrs[i], 0, 0, 0, 0, 0) < 0 ? errno : 0;
                _exit(write(p[1], res, sizeof(res)) == (ssize_t) sizeof(res) ? 0 : 1);
        }
        close(p[1]);
        int res[8];
        if (read(p[0], res, sizeof(res)) == (ssize_t) sizeof(res))
                for (int i = 0; i < n && i < 8; i++)
                        out[i] = res[i];
        close(p[0]);
        waitpid(pid, NULL, 0);
}

static void enosys_stub(void)
{
#if defined(__x86_64__)
        /* clone3 is 435: allow everything below 434 but getcpu (309) */
        const long nrs[] = {435, 309, 1000, SYS_getpid};
        int e[4];
        char *msg;
        json_t *sc = json_pack("{s:s, s:[s], s:[{s:o, s:s}]}", "defaultAction", "SCMP_ACT_ERRNO",
                               "architectures", "SCMP_ARCH_X86_64", "syscalls", "names",
                               names_below(434, 309), "action", "SCMP_ACT_ALLOW");
        struct oci_spec *s = with_seccomp(sc, &msg);
        ok(s != NULL, "a profile of every syscall below 434 but getcpu parses");
        if (s == NULL) {
                printf("# %s\n", msg);
                free(msg);
                return;
        }
        errnos_under(s->seccomp, nrs, 4, e);
        printf("# errnos: clone3 %d, getcpu %d, 1000 %d, getpid %d\n", e[0], e[1], e[2], e[3]);
        ok(e[0] == ENOSYS, "clone3, newer than the profile's syscalls: ENOSYS");
        ok(e[1] == EPERM, "getcpu, older but not allowed: the default's EPERM");
        ok(e[2] == ENOSYS, "syscall 1000: ENOSYS");
        ok(e[3] == 0, "getpid, allowed, works");
        /* the stub goes in the exec cache too */
        char dir[] = "/tmp/berth-seccomp-XXXXXX";
        struct sock_fprog prog = {0};
        berth_error_t err = NULL;
        ok(mkdtemp(dir) && oci_seccomp_bpf(s->seccomp, dir, &prog, &err) == 0 && prog.len > 0,
           "the filter compiles into the exec cache");
        cleanup_free char *cache = berth_xasprintf("%s/seccomp.bpf", dir);
        unlink(cache);
        rmdir(dir);
        free(prog.filter);
        berth_error_release(&err);
        oci_spec_free(s);

        /* without architectures: no stub (runc's rule), the default for everything unnamed */
        sc = json_pack("{s:s, s:[{s:o, s:s}]}", "defaultAction", "SCMP_ACT_ERRNO", "syscalls",
                       "names", names_below(434, 309), "action", "SCMP_ACT_ALLOW");
        s = with_seccomp(sc, &msg);
        errnos_under(s->seccomp, nrs, 4, e);
        ok(e[0] == EPERM && e[2] == EPERM, "no architectures: EPERM for clone3 and 1000");
        oci_spec_free(s);

        /* an allowing default: the kernel's own ENOSYS, the rules as they are */
        sc = json_pack("{s:s, s:[s], s:[{s:[s], s:s, s:i}]}", "defaultAction", "SCMP_ACT_ALLOW",
                       "architectures", "SCMP_ARCH_X86_64", "syscalls", "names", "getcpu", "action",
                       "SCMP_ACT_ERRNO", "errnoRet", 13);
        s = with_seccomp(sc, &msg);
        errnos_under(s->seccomp, nrs, 4, e);
        ok(e[1] == EACCES && e[2] == ENOSYS, "allow by default: getcpu EACCES, 1000 ENOSYS");
        oci_spec_free(s);
#else
        tap_skip("-ENOSYS stub", "syscall numbers of x86_64");
#endif
}

static void notify_refusals(void)
{
        char *msg;
        json_t *sc = json_pack("{s:s, s:s, s:[{s:[s, s], s:s}]}", "defaultAction", "SCMP_ACT_ALLOW",
                               "listenerPath", "/run/agent.sock", "syscalls", "names", "mkdir",
                               "write", "action", "SCMP_ACT_NOTIFY");
        struct oci_spec *s = with_seccomp(sc, &msg);
        ok(s == NULL && msg && strstr(msg, "SCMP_ACT_NOTIFY cannot be used for the write syscall"),
           "NOTIFY for write is refused, in runc's words");
        free(msg);
        oci_spec_free(s);
        sc = json_pack("{s:s, s:s}", "defaultAction", "SCMP_ACT_NOTIFY", "listenerPath",
                       "/run/agent.sock");
        s = with_seccomp(sc, &msg);
        ok(s == NULL && msg && strstr(msg, "SCMP_ACT_NOTIFY cannot be used as default action"),
           "NOTIFY as the default action is refused");
        free(msg);
        oci_spec_free(s);
}

static void notify_listener(void)
{
        char dir[] = "/tmp/berth-agent-XXXXXX";
        if (mkdtemp(dir) == NULL) {
                tap_skip("notify listener", "mkdtemp");
                return;
        }
        char *path = berth_xasprintf("%s/agent.sock", dir), *msg;
        json_t *sc = json_pack("{s:s, s:s, s:s, s:[{s:[s], s:s}]}", "defaultAction",
                               "SCMP_ACT_ALLOW", "listenerPath", path, "listenerMetadata", "m=1",
                               "syscalls", "names", "mkdir", "action", "SCMP_ACT_NOTIFY");
        struct oci_spec *s = with_seccomp(sc, &msg);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ok(s != NULL && srv >= 0 && bind(srv, (struct sockaddr *) &sa, sizeof(sa)) == 0 &&
                   listen(srv, 1) == 0,
           "a NOTIFY profile parses; the agent listens");
        int p[2];
        if (s == NULL || pipe(p) < 0)
                return;
        pid_t pid = fork();
        if (pid == 0) {
                int fd = -1;
                berth_error_t err = NULL;
                close(p[0]);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                    oci_seccomp_load(s->seccomp, &fd, &err) < 0)
                        _exit(1);
                if (write(p[1], &fd, sizeof(fd)) != (ssize_t) sizeof(fd))
                        _exit(1);
                pause();
                _exit(0);
        }
        close(p[1]);
        int nfd = -1;
        ok(read(p[0], &nfd, sizeof(nfd)) == (ssize_t) sizeof(nfd) && nfd >= 0,
           "loading the filter gives a listener fd");
        close(p[0]);
        char id[] = "c1", bundle[] = "/b", rootfs[] = "/b/rootfs", created[] = "now",
             version[] = "1.0.2";
        struct oci_state st = {.id = id,
                               .pid = pid,
                               .bundle = bundle,
                               .rootfs = rootfs,
                               .created = created,
                               .oci_version = version};
        st.annotations = json_pack("{s:s, s:s}", "z", "2", "a", "1");
        berth_error_t err = NULL;
        int r = oci_seccomp_send_listener(s->seccomp, &st, OCI_CREATING, pid, nfd, &err);
        ok(r == 0, "the runtime sends the process's fd to the agent");
        if (r < 0)
                printf("# %s\n", berth_error_msg(err));
        berth_error_release(&err);
        int c = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
        char buf[4096] = "", cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {buf, sizeof(buf) - 1};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cbuf,
                            .msg_controllen = sizeof(cbuf)};
        int fd = -1;
        if (c >= 0 && recvmsg(c, &mh, MSG_CMSG_CLOEXEC) > 0) {
                struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
                if (cm && cm->cmsg_type == SCM_RIGHTS)
                        memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
        }
        char link[64] = "", target[128] = "";
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = fd >= 0 ? readlink(link, target, sizeof(target) - 1) : -1;
        ok(n > 0 && strcmp(target, "anon_inode:seccomp notify") == 0,
           "the agent gets a seccomp notify fd");
        cleanup_free char *want = berth_xasprintf(
                "{\"ociVersion\":\"%s\",\"fds\":[\"seccompFd\"],\"pid\":%d,\"metadata\":\"m=1\","
                "\"state\":{\"ociVersion\":\"%s\",\"id\":\"c1\",\"status\":\"creating\","
                "\"pid\":%d,\"bundle\":\"/b\",\"annotations\":{\"a\":\"1\",\"z\":\"2\"}}}",
                OCI_SPEC_VERSION, (int) pid, OCI_SPEC_VERSION, (int) pid);
        ok(strcmp(buf, want) == 0, "with runc's containerProcessState");
        if (strcmp(buf, want) != 0)
                printf("# got  %s\n# want %s\n", buf, want);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (fd >= 0)
                close(fd);
        if (c >= 0)
                close(c);
        close(srv);
        json_decref(st.annotations);
        unlink(path);
        rmdir(dir);
        free(path);
        oci_spec_free(s);
}

/* A thread of the caller's that has a filter of its own: TSYNC cannot bring it along. */
static void *own_filter_thread(void *arg)
{
        int *ready = arg;
        struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        struct sock_fprog prog = {.len = 1, .filter = &allow};
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
                __atomic_store_n(ready, 1, __ATOMIC_SEQ_CST);
        else
                __atomic_store_n(ready, -1, __ATOMIC_SEQ_CST);
        for (;;)
                pause();
        return NULL;
}

/* seccomp(2) with TSYNC answers a thread it could not sync with that thread's id (> 0): the
 * filter is then not loaded, and the load must fail, not pass for a success. */
static void tsync_refused(void)
{
        char *msg;
        json_t *sc = json_pack("{s:s, s:[s], s:[{s:[s], s:s}]}", "defaultAction", "SCMP_ACT_ALLOW",
                               "flags", "SECCOMP_FILTER_FLAG_TSYNC", "syscalls", "names", "getcpu",
                               "action", "SCMP_ACT_ERRNO");
        struct oci_spec *s = with_seccomp(sc, &msg);
        ok(s != NULL, "a profile with SECCOMP_FILTER_FLAG_TSYNC parses");
        free(msg);
        if (s == NULL)
                return;
        pid_t pid = fork();
        if (pid == 0) {
                static int ready;
                pthread_t t;
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                    pthread_create(&t, NULL, own_filter_thread, &ready) != 0)
                        _exit(3);
                while (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) == 0)
                        usleep(1000);
                if (ready < 0)
                        _exit(4);
                int fd = -1;
                berth_error_t err = NULL;
                int r = oci_seccomp_load(s->seccomp, &fd, &err);
                int e = err ? err->errnum : 0;
                _exit(r == 0 ? 1 : e == ESRCH ? 0 : 2);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0,
               "TSYNC that a thread refuses: the load fails with ESRCH");
        oci_spec_free(s);
}

int main(void)
{
        enosys_stub();
        tsync_refused();
        notify_refusals();
        notify_listener();
        return tap_done();
}
