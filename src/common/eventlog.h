/* eventlog.h — berth's event log: Docker's events (a container started, an image tagged, a
 * volume created …) as one JSON line each in <run_dir>/events.log.
 *
 * berth has no daemon to keep events in memory as dockerd does: whichever berth process does
 * the thing (the CLI, a container's monitor, the API service, the image library under any of
 * them) appends the event with one write(2) to the O_APPEND file, so every reader (`berth
 * events`, GET /events, a restarted service) sees one history.  Small appends are atomic, so
 * concurrent writers never interleave within a line.  The file is bounded: past
 * BERTH_EVENTS_MAX bytes it becomes events.log.1 (the one older generation kept) and a new
 * file starts.  Writing an event never fails the operation it describes.
 *
 * The line is Docker's events.Message as dockerd 20.10 encodes it:
 *   {"status","id","from" (containers; images have status and id), "Type", "Action",
 *    "Actor":{"ID","Attributes":{…}}, "scope":"local", "time", "timeNano"}
 * Lower floors (image, net) emit here; the engine adds container-shaped helpers and the
 * reader (engine/events.h). */
#ifndef BERTH_COMMON_EVENTLOG_H
#define BERTH_COMMON_EVENTLOG_H

#include <jansson.h>
#include <stdint.h>

#define BERTH_EVENTS_FILE     "events.log"
#define BERTH_EVENTS_PREVIOUS "events.log.1"
#define BERTH_EVENTS_MAX      (4 << 20)

/* Appends one event now.  attrs (taken; NULL for none) are Actor.Attributes: string values
 * (numbers are written as strings, as Docker's map[string]string).  run_dir: the state's run
 * directory, or NULL for the default paths' one.  Problems are logged, never returned. */
void berth_event_emit(const char *run_dir, const char *type, const char *action, const char *id,
                      json_t *attrs);

/* The same, with the time given (nanoseconds since the epoch). */
void berth_event_emit_at(const char *run_dir, const char *type, const char *action, const char *id,
                         json_t *attrs, int64_t time_ns);

#endif
