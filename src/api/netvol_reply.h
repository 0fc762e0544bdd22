/* netvol_reply.h — the error replies of networks.c and volumes.c: dockerd's status for a
 * refusal, and its message as dockerd words it. */
#ifndef BERTH_API_NETVOL_REPLY_H
#define BERTH_API_NETVOL_REPLY_H

#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

/* Reply with err (released) at status.  A refusal that carries an exit status is one of
 * Docker's messages, where an errno only classifies it: its text goes without the errno's
 * ("…already exists in network n", not "…: File exists"). */
static inline void api_reply_refusal(struct api_req *r, unsigned status, berth_error_t *err)
{
        char *chain =
                *err && (*err)->status && (*err)->errnum ? berth_error_chain_text(*err) : NULL;
        const char *m = chain ? chain : api_error_text(*err);
        if (strncmp(m, "berth: ", 7) == 0)
                m += 7;
        api_reply_error(r, status, "%s", m);
        free(chain);
        berth_error_release(err);
}

/* api_status_of, but an error without an errno that it does not know is fallback (400 where
 * the client's input is what was refused). */
static inline unsigned api_status_or(berth_error_t e, unsigned fallback)
{
        unsigned s = api_status_of(e);
        return s == 500 && e && e->errnum == 0 ? fallback : s;
}

#endif
