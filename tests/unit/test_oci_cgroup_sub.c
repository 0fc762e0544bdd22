/* test_oci_cgroup_sub.c — `exec --cgroup` values: runc's forms, which hierarchy gets which
 * sub path, and the v2 backend joining one on a fake tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "oci/cgroup.h"
#include "tap.h"

static int parse(const char *a, const char *b, struct oci_cg_subs *s, char **msg)
{
        char *args[] = {berth_xstrdup(a), b ? berth_xstrdup(b) : NULL};
        berth_error_t err = NULL;
        int r = oci_cg_subs_parse(args, b ? 2 : 1, s, &err);
        free(args[0]);
        free(args[1]);
        *msg = r < 0 ? berth_xstrdup(berth_error_msg(err)) : NULL;
        berth_error_release(&err);
        return r;
}

static void fails(const char *a, const char *b, const char *want)
{
        struct oci_cg_subs s;
        char *msg;
        ok(parse(a, b, &s, &msg) < 0, want);
        is_str(msg, want, "its message");
        free(msg);
}

int main(void)
{
        struct oci_cg_subs s;
        char *msg;
        berth_error_t err = NULL;

        ok(parse("foo", NULL, &s, &msg) == 0 && s.n == 1 && *s.v[0].ctrl == 0, "a plain PATH");
        is_str(oci_cg_subs_for(&s, "memory"), "foo", "a plain PATH is every controller's");
        is_str(oci_cg_subs_for(&s, "unified"), "foo", "the hybrid unified one's too");
        oci_cg_subs_free(&s);

        ok(parse("cpu,memory:a", "pids:b", &s, &msg) == 0 && s.n == 3, "controller lists");
        is_str(oci_cg_subs_for(&s, "cpu,cpuacct"), "a", "cpu matches the cpu,cpuacct hierarchy");
        is_str(oci_cg_subs_for(&s, "memory"), "a", "the second of a list");
        is_str(oci_cg_subs_for(&s, "pids"), "b", "a second --cgroup");
        ok(oci_cg_subs_for(&s, "cpuacct") == NULL, "an unnamed controller stays put");
        ok(oci_cg_subs_for(&s, "unified") == NULL, "unified only through a plain PATH");
        char h0[] = "cpu,cpuacct", h1[] = "memory", h2[] = "pids", h3[] = "unified";
        char *h[] = {h0, h1, h2, h3, NULL};
        ok(oci_cg_subs_check(&s, h, &err) == 0, "every controller is mounted");
        oci_cg_subs_free(&s);

        ok(parse("memory:a", "memory:b", &s, &msg) == 0 && s.n == 1, "a repeated controller");
        is_str(oci_cg_subs_for(&s, "memory"), "b", "the later one wins, as runc's map");
        oci_cg_subs_free(&s);

        ok(parse("name=systemd:x", NULL, &s, &msg) == 0, "a named hierarchy");
        is_str(oci_cg_subs_for(&s, "systemd"), "x", "name=systemd is the systemd directory");
        oci_cg_subs_free(&s);

        ok(parse("bogus:x", NULL, &s, &msg) == 0, "an unknown controller parses");
        ok(oci_cg_subs_check(&s, h, &err) < 0, "but is refused against the hierarchies");
        is_str(berth_error_msg(err), "unknown controller bogus in --cgroup", "with its name");
        berth_error_release(&err);
        oci_cg_subs_free(&s);
        ok(parse("unified:x", NULL, &s, &msg) == 0 && oci_cg_subs_check(&s, h, &err) < 0,
           "unified is no controller name (runc's neither)");
        berth_error_release(&err);
        oci_cg_subs_free(&s);

        fails("a:b:c", NULL, "invalid --cgroup argument: a:b:c");
        fails("foo", "memory:bar", "invalid --cgroup argument: foo (missing <controller>: prefix)");
        fails("../x", NULL,
              "invalid --cgroup argument: ../x (`..` would leave the container's cgroup)");
        fails("memory:a/..", NULL,
              "invalid --cgroup argument: memory:a/.. (`..` would leave the container's cgroup)");
        ok(parse("a..b", NULL, &s, &msg) == 0, "`..` inside a name is fine");
        oci_cg_subs_free(&s);

        char *j = oci_cg_subs_join("/cg/c", "/");
        is_str(j, "/cg/c", "\"/\" is the container's cgroup itself");
        free(j);
        j = oci_cg_subs_join("/cg/c", "//x/y");
        is_str(j, "/cg/c/x/y", "leading slashes dropped");
        free(j);

        /* v2 on a fake tree: the plain form joins the sub-cgroup, a controller form is refused */
        char tmpl[] = "/tmp/berth-cgsub-XXXXXX";
        char *root = mkdtemp(tmpl);
        char *d = berth_xasprintf("%s/c/sub", root);
        berth_mkdir_p(d, 0755, &err);
        char *procs = berth_xasprintf("%s/cgroup.procs", d);
        fclose(fopen(procs, "w"));
        struct oci_cgroup cg;
        oci_cgroup_init(&cg, &oci_cgroup_v2_ops, root, "/c");
        parse("sub", NULL, &s, &msg);
        ok(cg.ops->enter_sub(&cg, 77, &s, &err) == 0, "v2: enter a sub-cgroup");
        char *v = NULL;
        size_t len;
        berth_read_file(procs, &v, &len, &err);
        is_str(v, "77", "v2: the pid went to c/sub");
        free(v);
        oci_cg_subs_free(&s);
        parse("memory:sub", NULL, &s, &msg);
        ok(cg.ops->enter_sub(&cg, 77, &s, &err) < 0, "v2: controller:path refused");
        berth_error_release(&err);
        oci_cg_subs_free(&s);
        oci_cgroup_release(&cg);
        unlink(procs);
        rmdir(d);
        free(d);
        d = berth_xasprintf("%s/c", root);
        rmdir(d);
        rmdir(root);
        free(d);
        free(procs);
        return tap_done();
}
