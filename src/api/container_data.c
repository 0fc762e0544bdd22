/* container_data.c — Engine API handlers (being written). */
#include "api/api_internal.h"

const struct api_route api_routes_container_data[] = {
        {0},
};
