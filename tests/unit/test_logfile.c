/* test_logfile.c — json-file logs: entries, partial and long lines, escaping,
 * rotation by size, and reading back with --tail, --since, stream filters,
 * timestamps and follow. */
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "engine/logfile.h"
#include "tap.h"

static char dir[] = "/tmp/berth-test-logfile-XXXXXX";

/* Read the log back into a string, stdout and stderr interleaved in one pipe. */
static char *read_back(const char *path, struct eng_log_read_opts o)
{
        char tmpl[] = "/tmp/berth-test-logout-XXXXXX";
        int fd = mkstemp(tmpl);
        unlink(tmpl);
        berth_error_t err = NULL;
        if (eng_logfile_read(path, &o, fd, fd, &err) < 0) {
                printf("# read: %s\n", berth_error_msg(err));
                berth_error_release(&err);
        }
        off_t n = lseek(fd, 0, SEEK_END);
        char *s = berth_xcalloc(1, (size_t) n + 1);
        if (pread(fd, s, (size_t) n, 0) != n)
                printf("# short read\n");
        close(fd);
        return s;
}

static const struct eng_log_read_opts all = {
        .want_stdout = true, .want_stderr = true, .tail = -1, .stop_fd = -1, .max_file = 3};

static const int64_t T0 = 1795593600LL * 1000000000LL; /* 2026-11-25T08:00:00Z */

int main(void)
{
        if (mkdtemp(dir) == NULL)
                return 1;
        berth_error_t err = NULL;
        cleanup_free char *path = berth_xasprintf("%s/c-json.log", dir);
        struct eng_logfile *lf = NULL;
        is_int(eng_logfile_open(path, 0, 1, &lf, &err), 0, "open");
        eng_logfile_write(lf, ENG_LOG_STDOUT, "hello\nwor", 9, T0, &err);
        eng_logfile_write(lf, ENG_LOG_STDERR, "oops\n", 5, T0 + 1, &err);
        eng_logfile_write(lf, ENG_LOG_STDOUT, "ld \"q\"\t\x01\n", 9, T0 + 2, &err);
        eng_logfile_write(lf, ENG_LOG_STDOUT, "tail-no-newline", 15, T0 + 3, &err);
        eng_logfile_flush(lf, T0 + 4, &err);
        eng_logfile_close(lf);

        cleanup_free char *raw = NULL;
        berth_read_file(path, &raw, NULL, NULL);
        char *first_nl = strchr(raw, '\n');
        ok(strncmp(raw,
                   "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-25T08:00:00."
                   "000000000Z\"}",
                   (size_t) (first_nl - raw)) == 0,
           "an entry is Docker's json-file line");
        int lines = 0;
        for (char *p = raw; (p = strchr(p, '\n')); p++) {
                json_t *o = json_loadb(raw, 0, 0, NULL);
                json_decref(o);
                lines++;
        }
        is_int(lines, 4, "a partial line waits for its newline: four entries");

        cleanup_free char *out = read_back(path, all);
        is_str(out, "hello\noops\nworld \"q\"\t\x01\ntail-no-newline",
               "read back: content and order exact");
        struct eng_log_read_opts o = all;
        o.want_stderr = false;
        free(out);
        out = read_back(path, o);
        ok(strstr(out, "oops") == NULL && strstr(out, "hello"), "stdout only");
        o = all;
        o.tail = 2;
        free(out);
        out = read_back(path, o);
        is_str(out, "world \"q\"\t\x01\ntail-no-newline", "--tail 2: the last two entries");
        o = all;
        o.tail = 0;
        free(out);
        out = read_back(path, o);
        is_str(out, "", "--tail 0: nothing");
        o = all;
        o.since_ns = T0 + 2;
        free(out);
        out = read_back(path, o);
        is_str(out, "world \"q\"\t\x01\ntail-no-newline", "--since: older entries skipped");
        o = all;
        o.until_ns = T0 + 1;
        o.timestamps = true;
        free(out);
        out = read_back(path, o);
        is_str(out, "2026-11-25T08:00:00.000000000Z hello\n2026-11-25T08:00:00.000000001Z oops\n",
               "--until and -t");

        /* a torn last line (writer killed mid-write) is skipped, not an error */
        int fd = open(path, O_WRONLY | O_APPEND);
        ok(write(fd, "{\"log\":\"tor", 11) == 11, "tear the last line");
        close(fd);
        free(out);
        out = read_back(path, all);
        ok(strstr(out, "tor") == NULL && strstr(out, "tail-no-newline"), "torn last line ignored");

        /* long lines are split at 16 KiB */
        cleanup_free char *p2 = berth_xasprintf("%s/long.log", dir);
        eng_logfile_open(p2, 0, 1, &lf, &err);
        size_t big = ENG_LOG_MAX_LINE * 2 + 100;
        char *blob = berth_xmalloc(big + 1);
        memset(blob, 'x', big);
        blob[big] = '\n';
        eng_logfile_write(lf, ENG_LOG_STDOUT, blob, big + 1, T0, &err);
        eng_logfile_close(lf);
        free(raw);
        raw = NULL;
        berth_read_file(p2, &raw, NULL, NULL);
        lines = 0;
        for (char *p = raw; (p = strchr(p, '\n')); p++)
                lines++;
        is_int(lines, 3, "a 32 KiB line becomes three entries");
        free(out);
        out = read_back(p2, all);
        is_int(strlen(out), big + 1, "and reads back whole");
        free(blob);

        /* rotation: max-size 300 bytes, max-file 3 */
        cleanup_free char *p3 = berth_xasprintf("%s/rot.log", dir);
        eng_logfile_open(p3, 300, 3, &lf, &err);
        for (int i = 0; i < 20; i++) {
                char line[32];
                int n = snprintf(line, sizeof(line), "line %02d\n", i);
                eng_logfile_write(lf, ENG_LOG_STDOUT, line, (size_t) n, T0 + i, &err);
        }
        eng_logfile_close(lf);
        struct stat st;
        cleanup_free char *r1 = berth_xasprintf("%s.1", p3);
        cleanup_free char *r2 = berth_xasprintf("%s.2", p3);
        cleanup_free char *r3 = berth_xasprintf("%s.3", p3);
        ok(stat(r1, &st) == 0 && st.st_size <= 300 && stat(r2, &st) == 0 && stat(r3, &st) < 0,
           "rotation keeps max-file files, each within max-size");
        free(out);
        out = read_back(p3, all);
        ok(strstr(out, "line 19\n") && strstr(out, "line 00") == NULL,
           "reading spans rotated files; the oldest fell off");
        char *prev = NULL;
        bool ordered = true;
        for (char *l = strstr(out, "line "); l; l = strstr(l + 1, "line ")) {
                if (prev && strncmp(prev, l, 7) >= 0)
                        ordered = false;
                prev = l;
        }
        ok(ordered, "entries across rotated files come out oldest first");
        o = all;
        o.tail = 3;
        free(out);
        out = read_back(p3, o);
        is_str(out, "line 17\nline 18\nline 19\n", "--tail across rotated files");

        /* follow until the stop fd becomes readable */
        int stop[2];
        ok(pipe(stop) == 0, "pipe");
        o = all;
        o.follow = true;
        o.stop_fd = stop[0];
        o.max_file = 1;
        cleanup_free char *p4 = berth_xasprintf("%s/follow.log", dir);
        eng_logfile_open(p4, 0, 1, &lf, &err);
        eng_logfile_write(lf, ENG_LOG_STDOUT, "before\n", 7, T0, &err);
        int outp[2];
        ok(pipe(outp) == 0, "pipe");
        pid_t pid = fork();
        if (pid == 0) {
                close(stop[1]);
                berth_error_t cerr = NULL;
                _exit(eng_logfile_read(p4, &o, outp[1], outp[1], &cerr) < 0 ? 1 : 0);
        }
        close(stop[0]);
        close(outp[1]);
        usleep(100000);
        eng_logfile_write(lf, ENG_LOG_STDOUT, "after\n", 6, T0 + 1, &err);
        usleep(100000);
        eng_logfile_close(lf);
        close(stop[1]); /* the writer is gone */
        char got[64] = {0};
        size_t n = 0;
        ssize_t r;
        while ((r = read(outp[0], got + n, sizeof(got) - 1 - n)) > 0)
                n += (size_t) r;
        int status;
        waitpid(pid, &status, 0);
        is_str(got, "before\nafter\n", "follow: sees lines written later, stops when told");
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "follow: returns cleanly");

        cleanup_free char *cmd = berth_xasprintf("rm -rf %s", dir);
        ok(system(cmd) == 0, "cleanup");
        return tap_done();
}
