/* test_template.c — Docker's --format: fields, functions, blocks, variables,
 * tables, and clear errors for bad templates and unknown fields. */
#include <stdlib.h>
#include <string.h>

#include "common/template.h"
#include "tap.h"

static json_t *data;

static void render(const char *tmpl, const char *want)
{
        struct berth_tmpl *t = NULL;
        berth_error_t err = NULL;
        char *out = NULL;
        char name[200];
        snprintf(name, sizeof(name), "%s", tmpl);
        if (berth_tmpl_parse(tmpl, &t, &err) < 0 || berth_tmpl_exec(t, data, &out, &err) < 0) {
                ok(0, name);
                printf("#   error: %s\n", berth_error_msg(err));
        } else {
                is_str(out, want, name);
        }
        free(out);
        berth_tmpl_free(t);
        berth_error_release(&err);
}

static void fails(const char *tmpl, const char *needle)
{
        struct berth_tmpl *t = NULL;
        berth_error_t err = NULL;
        char *out = NULL;
        char name[200];
        snprintf(name, sizeof(name), "refused: %s", tmpl);
        int r = berth_tmpl_parse(tmpl, &t, &err);
        if (r == 0)
                r = berth_tmpl_exec(t, data, &out, &err);
        ok(r < 0 && err && strstr(berth_error_msg(err), needle) && err->status == 1,
           name); /* docker ps/inspect --format: 1 */
        if (err && !strstr(berth_error_msg(err), needle))
                printf("#   got: %s\n", berth_error_msg(err));
        free(out);
        berth_tmpl_free(t);
        berth_error_release(&err);
}

int main(void)
{
        data = json_loads("{\"ID\":\"4f2a9c\",\"Names\":\"web\",\"State\":{\"Pid\":42,"
                          "\"Running\":true,\"ExitCode\":0},\"Config\":{\"Env\":[\"A=1\",\"B=2\"],"
                          "\"Labels\":{\"tier\":\"front\",\"app\":\"shop\"}},\"Mounts\":[],"
                          "\"Size\":1.5,\"Nil\":null}",
                          0, NULL);
        render("{{.ID}}", "4f2a9c");
        render("{{.State.Pid}}", "42");
        render("id={{ .ID }} name={{.Names}}", "id=4f2a9c name=web");
        render("{{.Config.Env}}", "[A=1 B=2]");
        render("{{.Config.Labels}}", "map[app:shop tier:front]");
        render("{{json .Config.Env}}", "[\"A=1\",\"B=2\"]");
        render("{{json .State}}", "{\"Pid\":42,\"Running\":true,\"ExitCode\":0}");
        render("{{.Config.Env | json}}", "[\"A=1\",\"B=2\"]");
        render("{{index .Config.Labels \"tier\"}}", "front");
        render("{{index .Config.Env 1}}", "B=2");
        render("{{index .Config.Labels \"nope\"}}", "<nil>");
        render("{{join .Config.Env \",\"}}", "A=1,B=2");
        render("{{upper .Names}} {{lower \"ABC\"}} {{title \"hello world\"}}",
               "WEB abc Hello World");
        render("{{len .Config.Env}}", "2");
        render("{{if .State.Running}}up{{else}}down{{end}}", "up");
        render("{{if .Mounts}}m{{else}}none{{end}}", "none");
        render("{{if eq .State.ExitCode 0}}ok{{end}}", "ok");
        render("{{if and .State.Running (not .Mounts)}}yes{{end}}", "yes");
        render("{{range .Config.Env}}[{{.}}]{{end}}", "[A=1][B=2]");
        render("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "app=shop;tier=front;");
        render("{{range $e := .Config.Env}}{{$e}} {{end}}", "A=1 B=2 ");
        render("{{range .Mounts}}x{{else}}empty{{end}}", "empty");
        render("{{with .State}}{{.Pid}}{{end}}", "42");
        render("{{range .Config.Env}}{{$.Names}}:{{.}} {{end}}", "web:A=1 web:B=2 ");
        render("{{printf \"%-6s|%3d|%.2s\" .Names .State.Pid \"abc\"}}", "web   | 42|ab");
        render("{{truncate .ID 3}}", "4f2");
        render("{{pad .Names 1 2}}|", " web  |");
        render("{{split \"a:b:c\" \":\"}}", "[a b c]");
        render("{{.Size}} {{.Nil}}", "1.5 <nil>");
        render("a  {{- .Names -}}  b", "awebb");
        render("{{/* a comment */}}x", "x");
        render("{{.ID}}\\t{{.Names}}", "4f2a9c\tweb");
        render("{{println .Names}}", "web\n");

        fails("{{.Nope}}", "can't evaluate field Nope");
        fails("{{.ID.Sub}}", "in type string");
        fails("{{nofunc .ID}}", "function \"nofunc\" not defined");
        fails("{{.ID", "unclosed action");
        fails("{{if .ID}}x", "missing {{end}}");
        fails("{{end}}", "unexpected {{end}}");
        fails("{{range .ID}}x{{end}}", "range can't iterate over string");
        fails("{{\"abc}}", "unterminated string");
        fails("{{$x}}", "undefined variable $x");
        fails("{{.ID .Names}}", "non-function");

        /* list output */
        json_t *rows = json_loads(
                "[{\"ID\":\"a1\",\"Names\":\"web\"},{\"ID\":\"b22222\",\"Names\":\"db\"}]", 0,
                NULL);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        berth_tmpl_print_rows("table {{.ID}}\\t{{.Names}}", rows, NULL, f, NULL);
        fclose(f);
        is_str(buf, "ID        NAMES\na1        web\nb22222    db\n",
               "table: header row and aligned columns");
        free(buf);
        f = open_memstream(&buf, &len);
        berth_tmpl_print_rows("{{.Names}}", rows, NULL, f, NULL);
        fclose(f);
        is_str(buf, "web\ndb\n", "plain template: one line per row, no header");
        free(buf);
        f = open_memstream(&buf, &len);
        berth_tmpl_print_rows("json", rows, NULL, f, NULL);
        fclose(f);
        is_str(buf, "{\"ID\":\"a1\",\"Names\":\"web\"}\n{\"ID\":\"b22222\",\"Names\":\"db\"}\n",
               "json: one object per line");
        free(buf);
        json_decref(rows);

        /* `.Label "KEY"` on a list row, whose Labels is "k=v,k2=v2" (Docker's ps context) */
        json_decref(data);
        data = json_loads("{\"Names\":\"web\",\"Labels\":\"a=1,tier=front,e=,x=y=z\","
                          "\"Sub\":{\"Labels\":\"k=v\"}}",
                          0, NULL);
        render("{{.Label \"a\"}}|{{.Label \"tier\"}}", "1|front");
        render("[{{.Label \"e\"}}][{{.Label \"nope\"}}][{{.Label \"tie\"}}]", "[][][]");
        render("{{.Label \"x\"}}", "y=z");
        render("{{.Sub.Label \"k\"}}", "v");
        render("{{\"tier\" | .Label}}", "front");
        render("{{if eq (.Label \"a\") \"1\"}}one{{end}}", "one");
        fails("{{.Label \"a\" \"b\"}}", "wrong number of args for Label: want 1 got 2");
        fails("{{.Label 1}}", "wrong type for value; expected string; got int");
        fails("{{.Names \"a\"}}", "can't give argument to non-function");
        json_decref(data);
        return tap_done();
}
