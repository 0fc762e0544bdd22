/* containers.h — what the container endpoints' files (containers*.c) share. */
#ifndef BERTH_API_CONTAINERS_H
#define BERTH_API_CONTAINERS_H

#include "api/api_internal.h"
#include "engine/container.h"

/* The container r->params[0] names (full id, unique prefix or name), reconciled; NULL with a
 * reply queued (404 "No such container: X") when there is none.  *e is initialised on
 * success; the caller frees both. */
struct eng_container *api_container(struct api_req *r, struct eng_ctx *e);

/* api_reply_berth_error, but an errno the engine set only to classify a refusal (EINVAL: bad
 * input, EBUSY: a conflict) stays out of the message, as dockerd's sentences have none. */
void api_container_error(struct api_req *r, berth_error_t *err);

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
