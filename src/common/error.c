/* error.c — the error chain (see error.h). */
#include "common/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

struct berth_error_frame {
        struct berth_error_frame *next;
        char msg[];
};

__attribute__((format(printf, 1, 0))) static struct berth_error_frame *frame_newv(const char *fmt,
                                                                                  va_list ap)
{
        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        size_t n = msg ? strlen(msg) : 0;
        struct berth_error_frame *f = berth_xmalloc(sizeof(*f) + n + 1);
        f->next = NULL;
        memcpy(f->msg, msg ? msg : "", n + 1);
        free(msg);
        return f;
}

int berth_failv(berth_error_t *err, int errnum, const char *fmt, va_list ap)
{
        if (err == NULL)
                return -1;
        if (*err != NULL) {
                /* Keep the first failure: it is the cause; later ones are usually
                 * cleanup trouble caused by it. */
                char buf[512];
                vsnprintf(buf, sizeof(buf), fmt, ap);
                berth_log(BERTH_LOG_DEBUG, "secondary error dropped: %s%s%s", buf,
                          errnum ? ": " : "", errnum ? strerror(errnum) : "");
                return -1;
        }
        struct berth_error *e = berth_xcalloc(1, sizeof(*e));
        e->errnum = errnum;
        e->frames = frame_newv(fmt, ap);
        *err = e;
        return -1;
}

int berth_fail(berth_error_t *err, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        berth_failv(err, errnum, fmt, ap);
        va_end(ap);
        return -1;
}

int berth_fail_status(berth_error_t *err, int status, int errnum, const char *fmt, ...)
{
        bool was_set = err != NULL && *err != NULL;
        va_list ap;
        va_start(ap, fmt);
        berth_failv(err, errnum, fmt, ap);
        va_end(ap);
        if (err != NULL && *err != NULL && !was_set)
                (*err)->status = status;
        return -1;
}

int berth_wrap(berth_error_t *err, const char *fmt, ...)
{
        if (err == NULL)
                return -1;
        va_list ap;
        va_start(ap, fmt);
        if (*err == NULL) {
                berth_failv(err, 0, fmt, ap);
        } else {
                struct berth_error_frame *f = frame_newv(fmt, ap);
                f->next = (*err)->frames;
                (*err)->frames = f;
                free((*err)->text);
                (*err)->text = NULL;
        }
        va_end(ap);
        return -1;
}

static char *compose(berth_error_t e, bool with_errno)
{
        size_t len = 1;
        for (struct berth_error_frame *f = e->frames; f; f = f->next)
                len += strlen(f->msg) + 2;
        const char *es = e->errnum && with_errno ? strerror(e->errnum) : NULL;
        if (es)
                len += strlen(es) + 2;
        char *s = berth_xmalloc(len);
        char *p = s;
        for (struct berth_error_frame *f = e->frames; f; f = f->next) {
                size_t l = strlen(f->msg);
                memcpy(p, f->msg, l);
                p += l;
                if (f->next || es) {
                        memcpy(p, ": ", 2);
                        p += 2;
                }
        }
        if (es) {
                size_t l = strlen(es);
                memcpy(p, es, l);
                p += l;
        }
        *p = '\0';
        return s;
}

const char *berth_error_msg(berth_error_t e)
{
        if (e == NULL)
                return "(no error)";
        if (e->text == NULL)
                e->text = compose(e, true);
        return e->text;
}

char *berth_error_chain_text(berth_error_t e)
{
        return e ? compose(e, false) : berth_xstrdup("");
}

unsigned berth_error_depth(berth_error_t e)
{
        unsigned n = 0;
        for (struct berth_error_frame *f = e ? e->frames : NULL; f; f = f->next)
                n++;
        return n;
}

void berth_error_release(berth_error_t *err)
{
        if (err == NULL || *err == NULL)
                return;
        struct berth_error_frame *f = (*err)->frames;
        while (f) {
                struct berth_error_frame *next = f->next;
                free(f);
                f = next;
        }
        free((*err)->text);
        free(*err);
        *err = NULL;
}

int berth_error_report(berth_error_t *err, int default_status)
{
        if (err == NULL || *err == NULL)
                return default_status;
        int status = (*err)->status ? (*err)->status : default_status;
        berth_log(BERTH_LOG_ERROR, "%s", berth_error_msg(*err));
        berth_error_release(err);
        return status;
}
