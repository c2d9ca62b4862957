/* http_tasks.c — the jobs of the REST API (http_tasks.h). */
#include "http/http_tasks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/close_match.h"
#include "core/job.h"
#include "core/job_admit.h"
#include "core/job_list.h"
#include "core/queue_names.h"
#include "core/job_view.h"

static const char *const task_fields[] = { "type", "args", "queue", "priority", "id", "max_retries", "timeout",
                                           "delay", "replace", "expires", "depends_on", "after_any" };
#define NFIELDS (sizeof task_fields / sizeof task_fields[0])

/* An unknown field: 0 when there is none, else -1 with rep filled. */
static int unknown_field(const json_t *task, http_reply_t *rep)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)task, key, v) {
        size_t best = 0;
        int known = 0;
        for (size_t i = 0; i < NFIELDS && !known; i++)
            known = strcmp(task_fields[i], key) == 0;
        if (known)
            continue;
        char hint[80] = "";
        if (close_match_find(key, task_fields, NFIELDS, &best, 1) == 1)
            snprintf(hint, sizeof hint, " (did you mean '%s'?)", task_fields[best]);
        http_reply_error(rep, 400, "unknown field '%.60s'%s; a task takes: type, args, queue, priority, id, "
                         "max_retries, timeout, delay, replace, expires, depends_on, after_any", key, hint);
        return -1;
    }
    return 0;
}

/* Seconds (a JSON number) as milliseconds: 0, or -1 with rep filled. */
static int seconds_field(const json_t *task, const char *name, int positive, int64_t max_ms, int64_t *ms,
                         http_reply_t *rep)
{
    const json_t *v = json_object_get(task, name);
    if (v == NULL || json_is_null(v))
        return 0;
    double s = json_number_value(v);
    if (!json_is_number(v) || !isfinite(s) || s < 0 || (positive && s <= 0) || s * 1000 > (double)max_ms) {
        http_reply_error(rep, 400, "%s must be a number of seconds %s and at most %lld", name,
                         positive ? "above 0" : "from 0", (long long)(max_ms / 1000));
        return -1;
    }
    *ms = (int64_t)llround(s * 1000);
    if (positive && *ms == 0) { /* 0.0004 s is 0 ms: "not set", never meant */
        http_reply_error(rep, 400, "%s must be at least 0.001 seconds", name);
        return -1;
    }
    return 0;
}

/* A string field (NULL when absent): 0, or -1 with rep filled. */
static int string_field(const json_t *task, const char *name, const char **out, http_reply_t *rep)
{
    const json_t *v = json_object_get(task, name);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        http_reply_error(rep, 400, "%s must be a string", name);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

/* depends_on (a list of job ids) as the comma-separated text job_spec_t
 * takes, malloc'd into *text (NULL when absent): 0, or -1 with rep filled. */
static int depends_field(const json_t *task, char **text, http_reply_t *rep)
{
    const json_t *v = json_object_get(task, "depends_on");
    *text = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) == 0) {
        http_reply_error(rep, 400, "depends_on must be a non-empty list of job ids, e.g. [\"id1\", \"id2\"]");
        return -1;
    }
    size_t len = 0, i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e) || strchr(json_string_value(e), ',') != NULL) {
            http_reply_error(rep, 400, "depends_on[%zu] must be a job id (a string without commas)", i);
            return -1;
        }
        len += json_string_length(e) + 1;
    }
    if ((*text = malloc(len + 1)) == NULL) {
        http_reply_error(rep, 500, "out of memory");
        return -1;
    }
    char *p = *text;
    json_array_foreach(v, i, e)
        p += sprintf(p, "%s%s", i ? "," : "", json_string_value(e));
    return 0;
}

/* The text a spec borrows (malloc'd). */
typedef struct {
    char *args;
    char *deps;
} spec_text_t;

/* The spec of `task`; spec->args and spec->depends_on point into *text. */
static int spec_of(const json_t *task, job_spec_t *spec, spec_text_t *text, http_reply_t *rep)
{
    job_spec_init(spec);
    text->args = text->deps = NULL;
    char **args_text = &text->args;
    if (!json_is_object(task)) {
        http_reply_error(rep, 400, "a task must be a JSON object like {\"type\": \"echo\", \"args\": {}}");
        return -1;
    }
    if (unknown_field(task, rep) != 0)
        return -1;
    const json_t *type = json_object_get(task, "type"), *args = json_object_get(task, "args");
    const json_t *retries = json_object_get(task, "max_retries"), *replace = json_object_get(task, "replace");
    if (!json_is_string(type)) {
        http_reply_error(rep, 400, "type must be a string naming the task (GET /api/... or `tickq tasks` lists them)");
        return -1;
    }
    spec->type = json_string_value(type);
    if (args != NULL && !json_is_null(args) && !json_is_object(args)) {
        http_reply_error(rep, 400, "args must be a JSON object");
        return -1;
    }
    if (string_field(task, "queue", &spec->queue, rep) != 0 || string_field(task, "priority", &spec->priority, rep) != 0 ||
        string_field(task, "id", &spec->id, rep) != 0 ||
        seconds_field(task, "timeout", 1, JOB_MAX_TIMEOUT_MS, &spec->timeout_ms, rep) != 0 ||
        seconds_field(task, "delay", 0, JOB_MAX_TIMEOUT_MS, &spec->delay_ms, rep) != 0 ||
        seconds_field(task, "expires", 1, JOB_MAX_EXPIRES_MS, &spec->expires_ms, rep) != 0)
        return -1;
    if (retries != NULL && !json_is_null(retries)) {
        if (!json_is_integer(retries) || json_integer_value(retries) < 0 ||
            json_integer_value(retries) > JOB_MAX_RETRIES_LIMIT) {
            http_reply_error(rep, 400, "max_retries must be an integer from 0 to %d", JOB_MAX_RETRIES_LIMIT);
            return -1;
        }
        spec->max_retries = (int)json_integer_value(retries);
    }
    if (replace != NULL && !json_is_null(replace)) {
        if (!json_is_boolean(replace)) {
            http_reply_error(rep, 400, "replace must be true or false");
            return -1;
        }
        spec->replace = json_is_true(replace);
    }
    if (spec->replace && spec->id == NULL) {
        http_reply_error(rep, 400, "replace needs an id: it runs an existing job again");
        return -1;
    }
    const json_t *after_any = json_object_get(task, "after_any");
    if (after_any != NULL && !json_is_null(after_any)) {
        if (!json_is_boolean(after_any)) {
            http_reply_error(rep, 400, "after_any must be true or false");
            return -1;
        }
        spec->after_any = json_is_true(after_any);
    }
    if (depends_field(task, &text->deps, rep) != 0)
        return -1;
    spec->depends_on = text->deps;
    *args_text = args != NULL && !json_is_null(args) ? json_dumps(args, JSON_COMPACT) : strdup("{}");
    if (*args_text == NULL) {
        http_reply_error(rep, 500, "out of memory");
        return -1;
    }
    spec->args = *args_text;
    spec->args_len = strlen(*args_text);
    return 0;
}

void http_tasks_enqueue(http_app_t *a, const json_t *task, http_reply_t *rep)
{
    job_spec_t spec;
    spec_text_t text;
    char err[2048];
    if (spec_of(task, &spec, &text, rep) != 0) {
        free(text.args);
        free(text.deps);
        return;
    }
    if (job_admit_check(&spec, a->cfg->max_payload, err, sizeof err) != 0) {
        http_reply_error(rep, spec.args_len > a->cfg->max_payload ? 413 : 400, "job refused: %s", err);
        goto out;
    }
    queue_t *q = http_app_queue(a, err, sizeof err);
    if (q == NULL) {
        http_reply_error(rep, 503, "cannot reach Redis: %s", err);
        goto out;
    }
    int known;
    queue_status_t qs = job_admit_type(q, spec.type, &known, err, sizeof err);
    if (qs == QUEUE_OK && !known) {
        http_reply_error(rep, 400, "job refused: %s", err);
        goto out;
    }
    enqueue_result_t res;
    if (qs == QUEUE_OK)
        qs = queue_enqueue(q, &spec, &res, err, sizeof err);
    if (qs == QUEUE_ERR_INVALID) {
        http_reply_error(rep, 400, "job refused: %s", err);
    } else if (qs != QUEUE_OK) {
        if (rconn_broken(a->conn))
            http_app_broken(a);
        http_reply_error(rep, 503, "cannot enqueue: %s", err);
    } else if (!res.created) {
        json_t *body = json_pack("{s:s, s:s, s:s, s:i}", "error", "", "id", res.id, "state", res.state, "run", res.run);
        json_object_set_new(body, "error", json_sprintf("job %s already exists (state %s, run %d); nothing "
                                                        "enqueued%s", res.id, res.state, res.run,
                                                        spec.replace ? " (replace runs again only a finished job)"
                                                                     : ""));
        http_reply_json(rep, 409, body);
    } else {
        json_t *body = json_pack("{s:s, s:b, s:s, s:i}", "id", res.id, "created", 1, "state", res.state, "run",
                                 res.run);
        if (res.previous[0])
            json_object_set_new(body, "replaced", json_string(res.previous));
        http_reply_json(rep, 201, body);
    }
out:
    free(text.args);
    free(text.deps);
}

void http_tasks_create(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { NULL };
    if (http_query_only(req, known, rep) != 0)
        return;
    json_error_t jerr;
    json_t *task = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (task == NULL) {
        http_reply_error(rep, 400, "the body is not JSON: %s (line %d, column %d)", jerr.text, jerr.line,
                         jerr.column);
        return;
    }
    if (json_is_array(task))
        http_reply_error(rep, 400, "the body is a list: post one task, a JSON object");
    else
        http_tasks_enqueue(app, task, rep);
    json_decref(task);
}

/* The job's result (task_result:<id>), parsed; NULL when there is none. */
static json_t *result_of(http_app_t *a, const char *id, char *err, size_t errlen, int *failed)
{
    char key[300];
    queue_result_key(id, key, sizeof key);
    redisReply *r = rconn_cmd(a->conn, err, errlen, "GET %s", key);
    *failed = r == NULL;
    json_t *v = r != NULL && r->type == REDIS_REPLY_STRING ? json_loads(r->str, 0, NULL) : NULL;
    freeReplyObject(r);
    return v;
}

/* The {id} of the path, if it may be a job id: 0, or -1 with rep filled (400). */
static int id_param(const http_request_t *req, http_reply_t *rep)
{
    char err[300];
    json_t *utf8 = json_string(req->params[0]);
    int ok = utf8 != NULL && job_id_check(req->params[0], err, sizeof err) == 0;
    json_decref(utf8);
    if (!ok)
        http_reply_error(rep, 400, "%s", utf8 == NULL ? "a job id is UTF-8 text" : err);
    return ok ? 0 : -1;
}

void http_tasks_get(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { NULL };
    if (http_query_only(req, known, rep) != 0 || id_param(req, rep) != 0)
        return;
    http_app_t *a = app;
    char err[1024];
    queue_t *q = http_app_queue(a, err, sizeof err);
    if (q == NULL) {
        http_reply_error(rep, 503, "cannot reach Redis: %s", err);
        return;
    }
    json_t *job;
    int found = job_view_read(q, req->params[0], &job, err, sizeof err);
    int failed = 0;
    json_t *result = found == 1 ? result_of(a, req->params[0], err, sizeof err, &failed) : NULL;
    if (found < 0 || failed) {
        json_decref(job);
        http_app_broken(a);
        http_reply_error(rep, 503, "cannot read the job: %s", err);
    } else if (found == 0) {
        http_reply_error(rep, 404, "no job %s (unknown id, or its record expired)", req->params[0]);
    } else {
        json_object_set_new(job, "result", result != NULL ? result : json_null());
        http_reply_json(rep, 200, job);
    }
}

void http_tasks_cancel(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { NULL };
    if (http_query_only(req, known, rep) != 0 || id_param(req, rep) != 0)
        return;
    http_app_t *a = app;
    char err[1024], state[JOB_STATE_MAX] = "";
    queue_t *q = http_app_queue(a, err, sizeof err);
    if (q == NULL) {
        http_reply_error(rep, 503, "cannot reach Redis: %s", err);
        return;
    }
    cancel_status_t res;
    queue_status_t qs = queue_cancel(q, req->params[0], &res, state, err, sizeof err);
    const char *id = req->params[0];
    if (qs != QUEUE_OK) {
        if (rconn_broken(a->conn))
            http_app_broken(a);
        http_reply_error(rep, 503, "cannot cancel: %s", err);
    } else if (res == CANCEL_MISSING) {
        http_reply_error(rep, 404, "no job %s (unknown id, or its record expired)", id);
    } else if (res == CANCEL_FINAL) {
        json_t *body = json_pack("{s:o, s:s, s:s}", "error", json_sprintf("job %s already finished (state %s); "
                                                                           "nothing to cancel", id, state),
                                 "id", id, "state", state);
        http_reply_json(rep, 409, body);
    } else if (res == CANCEL_DONE) {
        http_reply_json(rep, 200, json_pack("{s:s, s:s}", "id", id, "state", "cancelled"));
    } else {
        /* Running: its worker stops it within a fraction of a second. */
        http_reply_json(rep, 202, json_pack("{s:s, s:s, s:b}", "id", id, "state", "running", "cancel_requested", 1));
    }
}

#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX 1000

void http_tasks_list(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { "state", "queue", "type", "limit", NULL };
    if (http_query_only(req, known, rep) != 0)
        return;
    http_app_t *a = app;
    const char *state = http_query(req, "state"), *limit_text = http_query(req, "limit");
    job_filter_t f = { http_query(req, "queue"), http_query(req, "type"), 0, LIST_LIMIT_DEFAULT };
    char err[1024];
    if (state != NULL && !job_list_state_known(state)) {
        char list[200] = "";
        for (int i = 0; i < JOB_LIST_STATES; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", job_list_states[i]);
        http_reply_error(rep, 400, "unknown state '%.60s' (one of: %s)", state, list);
        return;
    }
    if (f.queue != NULL && queue_name_check(f.queue, err, sizeof err) != 0) {
        http_reply_error(rep, 400, "queue: %s", err);
        return;
    }
    if (f.type != NULL && !job_name_valid(f.type, JOB_TYPE_MAX)) {
        http_reply_error(rep, 400, "type '%.60s' is not a task type (1-%d of A-Z a-z 0-9 _ - .)", f.type,
                         JOB_TYPE_MAX);
        return;
    }
    if (limit_text != NULL) {
        char *end;
        long long v = strtoll(limit_text, &end, 10);
        if (*limit_text == '\0' || *end != '\0' || v < 1 || v > LIST_LIMIT_MAX) {
            http_reply_error(rep, 400, "limit must be an integer from 1 to %d", LIST_LIMIT_MAX);
            return;
        }
        f.limit = (size_t)v;
    }
    queue_t *q = http_app_queue(a, err, sizeof err);
    if (q == NULL) {
        http_reply_error(rep, 503, "cannot reach Redis: %s", err);
        return;
    }
    job_rows_t rows = { NULL, 0, 0 };
    for (int i = 0; i < JOB_LIST_STATES && rows.n < f.limit; i++) {
        if (state != NULL && strcmp(state, job_list_states[i]) != 0)
            continue;
        if (job_list_state(q, job_list_states[i], &f, &rows, err, sizeof err) != 0) {
            job_rows_free(&rows);
            if (rconn_broken(a->conn))
                http_app_broken(a);
            http_reply_error(rep, 503, "cannot list %s jobs: %s", job_list_states[i], err);
            return;
        }
    }
    json_t *list = json_array();
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < rows.n; i++)
        json_array_append_new(list, job_row_json(&rows.rows[i], now));
    job_rows_free(&rows);
    http_reply_json(rep, 200, json_pack("{s:o}", "jobs", list));
}
