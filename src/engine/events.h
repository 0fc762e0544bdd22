/* events.h — Docker's events for berth: emitting the container-, volume- and network-shaped
 * ones (the image library emits its own through common/eventlog.h), and reading the event log
 * back for `berth events` and GET /events: the events between since and until that match
 * Docker's event filters, then, when following, each new one as it is appended. */
#ifndef BERTH_ENGINE_EVENTS_H
#define BERTH_ENGINE_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "engine/container.h"

/* <run_dir>, the event log's directory, from a context (whose run_dir is <run_dir>/containers). */
char *eng_events_dir(const struct eng_ctx *e);

/* A container event: Actor.ID its id, Attributes its labels, "image" and "name" (as dockerd's
 * LogContainerEventWithAttributes) plus extra (taken; may be NULL). */
void eng_event_container(const struct eng_ctx *e, struct eng_container *c, const char *action,
                         json_t *extra);
/* The same, for who holds the record but no context (top, cp): the log's directory is the
 * one above the record's run directory (<run_dir>/containers/<id>). */
void eng_event_container_rec(struct eng_container *c, const char *action, json_t *extra);
/* The attributes of a container's events (its labels, "image", "name"), for who emits them
 * later without the record at hand (an exec's start and death in the API). */
json_t *eng_event_attrs(struct eng_container *c);
/* A container event with attributes kept from eng_event_attrs (not taken) plus extra (taken). */
void eng_event_container_attrs(const char *events_dir, const char *id, const char *action,
                               json_t *attrs, json_t *extra);
/* Docker's action of an exec event: "exec_create: sh -c 'echo hi'" is "VERB: " and the
 * command's words joined by spaces. */
char *eng_event_exec_action(const char *verb, char *const *cmd);

/* "health_status: healthy": emitted when State.Health.Status differs from what this process
 * last reported for the container (the monitor calls it after each check, as dockerd logs only
 * changes). */
void eng_event_health(const struct eng_ctx *e, struct eng_container *c);
/* A volume event (create, destroy, mount, unmount): Actor.ID the name, driver=local. */
void eng_event_volume(const struct eng_ctx *e, const char *action, const char *name);
/* A network event: Actor.ID the network's id, attrs (taken) name, type, container … */
void eng_event_network(const struct eng_ctx *e, const char *action, const char *id, json_t *attrs);

/* connect or disconnect of a container to a network: {container, name, type} (berth's
 * networks are all bridges). */
void eng_event_endpoint(const struct eng_ctx *e, const char *action, const char *net_id,
                        const char *net_name, const char *container_id);

/* ---- reading ---- */

struct eng_events;

/* since_ns/until_ns: -1 when not given.  filters: {"key": ["value", …]} (api_filters' shape;
 * borrowed for the reader's life; NULL for none).  As dockerd: neither since nor until → only
 * events from now on, followed; an until in the past → the stored events only; otherwise the
 * stored events from since, then new ones until `until` passes (follow) or forever. */
int eng_events_open(const char *run_dir, int64_t since_ns, int64_t until_ns, json_t *filters,
                    struct eng_events **out, berth_error_t *err);
/* The next matching event (a new reference in *ev): 1.  0: the stream is over.  2: nothing
 * came within timeout_ms (the caller may check on its client and call again).  -1: error. */
int eng_events_next(struct eng_events *r, int timeout_ms, json_t **ev, berth_error_t *err);
void eng_events_close(struct eng_events *r);

/* Docker's event filters (daemon/events/filter.go): type, event, container, image, network,
 * volume, label, scope, daemon … */
bool eng_event_match(json_t *filters, json_t *ev);

/* The event as the docker CLI's template sees it: Go's field names (Status, ID, From, Type,
 * Action, Actor.ID, Actor.Attributes, Scope, Time, TimeNano). */
json_t *eng_event_template_data(json_t *ev);
/* `docker events`' line: "2026-12-06T19:50:00.000000000Z container start <id> (k=v, …)\n"
 * in local time, as the CLI prints it.  Newly allocated. */
char *eng_event_line(json_t *ev);

#endif
