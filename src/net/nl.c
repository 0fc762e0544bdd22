/* nl.c — (being written) */
#include "net/nl.h"
