/* view.h — how a container record reads to a person: Docker's `ps` row
 * (ID, Image, Command, CreatedAt, RunningFor, Status, Names, …), its status
 * sentence ("Up 2 minutes", "Exited (0) 3 seconds ago"), and `ps --filter`. */
#ifndef BERTH_ENGINE_VIEW_H
#define BERTH_ENGINE_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "common/error.h"
#include "common/template.h"
#include "engine/container.h"

/* One `ps` row as a JSON object with Docker's --format fields. */
json_t *eng_ps_row(struct eng_container *c, bool no_trunc, const struct timespec *now);

/* Path and Args as dockerd's container list gives the command: each argument holding a space
 * in '…' (moby's container/view.go).  Newly allocated. */
char *eng_command_line(json_t *doc);

/* "Up 2 minutes (Paused)", "Exited (137) 5 seconds ago", "Created". */
char *eng_status_text(struct eng_container *c, const struct timespec *now);

/* The document `docker inspect` shows: container.json with State and RestartCount from
 * state.json, in Docker's field order (a new reference). */
json_t *eng_inspect_doc(struct eng_container *c);

/* Column headers Docker prints for ps fields ("ID" → "CONTAINER ID"). */
extern const struct berth_tmpl_header eng_ps_headers[];

struct eng_ps_filter;

/* --filter KEY=VALUE, repeatable: id, name, label, status, exited, ancestor,
 * before, since, health, volume.  Same key ORs, different keys AND, as Docker. */
int eng_ps_filter_add(struct eng_ps_filter **f, const char *kv, berth_error_t *err);
bool eng_ps_filter_match(const struct eng_ps_filter *f, struct eng_ctx *e, struct eng_container *c);
void eng_ps_filter_free(struct eng_ps_filter *f);
/* Whether the filters list stopped containers without -a: Docker's daemon sets All for a
 * status filter only; every other filter narrows the running ones. */
bool eng_ps_filter_wants_all(const struct eng_ps_filter *f);

#endif
