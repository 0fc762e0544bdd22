/* cmd_login.c — `berth login` / `berth logout`: registry credentials. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/image_common.h"
#include "common/util.h"

static char *read_password_stdin(void)
{
        char buf[4096];
        size_t n = fread(buf, 1, sizeof(buf) - 1, stdin);
        buf[n] = '\0';
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
                buf[--n] = '\0';
        return berth_xstrdup(buf);
}

int cmd_login(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        enum { OPT_PASSWORD_STDIN = 256 };
        static const struct option opts[] = {
                CLI_REGISTRY_OPTIONS,
                {"username", required_argument, NULL, 'u'},
                {"password", required_argument, NULL, 'p'},
                {"password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        struct img_registry_opts o;
        cleanup_free char *auth = cli_registry_defaults(g, &o); /* owns o.auth_file */
        (void) auth;
        const char *user = NULL;
        cleanup_free char *password = NULL;
        bool from_stdin = false;
        int c;
        while ((c = getopt_long(argc, argv, "u:p:h", opts, NULL)) != -1) {
                int r = cli_registry_option(c, optarg, &o, "login", err);
                if (r < 0)
                        return -1;
                if (r > 0)
                        continue;
                switch (c) {
                case 'u':
                        user = optarg;
                        break;
                case 'p':
                        free(password);
                        password = berth_xstrdup(optarg);
                        break;
                case OPT_PASSWORD_STDIN:
                        from_stdin = true;
                        break;
                case 'h':
                        printf("Usage: berth login [OPTIONS] REGISTRY\n"
                               "\n"
                               "Check credentials against a registry and store them (0600).\n"
                               "\n"
                               "Options:\n"
                               "  -u, --username USER\n"
                               "  -p, --password PASS      (visible to other users: prefer\n"
                               "                           --password-stdin)\n"
                               "      --password-stdin     read the password from stdin\n"
                               "" CLI_REGISTRY_HELP);
                        return 0;
                default:
                        return cli_usage_error(err, "login", "invalid option");
                }
        }
        if (argc - optind != 1)
                return cli_args_error(err, "login", "1 argument");
        if (from_stdin) {
                free(password);
                password = read_password_stdin();
        }
        if (user == NULL || password == NULL)
                return cli_usage_error(err, "login", "needs --username and a password");
        if (img_login(argv[optind], user, password, &o, err) < 0)
                return -1;
        explicit_bzero(password, strlen(password));
        printf("Login Succeeded!\n");
        return 0;
}

int cmd_logout(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                CLI_REGISTRY_OPTIONS,
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        struct img_registry_opts o;
        cleanup_free char *auth = cli_registry_defaults(g, &o); /* owns o.auth_file */
        (void) auth;
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                int r = cli_registry_option(c, optarg, &o, "logout", err);
                if (r < 0)
                        return -1;
                if (r > 0)
                        continue;
                if (c == 'h') {
                        printf("Usage: berth logout [--authfile FILE] REGISTRY\n");
                        return 0;
                }
                return cli_usage_error(err, "logout", "invalid option");
        }
        if (argc - optind != 1)
                return cli_args_error(err, "logout", "1 argument");
        int r = img_logout(o.auth_file, argv[optind], err);
        if (r < 0)
                return -1;
        if (r == 0)
                return berth_fail_status(err, 1, 0, "not logged in to %s", argv[optind]);
        printf("Removed login credentials for %s\n", argv[optind]);
        return 0;
}
