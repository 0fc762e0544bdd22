/* summary.h — a container's summary record, <dir>/summary.json: the part of container.json and
 * state.json that `ps` and GET /containers/json read (Id, Name, Created, Path, Args, Image,
 * Config.Image and Labels, HostConfig.NetworkMode, NetworkSettings.Ports and Networks, Mounts;
 * State's Status, ExitCode, Pid, StartedAt, FinishedAt and Health.Status, RestartCount and
 * Monitor), in the records' own shape, so that the same code reads either.  A container with
 * 3.3 KiB of records lists from ~0.9 KiB of summary.
 *
 * The summary names the two records it was made from (inode, size, mtime as each was written
 * or read): a reader that finds a record changed since, or no summary, reads the records and
 * writes the summary again.  Every write of a record goes through container.c, which rewrites
 * the summary right after it, so a stale one is only ever left by a crash in between. */
#ifndef BERTH_ENGINE_SUMMARY_H
#define BERTH_ENGINE_SUMMARY_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "engine/container.h"

/* Bump when the projection changes: older summaries are then rebuilt on first read. */
#define ENG_SUMMARY_VERSION 1

void eng_stamp_of(const struct stat *st, struct eng_stamp *out);
bool eng_stamp_eq(const struct eng_stamp *a, const struct eng_stamp *b);

/* The summary document of DOC (container.json) and STATE (state.json), which were written or
 * read as DOC_ST and STATE_ST say (a new reference; NULL only for a non-object DOC). */
json_t *eng_summary_make(json_t *doc, json_t *state, const struct eng_stamp *doc_st,
                         const struct eng_stamp *state_st);

/* Take a summary document apart: *doc and *state (new references, in the records' shape)
 * and the stamps of the records it was made from.  -1 with EINVAL in errno when it is not a
 * summary of this version. */
int eng_summary_split(json_t *sum, json_t **doc, json_t **state, struct eng_stamp *doc_st,
                      struct eng_stamp *state_st);

/* TEXT as JSON, for summaries: the values json_loadb gives for the same text, in a third of its
 * instructions; NULL for what isn't strict JSON (RFC 8259, well-formed UTF-8, no NUL in strings,
 * nesting ≤ 32, integers within 64 bits, nothing after the value). */
json_t *eng_summary_parse(const char *text, size_t len);

#endif
