/* events.c — `events`: runc's JSON event stream for one container.
 *
 * `--stats` prints one stats event and exits; otherwise a stats event every interval and an
 * oom event whenever the memory controller reports one: on cgroup v1 through an eventfd
 * registered on memory.oom_control, on v2 through inotify on memory.events (its oom_kill
 * count going up).  runc streams until it is killed, logging an error every interval once
 * the container is gone; berth-oci ends the stream (status 0) when the container stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "oci/internal.h"

int oci_duration_parse(const char *s, int64_t *ns)
{
        static const struct {
                const char *unit;
                double ns;
        } units[] = {{"ns", 1},  {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6},
                     {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
        double total = 0;
        bool neg = *s == '-';
        if (*s == '-' || *s == '+')
                s++;
        if (strcmp(s, "0") == 0) {
                *ns = 0;
                return 0;
        }
        if (*s == 0)
                return -1;
        while (*s) {
                char *end;
                if (*s != '.' && (*s < '0' || *s > '9'))
                        return -1;
                double v = strtod(s, &end);
                if (end == s)
                        return -1;
                s = end;
                size_t best = 0, k = BERTH_ARRAY_SIZE(units);
                for (size_t i = 0; i < BERTH_ARRAY_SIZE(units); i++) {
                        size_t n = strlen(units[i].unit);
                        /* the longest unit that matches: "ms" before "m" */
                        if (strncmp(s, units[i].unit, n) == 0 && n > best)
                                best = n, k = i;
                }
                if (best == 0)
                        return -1;
                total += v * units[k].ns;
                s += best;
        }
        if (total > 9.2e18)
                return -1;
        *ns = (int64_t) (neg ? -total : total);
        return 0;
}

/* OOM notification: an fd that becomes readable on an OOM, and how to tell a real one. */
struct oom_watch {
        int fd;          /* eventfd (v1) or inotify (v2), -1 = none */
        char *events;    /* v2: memory.events */
        uint64_t killed; /* v2: oom_kill seen so far */
};

static uint64_t oom_kills(const char *path)
{
        cleanup_free char *t = NULL;
        size_t len;
        berth_error_t err = NULL;
        if (berth_read_file(path, &t, &len, &err) < 0) {
                berth_error_release(&err);
                return 0;
        }
        const char *p = strstr(t, "oom_kill ");
        return p ? strtoull(p + 9, NULL, 10) : 0;
}

static void oom_watch_open(const struct oci_cgroup *cg, struct oom_watch *w)
{
        *w = (struct oom_watch){.fd = -1};
        if (strcmp(cg->ops->name, "v1") == 0) {
                cleanup_free char *dir = berth_xasprintf("%s/memory%s", cg->root, cg->path);
                cleanup_free char *ctl = berth_xasprintf("%s/memory.oom_control", dir);
                cleanup_close int ofd = open(ctl, O_RDONLY | O_CLOEXEC);
                int efd = eventfd(0, EFD_CLOEXEC);
                berth_error_t err = NULL;
                if (ofd < 0 || efd < 0 ||
                    oci_cg_writef(dir, "cgroup.event_control", &err, "%d %d", efd, ofd) < 0) {
                        log_debug("events: no oom notification: %s",
                                  err ? berth_error_msg(err) : strerror(errno));
                        berth_error_release(&err);
                        if (efd >= 0)
                                close(efd);
                        return;
                }
                w->fd = efd;
        } else if (strcmp(cg->ops->name, "v2") == 0) {
                w->events = berth_xasprintf("%s%s/memory.events", cg->root, cg->path);
                w->killed = oom_kills(w->events);
                w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
                if (w->fd >= 0 && inotify_add_watch(w->fd, w->events, IN_MODIFY) < 0) {
                        close(w->fd);
                        w->fd = -1;
                }
        }
}

/* Consume the notification; true if it was an OOM. */
static bool oom_watch_read(struct oom_watch *w)
{
        char buf[4096];
        if (read(w->fd, buf, sizeof(buf)) <= 0)
                return false;
        if (w->events == NULL)
                return true;
        uint64_t k = oom_kills(w->events);
        bool more = k > w->killed;
        w->killed = k;
        return more;
}

static int64_t now_ns(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (int64_t) t.tv_sec * 1000000000 + t.tv_nsec;
}

static bool running(struct oci_ctx *c, const char *id)
{
        struct oci_state st;
        berth_error_t err = NULL;
        if (oci_state_load(c, id, &st, &err) < 0) {
                berth_error_release(&err);
                return false;
        }
        bool r = oci_state_status(&st) != OCI_STOPPED;
        oci_state_release(&st);
        return r;
}

static int stats_event(const struct oci_cgroup *cg, const char *id, FILE *out, berth_error_t *err)
{
        fprintf(out, "{\"type\":\"stats\",\"id\":\"%s\",\"data\":", id);
        if (oci_stats_write(cg, out, err) < 0)
                return -1;
        fputs("}\n", out);
        return fflush(out) == 0 ? 0 : berth_fail(err, errno, "write the events");
}

int oci_events(struct oci_ctx *c, const char *id, bool stats_once, int64_t interval_ns, FILE *out,
               berth_error_t *err)
{
        struct oci_state st;
        struct oci_cgroup cg;
        struct oom_watch oom;
        if (interval_ns <= 0)
                return berth_fail_status(err, 1, 0, "duration interval must be greater than 0");
        if (oci_state_load(c, id, &st, err) < 0)
                return -1;
        bool stopped = oci_state_status(&st) == OCI_STOPPED;
        oci_state_cgroup(&st, &cg);
        oci_state_release(&st);
        int r = -1;
        if (stopped) {
                berth_fail_status(err, 1, 0, "container with id %s is not running", id);
                goto out;
        }
        if (stats_once) {
                r = stats_event(&cg, id, out, err);
                goto out;
        }
        oom_watch_open(&cg, &oom);
        int64_t next = now_ns() + interval_ns;
        for (;;) {
                int64_t left = next - now_ns();
                /* an interval of hours is more milliseconds than poll's int holds: wake up
                 * early, the check below waits again */
                int64_t ms = left <= 0 ? 0 : (left + 999999) / 1000000;
                struct pollfd p = {.fd = oom.fd, .events = POLLIN};
                int n = poll(&p, oom.fd >= 0 ? 1 : 0, ms > INT_MAX ? INT_MAX : (int) ms);
                if (n < 0 && errno != EINTR) {
                        berth_fail(err, errno, "wait for events");
                        break;
                }
                if (n > 0 && oom_watch_read(&oom)) {
                        fprintf(out, "{\"type\":\"oom\",\"id\":\"%s\"}\n", id);
                        fflush(out);
                }
                if (now_ns() < next)
                        continue;
                next += interval_ns;
                if (!running(c, id)) {
                        r = 0;
                        break;
                }
                if (stats_event(&cg, id, out, err) < 0)
                        break;
        }
        if (oom.fd >= 0)
                close(oom.fd);
        free(oom.events);
out:
        oci_cgroup_release(&cg);
        return r;
}
