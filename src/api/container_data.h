/* container_data.h — what container_data.c's route table takes from its sibling files. */
#ifndef BERTH_API_CONTAINER_DATA_H
#define BERTH_API_CONTAINER_DATA_H

#include "api/api_internal.h"

/* GET /containers/{id}/stats (container_stats.c). */
void api_container_stats(struct api_req *r);

#endif
