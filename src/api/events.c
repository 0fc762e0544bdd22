/* events.c — Engine API handlers (being written). */
#include "api/api_internal.h"

const struct api_route api_routes_events[] = {
        {0},
};
