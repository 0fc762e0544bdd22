/* version.h — `berth version`'s document, shaped as Docker's (its .Client and .Server). */
#ifndef BERTH_ENGINE_VERSION_H
#define BERTH_ENGINE_VERSION_H

#include <jansson.h>

/* The Docker API version berth's commands follow, and the oldest one it would accept. */
#define ENG_API_VERSION     "1.41"
#define ENG_MIN_API_VERSION "1.12"

/* {"Client": {...}, "Server": {...}} with Docker's keys.  berth is daemonless: the
 * "server" is the engine library in this same binary, so both sections describe it. */
json_t *eng_version_info(void);

#endif
