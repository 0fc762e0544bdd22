/* cmd_network.c — `berth network create|ls|inspect|rm|prune|connect|disconnect`: argv and
 * printing; the records, filters and inspect documents are src/net's (network.h,
 * network_query.h), a container's attachments the engine's (engine/network.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/template.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/container.h"
#include "engine/network.h"
#include "net/network.h"
#include "net/network_query.h"

static const char *str_of(json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

/* "K=V" (or "K", an empty value) into obj. */
static void kv_into(json_t *obj, const char *kv)
{
        const char *eq = strchr(kv, '=');
        cleanup_free char *k =
                eq ? berth_xasprintf("%.*s", (int) (eq - kv), kv) : berth_xstrdup(kv);
        json_object_set_new(obj, k, json_string(eq ? eq + 1 : ""));
}

/* ---- create ---- */

static void create_usage(void)
{
        printf("Usage: berth network create [OPTIONS] NETWORK\n"
               "\n"
               "Create a network\n"
               "\n"
               "Options:\n"
               "      --attachable           Enable manual container attachment\n"
               "  -d, --driver string        Driver to manage the Network (default \"bridge\")\n"
               "      --gateway strings      IPv4 or IPv6 Gateway for the master subnet\n"
               "      --internal             Restrict external access to the network\n"
               "      --ip-range strings     Allocate container ip from a sub-range\n"
               "      --ipv6                 Enable IPv6 networking\n"
               "      --label list           Set metadata on a network\n"
               "  -o, --opt map              Set driver specific options (default map[])\n"
               "      --subnet strings       Subnet in CIDR format that represents a network "
               "segment\n");
}

/* One IPv4 and one IPv6 value each: the family decides which. */
static int set_family(const char **v4, const char **v6, const char *val, const char *what,
                      berth_error_t *err)
{
        const char **slot = strchr(val, ':') ? v6 : v4;
        if (*slot)
                return cli_usage_error(err, "network create",
                                       "one IPv4 and one IPv6 %s per network: %s and %s", what,
                                       *slot, val);
        *slot = val;
        return 0;
}

static int net_create(struct net_ctx *n, int argc, char **argv, berth_error_t *err)
{
        enum { O_ATTACHABLE = 256, O_GATEWAY, O_INTERNAL, O_IP_RANGE, O_IPV6, O_LABEL, O_SUBNET };
        static const struct option opts[] = {{"attachable", no_argument, NULL, O_ATTACHABLE},
                                             {"driver", required_argument, NULL, 'd'},
                                             {"gateway", required_argument, NULL, O_GATEWAY},
                                             {"internal", no_argument, NULL, O_INTERNAL},
                                             {"ip-range", required_argument, NULL, O_IP_RANGE},
                                             {"ipv6", no_argument, NULL, O_IPV6},
                                             {"label", required_argument, NULL, O_LABEL},
                                             {"opt", required_argument, NULL, 'o'},
                                             {"subnet", required_argument, NULL, O_SUBNET},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        struct net_create_opts o = {0};
        const char *range6 = NULL;
        json_t *labels = json_object(), *options = json_object();
        int c, r = -1;
        while ((c = getopt_long(argc, argv, "d:o:h", opts, NULL)) != -1) {
                switch (c) {
                case O_ATTACHABLE:
                        o.attachable = true;
                        break;
                case 'd':
                        o.driver = optarg;
                        break;
                case O_GATEWAY:
                        if (set_family(&o.gateway, &o.gateway6, optarg, "gateway", err) < 0)
                                goto out;
                        break;
                case O_INTERNAL:
                        o.internal = true;
                        break;
                case O_IP_RANGE:
                        if (set_family(&o.ip_range, &range6, optarg, "ip-range", err) < 0)
                                goto out;
                        break;
                case O_IPV6:
                        o.ipv6 = true;
                        break;
                case O_LABEL:
                        kv_into(labels, optarg);
                        break;
                case 'o':
                        kv_into(options, optarg);
                        break;
                case O_SUBNET:
                        if (set_family(&o.subnet, &o.subnet6, optarg, "subnet", err) < 0)
                                goto out;
                        break;
                case 'h':
                        create_usage();
                        r = 0;
                        goto out;
                default:
                        cli_usage_error(err, "network create", "invalid option");
                        goto out;
                }
        }
        if (argc - optind != 1) {
                cli_args_error(err, "network create", "1 argument");
                goto out;
        }
        if (range6) {
                berth_fail_status(err, 1, 0, "an IPv6 --ip-range is not supported: %s", range6);
                goto out;
        }
        o.name = argv[optind];
        o.labels = labels;
        o.options = options;
        json_t *doc;
        if (net_network_create(n, &o, &doc, err) == 0) {
                printf("%s\n", str_of(doc, "Id"));
                json_decref(doc);
                r = 0;
        }
out:
        json_decref(labels);
        json_decref(options);
        return r;
}

/* ---- ls ---- */

/* --filter K=V into {"K": ["V", …]}, the filters of net_network_list_filtered. */
static int filter_add(json_t *by_key, const char *arg, berth_error_t *err)
{
        const char *eq = strchr(arg, '=');
        if (eq == NULL)
                return berth_fail_status(err, 1, 0, "bad format of filter (expected name=value)");
        cleanup_free char *k = berth_xasprintf("%.*s", (int) (eq - arg), arg);
        json_t *vals = json_object_get(by_key, k);
        if (vals == NULL) {
                vals = json_array();
                json_object_set_new(by_key, k, vals);
        }
        json_array_append_new(vals, json_string(eq + 1));
        return 0;
}

static char *labels_text(json_t *labels)
{
        char *s = berth_xstrdup("");
        const char *k;
        json_t *v;
        json_object_foreach(labels, k, v)
        {
                char *t = berth_xasprintf("%s%s%s=%s", s, *s ? "," : "", k, json_string_value(v));
                free(s);
                s = t;
        }
        return s;
}

static json_t *ls_row(json_t *doc, bool no_trunc)
{
        char id[65], at[64] = "";
        snprintf(id, sizeof(id), "%.*s", no_trunc ? 64 : 12, str_of(doc, "Id"));
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t ns;
        if (berth_parse_timestamp(str_of(doc, "Created"), "Created", &now, &ns, NULL) == 0) {
                time_t t = (time_t) (ns / 1000000000);
                struct tm tm;
                strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S +0000 UTC", gmtime_r(&t, &tm));
        }
        cleanup_free char *labels = labels_text(json_object_get(doc, "Labels"));
        return json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id, "Name", str_of(doc, "Name"),
                "Driver", str_of(doc, "Driver"), "Scope", str_of(doc, "Scope"), "IPv6",
                json_is_true(json_object_get(doc, "EnableIPv6")) ? "true" : "false", "Internal",
                json_is_true(json_object_get(doc, "Internal")) ? "true" : "false", "Labels", labels,
                "CreatedAt", at);
}

static const struct berth_tmpl_header network_headers[] = {
        {"ID", "NETWORK ID"},
        {"IPv6", "IPV6"},
        {"CreatedAt", "CREATED AT"},
        {NULL, NULL},
};

static int net_ls(struct net_ctx *n, int argc, char **argv, berth_error_t *err)
{
        enum { O_FORMAT = 256, O_NO_TRUNC };
        static const struct option opts[] = {{"filter", required_argument, NULL, 'f'},
                                             {"format", required_argument, NULL, O_FORMAT},
                                             {"no-trunc", no_argument, NULL, O_NO_TRUNC},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        bool quiet = false, no_trunc = false;
        const char *format = NULL;
        json_t *filters = json_object();
        int c, r = -1;
        while ((c = getopt_long(argc, argv, "f:qh", opts, NULL)) != -1) {
                if (c == 'f') {
                        if (filter_add(filters, optarg, err) < 0)
                                goto out;
                } else if (c == O_FORMAT) {
                        format = optarg;
                } else if (c == O_NO_TRUNC) {
                        no_trunc = true;
                } else if (c == 'q') {
                        quiet = true;
                } else if (c == 'h') {
                        printf("Usage: berth network ls [OPTIONS]\n"
                               "\n"
                               "List networks\n"
                               "\n"
                               "Aliases:\n"
                               "  ls, list\n"
                               "\n"
                               "Options:\n"
                               "  -f, --filter filter   Provide filter values (e.g. "
                               "\"driver=bridge\")\n"
                               "      --format string   Format output using a custom template:\n"
                               "                        'table':            Print output in "
                               "table format with column headers (default)\n"
                               "                        'table TEMPLATE':   Print output in "
                               "table format using the given Go template\n"
                               "                        'json':             Print in JSON "
                               "format\n"
                               "                        'TEMPLATE':         Print output using "
                               "the given Go template\n"
                               "      --no-trunc        Do not truncate the output\n"
                               "  -q, --quiet           Only display network IDs\n");
                        r = 0;
                        goto out;
                } else {
                        cli_usage_error(err, "network ls", "invalid option");
                        goto out;
                }
        }
        if (optind < argc) {
                cli_usage_error(err, "network ls", "accepts no arguments");
                goto out;
        }
        json_t *all;
        if (net_network_list_filtered(n, filters, &all, err) < 0)
                goto out;
        json_t *rows = json_array();
        size_t i;
        json_t *doc;
        json_array_foreach(all, i, doc)
        {
                json_array_append_new(rows, ls_row(doc, no_trunc));
        }
        if (format && strcmp(format, "table") == 0)
                format = NULL;
        r = berth_tmpl_print_rows(quiet    ? "{{.ID}}"
                                  : format ? format
                                           : "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
                                  rows, network_headers, stdout, err);
        json_decref(rows);
        json_decref(all);
out:
        json_decref(filters);
        return r;
}

/* ---- inspect ---- */

static int net_inspect(struct net_ctx *n, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                             {"verbose", no_argument, NULL, 'v'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        const char *format = NULL;
        int c, missing = 0;
        while ((c = getopt_long(argc, argv, "f:vh", opts, NULL)) != -1) {
                if (c == 'f') {
                        format = optarg;
                } else if (c == 'h') {
                        printf("Usage: berth network inspect [OPTIONS] NETWORK [NETWORK...]\n"
                               "\n"
                               "Display detailed information on one or more networks\n"
                               "\n"
                               "Options:\n"
                               "  -f, --format string   Format output using a custom template:\n"
                               "                        'json':             Print in JSON "
                               "format\n"
                               "                        'TEMPLATE':         Print output using "
                               "the given Go template\n"
                               "  -v, --verbose         Verbose output for diagnostics\n");
                        return 0;
                } else if (c != 'v') {
                        return cli_usage_error(err, "network inspect", "invalid option");
                }
        }
        if (optind >= argc)
                return cli_args_error(err, "network inspect", "at least 1 argument");
        json_t *all = json_array();
        for (int i = optind; i < argc; i++) {
                json_t *doc;
                berth_error_t gerr = NULL;
                if (net_network_inspect(n, argv[i], &doc, &gerr) < 0) {
                        log_error("%s", berth_error_msg(gerr));
                        berth_error_release(&gerr);
                        missing++;
                        continue;
                }
                json_array_append_new(all, doc);
        }
        int r = 0;
        if (format && strcmp(format, "json") != 0) {
                r = berth_tmpl_print_rows(format, all, NULL, stdout, err);
        } else {
                char *s = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
                printf("%s\n", s ? s : "[]");
                free(s);
        }
        json_decref(all);
        return r < 0 ? -1 : missing ? 1 : 0;
}

/* ---- rm, prune ---- */

static int net_rm(struct net_ctx *n, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {0}};
        bool force = false;
        int c, failed = 0;
        while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
                if (c == 'f') {
                        force = true;
                } else if (c == 'h') {
                        printf("Usage: berth network rm NETWORK [NETWORK...]\n"
                               "\n"
                               "Remove one or more networks\n"
                               "\n"
                               "Aliases:\n"
                               "  rm, remove\n"
                               "\n"
                               "Options:\n"
                               "  -f, --force   Do not error if the network does not exist\n");
                        return 0;
                } else {
                        return cli_usage_error(err, "network rm", "invalid option");
                }
        }
        if (optind >= argc)
                return cli_args_error(err, "network rm", "at least 1 argument");
        for (int i = optind; i < argc; i++) {
                berth_error_t rerr = NULL;
                if (net_network_remove(n, argv[i], &rerr) == 0) {
                        printf("%s\n", argv[i]);
                        continue;
                }
                /* -f: a network that isn't there is fine, anything else still fails */
                json_t *doc = NULL;
                bool absent = net_network_get(n, argv[i], &doc, NULL) < 0;
                json_decref(doc);
                if (!(force && absent)) {
                        log_error("%s", berth_error_msg(rerr));
                        failed++;
                }
                berth_error_release(&rerr);
        }
        return failed ? 1 : 0;
}

static int net_prune(struct net_ctx *n, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"filter", required_argument, NULL, 'F'},
                                             {"force", no_argument, NULL, 'f'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        bool force = false;
        json_t *filters = json_array();
        int c, r = -1;
        while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
                if (c == 'f') {
                        force = true;
                } else if (c == 'F') {
                        json_array_append_new(filters, json_string(optarg));
                } else if (c == 'h') {
                        printf("Usage: berth network prune [OPTIONS]\n"
                               "\n"
                               "Remove all unused networks\n"
                               "\n"
                               "Options:\n"
                               "      --filter filter   Provide filter values (e.g. "
                               "\"until=<timestamp>\")\n"
                               "  -f, --force           Do not prompt for confirmation\n");
                        r = 0;
                        goto out;
                } else {
                        cli_usage_error(err, "network prune", "invalid option");
                        goto out;
                }
        }
        if (optind < argc) {
                cli_usage_error(err, "network prune", "accepts no arguments");
                goto out;
        }
        if (!force && !cli_confirm("all custom networks not used by at least one container")) {
                r = 0;
                goto out;
        }
        json_t *removed;
        if (net_network_prune_idle(n, filters, &removed, err) < 0)
                goto out;
        if (json_array_size(removed) > 0) {
                printf("Deleted Networks:\n");
                size_t i;
                json_t *name;
                json_array_foreach(removed, i, name)
                {
                        printf("%s\n", json_string_value(name));
                }
                printf("\n");
        }
        json_decref(removed);
        r = 0;
out:
        json_decref(filters);
        return r;
}

/* ---- connect, disconnect: the engine's (a container's record changes too) ---- */

static int net_connect(struct eng_ctx *e, int argc, char **argv, berth_error_t *err)
{
        enum { O_ALIAS = 256, O_IP, O_IP6, O_LINK, O_LINK_LOCAL, O_DRIVER_OPT };
        static const struct option opts[] = {
                {"alias", required_argument, NULL, O_ALIAS},
                {"ip", required_argument, NULL, O_IP},
                {"ip6", required_argument, NULL, O_IP6},
                {"link", required_argument, NULL, O_LINK},
                {"link-local-ip", required_argument, NULL, O_LINK_LOCAL},
                {"driver-opt", required_argument, NULL, O_DRIVER_OPT},
                {"help", no_argument, NULL, 'h'},
                {0}};
        json_t *epcfg = json_object();
        int c, r = -1;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == O_ALIAS) {
                        json_t *a = json_object_get(epcfg, "Aliases");
                        if (a == NULL)
                                json_object_set_new(epcfg, "Aliases", a = json_array());
                        json_array_append_new(a, json_string(optarg));
                } else if (c == O_IP || c == O_IP6) {
                        json_t *ipam = json_object_get(epcfg, "IPAMConfig");
                        if (ipam == NULL)
                                json_object_set_new(epcfg, "IPAMConfig", ipam = json_object());
                        json_object_set_new(ipam, c == O_IP ? "IPv4Address" : "IPv6Address",
                                            json_string(optarg));
                } else if (c == O_LINK) {
                        /* NAME[:ALIAS], checked as the docker CLI checks its flag (and run's) */
                        const char *colon = strchr(optarg, ':');
                        if (*optarg == '\0' || colon == optarg ||
                            (colon && (colon[1] == '\0' || strchr(colon + 1, ':')))) {
                                r = berth_fail_status(err, 125, 0,
                                                      "invalid argument \"%s\" for \"--link\" "
                                                      "flag: bad format for links: %s",
                                                      optarg, optarg);
                                goto out;
                        }
                        json_t *l = json_object_get(epcfg, "Links");
                        if (l == NULL)
                                json_object_set_new(epcfg, "Links", l = json_array());
                        json_array_append_new(l, json_string(optarg));
                } else if (c == 'h') {
                        printf("Usage: berth network connect [OPTIONS] NETWORK CONTAINER\n"
                               "\n"
                               "Connect a container to a network\n"
                               "\n"
                               "Options:\n"
                               "      --alias strings   Add network-scoped alias for the "
                               "container\n"
                               "      --ip string       IPv4 address (e.g., 172.30.100.104)\n"
                               "      --ip6 string      IPv6 address (e.g., 2001:db8::33)\n"
                               "      --link list       Add link to another container\n");
                        r = 0;
                        goto out;
                } else if (c == O_LINK_LOCAL || c == O_DRIVER_OPT) {
                        r = berth_fail_status(err, 1, ENOTSUP,
                                              "network connect: --link-local-ip and "
                                              "--driver-opt are not supported");
                        goto out;
                } else {
                        cli_usage_error(err, "network connect", "invalid option");
                        goto out;
                }
        }
        if (argc - optind != 2) {
                cli_args_error(err, "network connect", "2 arguments");
                goto out;
        }
        r = eng_net_connect(e, argv[optind], argv[optind + 1], epcfg, err);
out:
        json_decref(epcfg);
        return r;
}

static int net_disconnect(struct eng_ctx *e, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {0}};
        bool force = false;
        int c;
        while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
                if (c == 'f') {
                        force = true;
                } else if (c == 'h') {
                        printf("Usage: berth network disconnect [OPTIONS] NETWORK CONTAINER\n"
                               "\n"
                               "Disconnect a container from a network\n"
                               "\n"
                               "Options:\n"
                               "  -f, --force   Force the container to disconnect from a "
                               "network\n");
                        return 0;
                } else {
                        return cli_usage_error(err, "network disconnect", "invalid option");
                }
        }
        if (argc - optind != 2)
                return cli_args_error(err, "network disconnect", "2 arguments");
        return eng_net_disconnect(e, argv[optind], argv[optind + 1], force, err);
}

/* Not for users: a container's monitor runs it as its last act (engine/network.h), a VM's
 * supervisor as its own (`_teardown vm-PID`). */
static int net_teardown(struct eng_ctx *e, int argc, char **argv, berth_error_t *err)
{
        if (argc != 2 && argc != 3)
                return cli_args_error(err, "network _teardown", "1 or 2 arguments");
        /* a VM's supervisor, for the endpoints of "vm-<its pid>" (src/vm/net.c): never a
         * container's id, and not to be taken for a container so named */
        if (berth_str_has_prefix(argv[1], "vm-"))
                return eng_net_down_id(e, argv[1], err);
        struct eng_container *c = NULL;
        if (eng_container_find(e, argv[1], &c, err) < 0)
                return eng_net_down_id(e, argv[1], err); /* removed already: just the network */
        int r = eng_container_lock(c, err);
        /* GEN: the start whose monitor asks; a later start's network is not its to take */
        bool later = argc == 3 && json_integer_value(json_object_get(c->state, "BerthStarts")) !=
                                          strtoll(argv[2], NULL, 10);
        if (r == 0) {
                if (!later)
                        r = eng_net_down(e, c, err);
                eng_container_unlock(c);
        }
        eng_container_free(c);
        return r;
}

static const struct {
        const char *name;
        int (*fn)(struct eng_ctx *, int, char **, berth_error_t *);
} engine_subs[] = {
        {"connect", net_connect},
        {"disconnect", net_disconnect},
        {"_teardown", net_teardown},
};

/* ---- the group ---- */

static const struct {
        const char *name;
        int (*fn)(struct net_ctx *, int, char **, berth_error_t *);
} subs[] = {
        {"create", net_create}, {"inspect", net_inspect}, {"ls", net_ls},     {"list", net_ls},
        {"prune", net_prune},   {"rm", net_rm},           {"remove", net_rm},
};

static void network_usage(FILE *out)
{
        fprintf(out, "Usage: berth network COMMAND\n"
                     "\n"
                     "Manage networks\n"
                     "\n"
                     "Commands:\n"
                     "  connect     Connect a container to a network\n"
                     "  create      Create a network\n"
                     "  disconnect  Disconnect a container from a network\n"
                     "  inspect     Display detailed information on one or more networks\n"
                     "  ls          List networks\n"
                     "  prune       Remove all unused networks\n"
                     "  rm          Remove one or more networks\n"
                     "\n"
                     "Run 'berth network COMMAND --help' for more information on a command.\n");
}

static void gc_quietly(struct cli_global *g)
{
        struct eng_ctx e;
        berth_error_t gerr = NULL;
        if (eng_ctx_init(&e, &g->paths, &gerr) == 0) {
                eng_net_gc(&e, &gerr);
                eng_ctx_free(&e);
        }
        if (gerr)
                log_debug("network garbage collection: %s", berth_error_msg(gerr));
        berth_error_release(&gerr);
}

int cmd_network(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                /* docker: the group's help, on stderr when no command was given, status 0 */
                network_usage(argc < 2 ? stderr : stdout);
                return 0;
        }
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(engine_subs); i++) {
                if (strcmp(argv[1], engine_subs[i].name) != 0)
                        continue;
                struct eng_ctx e;
                if (eng_ctx_init(&e, &g->paths, err) < 0)
                        return -1;
                optind = 0;
                cli_command_args(argc - 1, argv + 1);
                int r = engine_subs[i].fn(&e, argc - 1, argv + 1, err);
                eng_ctx_free(&e);
                return r;
        }
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(subs); i++) {
                if (strcmp(argv[1], subs[i].name) != 0)
                        continue;
                struct net_ctx n;
                if (net_ctx_init(&n, &g->paths, err) < 0)
                        return -1;
                /* what containers killed with -9 left (endpoints, ports, resolvers' records)
                 * goes before anything counts a network's users */
                if (strcmp(argv[1], "ls") != 0 && strcmp(argv[1], "list") != 0 &&
                    strcmp(argv[1], "create") != 0)
                        gc_quietly(g);
                optind = 0;
                cli_command_args(argc - 1, argv + 1);
                int r = subs[i].fn(&n, argc - 1, argv + 1, err);
                net_ctx_free(&n);
                return r;
        }
        return berth_fail_status(err, 1, 0, "unknown command: berth network %s", argv[1]);
}
