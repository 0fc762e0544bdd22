/* containers.h — what the container endpoints' files (containers*.c) share. */
#ifndef BERTH_API_CONTAINERS_H
#define BERTH_API_CONTAINERS_H

#include "api/api_internal.h"
#include "engine/container.h"
#include "engine/runflags.h"

/* The container what names (full id, unique prefix or name), reconciled when asked; NULL with
 * a reply queued (404 "No such container: X") when there is none.  *e is initialised on
 * success; the caller frees both (api_container_done). */
struct eng_container *api_container_find(struct api_req *r, struct eng_ctx *e, const char *what,
                                         bool reconcile);
/* api_container_find of the route's {id}, reconciled: the truth about a container whose
 * monitor died, as every CLI verb reads it. */
struct eng_container *api_container(struct api_req *r, struct eng_ctx *e);
void api_container_done(struct eng_container *c, struct eng_ctx *e);

/* Every container, reconciled; -1 with a reply queued when they can't be read.  *e is
 * initialised on success; the caller frees both (eng_container_list_free, eng_ctx_free). */
int api_containers(struct api_req *r, struct eng_ctx *e, struct eng_container ***v, size_t *n);

/* POST /containers/create's body (Docker's Config with HostConfig and NetworkingConfig) laid
 * over a flagless `berth create`'s defaults, checked and normalised as dockerd does, into f (the
 * caller releases it, also on failure).  0, or -1 with *err saying what is wrong with the body
 * (a 400).  Untrusted input: fuzz/api_create.c. */
int api_create_flags(json_t *body, const char *name, struct eng_run_flags *f, berth_error_t *err);

/* POST /containers/create (containers_create.c). */
void api_container_create(struct api_req *r);

/* containers_ops.c: the verbs on one container, prune, top, changes, update. */
void api_container_stop(struct api_req *r);
void api_container_restart(struct api_req *r);
void api_container_kill(struct api_req *r);
void api_container_pause(struct api_req *r);
void api_container_unpause(struct api_req *r);
void api_container_delete(struct api_req *r);
void api_container_rename(struct api_req *r);
void api_container_prune(struct api_req *r);
void api_container_top(struct api_req *r);
void api_container_changes(struct api_req *r);
void api_container_update(struct api_req *r);

#endif
