/* ipam.c — (being written) */
#include "net/network.h"
