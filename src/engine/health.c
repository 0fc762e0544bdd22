/* health.c — health checks in the monitor (see health.h). */
#include "engine/health.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/paths.h"
#include "common/util.h"
#include "engine/logfile.h"
#include "oci/oci.h"

static int64_t ns_of(json_t *o, const char *k, int64_t dflt)
{
        json_t *v = json_object_get(o, k);
        return json_is_integer(v) && json_integer_value(v) > 0 ? (int64_t) json_integer_value(v)
                                                               : dflt;
}

int eng_health_init(struct eng_health *h, json_t *config, const char *run_dir, berth_error_t *err)
{
        memset(h, 0, sizeof(*h));
        h->timer_fd = h->out_fd = -1;
        json_t *hc = json_object_get(config, "Healthcheck");
        json_t *test = json_object_get(hc, "Test");
        const char *kind = json_string_value(json_array_get(test, 0));
        if (kind == NULL || strcmp(kind, "NONE") == 0 || json_array_size(test) < 2)
                return 0;
        if (strcmp(kind, "CMD") != 0 && strcmp(kind, "CMD-SHELL") != 0)
                return 0;
        h->test = json_incref(test);
        /* Docker's defaults: 30 s interval and timeout, 3 retries */
        h->interval = ns_of(hc, "Interval", 30000000000LL);
        h->timeout = ns_of(hc, "Timeout", 30000000000LL);
        h->start_period = ns_of(hc, "StartPeriod", 0);
        h->retries = (int) ns_of(hc, "Retries", 3);
        h->pid_file = berth_path_join(run_dir, "health.pid");
        h->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (h->timer_fd < 0)
                return berth_fail(err, errno, "timerfd_create");
        return 0;
}

void eng_health_container_started(struct eng_health *h, int64_t now_ns)
{
        if (h->timer_fd < 0)
                return;
        h->container_started = now_ns;
        struct itimerspec its = {
                .it_value = {h->interval / 1000000000LL, h->interval % 1000000000LL},
                .it_interval = {h->interval / 1000000000LL, h->interval % 1000000000LL},
        };
        timerfd_settime(h->timer_fd, 0, &its, NULL);
}

static void start_check(struct eng_health *h, const char *oci_root, const char *id, int64_t now)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return;
        unlink(h->pid_file);
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return;
        }
        if (pid == 0) {
                /* the check's stdout and stderr come to us; it gets no stdin */
                int null = open("/dev/null", O_RDONLY);
                dup2(null, 0);
                dup2(p[1], 1);
                dup2(p[1], 2);
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                size_t n = json_array_size(h->test);
                char **args = berth_xcalloc(n + 3, sizeof(char *));
                const char *kind = json_string_value(json_array_get(h->test, 0));
                size_t k = 0;
                if (strcmp(kind, "CMD-SHELL") == 0) {
                        args[k++] = berth_xstrdup("/bin/sh");
                        args[k++] = berth_xstrdup("-c");
                }
                for (size_t i = 1; i < n; i++)
                        args[k++] = berth_xstrdup(json_string_value(json_array_get(h->test, i)));
                struct oci_ctx oci = {.root = oci_root};
                struct oci_exec_opts o = {.args = args, .pid_file = h->pid_file};
                berth_error_t err = NULL;
                int status = 0;
                if (oci_exec(&oci, id, &o, &status, &err) < 0) {
                        fprintf(stderr, "%s\n", berth_error_msg(err));
                        _exit(err && err->errnum == ENOENT ? 127 : 126);
                }
                _exit(status);
        }
        close(p[1]);
        fcntl(p[0], F_SETFL, O_NONBLOCK);
        h->pid = pid;
        h->out_fd = p[0];
        h->out_len = 0;
        h->started = now;
}

void eng_health_tick(struct eng_health *h, const char *oci_root, const char *id, int64_t now_ns)
{
        uint64_t ticks;
        if (h->timer_fd >= 0)
                (void) !read(h->timer_fd, &ticks, sizeof(ticks));
        if (h->test == NULL)
                return;
        if (h->pid > 0) {
                if (now_ns - h->started > h->timeout) {
                        /* the process in the container, then our exec child */
                        cleanup_free char *s = NULL;
                        if (berth_read_file(h->pid_file, &s, NULL, NULL) == 0 && atoi(s) > 0)
                                kill(atoi(s), SIGKILL);
                        kill(h->pid, SIGKILL);
                }
                return;
        }
        start_check(h, oci_root, id, now_ns);
}

void eng_health_read(struct eng_health *h)
{
        char buf[1024];
        ssize_t r;
        while (h->out_fd >= 0 && (r = read(h->out_fd, buf, sizeof(buf))) > 0) {
                size_t room = sizeof(h->out) - 1 - h->out_len;
                size_t take = (size_t) r < room ? (size_t) r : room;
                memcpy(h->out + h->out_len, buf, take);
                h->out_len += take;
        }
}

bool eng_health_reaped(struct eng_health *h, pid_t pid, int status, json_t *state, int64_t now_ns)
{
        if (h->pid <= 0 || pid != h->pid)
                return false;
        eng_health_read(h);
        berth_closep(&h->out_fd);
        h->pid = 0;
        bool timed_out = now_ns - h->started > h->timeout;
        int code = timed_out           ? -1
                   : WIFEXITED(status) ? WEXITSTATUS(status)
                                       : 128 + WTERMSIG(status);
        h->out[h->out_len] = '\0';
        json_t *health = json_object_get(state, "Health");
        if (!json_is_object(health)) {
                health = json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0,
                                   "Log");
                json_object_set_new(state, "Health", health);
        }
        char t0[40], t1[40];
        eng_log_time(h->started, t0);
        eng_log_time(now_ns, t1);
        cleanup_free char *msg = timed_out
                                         ? berth_xasprintf("Health check exceeded timeout (%llds)",
                                                           (long long) (h->timeout / 1000000000LL))
                                         : berth_xstrdup(h->out);
        json_t *log = json_object_get(health, "Log");
        json_array_append_new(log, json_pack("{s:s, s:s, s:i, s:s}", "Start", t0, "End", t1,
                                             "ExitCode", code, "Output", msg));
        while (json_array_size(log) > 5) /* Docker keeps the last five */
                json_array_remove(log, 0);
        json_int_t streak = json_integer_value(json_object_get(health, "FailingStreak"));
        if (code == 0) {
                json_object_set_new(health, "Status", json_string("healthy"));
                json_object_set_new(health, "FailingStreak", json_integer(0));
        } else if (now_ns - h->container_started >= h->start_period) {
                /* failures in the start period don't count */
                streak++;
                json_object_set_new(health, "FailingStreak", json_integer(streak));
                if (streak >= h->retries)
                        json_object_set_new(health, "Status", json_string("unhealthy"));
        }
        return true;
}

void eng_health_stop(struct eng_health *h)
{
        if (h->pid > 0) {
                kill(h->pid, SIGKILL);
                waitpid(h->pid, NULL, 0);
                h->pid = 0;
        }
        berth_closep(&h->out_fd);
        if (h->timer_fd >= 0) {
                struct itimerspec off = {0};
                timerfd_settime(h->timer_fd, 0, &off, NULL);
        }
}
