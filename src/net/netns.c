/* netns.c — (being written) */
#include "net/nl.h"
