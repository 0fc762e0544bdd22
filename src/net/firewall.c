/* firewall.c — (being written) */
#include "net/firewall.h"
