/* test_links.c — Docker's legacy link variables (engine/links.h): the default port, per-port
 * variables, runs of consecutive ports, the name and the linked container's environment. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine/links.h"
#include "tap.h"

/* The array as one "A\nB\n…" string (malloc'ed). */
static char *joined(json_t *a)
{
        size_t n = 1, i;
        json_t *v;
        json_array_foreach(a, i, v)
        {
                n += strlen(json_string_value(v)) + 1;
        }
        char *s = calloc(1, n);
        json_array_foreach(a, i, v)
        {
                strcat(s, json_string_value(v));
                strcat(s, "\n");
        }
        return s;
}

int main(void)
{
        /* no ports, no environment: the name alone; dashes become underscores */
        json_t *env = eng_links_env("my-db", "/web/my-db", "10.0.0.2", NULL, NULL);
        char *s = joined(env);
        is_str(s, "MY_DB_NAME=/web/my-db\n", "no ports: only ALIAS_NAME");
        free(s);
        json_decref(env);

        /* 443 and 80 tcp, 80 udp: the lowest port is the default, tcp before udp */
        json_t *ports = json_pack("{s:{}, s:{}, s:{}}", "443/tcp", "80/udp", "80/tcp");
        json_t *cenv = json_pack("[s, s, s, s]", "HOME=/root", "PATH=/bin", "A=1=2", "EMPTY=");
        env = eng_links_env("db", "/app/db", "10.0.0.3", ports, cenv);
        s = joined(env);
        is_str(s,
               "DB_PORT=tcp://10.0.0.3:80\n"
               "DB_PORT_80_TCP=tcp://10.0.0.3:80\n"
               "DB_PORT_80_TCP_ADDR=10.0.0.3\n"
               "DB_PORT_80_TCP_PORT=80\n"
               "DB_PORT_80_TCP_PROTO=tcp\n"
               "DB_PORT_80_UDP=udp://10.0.0.3:80\n"
               "DB_PORT_80_UDP_ADDR=10.0.0.3\n"
               "DB_PORT_80_UDP_PORT=80\n"
               "DB_PORT_80_UDP_PROTO=udp\n"
               "DB_PORT_443_TCP=tcp://10.0.0.3:443\n"
               "DB_PORT_443_TCP_ADDR=10.0.0.3\n"
               "DB_PORT_443_TCP_PORT=443\n"
               "DB_PORT_443_TCP_PROTO=tcp\n"
               "DB_NAME=/app/db\n"
               "DB_ENV_A=1=2\n"
               "DB_ENV_EMPTY=\n",
               "ports sorted, tcp first; HOME and PATH not passed on");
        free(s);
        json_decref(env);
        json_decref(ports);
        json_decref(cenv);

        /* three consecutive ports: _START/_END variables for the run, then each port */
        ports = json_pack("{s:{}, s:{}, s:{}}", "7001/udp", "7000/udp", "7002/udp");
        env = eng_links_env("r", "/x/r", "10.0.0.4", ports, NULL);
        s = joined(env);
        ok(strstr(s, "R_PORT_7000_UDP_START=udp://10.0.0.4:7000\n"
                     "R_PORT_7000_UDP_ADDR=10.0.0.4\n"
                     "R_PORT_7000_UDP_PROTO=udp\n"
                     "R_PORT_7000_UDP_PORT_START=7000\n"
                     "R_PORT_7000_UDP_END=udp://10.0.0.4:7002\n"
                     "R_PORT_7000_UDP_PORT_END=7002\n") != NULL,
           "a run of three ports: START and END");
        ok(strncmp(s, "R_PORT=udp://10.0.0.4:7000\n", 27) == 0, "the default port first");
        ok(strstr(s, "R_PORT_7002_UDP_PORT=7002\n") != NULL, "and each port of the run");
        free(s);
        json_decref(env);
        json_decref(ports);

        /* two consecutive ports are not a run; bad keys are skipped */
        ports = json_pack("{s:{}, s:{}, s:{}, s:{}}", "8080/tcp", "8081/tcp", "x/tcp", "0/tcp");
        env = eng_links_env("w", "/x/w", "10.0.0.5", ports, NULL);
        s = joined(env);
        ok(strstr(s, "_START") == NULL, "two ports: no run");
        ok(strstr(s, "W_PORT_0_") == NULL && strstr(s, "W_PORT_x") == NULL,
           "ports that are not numbers 1-65535 are skipped");
        is_int(json_array_size(env), 1 + 8 + 1, "default, 4 per port, name");
        free(s);
        json_decref(env);
        json_decref(ports);
        return tap_done();
}
