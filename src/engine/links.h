/* links.h — Docker's legacy container links (`--link NAME[:ALIAS]`, HostConfig.Links).
 *
 * On the default bridge a link gives the container an /etc/hosts line for the linked one
 * ("IP<TAB>ALIAS HOSTNAME NAME") and Docker's environment variables (ALIAS_PORT,
 * ALIAS_PORT_80_TCP, …_ADDR, …_PORT, …_PROTO, ALIAS_NAME, ALIAS_ENV_X); on a user network
 * it is only a name, the alias, for this container (an /etc/hosts line: the network's resolver
 * is shared by all its members). */
#ifndef BERTH_ENGINE_LINKS_H
#define BERTH_ENGINE_LINKS_H

#include <jansson.h>

#include "common/error.h"
#include "engine/container.h"

/* At create: every linked container must exist ("could not get container for X", 125); the
 * entries of host_config's Links become Docker's stored form "/NAME:/PARENT/ALIAS". */
int eng_links_prepare(struct eng_ctx *e, const char *parent_id, const char *parent,
                      json_t *host_config, berth_error_t *err);

/* Docker's environment variables of one link (the unit tests' entry point): alias as given,
 * link_name "/PARENT/ALIAS", the linked container's address, its ExposedPorts and Env.
 * Returns a new array of "K=V" strings. */
json_t *eng_links_env(const char *alias, const char *link_name, const char *ip,
                      json_t *exposed_ports, json_t *child_env);

/* At start, once the sandbox is up (caller holds the container's lock): each linked container
 * must run ("Cannot link to a non running container: /NAME AS /PARENT/ALIAS"); its lines are
 * put in /etc/hosts and, on the default bridge, its variables in the bundle's process.env.
 * What an earlier start put there is replaced. */
int eng_links_apply(struct eng_ctx *e, struct eng_container *c, berth_error_t *err);

/* After c's sandbox is up: the running containers that link to c (an index under
 * <data>/links/<c's id>/, written at their create) get their /etc/hosts lines for it rewritten
 * with its new address, as Docker updates its links' hosts files; their variables stay what
 * their process started with.  Takes their locks; errors are logged. */
void eng_links_refresh_parents(struct eng_ctx *e, struct eng_container *c);

/* Rewrite the /etc/hosts lines of p's links in place, if it runs (caller holds p's lock):
 * after its endpoints' links changed (network connect/disconnect) or a linked container moved
 * or was renamed. */
int eng_links_update(struct eng_ctx *e, struct eng_container *p, berth_error_t *err);

/* `network connect --link`, before c (locked) joins: links (the endpoint's Links,
 * "NAME[:ALIAS]") must be well formed ("bad format for links: X", 1); on a user network
 * (user_network) those naming a container go in the index so that the linked container's
 * starts refresh c's lines.  A name of no container is taken, as dockerd 20.10 takes it (the
 * alias resolves to nothing); on the default bridge dockerd takes them and makes nothing of
 * them: so does berth. */
int eng_links_connect(struct eng_ctx *e, struct eng_container *c, bool user_network, json_t *links,
                      berth_error_t *err);

/* After c was renamed from old (caller holds c's lock): the containers linking to it name it
 * anew in their HostConfig.Links ("/NEW:/CONTAINER/ALIAS"; the alias stays), as Docker
 * follows a rename; their /etc/hosts lines change at their next start, and endpoint Links
 * (network connect --link) stay as given, as dockerd 20.10's.  Errors are logged. */
void eng_links_renamed(struct eng_ctx *e, struct eng_container *c, const char *old);

/* A removed container's index entries as a linked container (those it has as a linking one
 * are dropped when the linked container next starts). */
void eng_links_forget(struct eng_ctx *e, const char *id);

#endif
