/* links.c — legacy container links (see links.h). */
#include "engine/links.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "engine/lifecycle.h"

#define LINK_MAX_PORTS 4096

static char *links_index(struct eng_ctx *e, const char *child_id, const char *parent_id);

/* An index entry: the linked container's starts (and renames) refresh the linking one's
 * lines.  A failure is logged: the link itself still works until the linked one moves. */
static void links_index_add(struct eng_ctx *e, const char *child_id, const char *parent_id)
{
        cleanup_free char *f = links_index(e, child_id, parent_id);
        cleanup_free char *fdir = links_index(e, child_id, NULL);
        berth_error_t ignored = NULL;
        if (berth_mkdir_p(fdir, 0755, &ignored) < 0 ||
            berth_write_file_replace(f, "", 0, 0644, &ignored) < 0) {
                log_warn("%s", berth_error_msg(ignored));
                berth_error_release(&ignored);
        }
}

/* "NAME", "NAME:ALIAS" or the stored "/NAME:/PARENT/ALIAS": the name and alias without
 * slashes (malloc'ed); -1 on a malformed entry. */
static int link_split(const char *entry, char **name, char **alias)
{
        *name = *alias = NULL;
        if (entry == NULL || *entry == '\0')
                return -1;
        const char *colon = strchr(entry, ':');
        if (colon && strchr(colon + 1, ':'))
                return -1;
        const char *n = entry[0] == '/' ? entry + 1 : entry;
        size_t nlen = colon ? (size_t) (colon - n) : strlen(n);
        if (nlen == 0 || memchr(n, '/', nlen))
                return -1;
        const char *a = colon ? colon + 1 : n;
        size_t alen = colon ? strlen(a) : nlen;
        const char *slash = memrchr(a, '/', alen);
        if (slash) {
                alen -= (size_t) (slash + 1 - a);
                a = slash + 1;
        }
        if (alen == 0)
                return -1;
        for (size_t i = 0; i < alen; i++)
                if (!isalnum((unsigned char) a[i]) && strchr("_.-", a[i]) == NULL)
                        return -1;
        *name = berth_xasprintf("%.*s", (int) nlen, n);
        *alias = berth_xasprintf("%.*s", (int) alen, a);
        return 0;
}

static bool mode_is(json_t *hc, const char *what)
{
        const char *m = json_string_value(json_object_get(hc, "NetworkMode"));
        return m && (strcmp(m, what) == 0 ||
                     (what[strlen(what) - 1] == ':' && strncmp(m, what, strlen(what)) == 0));
}

int eng_links_prepare(struct eng_ctx *e, const char *parent_id, const char *parent, json_t *hc,
                      berth_error_t *err)
{
        json_t *links = json_object_get(hc, "Links");
        if (json_array_size(links) == 0)
                return 0;
        if (mode_is(hc, "host"))
                return berth_fail_status(err, 125, 0,
                                         "conflicting options: host type networking can't be "
                                         "used with links. This would result in undefined "
                                         "behavior");
        if (mode_is(hc, "container:"))
                return berth_fail_status(err, 125, 0,
                                         "conflicting options: container type network can't be "
                                         "used with links. This would result in undefined "
                                         "behavior");
        json_t *out = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(links, i, v)
        {
                cleanup_free char *name = NULL, *alias = NULL;
                const char *s = json_string_value(v);
                if (link_split(s, &name, &alias) < 0) {
                        json_decref(out);
                        return berth_fail_status(err, 125, 0, "invalid link: \"%s\"", s ? s : "");
                }
                struct eng_container *child = NULL;
                if (eng_container_find(e, name, &child, err) < 0) {
                        berth_error_release(err);
                        json_decref(out);
                        /* dockerd's words; 1 for create, 125 for run (cmd_run.c) */
                        return berth_fail_status(err, 125, 0,
                                                 "could not get container for %s: No such "
                                                 "container: %s",
                                                 name, name);
                }
                json_array_append_new(
                        out, json_sprintf("/%s:/%s/%s", eng_container_name(child), parent, alias));
                links_index_add(e, child->id, parent_id);
                eng_container_free(child);
        }
        json_object_set_new(hc, "Links", out);
        return 0;
}

struct link_port {
        int port;
        char proto[8];
};

static int port_cmp(const void *a, const void *b)
{
        const struct link_port *x = a, *y = b;
        if (x->port != y->port)
                return x->port < y->port ? -1 : 1;
        /* the same number: tcp first */
        bool xt = strcmp(x->proto, "tcp") == 0, yt = strcmp(y->proto, "tcp") == 0;
        if (xt != yt)
                return xt ? -1 : 1;
        return strcmp(x->proto, y->proto);
}

static void upper(char *s)
{
        for (; *s; s++)
                *s = (char) toupper((unsigned char) *s);
}

json_t *eng_links_env(const char *alias, const char *link_name, const char *ip,
                      json_t *exposed_ports, json_t *child_env)
{
        json_t *env = json_array();
        cleanup_free char *A = berth_xstrdup(alias);
        upper(A);
        for (char *p = A; *p; p++)
                if (*p == '-')
                        *p = '_';
        size_t n = 0, cap = json_object_size(exposed_ports);
        if (cap > LINK_MAX_PORTS)
                cap = LINK_MAX_PORTS;
        cleanup_free struct link_port *ports = berth_xmalloc((cap ? cap : 1) * sizeof(*ports));
        const char *k;
        json_t *v;
        json_object_foreach(exposed_ports, k, v)
        {
                if (n == cap)
                        break;
                char *end;
                long port = strtol(k, &end, 10);
                if (end == k || port <= 0 || port > 65535)
                        continue;
                const char *proto = *end == '/' ? end + 1 : "tcp";
                if (*proto == '\0' || strlen(proto) >= sizeof(ports[n].proto))
                        continue;
                ports[n].port = (int) port;
                snprintf(ports[n].proto, sizeof(ports[n].proto), "%s", proto);
                n++;
        }
        qsort(ports, n, sizeof(*ports), port_cmp);
        if (n > 0)
                json_array_append_new(env, json_sprintf("%s_PORT=%s://%s:%d", A, ports[0].proto, ip,
                                                        ports[0].port));
        /* runs of consecutive port numbers also get _START and _END variables */
        for (size_t i = 0; i < n;) {
                size_t j = i;
                while (j + 1 < n && ports[j + 1].port == ports[j].port + 1)
                        j++;
                if (j > i + 1) {
                        char P[8];
                        snprintf(P, sizeof(P), "%s", ports[i].proto);
                        upper(P);
                        char Q[8];
                        snprintf(Q, sizeof(Q), "%s", ports[j].proto);
                        upper(Q);
                        int p = ports[i].port;
                        json_array_append_new(env, json_sprintf("%s_PORT_%d_%s_START=%s://%s:%d", A,
                                                                p, P, ports[i].proto, ip, p));
                        json_array_append_new(env,
                                              json_sprintf("%s_PORT_%d_%s_ADDR=%s", A, p, P, ip));
                        json_array_append_new(env, json_sprintf("%s_PORT_%d_%s_PROTO=%s", A, p, P,
                                                                ports[i].proto));
                        json_array_append_new(
                                env, json_sprintf("%s_PORT_%d_%s_PORT_START=%d", A, p, P, p));
                        json_array_append_new(env,
                                              json_sprintf("%s_PORT_%d_%s_END=%s://%s:%d", A, p, Q,
                                                           ports[j].proto, ip, ports[j].port));
                        json_array_append_new(env, json_sprintf("%s_PORT_%d_%s_PORT_END=%d", A, p,
                                                                Q, ports[j].port));
                        i = j + 1;
                } else {
                        i++;
                }
        }
        for (size_t i = 0; i < n; i++) {
                char P[8];
                snprintf(P, sizeof(P), "%s", ports[i].proto);
                upper(P);
                int p = ports[i].port;
                json_array_append_new(env, json_sprintf("%s_PORT_%d_%s=%s://%s:%d", A, p, P,
                                                        ports[i].proto, ip, p));
                json_array_append_new(env, json_sprintf("%s_PORT_%d_%s_ADDR=%s", A, p, P, ip));
                json_array_append_new(env, json_sprintf("%s_PORT_%d_%s_PORT=%d", A, p, P, p));
                json_array_append_new(
                        env, json_sprintf("%s_PORT_%d_%s_PROTO=%s", A, p, P, ports[i].proto));
        }
        json_array_append_new(env, json_sprintf("%s_NAME=%s", A, link_name));
        size_t i;
        json_array_foreach(child_env, i, v)
        {
                const char *s = json_string_value(v);
                const char *eq = s ? strchr(s, '=') : NULL;
                if (eq == NULL)
                        continue;
                size_t kl = (size_t) (eq - s);
                /* what a build sets, of no use to the linking container */
                if ((kl == 4 && strncmp(s, "HOME", 4) == 0) ||
                    (kl == 4 && strncmp(s, "PATH", 4) == 0))
                        continue;
                json_array_append_new(env, json_sprintf("%s_ENV_%.*s=%s", A, (int) kl, s, eq + 1));
        }
        return env;
}

static bool env_named(json_t *env, const char *kv)
{
        const char *eq = strchr(kv, '=');
        size_t kl = eq ? (size_t) (eq - kv) : strlen(kv);
        size_t i;
        json_t *v;
        json_array_foreach(env, i, v)
        {
                const char *s = json_string_value(v);
                if (s && strncmp(s, kv, kl) == 0 && (s[kl] == '=' || s[kl] == '\0'))
                        return true;
        }
        return false;
}

static bool in_list(json_t *list, const char *s)
{
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v)
        {
                if (json_string_value(v) && strcmp(json_string_value(v), s) == 0)
                        return true;
        }
        return false;
}

/* /etc/hosts without the lines of an earlier start (old), with the new ones.  in_place: the
 * container runs and has the file bind-mounted, so the same inode is rewritten (a rename
 * would leave the container with the old file). */
static int hosts_replace(const char *path, json_t *old, json_t *lines, bool in_place,
                         berth_error_t *err)
{
        cleanup_free char *text = NULL;
        if (path == NULL || berth_read_file(path, &text, NULL, NULL) < 0)
                return 0;
        size_t cap = strlen(text) + 2, len = 0;
        json_t *v;
        size_t i;
        json_array_foreach(lines, i, v)
        {
                cap += strlen(json_string_value(v)) + 1;
        }
        cleanup_free char *out = berth_xmalloc(cap);
        out[0] = '\0';
        char *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (in_list(old, l))
                        continue;
                len += (size_t) snprintf(out + len, cap - len, "%s\n", l);
        }
        json_array_foreach(lines, i, v)
        {
                len += (size_t) snprintf(out + len, cap - len, "%s\n", json_string_value(v));
        }
        if (!in_place)
                return berth_write_file_replace(path, out, len, 0644, err);
        cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || ftruncate(fd, 0) < 0 || berth_write_all(fd, out, len) < 0)
                return berth_fail(err, errno, "rewrite `%s`", path);
        return 0;
}

/* The bundle's process.env without the variables of an earlier start (old), with env's
 * where the container does not set the name itself. */
static int bundle_env(struct eng_container *c, json_t *old, json_t *env, berth_error_t *err)
{
        cleanup_free char *path = berth_path_join(c->run_dir, "config.json");
        json_error_t je;
        json_t *spec = json_load_file(path, JSON_PRESERVE_ORDER, &je);
        if (spec == NULL)
                return berth_fail(err, EINVAL, "read `%s`: %s", path, je.text);
        json_t *proc = json_object_get(spec, "process");
        json_t *penv = json_object_get(proc, "env");
        json_t *next = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(penv, i, v)
        {
                if (!in_list(old, json_string_value(v)))
                        json_array_append(next, v);
        }
        json_t *mine = json_object_get(json_object_get(c->doc, "Config"), "Env");
        json_array_foreach(env, i, v)
        {
                const char *s = json_string_value(v);
                if (!env_named(mine, s) && !env_named(next, s))
                        json_array_append(next, v);
        }
        json_object_set_new(proc, "env", next);
        cleanup_free char *text = json_dumps(spec, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(spec);
        if (text == NULL)
                return berth_fail(err, ENOMEM, "serialize config.json");
        return berth_write_file_replace(path, text, strlen(text), 0600, err);
}

/* The /etc/hosts lines and variables of c's links (new arrays).  strict (a start): a linked
 * container that is gone or not running is an error; otherwise (refreshing a running
 * container's lines) it is left out. */
static int links_compute(struct eng_ctx *e, struct eng_container *c, bool strict, json_t **hosts_p,
                         json_t **env_p, berth_error_t *err)
{
        json_t *hc = json_object_get(c->doc, "HostConfig");
        json_t *links = json_object_get(hc, "Links");
        const char *mode = json_string_value(json_object_get(hc, "NetworkMode"));
        bool bridge = mode == NULL || *mode == '\0' || strcmp(mode, "default") == 0 ||
                      strcmp(mode, "bridge") == 0;
        const char *net = bridge ? "bridge" : mode;
        if (bridge && e->rootless && json_array_size(links) > 0)
                return berth_fail_status(err, 125, 0,
                                         "links on the default network: rootless berth gives each "
                                         "container a slirp4netns of its own there, with no "
                                         "bridge between containers; use a user-defined network");
        json_t *hosts = json_array(), *env = json_array();
        int r = 0;
        size_t i;
        json_t *v;
        json_array_foreach(links, i, v)
        {
                cleanup_free char *name = NULL, *alias = NULL;
                if (link_split(json_string_value(v), &name, &alias) < 0)
                        continue; /* prepared at create */
                struct eng_container *child = NULL;
                if (eng_container_find(e, name, &child, err) < 0) {
                        berth_error_release(err);
                        if (!strict)
                                continue;
                        r = berth_fail_status(err, 125, 0, "could not get container for %s", name);
                        break;
                }
                /* a refresh runs under the lock of the container just started, which may be
                 * this one: its record as it is (stopped ones have no address in it) */
                if (strict)
                        eng_reconcile(e, child, NULL);
                const char *cname = eng_container_name(child);
                cleanup_free char *link_name =
                        berth_xasprintf("/%s/%s", eng_container_name(c), alias);
                json_t *ep = json_object_get(
                        json_object_get(json_object_get(child->doc, "NetworkSettings"), "Networks"),
                        net);
                const char *ip = json_string_value(json_object_get(ep, "IPAddress"));
                const char *ip6 = json_string_value(json_object_get(ep, "GlobalIPv6Address"));
                bool live = strcmp(eng_container_status(child), "running") == 0 ||
                            strcmp(eng_container_status(child), "paused") == 0;
                if (!live && strict) {
                        r = berth_fail_status(err, 125, 0,
                                              "Cannot link to a non running container: /%s AS %s",
                                              cname, link_name);
                } else if (bridge && (ip == NULL || *ip == '\0') && strict) {
                        r = berth_fail_status(err, 125, 0,
                                              "Cannot link to /%s, as it does not belong to the "
                                              "default network",
                                              cname);
                } else if ((live || !strict) && ip && *ip) {
                        json_t *config = json_object_get(child->doc, "Config");
                        const char *hn = json_string_value(json_object_get(config, "Hostname"));
                        /* the alias, the linked container's hostname, and its name unless
                         * that is the alias (Docker's order); on a user network the alias */
                        cleanup_free char *names =
                                !bridge ? berth_xstrdup(alias)
                                : strcmp(alias, cname) == 0
                                        ? berth_xasprintf("%s %s", alias, hn ? hn : "")
                                        : berth_xasprintf("%s %s %s", alias, hn ? hn : "", cname);
                        json_array_append_new(hosts, json_sprintf("%s\t%s", ip, names));
                        if (ip6 && *ip6)
                                json_array_append_new(hosts, json_sprintf("%s\t%s", ip6, names));
                        if (bridge) {
                                json_t *le = eng_links_env(alias, link_name, ip,
                                                           json_object_get(config, "ExposedPorts"),
                                                           json_object_get(config, "Env"));
                                json_array_extend(env, le);
                                json_decref(le);
                        }
                }
                /* else: a user network the linked container is not on; Docker's alias then
                 * resolves to nothing either */
                eng_container_free(child);
                if (r < 0)
                        break;
        }
        /* `network connect --link` (the endpoint's Links, "NAME[:ALIAS]"): a name for this
         * container only, on that network; a linked container that is gone, stopped or not on
         * the network gives no line, as Docker's alias then resolves to nothing */
        const char *net_k;
        json_t *ep_v;
        json_object_foreach(
                r < 0 ? NULL
                      : json_object_get(json_object_get(c->doc, "NetworkSettings"), "Networks"),
                net_k, ep_v)
        {
                /* the default bridge's are stored only, as dockerd 20.10 does */
                json_array_foreach(
                        strcmp(net_k, "bridge") == 0 ? NULL : json_object_get(ep_v, "Links"), i, v)
                {
                        cleanup_free char *name = NULL, *alias = NULL;
                        if (link_split(json_string_value(v), &name, &alias) < 0)
                                continue; /* checked at connect */
                        struct eng_container *child = NULL;
                        berth_error_t ignored = NULL;
                        if (eng_container_find(e, name, &child, &ignored) < 0) {
                                berth_error_release(&ignored);
                                continue;
                        }
                        json_t *cep = json_object_get(
                                json_object_get(json_object_get(child->doc, "NetworkSettings"),
                                                "Networks"),
                                net_k);
                        const char *ip = json_string_value(json_object_get(cep, "IPAddress"));
                        const char *ip6 =
                                json_string_value(json_object_get(cep, "GlobalIPv6Address"));
                        /* a refresh comes from the linked container's start, before its
                         * record says it runs; a stopped one has no address in its record */
                        const char *st = eng_container_status(child);
                        bool live =
                                !strict || strcmp(st, "running") == 0 || strcmp(st, "paused") == 0;
                        if (live && ip && *ip)
                                json_array_append_new(hosts, json_sprintf("%s\t%s", ip, alias));
                        if (live && ip6 && *ip6)
                                json_array_append_new(hosts, json_sprintf("%s\t%s", ip6, alias));
                        eng_container_free(child);
                }
        }
        if (r < 0) {
                json_decref(hosts);
                json_decref(env);
                return -1;
        }
        *hosts_p = hosts;
        *env_p = env;
        return 0;
}

/* <data>/links/<child-id>/<parent-id>: who links to a container, so that its start can
 * refresh their /etc/hosts lines without reading every record. */
static char *links_index(struct eng_ctx *e, const char *child_id, const char *parent_id)
{
        return parent_id ? berth_xasprintf("%s/links/%s/%s", e->data_dir, child_id, parent_id)
                         : berth_xasprintf("%s/links/%s", e->data_dir, child_id);
}

/* Whether one of c's endpoints has links of `network connect --link`. */
static bool endpoint_links(struct eng_container *c)
{
        const char *k;
        json_t *ep;
        json_object_foreach(json_object_get(json_object_get(c->doc, "NetworkSettings"), "Networks"),
                            k, ep)
        {
                if (json_array_size(json_object_get(ep, "Links")) > 0)
                        return true;
        }
        return false;
}

int eng_links_apply(struct eng_ctx *e, struct eng_container *c, berth_error_t *err)
{
        json_t *hc = json_object_get(c->doc, "HostConfig");
        json_t *links = json_object_get(hc, "Links");
        json_t *old_hosts = json_object_get(c->state, "BerthLinkHosts");
        json_t *old_env = json_object_get(c->state, "BerthLinkEnv");
        if (json_array_size(links) == 0 && old_hosts == NULL && old_env == NULL &&
            !endpoint_links(c))
                return 0;
        json_t *hosts = NULL, *env = NULL;
        if (links_compute(e, c, true, &hosts, &env, err) < 0)
                return -1;
        const char *hosts_path = json_string_value(json_object_get(c->doc, "HostsPath"));
        int r = hosts_replace(hosts_path, old_hosts, hosts, false, err);
        if (r == 0)
                r = bundle_env(c, old_env, env, err);
        if (r == 0) {
                json_object_set(c->state, "BerthLinkHosts", hosts);
                json_object_set(c->state, "BerthLinkEnv", env);
                r = eng_container_save_state(c, err);
        }
        json_decref(hosts);
        json_decref(env);
        return r;
}

int eng_links_update(struct eng_ctx *e, struct eng_container *p, berth_error_t *err)
{
        const char *st = eng_container_status(p);
        if (strcmp(st, "running") != 0 && strcmp(st, "paused") != 0)
                return 0; /* its next start writes them */
        json_t *old = json_object_get(p->state, "BerthLinkHosts");
        const char *path = json_string_value(json_object_get(p->doc, "HostsPath"));
        json_t *hosts = NULL, *env = NULL;
        int r = links_compute(e, p, false, &hosts, &env, err);
        /* a running process keeps its variables: only the lines change */
        if (r == 0 && !json_equal(old, hosts)) {
                r = hosts_replace(path, old, hosts, true, err);
                if (r == 0) {
                        json_object_set(p->state, "BerthLinkHosts", hosts);
                        r = eng_container_save_state(p, err);
                }
        }
        json_decref(hosts);
        json_decref(env);
        return r;
}

int eng_links_connect(struct eng_ctx *e, struct eng_container *c, bool user_network, json_t *links,
                      berth_error_t *err)
{
        if (json_array_size(links) == 0)
                return 0;
        size_t i;
        json_t *v;
        json_array_foreach(links, i, v)
        {
                cleanup_free char *name = NULL, *alias = NULL;
                const char *s = json_string_value(v);
                if (link_split(s, &name, &alias) < 0)
                        return berth_fail_status(err, 1, EINVAL, "bad format for links: %s",
                                                 s ? s : "");
                /* dockerd 20.10 takes a link to no container (its alias resolves to
                 * nothing): no index entry, the line comes at c's next start if NAME is
                 * there then */
                struct eng_container *child = NULL;
                if (eng_container_find(e, name, &child, err) < 0) {
                        berth_error_release(err);
                        continue;
                }
                /* on the default bridge dockerd 20.10 keeps them in the record and makes
                 * nothing of them (no line, no variable): no index entry either */
                if (user_network)
                        links_index_add(e, child->id, c->id);
                eng_container_free(child);
        }
        return 0;
}

/* The stored "/NAME:/PARENT/ALIAS" naming old: the same with name instead (new); NULL when
 * the entry names another container. */
static char *link_renamed(const char *entry, const char *old, const char *name)
{
        size_t ol = strlen(old);
        if (entry == NULL || entry[0] != '/' || strncmp(entry + 1, old, ol) != 0 ||
            entry[1 + ol] != ':')
                return NULL;
        return berth_xasprintf("/%s%s", name, entry + 1 + ol);
}

static bool links_rename_in(json_t *links, const char *old, const char *name)
{
        bool changed = false;
        size_t i;
        json_t *v;
        json_array_foreach(links, i, v)
        {
                cleanup_free char *next = link_renamed(json_string_value(v), old, name);
                if (next) {
                        json_array_set_new(links, i, json_string(next));
                        changed = true;
                }
        }
        return changed;
}

/* Each container that links to c, found (entries of removed ones are dropped): fn with it,
 * its error logged; self: c's own entry too (a container linking to itself). */
static void each_linking(struct eng_ctx *e, struct eng_container *c, bool self,
                         void (*fn)(struct eng_ctx *e, struct eng_container *c,
                                    struct eng_container *p, const void *arg, berth_error_t *err),
                         const void *arg)
{
        cleanup_free char *dir = links_index(e, c->id, NULL);
        cleanup_dir DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.' || (!self && strcmp(de->d_name, c->id) == 0))
                        continue;
                struct eng_container *p = NULL;
                berth_error_t er = NULL;
                if (eng_container_find(e, de->d_name, &p, &er) < 0) {
                        /* the linking container is gone: so is its entry */
                        berth_error_release(&er);
                        cleanup_free char *f = links_index(e, c->id, de->d_name);
                        unlink(f);
                        continue;
                }
                fn(e, c, p, arg, &er);
                if (er) {
                        log_warn("links of %.12s: %s", p->id, berth_error_msg(er));
                        berth_error_release(&er);
                }
                eng_container_free(p);
        }
}

static void rename_in(struct eng_ctx *e, struct eng_container *c, struct eng_container *p,
                      const void *arg, berth_error_t *er)
{
        (void) e;
        /* a container linking to itself: the caller holds its lock, and its record is c's */
        bool self = strcmp(p->id, c->id) == 0;
        struct eng_container *t = self ? c : p;
        if (!self && eng_container_lock(p, er) < 0)
                return;
        /* HostConfig.Links only: dockerd 20.10 keeps an endpoint's Links (network connect
         * --link) as they were given.  The record only: dockerd 20.10 leaves a running
         * container's /etc/hosts as it is (the alias's address is still right); its next
         * start writes the new name. */
        if (links_rename_in(json_object_get(json_object_get(t->doc, "HostConfig"), "Links"), arg,
                            eng_container_name(c)))
                eng_container_save(t, er);
        if (!self)
                eng_container_unlock(p);
}

void eng_links_renamed(struct eng_ctx *e, struct eng_container *c, const char *old)
{
        each_linking(e, c, true, rename_in, old);
}

static void refresh_one(struct eng_ctx *e, struct eng_container *c, struct eng_container *p,
                        const void *arg, berth_error_t *er)
{
        (void) c;
        (void) arg;
        if (eng_container_lock(p, er) == 0) {
                eng_links_update(e, p, er);
                eng_container_unlock(p);
        }
}

void eng_links_refresh_parents(struct eng_ctx *e, struct eng_container *c)
{
        each_linking(e, c, false, refresh_one, NULL);
}

void eng_links_forget(struct eng_ctx *e, const char *id)
{
        cleanup_free char *dir = links_index(e, id, NULL);
        cleanup_dir DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                cleanup_free char *f = links_index(e, id, de->d_name);
                unlink(f);
        }
        rmdir(dir);
}
