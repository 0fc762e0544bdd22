/* top.c — the processes of a running container, as ps shows them (see top.h). */
#include "engine/top.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "engine/events.h"
#include "engine/stats.h"

/* The index of the word "PID" in ps's header, or -1. */
static int pid_column(const char *header)
{
        cleanup_free char *copy = berth_xstrdup(header);
        char *save = NULL;
        int col = 0;
        for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), col++)
                if (strcmp(t, "PID") == 0)
                        return col;
        return -1;
}

static long pid_of(const char *line, int col)
{
        cleanup_free char *copy = berth_xstrdup(line);
        char *save = NULL;
        char *t = strtok_r(copy, " \t\n", &save);
        for (int i = 0; t && i < col; i++)
                t = strtok_r(NULL, " \t\n", &save);
        return t ? strtol(t, NULL, 10) : -1;
}

static void append(char **buf, size_t *len, const char *s)
{
        size_t n = strlen(s);
        *buf = berth_xrealloc(*buf, *len + n + 1);
        memcpy(*buf + *len, s, n + 1);
        *len += n;
}

int eng_top(struct eng_container *c, char *const *args, size_t n_args, char **out,
            berth_error_t *err)
{
        *out = NULL;
        pid_t *pids = NULL;
        size_t n = 0;
        if (eng_container_pids(c, &pids, &n, err) < 0)
                return -1;
        /* argv built before the fork: the child of a threaded caller only dups and execs */
        char ps[] = "ps", ef[] = "-ef";
        char **argv = berth_xcalloc(n_args + 3, sizeof(*argv));
        size_t k = 0;
        argv[k++] = ps;
        for (size_t i = 0; i < n_args; i++)
                argv[k++] = args[i];
        if (n_args == 0)
                argv[k++] = ef;
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0) {
                free(argv);
                free(pids);
                return berth_fail(err, errno, "pipe");
        }
        pid_t child = fork();
        if (child == 0) {
                dup2(fds[1], 1); /* dup2 clears O_CLOEXEC on 1 */
                execvp("ps", argv);
                _exit(127);
        }
        close(fds[1]);
        int r = 0;
        if (child < 0)
                r = berth_fail(err, errno, "fork");
        FILE *f = child > 0 ? fdopen(fds[0], "r") : NULL;
        if (f == NULL)
                close(fds[0]);
        char *line = NULL, *text = NULL;
        size_t cap = 0, len = 0;
        int col = -1;
        bool header = true;
        while (f && getline(&line, &cap, f) > 0) {
                if (r < 0)
                        continue; /* drain, so ps never blocks on a full pipe */
                if (header) {
                        header = false;
                        append(&text, &len, line);
                        if ((col = pid_column(line)) < 0)
                                r = berth_fail_status(err, 1, 0,
                                                      "Couldn't find PID field in ps output");
                        continue;
                }
                long pid = pid_of(line, col);
                for (size_t i = 0; i < n; i++)
                        if (pids[i] == (pid_t) pid)
                                append(&text, &len, line);
        }
        free(line);
        if (f)
                fclose(f);
        int ws = 0;
        if (child > 0)
                while (waitpid(child, &ws, 0) < 0 && errno == EINTR)
                        ;
        if (r == 0 && (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0))
                r = berth_fail_status(err, 1, 0, "ps failed (options: %s)",
                                      n_args ? args[0] : "-ef");
        free(argv);
        free(pids);
        if (r < 0) {
                free(text);
                return -1;
        }
        *out = text ? text : berth_xstrdup("");
        eng_event_container_rec(c, "top", NULL);
        return 0;
}

json_t *eng_top_json(const char *text)
{
        json_t *titles = json_array(), *procs = json_array();
        cleanup_free char *copy = berth_xstrdup(text);
        char *lsave = NULL;
        bool first = true;
        for (char *l = strtok_r(copy, "\n", &lsave); l; l = strtok_r(NULL, "\n", &lsave)) {
                char *save = NULL;
                size_t nt = json_array_size(titles);
                json_t *row = first ? titles : json_array();
                char *t = strtok_r(l, " \t", &save);
                while (t) {
                        if (!first && json_array_size(row) + 1 == nt) {
                                /* the last column: the rest, words joined by one space */
                                cleanup_free char *rest = berth_xstrdup(t);
                                while ((t = strtok_r(NULL, " \t", &save)) != NULL) {
                                        char *j = berth_xasprintf("%s %s", rest, t);
                                        free(rest);
                                        rest = j;
                                }
                                json_array_append_new(row, json_string(rest));
                                break;
                        }
                        json_array_append_new(row, json_string(t));
                        t = strtok_r(NULL, " \t", &save);
                }
                if (!first)
                        json_array_append_new(procs, row);
                first = false;
        }
        return json_pack("{s:o, s:o}", "Processes", procs, "Titles", titles);
}
