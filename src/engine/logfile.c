/* logfile.c — the json-file log driver (see logfile.h). */
#include "engine/logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/units.h"
#include "common/util.h"

struct eng_logfile {
        char *path;
        int fd;
        int64_t size, max_size;
        unsigned max_file;
        /* a partial line per stream, waiting for its newline */
        char *pending[2];
        size_t pending_len[2];
};

void eng_log_time(int64_t ns, char buf[40])
{
        berth_rfc3339(ns, false, buf, 40);
}

int eng_logfile_open(const char *path, int64_t max_size, unsigned max_file,
                     struct eng_logfile **out, berth_error_t *err)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0)
                return berth_fail(err, errno, "open log file `%s`", path);
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int e = errno;
                close(fd);
                return berth_fail(err, e, "stat log file `%s`", path);
        }
        struct eng_logfile *lf = berth_xcalloc(1, sizeof(*lf));
        lf->path = berth_xstrdup(path);
        lf->fd = fd;
        lf->size = st.st_size;
        lf->max_size = max_size;
        lf->max_file = max_file ? max_file : 1;
        *out = lf;
        return 0;
}

/* path.(n-1) → dropped, …, path.1 → path.2, path → path.1, new path. */
static int rotate(struct eng_logfile *lf, berth_error_t *err)
{
        if (lf->max_file <= 1) {
                if (ftruncate(lf->fd, 0) < 0)
                        return berth_fail(err, errno, "truncate log file `%s`", lf->path);
                lf->size = 0;
                return 0;
        }
        for (unsigned i = lf->max_file - 1; i >= 1; i--) {
                cleanup_free char *to = berth_xasprintf("%s.%u", lf->path, i);
                cleanup_free char *from = i == 1 ? berth_xstrdup(lf->path)
                                                 : berth_xasprintf("%s.%u", lf->path, i - 1);
                if (rename(from, to) < 0 && errno != ENOENT)
                        return berth_fail(err, errno, "rotate log `%s` to `%s`", from, to);
        }
        int fd = open(lf->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0)
                return berth_fail(err, errno, "open log file `%s`", lf->path);
        close(lf->fd);
        lf->fd = fd;
        lf->size = 0;
        return 0;
}

/* JSON string escaping by hand: the monitor stays small and fast. */
static size_t escape(char *dst, const char *s, size_t len)
{
        static const char hex[] = "0123456789abcdef";
        size_t n = 0;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) s[i];
                switch (c) {
                case '"':
                case '\\':
                        dst[n++] = '\\';
                        dst[n++] = (char) c;
                        break;
                case '\n':
                        dst[n++] = '\\';
                        dst[n++] = 'n';
                        break;
                case '\r':
                        dst[n++] = '\\';
                        dst[n++] = 'r';
                        break;
                case '\t':
                        dst[n++] = '\\';
                        dst[n++] = 't';
                        break;
                default:
                        if (c < 0x20) {
                                static const char esc[4] = {'\\', 'u', '0', '0'};
                                memcpy(dst + n, esc, sizeof(esc));
                                dst[n + 4] = hex[c >> 4];
                                dst[n + 5] = hex[c & 15];
                                n += 6;
                        } else {
                                dst[n++] = (char) c;
                        }
                }
        }
        return n;
}

static int write_entry(struct eng_logfile *lf, enum eng_log_stream s, const char *text, size_t len,
                       int64_t now_ns, berth_error_t *err)
{
        /* invalid UTF-8 is kept as bytes; readers (jansson) replace what they must */
        char stamp[40];
        eng_log_time(now_ns, stamp);
        size_t cap = len * 6 + 128;
        cleanup_free char *line = berth_xmalloc(cap);
        size_t n = 0;
        memcpy(line, "{\"log\":\"", 8);
        n = 8;
        n += escape(line + n, text, len);
        n += (size_t) snprintf(line + n, cap - n, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n",
                               s == ENG_LOG_STDOUT ? "stdout" : "stderr", stamp);
        if (lf->max_size > 0 && lf->size > 0 && lf->size + (int64_t) n > lf->max_size &&
            rotate(lf, err) < 0)
                return -1;
        if (berth_write_all(lf->fd, line, n) < 0)
                return berth_fail(err, errno, "write log file `%s`", lf->path);
        lf->size += (int64_t) n;
        return 0;
}

int eng_logfile_write(struct eng_logfile *lf, enum eng_log_stream s, const char *buf, size_t len,
                      int64_t now_ns, berth_error_t *err)
{
        while (len > 0) {
                const char *nl = memchr(buf, '\n', len);
                size_t take = nl ? (size_t) (nl - buf) + 1 : len;
                size_t room = ENG_LOG_MAX_LINE - lf->pending_len[s];
                if (take > room)
                        take = room;
                bool complete =
                        buf[take - 1] == '\n' || lf->pending_len[s] + take == ENG_LOG_MAX_LINE;
                if (complete && lf->pending_len[s] == 0) {
                        if (write_entry(lf, s, buf, take, now_ns, err) < 0)
                                return -1;
                } else {
                        lf->pending[s] = berth_xrealloc(lf->pending[s], lf->pending_len[s] + take);
                        memcpy(lf->pending[s] + lf->pending_len[s], buf, take);
                        lf->pending_len[s] += take;
                        if (complete) {
                                int r = write_entry(lf, s, lf->pending[s], lf->pending_len[s],
                                                    now_ns, err);
                                lf->pending_len[s] = 0;
                                if (r < 0)
                                        return -1;
                        }
                }
                buf += take;
                len -= take;
        }
        return 0;
}

int eng_logfile_flush(struct eng_logfile *lf, int64_t now_ns, berth_error_t *err)
{
        for (int s = 0; s < 2; s++) {
                if (lf->pending_len[s] == 0)
                        continue;
                int r = write_entry(lf, (enum eng_log_stream) s, lf->pending[s], lf->pending_len[s],
                                    now_ns, err);
                lf->pending_len[s] = 0;
                if (r < 0)
                        return -1;
        }
        return 0;
}

void eng_logfile_close(struct eng_logfile *lf)
{
        if (lf == NULL)
                return;
        close(lf->fd);
        free(lf->pending[0]);
        free(lf->pending[1]);
        free(lf->path);
        free(lf);
}

/* ------------------------------------------------------------------ reading */

struct entry {
        char *log;
        size_t len;
        int stream;
        int64_t ns;
};

static int64_t parse_time(const char *s)
{
        struct tm tm = {0};
        const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (p == NULL)
                return 0;
        int64_t frac = 0, scale = 100000000;
        if (*p == '.')
                for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
                        frac += (*p - '0') * scale;
        return (int64_t) timegm(&tm) * 1000000000LL + frac;
}

/* Parse one line; false for lines that are not entries (a torn last line). */
static bool parse_entry(const char *line, size_t len, struct entry *e)
{
        json_error_t jerr;
        json_t *o = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
        if (o == NULL)
                return false;
        json_t *log = json_object_get(o, "log");
        const char *stream = json_string_value(json_object_get(o, "stream"));
        const char *t = json_string_value(json_object_get(o, "time"));
        bool ok = json_is_string(log) && stream && t;
        if (ok) {
                e->len = json_string_length(log);
                e->log = berth_xmalloc(e->len + 1);
                memcpy(e->log, json_string_value(log), e->len + 1);
                e->stream = strcmp(stream, "stderr") == 0;
                e->ns = parse_time(t);
        }
        json_decref(o);
        return ok;
}

static bool wanted(const struct eng_log_read_opts *o, const struct entry *e)
{
        if (e->stream ? !o->want_stderr : !o->want_stdout)
                return false;
        if (o->since_ns && e->ns < o->since_ns)
                return false;
        if (o->until_ns && e->ns > o->until_ns)
                return false;
        return true;
}

static int emit_entry(const struct eng_log_read_opts *o, const struct entry *e, int out_fd,
                      int err_fd, berth_error_t *err)
{
        if (o->emit) {
                char stamp[42] = "";
                size_t sl = 0;
                if (o->timestamps) {
                        eng_log_time(e->ns, stamp);
                        sl = strlen(stamp);
                        stamp[sl++] = ' ';
                }
                cleanup_free char *line = berth_xmalloc(sl + e->len + 1);
                memcpy(line, stamp, sl);
                memcpy(line + sl, e->log, e->len);
                if (o->emit(o->emit_ctx, e->stream ? ENG_LOG_STDERR : ENG_LOG_STDOUT, line,
                            sl + e->len) < 0)
                        return berth_fail(err, EPIPE, "write logs");
                return 0;
        }
        int fd = e->stream ? err_fd : out_fd;
        if (o->timestamps) {
                char stamp[40];
                eng_log_time(e->ns, stamp);
                char sp[42];
                int n = snprintf(sp, sizeof(sp), "%s ", stamp);
                if (berth_write_all(fd, sp, (size_t) n) < 0)
                        return berth_fail(err, errno, "write logs");
        }
        if (berth_write_all(fd, e->log, e->len) < 0)
                return berth_fail(err, errno, "write logs");
        return 0;
}

/* Scan one file from offset *pos; emit wanted entries; leave *pos
 * after the last complete line. */
static int scan(int fd, off_t *pos, const struct eng_log_read_opts *o, int out_fd, int err_fd,
                berth_error_t *err)
{
        char buf[65536];
        cleanup_free char *carry = NULL;
        size_t carry_len = 0;
        for (;;) {
                ssize_t r = pread(fd, buf, sizeof(buf), *pos + (off_t) carry_len);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return berth_fail(err, errno, "read log file");
                }
                if (r == 0)
                        break;
                carry = berth_xrealloc(carry, carry_len + (size_t) r);
                memcpy(carry + carry_len, buf, (size_t) r);
                carry_len += (size_t) r;
                size_t start = 0;
                for (;;) {
                        char *nl = memchr(carry + start, '\n', carry_len - start);
                        if (nl == NULL)
                                break;
                        size_t l = (size_t) (nl - (carry + start));
                        struct entry e;
                        if (parse_entry(carry + start, l, &e)) {
                                if (!wanted(o, &e)) {
                                        free(e.log);
                                } else {
                                        int ret = emit_entry(o, &e, out_fd, err_fd, err);
                                        free(e.log);
                                        if (ret < 0)
                                                return -1;
                                }
                        }
                        start += l + 1;
                }
                *pos += (off_t) start;
                memmove(carry, carry + start, carry_len - start);
                carry_len -= start;
        }
        return 0;
}

static int scan_path(const char *path, const struct eng_log_read_opts *o, int out_fd, int err_fd,
                     off_t *end_pos, berth_error_t *err)
{
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return berth_fail(err, errno, "open log file `%s`", path);
        }
        off_t pos = 0;
        if (scan(fd, &pos, o, out_fd, err_fd, err) < 0)
                return berth_wrap(err, "read `%s`", path);
        if (end_pos)
                *end_pos = pos;
        return 0;
}

static int follow(const char *path, off_t pos, const struct eng_log_read_opts *o, int out_fd,
                  int err_fd, berth_error_t *err)
{
        cleanup_close int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (in < 0)
                return berth_fail(err, errno, "inotify_init1");
        cleanup_free char *dir = berth_xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash)
                *slash = '\0';
        /* watch the directory: rotation renames the file and creates a new one */
        if (inotify_add_watch(in, slash ? dir : ".", IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0)
                return berth_fail(err, errno, "watch `%s`", slash ? dir : ".");
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st0;
        if (fd >= 0 && fstat(fd, &st0) < 0)
                return berth_fail(err, errno, "stat `%s`", path);
        for (;;) {
                if (fd >= 0 && scan(fd, &pos, o, out_fd, err_fd, err) < 0)
                        return -1;
                /* rotated? a new inode at path: finish the old file, switch */
                struct stat st;
                if (stat(path, &st) == 0 && (fd < 0 || st.st_ino != st0.st_ino)) {
                        if (fd >= 0 && scan(fd, &pos, o, out_fd, err_fd, err) < 0)
                                return -1;
                        berth_closep(&fd);
                        fd = open(path, O_RDONLY | O_CLOEXEC);
                        if (fd >= 0 && fstat(fd, &st0) < 0)
                                return berth_fail(err, errno, "stat `%s`", path);
                        pos = 0;
                        continue;
                }
                struct pollfd p[2] = {{.fd = in, .events = POLLIN},
                                      {.fd = o->stop_fd, .events = POLLIN}};
                int n = poll(p, o->stop_fd >= 0 ? 2 : 1, -1);
                if (n < 0 && errno != EINTR)
                        return berth_fail(err, errno, "poll");
                if (p[0].revents) {
                        char ev[4096];
                        while (read(in, ev, sizeof(ev)) > 0)
                                ;
                }
                if (o->stop_fd >= 0 && p[1].revents) {
                        /* the writer is gone: drain what it wrote last */
                        if (fd >= 0 && scan(fd, &pos, o, out_fd, err_fd, err) < 0)
                                return -1;
                        return 0;
                }
        }
}

/* --tail: the last entries of one file, read from its end backwards in chunks, so that the cost
 * follows the tail asked for rather than the log's size (as dockerd's json-file tail).  Wanted
 * entries go to got[*n...] newest first until there are want of them.  end_pos (the newest
 * file only): the offset after its last complete line, where -f goes on. */
static int tail_file(int fd, const struct eng_log_read_opts *o, struct entry *got, size_t want,
                     size_t *n, off_t *end_pos, berth_error_t *err)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return berth_fail(err, errno, "stat log file");
        off_t pos = st.st_size; /* buf holds the file's bytes [pos, pos + len) */
        cleanup_free char *buf = NULL;
        size_t len = 0;
        bool trimmed = false; /* a last line still being written (no newline yet) dropped */
        for (;;) {
                /* complete lines at buf's end: after the trim, buf ends with a newline */
                while (trimmed && len > 0 && *n < want) {
                        char *prev = len > 1 ? memrchr(buf, '\n', len - 1) : NULL;
                        if (prev == NULL && pos > 0)
                                break; /* the line starts before buf: read more */
                        size_t start = prev ? (size_t) (prev - buf) + 1 : 0;
                        struct entry e;
                        if (parse_entry(buf + start, len - 1 - start, &e)) {
                                if (wanted(o, &e))
                                        got[(*n)++] = e;
                                else
                                        free(e.log);
                        }
                        len = start;
                }
                if ((trimmed && *n >= want) || pos == 0)
                        break;
                size_t chunk = pos > 65536 ? 65536 : (size_t) pos;
                pos -= (off_t) chunk;
                buf = berth_xrealloc(buf, len + chunk);
                memmove(buf + chunk, buf, len);
                for (size_t got_len = 0; got_len < chunk;) {
                        ssize_t r =
                                pread(fd, buf + got_len, chunk - got_len, pos + (off_t) got_len);
                        if (r < 0 && errno == EINTR)
                                continue;
                        if (r <= 0)
                                return berth_fail(err, r < 0 ? errno : EIO, "read log file");
                        got_len += (size_t) r;
                }
                len += chunk;
                if (!trimmed) {
                        char *last = memrchr(buf, '\n', len);
                        if (last || pos == 0) {
                                len = last ? (size_t) (last - buf) + 1 : 0;
                                if (end_pos)
                                        *end_pos = pos + (off_t) len;
                                trimmed = true;
                        }
                }
        }
        return 0;
}

static int tail_path(const char *path, const struct eng_log_read_opts *o, struct entry *got,
                     size_t want, size_t *n, off_t *end_pos, berth_error_t *err)
{
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return berth_fail(err, errno, "open log file `%s`", path);
        }
        if (tail_file(fd, o, got, want, n, end_pos, err) < 0)
                return berth_wrap(err, "read `%s`", path);
        return 0;
}

static int read_tail(const char *path, const struct eng_log_read_opts *o, int out_fd, int err_fd,
                     off_t *end, berth_error_t *err)
{
        size_t want = (size_t) o->tail, n = 0;
        struct entry *got = berth_xcalloc(want ? want : 1, sizeof(*got));
        /* newest first: path, then path.1 … path.(max_file-1) while more are wanted */
        int ret = tail_path(path, o, got, want, &n, end, err);
        for (unsigned i = 1; ret == 0 && n < want && i < o->max_file; i++) {
                cleanup_free char *p = berth_xasprintf("%s.%u", path, i);
                ret = tail_path(p, o, got, want, &n, NULL, err);
        }
        for (size_t i = n; i-- > 0;) {
                if (ret == 0)
                        ret = emit_entry(o, &got[i], out_fd, err_fd, err);
                free(got[i].log);
        }
        free(got);
        return ret;
}

int eng_logfile_read(const char *path, const struct eng_log_read_opts *o, int out_fd, int err_fd,
                     berth_error_t *err)
{
        int ret = 0;
        off_t end = 0;
        if (o->tail >= 0) {
                ret = read_tail(path, o, out_fd, err_fd, &end, err);
        } else {
                /* oldest first: path.(max_file-1) … path.1, then path */
                for (unsigned i = o->max_file > 1 ? o->max_file - 1 : 0; i >= 1 && ret == 0; i--) {
                        cleanup_free char *p = berth_xasprintf("%s.%u", path, i);
                        ret = scan_path(p, o, out_fd, err_fd, NULL, err);
                }
                if (ret == 0)
                        ret = scan_path(path, o, out_fd, err_fd, &end, err);
        }
        if (ret == 0 && o->follow)
                ret = follow(path, end, o, out_fd, err_fd, err);
        return ret;
}
