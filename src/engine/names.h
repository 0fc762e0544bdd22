/* names.h — random container names for `berth run` without --name. */
#ifndef BERTH_ENGINE_NAMES_H
#define BERTH_ENGINE_NAMES_H

#include <stddef.h>
#include <unistd.h>

/* "brave_heron"; from the 3rd attempt on a digit is appended. */
void eng_name_random(char *buf, size_t len, unsigned attempt);

#endif
