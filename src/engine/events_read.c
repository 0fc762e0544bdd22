/* events_read.c — reading the event log back (events.h): the stored events of both
 * generations, then, when following, what is appended, woken by inotify on the run directory
 * (the file itself may be rotated away under the reader, or not exist yet). */
#include "engine/events.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/eventlog.h"
#include "common/units.h"
#include "common/util.h"

struct eng_events {
        char *dir, *path, *prev;
        int fd;            /* the file being read, or -1 while there is none */
        bool reading_prev; /* fd is the previous generation (replay) */
        dev_t dev;         /* fd's file, to notice a rotation */
        ino_t ino;
        int inotify;
        int64_t since, until;
        json_t *filters;
        bool follow;
        char *buf; /* read, not yet parsed: buf[off, len) */
        size_t off, len, cap;
};

static int open_current(struct eng_events *r, bool at_end)
{
        berth_closep(&r->fd);
        r->reading_prev = false;
        r->off = r->len = 0;
        r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0)
                return errno == ENOENT ? 0 : -1;
        struct stat st;
        if (fstat(r->fd, &st) < 0)
                return -1;
        r->dev = st.st_dev;
        r->ino = st.st_ino;
        if (at_end && lseek(r->fd, 0, SEEK_END) < 0)
                return -1;
        return 0;
}

int eng_events_open(const char *run_dir, int64_t since_ns, int64_t until_ns, json_t *filters,
                    struct eng_events **out, berth_error_t *err)
{
        struct eng_events *r = berth_xcalloc(1, sizeof(*r));
        r->dir = berth_xstrdup(run_dir);
        r->path = berth_path_join(run_dir, BERTH_EVENTS_FILE);
        r->prev = berth_path_join(run_dir, BERTH_EVENTS_PREVIOUS);
        r->fd = r->inotify = -1;
        r->since = since_ns;
        r->until = until_ns;
        r->filters = filters;
        r->follow = !(until_ns >= 0 && until_ns < berth_now_ns());
        if (r->follow) {
                /* watched before the file is opened: an append in between still wakes us */
                r->inotify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
                if (r->inotify < 0 ||
                    inotify_add_watch(r->inotify, run_dir,
                                      IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
                        int e = errno;
                        eng_events_close(r);
                        return berth_fail(err, e, "watch %s for events", run_dir);
                }
        }
        bool replay = since_ns >= 0 || until_ns >= 0;
        if (replay) {
                r->fd = open(r->prev, O_RDONLY | O_CLOEXEC);
                r->reading_prev = r->fd >= 0;
        }
        if (!r->reading_prev && open_current(r, !replay) < 0) {
                int e = errno;
                eng_events_close(r);
                return berth_fail(err, e, "open %s", run_dir);
        }
        *out = r;
        return 0;
}

void eng_events_close(struct eng_events *r)
{
        if (!r)
                return;
        berth_closep(&r->fd);
        berth_closep(&r->inotify);
        free(r->dir);
        free(r->path);
        free(r->prev);
        free(r->buf);
        free(r);
}

/* One complete line from the buffer, parsed and in the window; NULL when none is left. */
static json_t *take_line(struct eng_events *r, bool *more)
{
        *more = false;
        char *start = r->buf + r->off;
        char *nl = memchr(start, '\n', r->len - r->off);
        if (!nl)
                return NULL;
        *more = true;
        r->off = (size_t) (nl - r->buf) + 1;
        json_t *ev = json_loadb(start, (size_t) (nl - start), 0, NULL);
        if (!json_is_object(ev)) {
                json_decref(ev); /* a torn line (a writer that died mid-write): skipped */
                return NULL;
        }
        int64_t t = json_integer_value(json_object_get(ev, "timeNano"));
        if ((r->since >= 0 && t < r->since) || (r->until >= 0 && t > r->until) ||
            !eng_event_match(r->filters, ev)) {
                json_decref(ev);
                return NULL;
        }
        return ev;
}

/* Reads more of the file: >0 bytes came, 0 at its end, -1 error. */
static ssize_t fill(struct eng_events *r)
{
        if (r->fd < 0)
                return 0;
        if (r->off) {
                memmove(r->buf, r->buf + r->off, r->len - r->off);
                r->len -= r->off;
                r->off = 0;
        }
        if (r->cap - r->len < 65536) {
                r->cap = r->len + 65536 * 2;
                r->buf = berth_xrealloc(r->buf, r->cap);
        }
        ssize_t n;
        while ((n = read(r->fd, r->buf + r->len, r->cap - r->len)) < 0 && errno == EINTR)
                ;
        if (n > 0)
                r->len += (size_t) n;
        return n;
}

/* At the end of fd: move on to the current file if fd is the previous generation, or if the
 * file was rotated (or created) since it was opened.  True when there is another file. */
static bool next_file(struct eng_events *r)
{
        if (r->reading_prev) {
                open_current(r, false); /* none (yet) is fine: it is waited for */
                return true;
        }
        struct stat st;
        if (stat(r->path, &st) < 0)
                return false;
        if (r->fd >= 0 && st.st_ino == r->ino && st.st_dev == r->dev)
                return false;
        return open_current(r, false) == 0 && r->fd >= 0;
}

int eng_events_next(struct eng_events *r, int timeout_ms, json_t **ev, berth_error_t *err)
{
        int64_t deadline = berth_now_ns() + (int64_t) timeout_ms * 1000000LL;
        for (;;) {
                bool more;
                do {
                        *ev = take_line(r, &more);
                        if (*ev)
                                return 1;
                } while (more);
                ssize_t n = fill(r);
                if (n < 0)
                        return berth_fail(err, errno, "read %s", r->path);
                if (n > 0 || next_file(r))
                        continue;
                if (!r->follow)
                        return 0;
                int64_t now = berth_now_ns();
                if (r->until >= 0 && now >= r->until)
                        return 0;
                if (now >= deadline)
                        return 2;
                int64_t wait = deadline - now;
                if (r->until >= 0 && r->until - now < wait)
                        wait = r->until - now;
                struct pollfd p = {.fd = r->inotify, .events = POLLIN};
                int pr = poll(&p, 1, (int) ((wait + 999999) / 1000000));
                if (pr < 0 && errno != EINTR)
                        return berth_fail(err, errno, "wait for events");
                if (pr > 0) {
                        char drain[4096];
                        while (read(r->inotify, drain, sizeof(drain)) > 0)
                                ;
                }
        }
}
