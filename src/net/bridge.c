/* bridge.c — (being written) */
#include "net/sandbox.h"
