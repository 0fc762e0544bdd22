/* caps.h — Linux capability names as Docker's flags and OCI's config.json spell them, and the
 * capability set a container gets by default, with --cap-add/--cap-drop/--privileged applied. */
#ifndef BERTH_ENGINE_CAPS_H
#define BERTH_ENGINE_CAPS_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"

/* "net_admin", "CAP_NET_ADMIN", "Net_Admin" → "CAP_NET_ADMIN" (static string); "all"/"ALL" →
 * "ALL".  NULL when the name is not a capability Linux knows. */
const char *eng_cap_normalize(const char *name);

/* The final capability list (JSON array of "CAP_…" strings, in capability-number order):
 * Docker's 14 default capabilities (or every capability the caller's bounding set holds, when
 * privileged), plus cap_add, minus cap_drop ("ALL" allowed in both, drop applied first as
 * Docker does when both name ALL).  cap_add/cap_drop may be NULL. */
int eng_caps_resolve(json_t *cap_add, json_t *cap_drop, bool privileged, json_t **out,
                     berth_error_t *err);

/* Whether a resolved list (from eng_caps_resolve) holds a capability ("CAP_SYS_ADMIN"). */
bool eng_caps_has(json_t *caps, const char *cap);

#endif
