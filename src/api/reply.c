/* reply.c — the replies every handler builds (JSON, errors with dockerd's status codes, empty)
 * with the headers dockerd puts on each, and the request's query, headers and body. */
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_internal.h"
#include "common/util.h"

void api_std_headers(struct MHD_Response *resp);
void api_std_headers(struct MHD_Response *resp)
{
        MHD_add_response_header(resp, "Api-Version", API_VERSION);
        MHD_add_response_header(resp, "Docker-Experimental", "false");
        MHD_add_response_header(resp, "Ostype", "linux");
        MHD_add_response_header(resp, "Server", "Berth/" BERTH_VERSION " (linux)");
}

static void set_reply(struct api_req *r, unsigned status, struct MHD_Response *resp)
{
        if (r->resp) /* a handler that answers twice: the first answer stands */
        {
                MHD_destroy_response(resp);
                return;
        }
        api_std_headers(resp);
        r->resp = resp;
        r->status = status;
}

static void reply_buffer(struct api_req *r, unsigned status, const char *content_type, char *data,
                         size_t len)
{
        struct MHD_Response *resp =
                MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
        if (content_type)
                MHD_add_response_header(resp, "Content-Type", content_type);
        set_reply(r, status, resp);
}

void api_reply_json(struct api_req *r, unsigned status, json_t *j)
{
        char *s = json_dumps(j ? j : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(j);
        size_t len = strlen(s);
        /* dockerd ends each JSON body with a newline */
        s = berth_xrealloc(s, len + 2);
        s[len++] = '\n';
        s[len] = '\0';
        reply_buffer(r, status, "application/json", s, len);
}

void api_reply_empty(struct api_req *r, unsigned status)
{
        struct MHD_Response *resp =
                MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        set_reply(r, status, resp);
}

void api_reply_text(struct api_req *r, unsigned status, const char *content_type, const char *text)
{
        reply_buffer(r, status, content_type, berth_xstrdup(text), strlen(text));
}

__attribute__((format(printf, 3, 0))) static void reply_verror(struct api_req *r, unsigned status,
                                                               const char *fmt, va_list ap)
{
        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        api_reply_json(r, status, json_pack("{s:s}", "message", msg ? msg : "out of memory"));
        free(msg);
}

void api_reply_error(struct api_req *r, unsigned status, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        reply_verror(r, status, fmt, ap);
        va_end(ap);
}

const char *api_error_text(berth_error_t e)
{
        const char *m = e ? berth_error_msg(e) : "unknown error";
        if (strncmp(m, "berth: ", 7) == 0)
                m += 7;
        return m;
}

unsigned api_status_of(berth_error_t e)
{
        if (!e)
                return 500;
        const char *m = api_error_text(e);
        if (strncmp(m, "No such ", 8) == 0 || strstr(m, "not found") || e->errnum == ENOENT)
                return 404;
        if (strstr(m, "already in use") || strstr(m, "already exists") || strstr(m, "is in use") ||
            strstr(m, "conflict") || strstr(m, "Conflict") || e->errnum == EEXIST ||
            e->errnum == EBUSY)
                return 409;
        if (strstr(m, "is not running") || strstr(m, "is paused") || strstr(m, "is not paused"))
                return 409;
        if (e->errnum == EINVAL || strstr(m, "invalid") || strstr(m, "Invalid"))
                return 400;
        return 500;
}

json_t *api_nil_slice(json_t *a)
{
        if (json_array_size(a) > 0)
                return a;
        json_decref(a);
        return json_null();
}

void api_reply_berth_error(struct api_req *r, berth_error_t *err)
{
        unsigned status = api_status_of(*err);
        /* an errno the libraries set only to classify a refusal (EINVAL: bad input, EBUSY: a
         * conflict) stays out of the message, as dockerd's sentences have none */
        if (*err && ((*err)->errnum == EINVAL || (*err)->errnum == EBUSY)) {
                char *text = berth_error_chain_text(*err);
                const char *m = text && strncmp(text, "berth: ", 7) == 0 ? text + 7 : text;
                api_reply_error(r, status, "%s", m ? m : "invalid argument");
                free(text);
        } else {
                api_reply_error(r, status, "%s", api_error_text(*err));
        }
        berth_error_release(err);
}

const char *api_query(struct api_req *r, const char *key)
{
        return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

bool api_query_bool(struct api_req *r, const char *key, bool def)
{
        const char *v = api_query(r, key);
        if (!v)
                return def;
        return strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0;
}

long long api_query_int(struct api_req *r, const char *key, long long def)
{
        const char *v = api_query(r, key);
        if (!v || !*v)
                return def;
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        return (*end || errno) ? def : n;
}

const char *api_header(struct api_req *r, const char *name)
{
        return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

json_t *api_body_json(struct api_req *r, bool empty_ok)
{
        size_t n = r->body_len;
        while (n && (r->body[n - 1] == ' ' || r->body[n - 1] == '\n' || r->body[n - 1] == '\r'))
                n--;
        if (n == 0) {
                if (empty_ok)
                        return json_object();
                api_reply_error(r, 400, "request body is empty");
                return NULL;
        }
        json_error_t je;
        json_t *j = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, &je);
        if (!j) {
                api_reply_error(r, 400, "invalid JSON: %s", je.text);
                return NULL;
        }
        return j;
}

json_t *api_filters(struct api_req *r)
{
        const char *q = api_query(r, "filters");
        json_t *out = json_object();
        if (!q || !*q)
                return out;
        json_error_t je;
        json_t *in = json_loads(q, 0, &je);
        if (!in || !json_is_object(in)) {
                json_decref(in);
                json_decref(out);
                api_reply_error(r, 400, "invalid filter '%s'", q);
                return NULL;
        }
        const char *k;
        json_t *v;
        json_object_foreach(in, k, v)
        {
                json_t *list = json_array();
                if (json_is_array(v)) {
                        size_t i;
                        json_t *x;
                        json_array_foreach(v, i, x)
                        {
                                if (json_is_string(x))
                                        json_array_append(list, x);
                        }
                } else if (json_is_object(v)) {
                        const char *vk;
                        json_t *vv;
                        json_object_foreach(v, vk, vv)
                        {
                                if (json_is_true(vv))
                                        json_array_append_new(list, json_string(vk));
                        }
                } else {
                        json_decref(list);
                        json_decref(in);
                        json_decref(out);
                        api_reply_error(r, 400, "invalid filter '%s'", q);
                        return NULL;
                }
                json_object_set_new(out, k, list);
        }
        json_decref(in);
        return out;
}
