/* test_summary.c — the summary record (engine/summary.h): its codec, and that a summary can't
 * stand for records that changed after it (rename, state change, a record rewritten behind its
 * back, the summary deleted or damaged), with ps rows the same from either. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "engine/container.h"
#include "engine/summary.h"
#include "engine/view.h"
#include "tap.h"

static json_t *full_doc(void)
{
        return json_pack(
                "{s:s, s:s, s:s, s:s, s:[s,s], s:s, s:s, s:{s:s, s:{s:s}, s:[s], s:{s:s}}, "
                "s:{s:s, s:o, s:{s:s}}, s:{s:s, s:{s:[{s:s, s:s}], s:[]}, s:{s:{s:s, s:s}}}, "
                "s:[{s:s, s:s}], s:{s:{s:s}}}",
                "Id", "a1b2", "Created", "2026-12-07T01:54:26.405667426Z", "Name", "/web", "Path",
                "sh", "Args", "-c", "echo hi there", "Image", "sha256:e821", "LogPath", "/x/log",
                "Config", "Image", "busybox", "Labels", "a", "b", "Cmd", "sh", "Healthcheck",
                "Test", "x", "HostConfig", "NetworkMode", "bridge", "Binds", json_null(),
                "RestartPolicy", "Name", "always", "NetworkSettings", "IPAddress", "10.0.0.2",
                "Ports", "80/tcp", "HostIp", "0.0.0.0", "HostPort", "8080", "443/tcp", "Networks",
                "bridge", "IPAddress", "10.0.0.2", "NetworkID", "n1", "Mounts", "Type", "volume",
                "Name", "v1", "GraphDriver", "Data", "MergedDir", "/m");
}

static json_t *full_state(void)
{
        return json_pack("{s:{s:s, s:i, s:i, s:s, s:s, s:{s:s, s:i, s:[{s:s}]}}, s:i, s:{s:i}}",
                         "State", "Status", "exited", "ExitCode", 3, "Pid", 0, "StartedAt",
                         "2026-12-07T01:54:26Z", "FinishedAt", "2026-12-07T01:55:26Z", "Health",
                         "Status", "unhealthy", "FailingStreak", 3, "Log", "Output",
                         "a long health check output", "RestartCount", 2, "Monitor", "Pid", 7);
}

static void test_codec(void)
{
        json_t *doc = full_doc(), *state = full_state();
        struct eng_stamp ds = {11, 3053, 1796608466410853526LL}, ss = {12, 323, 17LL};
        json_t *sum = eng_summary_make(doc, state, &ds, &ss);
        ok(sum != NULL, "make: a summary");
        /* through its text, as it is stored */
        char *text = json_dumps(sum, JSON_COMPACT);
        json_decref(sum);
        sum = json_loads(text, 0, NULL);
        free(text);
        json_t *d = NULL, *s = NULL;
        struct eng_stamp ds2, ss2;
        is_int(eng_summary_split(sum, &d, &s, &ds2, &ss2), 0, "split: its own summary");
        ok(eng_stamp_eq(&ds, &ds2) && eng_stamp_eq(&ss, &ss2), "the stamps come back");
        ok(ds2.mtime_ns == 1796608466410853526LL, "nanoseconds whole");
        static const char *const kept[] = {"Id",   "Created", "Name",  "Path",
                                           "Args", "Image",   "Mounts"};
        bool all = true;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(kept); i++)
                all &= json_equal(json_object_get(d, kept[i]), json_object_get(doc, kept[i]));
        ok(all, "Id Created Name Path Args Image Mounts kept as they are");
        json_t *cfg = json_object_get(d, "Config"), *ns = json_object_get(d, "NetworkSettings");
        ok(json_equal(json_object_get(cfg, "Labels"),
                      json_object_get(json_object_get(doc, "Config"), "Labels")) &&
                   strcmp(json_string_value(json_object_get(cfg, "Image")), "busybox") == 0,
           "Config.Image and Config.Labels kept");
        ok(json_object_get(cfg, "Cmd") == NULL && json_object_get(cfg, "Healthcheck") == NULL,
           "the rest of Config left out");
        ok(json_equal(json_object_get(ns, "Ports"),
                      json_object_get(json_object_get(doc, "NetworkSettings"), "Ports")) &&
                   json_equal(json_object_get(ns, "Networks"),
                              json_object_get(json_object_get(doc, "NetworkSettings"), "Networks")),
           "NetworkSettings.Ports and .Networks kept");
        ok(json_object_get(ns, "IPAddress") == NULL, "the rest of NetworkSettings left out");
        is_str(json_string_value(json_object_get(json_object_get(d, "HostConfig"), "NetworkMode")),
               "bridge", "HostConfig.NetworkMode kept");
        ok(json_object_get(json_object_get(d, "HostConfig"), "RestartPolicy") == NULL &&
                   json_object_get(d, "GraphDriver") == NULL &&
                   json_object_get(d, "LogPath") == NULL,
           "HostConfig's rest, GraphDriver, LogPath left out");
        json_t *st = json_object_get(s, "State");
        json_t *health = json_object_get(st, "Health");
        ok(strcmp(json_string_value(json_object_get(health, "Status")), "unhealthy") == 0,
           "State.Health's status kept");
        ok(json_object_get(health, "Log") == NULL &&
                   json_object_get(health, "FailingStreak") == NULL,
           "the health check's log and streak left out");
        ok(json_array_size(json_object_get(
                   json_object_get(json_object_get(state, "State"), "Health"), "Log")) == 1,
           "the record's own state untouched by making the summary");
        ok(json_integer_value(json_object_get(s, "RestartCount")) == 2 &&
                   json_integer_value(json_object_get(json_object_get(s, "Monitor"), "Pid")) == 7 &&
                   json_integer_value(json_object_get(st, "ExitCode")) == 3,
           "RestartCount, Monitor.Pid (for the liveness check), ExitCode kept");

        /* the ps row from the summary is the row from the records */
        struct eng_container full = {.doc = doc, .state = state, .lock_fd = -1};
        struct eng_container brief = {.doc = d, .state = s, .lock_fd = -1, .partial = true};
        snprintf(full.id, sizeof(full.id), "%s", "a1b2");
        snprintf(brief.id, sizeof(brief.id), "%s", "a1b2");
        struct timespec now = {.tv_sec = 1796608566};
        for (int trunc = 0; trunc < 2; trunc++) {
                json_t *r1 = eng_ps_row(&full, trunc, &now), *r2 = eng_ps_row(&brief, trunc, &now);
                ok(json_equal(r1, r2), trunc ? "ps row (--no-trunc): the same from the summary"
                                             : "ps row: the same from the summary");
                json_decref(r1);
                json_decref(r2);
        }
        json_decref(d);
        json_decref(s);

        /* what is not a summary of this version */
        json_t *bad = json_deep_copy(sum);
        json_object_set_new(bad, "Version", json_integer(ENG_SUMMARY_VERSION + 1));
        errno = 0;
        ok(eng_summary_split(bad, &d, &s, &ds2, &ss2) < 0 && errno == EINVAL,
           "split: another version refused (EINVAL)");
        json_decref(bad);
        bad = json_deep_copy(sum);
        json_array_set_new(json_object_get(bad, "Stamps"), 2, json_string("x"));
        ok(eng_summary_split(bad, &d, &s, &ds2, &ss2) < 0, "split: a stamp that is no integer");
        json_decref(bad);
        bad = json_deep_copy(sum);
        json_array_remove(json_object_get(bad, "Stamps"), 5);
        ok(eng_summary_split(bad, &d, &s, &ds2, &ss2) < 0, "split: five stamps");
        json_decref(bad);
        bad = json_deep_copy(sum);
        json_object_del(json_object_get(bad, "State"), "State");
        ok(eng_summary_split(bad, &d, &s, &ds2, &ss2) < 0, "split: no State in the state");
        json_decref(bad);
        ok(eng_summary_split(NULL, &d, &s, &ds2, &ss2) < 0, "split: nothing (unparsable text)");
        json_t *arr = json_array();
        ok(eng_summary_split(arr, &d, &s, &ds2, &ss2) < 0, "split: an array");
        json_decref(arr);
        json_decref(sum);

        struct eng_stamp zero = {0, 0, 0};
        ok(!eng_stamp_eq(&zero, &zero), "a zero stamp (never written) matches nothing");
        struct eng_stamp other = ds;
        other.mtime_ns++;
        ok(!eng_stamp_eq(&ds, &other), "a nanosecond apart: another version");
        json_decref(doc);
        json_decref(state);
}

/* eng_summary_parse gives what jansson gives, and refuses what jansson refuses (and more). */
static void test_parse(void)
{
        static const char *const same[] = {
                "{}",
                " [ ] ",
                "{\"a\":1,\"b\":-2,\"c\":0,\"d\":1.5,\"e\":-0.25e2,\"f\":1E3}",
                "{\"t\":true,\"f\":false,\"n\":null,\"s\":\"\",\"arr\":[1,[2,[3,{}]]]}",
                "{\"esc\":\"q\\\"b\\\\s\\/n\\nt\\tr\\rb\\bf\\f\"}",
                "{\"u\":\"\\u00e9\\u20ac\\ud83d\\ude00 x\"}",
                "{\"k\\u00e9y\":\"v\",\"dup\":1,\"dup\":2}",
                "{\"big\":9223372036854775807,\"small\":-9223372036854775808}",
                "\t{\"a\" : [ 1 , 2 ] }\n",
                "\"just a string\"",
                "42",
        };
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(same); i++) {
                json_t *want = json_loads(same[i], JSON_DECODE_ANY, NULL);
                json_t *got = eng_summary_parse(same[i], strlen(same[i]));
                char name[160];
                snprintf(name, sizeof(name), "parse: %s", same[i]);
                ok(want && got && json_equal(want, got), name);
                json_decref(want);
                json_decref(got);
        }
        /* raw UTF-8 bytes, as jansson writes them without JSON_ENSURE_ASCII */
        const char utf8[] = "{\"s\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}";
        json_t *u = eng_summary_parse(utf8, strlen(utf8));
        is_str(u ? json_string_value(json_object_get(u, "s")) : "",
               "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "parse: raw UTF-8 kept");
        json_decref(u);
        static const char *const bad[] = {
                "",
                "{",
                "{\"a\":1",
                "{\"a\":1,}",
                "[1,]",
                "{\"a\" 1}",
                "{a:1}",
                "{\"a\":01}",
                "{\"a\":1.}",
                "{\"a\":-}",
                "{\"a\":1e}",
                "{\"a\":99999999999999999999}",
                "{\"a\":tru}",
                "{\"a\":\"unterminated}",
                "{\"a\":\"bad \\x escape\"}",
                "{\"a\":\"\\u12\"}",
                "{\"a\":\"\\ud83d alone\"}",
                "{\"a\":\"\\ude00 low first\"}",
                "{\"a\":\"nul \\u0000 inside\"}",
                "{\"a\":\"tab\there\"}",
                "{\"a\":\"\xc3\"}",
                "{\"a\":\"\xc0\xaf overlong\"}",
                "{\"a\":\"\xed\xa0\x80 surrogate\"}",
                "{\"\xff\":1}",
                "{} {}",
                "{}x",
                "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        };
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(bad); i++) {
                json_t *got = eng_summary_parse(bad[i], strlen(bad[i]));
                char name[160];
                snprintf(name, sizeof(name), "parse refuses: %s", bad[i]);
                ok(got == NULL, name);
                json_decref(got);
        }
        /* a length that cuts the text: nothing read past it */
        const char cut[] = "{\"a\":\"bc\"}";
        ok(eng_summary_parse(cut, sizeof(cut) - 3) == NULL, "parse: stops at the length given");
}

/* The one container listed from the summaries (NULL when the list isn't one). */
static struct eng_container *brief_one(struct eng_ctx *e, struct eng_container ***v, size_t *n)
{
        berth_error_t err = NULL;
        if (eng_container_list_brief(e, v, n, &err) < 0 || *n != 1) {
                berth_error_release(&err);
                return NULL;
        }
        return (*v)[0];
}

static void test_records(const char *root)
{
        cleanup_free char *run = berth_xasprintf("%s/run", root);
        cleanup_free char *data = berth_xasprintf("%s/data", root);
        struct berth_paths p = {.run_dir = run, .data_dir = data};
        struct eng_ctx e;
        berth_error_t err = NULL;
        is_int(eng_ctx_init(&e, &p, &err), 0, "ctx init");
        struct eng_container *c = NULL, *b;
        struct eng_container **v;
        size_t n;
        is_int(eng_container_new(&e, "web", &c, &err), 0, "new container");
        json_object_set_new(c->doc, "Config",
                            json_pack("{s:s, s:{s:s}}", "Image", "busybox", "Labels", "x", "1"));
        json_object_set_new(c->doc, "HostConfig", json_pack("{s:s}", "NetworkMode", "none"));
        is_int(eng_container_save(c, &err), 0, "save");
        cleanup_free char *sumpath = berth_path_join(c->dir, "summary.json");
        ok(access(sumpath, F_OK) == 0, "saving writes summary.json");
        eng_container_unlock(c); /* a new record comes locked */

        b = brief_one(&e, &v, &n);
        ok(b && b->partial, "listed from the summary: a partial record");
        ok(b && strcmp(eng_container_name(b), "web") == 0 &&
                   strcmp(eng_container_status(b), "created") == 0,
           "with the name and status");
        ok(b && json_object_get(json_object_get(b->doc, "HostConfig"), "NetworkMode") != NULL,
           "and what the API's list needs");
        if (b) {
                json_object_set_new(eng_container_state(b), "Status", json_string("running"));
                is_int(eng_container_save_state(b, &err), -1, "a partial record can't be saved");
                ok(err && err->errnum == EINVAL, "EINVAL");
                berth_error_release(&err);
                is_int(eng_container_lock(b, &err), 0, "locking it");
                ok(!b->partial && json_object_get(b->doc, "LogPath") != NULL,
                   "reads it whole (the lock's writers may save)");
                eng_container_unlock(b);
        }
        eng_container_list_free(v, n);

        /* every write path refreshes it */
        is_int(eng_container_rename(&e, c, "web2", &err), 0, "rename");
        b = brief_one(&e, &v, &n);
        is_str(b ? eng_container_name(b) : "", "web2", "ps sees the new name");
        eng_container_list_free(v, n);
        json_object_set_new(eng_container_state(c), "Status", json_string("exited"));
        json_object_set_new(eng_container_state(c), "ExitCode", json_integer(42));
        is_int(eng_container_save_state(c, &err), 0, "a state change");
        b = brief_one(&e, &v, &n);
        ok(b && strcmp(eng_container_status(b), "exited") == 0 &&
                   json_integer_value(json_object_get(eng_container_state(b), "ExitCode")) == 42,
           "ps sees the new state");
        eng_container_list_free(v, n);

        /* a record rewritten behind the summary's back (a crash between the two writes, or an
         * older berth): the stamps tell, and the summary is made again */
        cleanup_free char *statepath = berth_path_join(c->dir, "state.json");
        cleanup_free char *docpath = berth_path_join(c->dir, "container.json");
        const char *st = "{\"State\":{\"Status\":\"exited\",\"ExitCode\":7},\"RestartCount\":0}";
        is_int(berth_write_file_replace(statepath, st, strlen(st), 0600, &err), 0,
               "state.json replaced without its summary");
        b = brief_one(&e, &v, &n);
        ok(b && json_integer_value(json_object_get(eng_container_state(b), "ExitCode")) == 7,
           "ps reads the new state.json, not the stale summary");
        eng_container_list_free(v, n);
        cleanup_free char *text = NULL;
        size_t len = 0;
        ok(berth_read_file(sumpath, &text, &len, NULL) == 0 && strstr(text, "\"ExitCode\":7"),
           "and the summary is made again from it");
        /* a container.json of the same size, written at once after it: a new inode */
        cleanup_free char *doc = NULL;
        ok(berth_read_file(docpath, &doc, &len, NULL) == 0, "read container.json");
        char *nm = doc ? strstr(doc, "\"/web2\"") : NULL;
        if (nm) {
                nm[5] = '3';
                is_int(berth_write_file_replace(docpath, doc, len, 0600, &err), 0,
                       "container.json replaced, same size");
                b = brief_one(&e, &v, &n);
                is_str(b ? eng_container_name(b) : "", "web3", "ps sees the name in it");
                eng_container_list_free(v, n);
        }

        ok(unlink(sumpath) == 0, "summary.json deleted");
        b = brief_one(&e, &v, &n);
        ok(b && !b->partial && strcmp(eng_container_status(b), "exited") == 0,
           "ps reads the records");
        eng_container_list_free(v, n);
        ok(access(sumpath, F_OK) == 0, "and writes the summary again");
        is_int(berth_write_file_replace(sumpath, "{\"Vers", 6, 0600, &err), 0,
               "summary.json damaged");
        b = brief_one(&e, &v, &n);
        ok(b && !b->partial && strcmp(eng_container_name(b), "web3") == 0, "ps reads the records");
        eng_container_list_free(v, n);
        b = brief_one(&e, &v, &n);
        ok(b && b->partial, "and the next one the mended summary");
        if (b) {
                is_int(eng_container_full(b, &err), 0, "eng_container_full");
                ok(!b->partial && json_object_get(b->doc, "LogPath") != NULL, "reads the rest");
        }
        eng_container_list_free(v, n);

        /* a half-removed record (container.json gone first) is not listed from its summary */
        ok(unlink(docpath) == 0, "container.json removed");
        berth_error_t lerr = NULL;
        ok(eng_container_list_brief(&e, &v, &n, &lerr) == 0 && n == 0,
           "the record is skipped, summary or not");
        eng_container_list_free(v, n);
        berth_error_release(&lerr);
        eng_container_free(c);
        eng_ctx_free(&e);
}

int main(void)
{
        test_codec();
        test_parse();
        char root[] = "/tmp/berth-test-summary-XXXXXX";
        if (mkdtemp(root) == NULL)
                return 1;
        test_records(root);
        cleanup_free char *cmd = berth_xasprintf("rm -rf %s", root);
        ok(system(cmd) == 0, "cleanup");
        return tap_done();
}
