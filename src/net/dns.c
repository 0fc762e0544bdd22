/* dns.c — (being written) */
#include "net/dns.h"
