/* http_triggers.c — the users' manual triggers (http_triggers.h). */
#include "http/http_triggers.h"

#include <stdlib.h>
#include <string.h>

#include "core/close_match.h"
#include "core/json_exact.h"
#include "core/job.h"
#include "core/job_admit.h"
#include "core/uuid.h"
#include "core/errmsg.h"
#include "data/bars.h"
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
        http_reply_body_not_json(rep, &jerr);
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

/* --- update: market data, then options, then IV analysis ---------------- */

/* The fields an update's body may hold. */
static const char *const update_fields[] = { "stock_provider", "options_provider", "as_of", "interval" };
#define NUPDATE (sizeof update_fields / sizeof update_fields[0])
#define UPDATE_STEPS 3

/* An unknown field of an update's body: 0 when there is none, else -1 with
 * rep filled. */
static int update_unknown_field(json_t *body, http_reply_t *rep)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        int known = 0;
        for (size_t i = 0; i < NUPDATE && !known; i++)
            known = strcmp(update_fields[i], key) == 0;
        if (known)
            continue;
        size_t best = 0;
        char hint[80] = "";
        if (close_match_find(key, update_fields, NUPDATE, &best, 1) == 1)
            snprintf(hint, sizeof hint, " (did you mean '%s'?)", update_fields[best]);
        char quoted[ERRMSG_QUOTE_MAX];
        http_reply_error(rep, 400, "unknown field %s%s; an update takes: stock_provider, options_provider, "
                         "as_of, interval (all optional)", errmsg_quote(key, quoted, sizeof quoted), hint);
        return -1;
    }
    return 0;
}

/* The options provider: the body's, else the API host's
 * TICKQ_OPTIONS_PROVIDER (a JSON object). A new reference, or NULL with
 * rep filled. */
static json_t *options_provider(json_t *body, http_reply_t *rep)
{
    json_t *given = json_object_get(body, "options_provider");
    if (given != NULL && !json_is_null(given))
        return json_incref(given);
    const char *env = getenv("TICKQ_OPTIONS_PROVIDER");
    if (env == NULL || *env == '\0') {
        http_reply_error(rep, 400, "no options provider: give \"options_provider\" in the body (e.g. {\"type\": "
                         "\"synthetic\"}, docs/options.md) or set TICKQ_OPTIONS_PROVIDER on the API host");
        return NULL;
    }
    json_error_t jerr;
    json_t *p = json_loads(env, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(p)) {
        json_decref(p);
        http_reply_error(rep, 500, "TICKQ_OPTIONS_PROVIDER on the API host is not a JSON object (%s): fix it, or "
                         "give \"options_provider\" in the body", p == NULL ? jerr.text : "another JSON value");
        return NULL;
    }
    return p;
}

/* The args of the three steps for `symbols` (a new reference each), from
 * the body's fields. 0, or -1 with rep filled. */
static int update_args(json_t *body, json_t *symbols, json_t *out[UPDATE_STEPS], http_reply_t *rep)
{
    json_t *provider = options_provider(body, rep);
    if (provider == NULL)
        return -1;
    out[0] = json_pack("{s:O}", "symbols", symbols);
    out[1] = json_pack("{s:O, s:o}", "symbols", symbols, "provider", provider);
    out[2] = json_pack("{s:O}", "symbols", symbols);
    json_t *v;
    if ((v = json_object_get(body, "stock_provider")) != NULL)
        json_object_set(out[0], "provider", v);
    if ((v = json_object_get(body, "interval")) != NULL)
        json_object_set(out[0], "interval", v);
    if ((v = json_object_get(body, "as_of")) != NULL) {
        json_object_set(out[1], "as_of", v);
        json_object_set(out[2], "as_of", v);
    }
    return 0;
}

/* Enqueues the chain for `symbols` ("all" or a one-symbol list) and
 * answers 201 {"id" (the last step's, whose end is the chain's), "state",
 * "created", "jobs": [{"type", "id", "state"}...]}. */
static void update_chain(http_app_t *a, const http_request_t *req, json_t *symbols, http_reply_t *rep)
{
    static const char *const types[UPDATE_STEPS] = { "update_stock_data", "update_options_data",
                                                     "calculate_iv_analysis" };
    static const char *const known[] = { "queue", "priority", NULL };
    if (http_query_only(req, known, rep) != 0)
        return;
    json_t *body = body_args(req, rep);
    if (body == NULL)
        return;
    json_t *args[UPDATE_STEPS] = { NULL, NULL, NULL };
    char *text[UPDATE_STEPS] = { NULL, NULL, NULL };
    char ids[UPDATE_STEPS][UUID_STR_LEN], err[2048];
    job_spec_t specs[UPDATE_STEPS];
    if (update_unknown_field(body, rep) != 0 || update_args(body, symbols, args, rep) != 0)
        goto out;
    for (int i = 0; i < UPDATE_STEPS; i++) {
        uuid_v4(ids[i]);
        job_spec_init(&specs[i]);
        specs[i].id = ids[i];
        specs[i].type = types[i];
        if (http_query(req, "queue") != NULL)
            specs[i].queue = http_query(req, "queue");
        if (http_query(req, "priority") != NULL)
            specs[i].priority = http_query(req, "priority");
        specs[i].depends_on = i > 0 ? ids[i - 1] : NULL;
        if ((text[i] = json_exact_dumps(args[i], JSON_COMPACT)) == NULL) {
            http_reply_error(rep, 500, "out of memory");
            goto out;
        }
        specs[i].args = text[i];
        specs[i].args_len = strlen(text[i]);
        if (job_admit_check(&specs[i], a->cfg->max_payload, err, sizeof err) != 0) {
            http_reply_error(rep, 400, "job refused: %s: %s", types[i], err);
            goto out;
        }
    }
    queue_t *q = http_app_queue(a, err, sizeof err);
    if (q == NULL) {
        http_reply_error(rep, 503, "cannot reach Redis: %s", err);
        goto out;
    }
    enqueue_result_t res[UPDATE_STEPS];
    queue_status_t qs = queue_enqueue_chain(q, specs, UPDATE_STEPS, res, err, sizeof err);
    if (qs == QUEUE_ERR_INVALID) {
        http_reply_error(rep, 400, "job refused: %s", err);
    } else if (qs == QUEUE_ERR_IO) { /* one transaction: all three went in, or none */
        const char *last = ids[UPDATE_STEPS - 1];
        http_app_outcome_unknown(a, rep, json_pack("{s:s}", "id", last), "the update chain ending with job %s may "
                                 "have been enqueued: " HTTP_SENT_FAILED " (%s); its three jobs "
                                 "went in together or not at all: look it up by id (GET /api/tasks/%s) once Redis "
                                 "answers again, and post the update again only if it is not there", last, err,
                                 last);
    } else if (qs != QUEUE_OK) {
        http_app_fail(a, rep, 503, "cannot enqueue (nothing was): %s", err);
    } else {
        json_t *jobs = json_array();
        for (int i = 0; i < UPDATE_STEPS; i++)
            json_array_append_new(jobs, json_pack("{s:s, s:s, s:s}", "type", types[i], "id", res[i].id, "state",
                                                  res[i].state));
        http_reply_json(rep, 201, json_pack("{s:s, s:s, s:b, s:o}", "id", res[UPDATE_STEPS - 1].id, "state",
                                            res[UPDATE_STEPS - 1].state, "created", 1, "jobs", jobs));
    }
out:
    for (int i = 0; i < UPDATE_STEPS; i++) {
        json_decref(args[i]);
        free(text[i]);
    }
    json_decref(body);
}

void http_trigger_update(void *app, const http_request_t *req, http_reply_t *rep)
{
    const char *symbol = req->params[0];
    if (bar_symbol_check(symbol, strlen(symbol)) != 0) { /* said here, whole or cut saying so */
        char quoted[ERRMSG_QUOTE_MAX];
        http_reply_error(rep, 400, "symbol %s is not a valid symbol (" BAR_SYMBOL_RULE "): nothing enqueued",
                         errmsg_quote(symbol, quoted, sizeof quoted));
        return;
    }
    json_t *symbols = json_pack("[s]", symbol);
    update_chain(app, req, symbols, rep);
    json_decref(symbols);
}

void http_trigger_update_all(void *app, const http_request_t *req, http_reply_t *rep)
{
    json_t *symbols = json_string("all");
    update_chain(app, req, symbols, rep);
    json_decref(symbols);
}
