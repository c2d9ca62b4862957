/* http_triggers.c — the users' manual triggers (http_triggers.h). */
#include "http/http_triggers.h"

#include <string.h>

#include "http/http_app.h"
#include "http/http_tasks.h"

/* The body as the task's args: empty for {}, else a JSON object. NULL
 * with rep filled when it is neither. */
static json_t *body_args(const http_request_t *req, http_reply_t *rep)
{
    if (strspn(req->body, " \t\r\n") == req->body_len)
        return json_object();
    json_error_t jerr;
    json_t *args = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (args == NULL) {
        http_reply_error(rep, 400, "the body is not JSON: %s (line %d, column %d)", jerr.text, jerr.line,
                         jerr.column);
        return NULL;
    }
    if (!json_is_object(args)) {
        json_decref(args);
        http_reply_error(rep, 400, "the body must be the task's args, a JSON object (or empty)");
        return NULL;
    }
    return args;
}

void http_trigger_scan(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { "queue", NULL };
    if (http_query_only(req, known, rep) != 0)
        return;
    json_t *args = body_args(req, rep);
    if (args == NULL)
        return;
    json_t *task = json_pack("{s:s, s:o}", "type", "scan_opportunities", "args", args);
    const char *queue = http_query(req, "queue");
    if (queue != NULL)
        json_object_set_new(task, "queue", json_string(queue));
    http_tasks_enqueue(app, task, rep);
    json_decref(task);
}
