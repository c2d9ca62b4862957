/* http_tasks.c — the jobs of the REST API (http_tasks.h). */
#include "http/http_tasks.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/job.h"
#include "core/job_admit.h"
#include "core/job_json.h"
#include "core/job_list.h"
#include "core/job_batch.h"
#include "core/queue_controls.h"
#include "core/queue_names.h"
#include "core/job_view.h"
#include "core/uuid.h"
#include "core/errmsg.h"
#include "data/optimize_table.h"

/* A spec from a task object, as job_json_spec does it; -1 with rep filled
 * (400, or 500 when out of memory). */
static int spec_of(const json_t *task, job_spec_t *spec, job_json_text_t *text, http_reply_t *rep)
{
    char err[512];
    int st = job_json_spec(task, NULL, spec, text, err, sizeof err);
    if (st != 0)
        http_reply_error(rep, st == JOB_JSON_NOMEM ? 500 : 400, "%s", err);
    return st == 0 ? 0 : -1;
}


/* 503: the enqueue of job `id` failed after its call was sent (err). */
static void enqueue_unknown(http_app_t *a, http_reply_t *rep, const char *id, const char *err)
{
    http_app_outcome_unknown(a, rep, json_pack("{s:s}", "id", id),
                             "job %s may have been enqueued: " HTTP_SENT_FAILED " (%s); look it up by id (GET "
                             "/api/tasks/%s), or retry with \"id\": \"%s\" (a 409 then says it went in)", id, err,
                             id, id);
}

void http_tasks_enqueue(http_app_t *a, const json_t *task, http_reply_t *rep)
{
    job_spec_t spec;
    job_json_text_t text;
    char err[2048], new_id[UUID_STR_LEN];
    if (spec_of(task, &spec, &text, rep) != 0) {
        job_json_text_free(&text);
        return;
    }
    if (spec.id == NULL) { /* made here, not by queue_enqueue: a failed call can name it */
        uuid_v4(new_id);
        spec.id = new_id;
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
    if (qs != QUEUE_OK) { /* before the enqueue was sent */
        http_app_fail(a, rep, 503, "cannot enqueue (nothing was): cannot check the task type: %s", err);
        goto out;
    }
    enqueue_result_t res;
    qs = queue_enqueue(q, &spec, &res, err, sizeof err);
    if (qs == QUEUE_ERR_INVALID) {
        http_reply_error(rep, 400, "job refused: %s", err);
    } else if (qs == QUEUE_ERR_IO) {
        enqueue_unknown(a, rep, spec.id, err);
    } else if (qs != QUEUE_OK) { /* Redis answered with an error: it did nothing */
        http_app_fail(a, rep, 503, "cannot enqueue (nothing was): %s", err);
    } else if (!res.created) {
        json_t *body = json_pack("{s:s, s:s, s:s, s:i}", "error", "", "id", res.id, "state", res.state, "run", res.run);
        json_object_set_new(body, "error", json_sprintf("job %s already exists (state %s, run %d); nothing "
                                                        "enqueued%s", res.id, res.state, res.run,
                                                        spec.replace ? " (replace runs again only a finished job)"
                                                                     : ""));
        http_reply_json(rep, 409, body);
    } else {
        http_reply_json(rep, 201, job_json_enqueue_result(&res));
    }
out:
    job_json_text_free(&text);
}

#define LIST_TASKS_MAX 10000

/* A list of tasks: every one checked, then all enqueued in batches
 * (queue_enqueue_batch); one bad task refuses the list. */
static void enqueue_list(http_app_t *a, const json_t *tasks, http_reply_t *rep)
{
    size_t n = json_array_size(tasks);
    if (n == 0 || n > LIST_TASKS_MAX) {
        http_reply_error(rep, 400, "the list has %zu tasks: post 1 to %d", n, LIST_TASKS_MAX);
        return;
    }
    char err[2048];
    job_batch_t b;
    job_batch_init(&b);
    enqueue_result_t *res = NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *task = json_array_get(tasks, i);
        if (!json_is_object(task)) {
            http_reply_error(rep, 400, "task %zu: a task is a JSON object", i);
            goto out;
        }
        int st = job_batch_add(&b, task, a->cfg->max_payload, err, sizeof err);
        if (st != 0) {
            http_reply_error(rep, st == JOB_JSON_NOMEM ? 500 : 400, "task %zu: %s", i, err);
            goto out;
        }
    }
    queue_t *q = http_app_queue(a, err, sizeof err);
    if (q == NULL) {
        http_reply_error(rep, 503, "cannot reach Redis: %s", err);
        goto out;
    }
    size_t bad, done = 0, refused = SIZE_MAX;
    queue_status_t qs = job_batch_types(q, &b, &bad, err, sizeof err);
    if (qs == QUEUE_OK && bad != SIZE_MAX) {
        http_reply_error(rep, 400, "task %zu: job refused: %s", bad, err);
        goto out;
    }
    res = calloc(n, sizeof *res);
    if (res == NULL) {
        http_reply_error(rep, 500, "out of memory");
        goto out;
    }
    if (qs != QUEUE_OK) { /* checking the types: nothing was sent */
        http_app_drop_broken(a);
        http_reply_json(rep, 503, json_pack("{s:o, s:i, s:[]}", "error", json_sprintf("cannot enqueue (nothing was): "
                                            "cannot check the task types: %s", err), "enqueued", 0, "ids"));
        goto out;
    }
    qs = queue_enqueue_batch(q, b.specs, n, res, &done, &refused, err, sizeof err);
    if (qs != QUEUE_OK) {
        /* The calls before the failing one went in: say how many and their
         * ids (a task without an id got a new one: posting it again would
         * enqueue it again). A refusal names its task by its index, as the
         * checks above do. */
        json_t *went = json_array();
        for (size_t i = 0; i < done; i++)
            json_array_append_new(went, json_string(res[i].id));
        if (qs == QUEUE_ERR_IO) {
            /* The call in flight may have gone in too: its tasks are those
             * after `done` whose ids it set before it was sent. */
            json_t *maybe = json_array();
            size_t end = done;
            for (; end < n && res[end].id[0] != '\0'; end++)
                json_array_append_new(maybe, json_string(res[end].id));
            json_t *body = json_pack("{s:I, s:o, s:o}", "enqueued", (json_int_t)done, "ids", went, "outcome_unknown",
                                     maybe);
            char before[80] = "";
            if (done > 0)
                snprintf(before, sizeof before, "; the %zu before them went in (\"ids\")", done);
            http_app_outcome_unknown(a, rep, body, "tasks %zu to %zu may have been enqueued: " HTTP_SENT_FAILED " (%s)%s. "
                                     "Look those in \"outcome_unknown\" up by id, or post the tasks from %zu on "
                                     "again, these with those ids (an id that exists is then \"created\": false, "
                                     "not a second job)", done, end > done ? end - 1 : done, err, before, done);
            goto out;
        }
        http_app_drop_broken(a);
        json_t *error;
        if (refused != SIZE_MAX)
            error = json_sprintf("task %zu (%s): job refused: %s", refused, res[refused].id, err);
        else if (qs == QUEUE_ERR_INVALID)
            error = json_sprintf("job refused: %s", err);
        else /* Redis answered with an error: the failing call did nothing */
            error = json_sprintf("cannot enqueue the tasks from %zu on (nothing of them was): %s", done, err);
        http_reply_json(rep, qs == QUEUE_ERR_INVALID ? 400 : 503,
                        json_pack("{s:o, s:I, s:o}", "error", error, "enqueued", (json_int_t)done, "ids", went));
        goto out;
    }
    json_t *jobs = json_array();
    size_t created = 0;
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(jobs, job_json_enqueue_result(&res[i]));
        created += res[i].created != 0;
    }
    http_reply_json(rep, 201, json_pack("{s:o, s:I, s:I}", "jobs", jobs, "created", (json_int_t)created, "existing",
                                        (json_int_t)(n - created)));
out:
    free(res);
    job_batch_free(&b);
}

void http_tasks_create(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { NULL };
    if (http_query_only(req, known, rep) != 0)
        return;
    json_error_t jerr;
    json_t *task = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (task == NULL) {
        http_reply_body_not_json(rep, &jerr);
        return;
    }
    if (json_is_array(task))
        enqueue_list(app, task, rep);
    else
        http_tasks_enqueue(app, task, rep);
    json_decref(task);
}

/* The job's result (task_result:<id>), parsed; NULL when there is none. */
static json_t *result_of(http_app_t *a, const char *id, char *err, size_t errlen, int *failed)
{
    char key[300];
    queue_result_key(id, key, sizeof key);
    redisReply *r = rconn_cmd(a->redis.conn, err, errlen, "GET %s", key);
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

/* The opening of an endpoint on job {id} that takes no query: the queue,
 * or NULL with rep filled (400: a query, or an id no job can have; 503:
 * Redis out of reach). */
static queue_t *job_endpoint(http_app_t *a, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { NULL };
    if (http_query_only(req, known, rep) != 0 || id_param(req, rep) != 0)
        return NULL;
    char err[1024];
    queue_t *q = http_app_queue(a, err, sizeof err);
    if (q == NULL)
        http_reply_error(rep, 503, "cannot reach Redis: %s", err);
    return q;
}

/* 404: no job `id`. */
static void no_job(http_reply_t *rep, const char *id)
{
    http_reply_error(rep, 404, "no job %s (unknown id, or its record expired)", id);
}

/* 503: a call to `what` (cancel, retry, delete) job `id` failed with qs:
 * after an I/O error Redis may have run it (`done`: "cancelled", ...),
 * else it did nothing. */
static void control_failed(http_app_t *a, http_reply_t *rep, queue_status_t qs, const char *what, const char *done,
                           const char *id, const char *err)
{
    if (qs == QUEUE_ERR_IO) {
        http_app_outcome_unknown(a, rep, json_pack("{s:s}", "id", id), "job %s may have been %s: " HTTP_SENT_FAILED
                                 " (%s); look at its state (GET /api/tasks/%s)", id, done, err, id);
        return;
    }
    http_app_fail(a, rep, 503, "cannot %s (nothing was done): %s", what, err);
}

/* 409: job `id` is in a state the call refuses it in; takes `error`. */
static void refused_in_state(http_reply_t *rep, const char *id, const char *state, json_t *error)
{
    http_reply_json(rep, 409, json_pack("{s:o, s:s, s:s}", "error", error, "id", id, "state", state));
}

void http_tasks_get(void *app, const http_request_t *req, http_reply_t *rep)
{
    http_app_t *a = app;
    queue_t *q = job_endpoint(a, req, rep);
    if (q == NULL)
        return;
    char err[1024];
    json_t *job;
    int found = job_view_read(q, req->params[0], &job, err, sizeof err);
    int failed = 0;
    json_t *result = found == 1 ? result_of(a, req->params[0], err, sizeof err, &failed) : NULL;
    if (found < 0 || failed) {
        json_decref(job);
        http_app_fail(a, rep, 503, "cannot read the job: %s", err);
    } else if (found == 0) {
        no_job(rep, req->params[0]);
    } else {
        json_object_set_new(job, "result", result != NULL ? result : json_null());
        http_reply_json(rep, 200, job); /* as `tickq job`: 0.1, not 0.10000000000000001 */
    }
}

void http_tasks_cancel(void *app, const http_request_t *req, http_reply_t *rep)
{
    http_app_t *a = app;
    queue_t *q = job_endpoint(a, req, rep);
    if (q == NULL)
        return;
    const char *id = req->params[0];
    char err[1024], state[JOB_STATE_MAX] = "";
    cancel_status_t res;
    queue_status_t qs = queue_cancel(q, id, &res, state, err, sizeof err);
    if (qs != QUEUE_OK)
        control_failed(a, rep, qs, "cancel", "cancelled", id, err);
    else if (res == CANCEL_MISSING)
        no_job(rep, id);
    else if (res == CANCEL_FINAL)
        refused_in_state(rep, id, state, json_sprintf("job %s already finished (state %s); nothing to cancel", id,
                                                      state));
    else if (res == CANCEL_DONE)
        http_reply_json(rep, 200, json_pack("{s:s, s:s}", "id", id, "state", "cancelled"));
    else /* running: its worker stops it within a fraction of a second */
        http_reply_json(rep, 202, json_pack("{s:s, s:s, s:b}", "id", id, "state", "running", "cancel_requested", 1));
}

void http_tasks_retry(void *app, const http_request_t *req, http_reply_t *rep)
{
    http_app_t *a = app;
    queue_t *q = job_endpoint(a, req, rep);
    if (q == NULL)
        return;
    const char *id = req->params[0];
    char err[1024], state[JOB_STATE_MAX] = "";
    retry_status_t res;
    int run = 0;
    queue_status_t qs = queue_retry(q, id, &res, &run, state, err, sizeof err);
    if (qs != QUEUE_OK)
        control_failed(a, rep, qs, "retry", "queued again", id, err);
    else if (res == RETRY_MISSING)
        no_job(rep, id);
    else if (res == RETRY_REFUSED)
        refused_in_state(rep, id, state, json_sprintf("job %s is %s, not failed or dead: nothing to retry", id,
                                                      state));
    else
        http_reply_json(rep, 200, json_pack("{s:s, s:s, s:i}", "id", id, "state", "queued", "run", run));
}

void http_tasks_delete(void *app, const http_request_t *req, http_reply_t *rep)
{
    http_app_t *a = app;
    queue_t *q = job_endpoint(a, req, rep);
    if (q == NULL)
        return;
    const char *id = req->params[0];
    char err[1024], state[JOB_STATE_MAX] = "";
    delete_status_t res;
    long long needed_by = 0;
    queue_status_t qs = queue_delete(q, id, &res, state, &needed_by, err, sizeof err);
    if (qs != QUEUE_OK) {
        control_failed(a, rep, qs, "delete", "deleted", id, err);
    } else if (res == DELETE_MISSING) {
        no_job(rep, id);
    } else if (res == DELETE_REFUSED) {
        refused_in_state(rep, id, state, json_sprintf("job %s is %s, not finished: not deleted (cancel it first)",
                                                      id, state));
    } else if (res == DELETE_NEEDED) {
        json_t *body = json_pack("{s:o, s:s, s:I}", "error", json_sprintf("job %s is needed by %lld waiting "
                                                                           "job(s) that depend on its result: "
                                                                           "not deleted", id, needed_by),
                                 "id", id, "needed_by", (json_int_t)needed_by);
        http_reply_json(rep, 409, body);
    } else {
        http_reply_json(rep, 200, json_pack("{s:s, s:s, s:b}", "id", id, "state", state, "deleted", 1));
    }
}

#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX 1000
#define LIST_OFFSET_MAX 10000 /* a page is read from the first row on: bounded */

void http_tasks_list(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { "state", "queue", "type", "limit", "offset", NULL };
    if (http_query_only(req, known, rep) != 0)
        return;
    http_app_t *a = app;
    const char *state = http_query(req, "state");
    job_filter_t f = { http_query(req, "queue"), http_query(req, "type"), 0, LIST_LIMIT_DEFAULT };
    char err[1024];
    if (state != NULL && !job_list_state_known(state)) {
        char list[200] = "";
        for (int i = 0; i < JOB_LIST_STATES; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", job_list_states[i]);
        char quoted[ERRMSG_QUOTE_MAX];
        http_reply_error(rep, 400, "unknown state %s (one of: %s)", errmsg_quote(state, quoted, sizeof quoted), list);
        return;
    }
    if (f.queue != NULL && queue_name_check(f.queue, err, sizeof err) != 0) {
        http_reply_error(rep, 400, "queue: %s", err);
        return;
    }
    if (f.type != NULL && !job_name_valid(f.type, JOB_TYPE_MAX)) {
        char quoted[ERRMSG_QUOTE_MAX];
        http_reply_error(rep, 400, "type %s is not a task type (1-%d of A-Z a-z 0-9 _ - .)",
                         errmsg_quote(f.type, quoted, sizeof quoted), JOB_TYPE_MAX);
        return;
    }
    long long limit, offset;
    if (http_query_count(req, "limit", 1, LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT, &limit, rep) != 0 ||
        http_query_count(req, "offset", 0, LIST_OFFSET_MAX, 0, &offset, rep) != 0)
        return;
    f.limit = (size_t)(offset + limit + 1); /* one more: whether there is a next page */
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
            http_app_fail(a, rep, 503, "cannot list %s jobs: %s", job_list_states[i], err);
            return;
        }
    }
    json_t *list = json_array();
    int64_t now = clock_now_ms();
    size_t end = rows.n < (size_t)(offset + limit) ? rows.n : (size_t)(offset + limit);
    for (size_t i = (size_t)offset; i < end; i++)
        json_array_append_new(list, job_row_json(&rows.rows[i], now));
    int more = rows.n > end;
    job_rows_free(&rows);
    http_reply_json_digits(rep, 200, json_pack("{s:o, s:I, s:I, s:b}", "jobs", list, "offset", (json_int_t)offset,
                                               "limit", (json_int_t)limit, "more", more), JOB_ROW_REAL_DIGITS);
}

#define TABLE_LIMIT_DEFAULT 1000
#define TABLE_LIMIT_MAX 100000

void http_tasks_table(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { "offset", "limit", NULL };
    long long offset, limit;
    if (http_query_only(req, known, rep) != 0 || id_param(req, rep) != 0 ||
        http_query_count(req, "offset", 0, 100000000, 0, &offset, rep) != 0 ||
        http_query_count(req, "limit", 1, TABLE_LIMIT_MAX, TABLE_LIMIT_DEFAULT, &limit, rep) != 0)
        return;
    db_t *db = http_app_database(app, rep);
    if (db == NULL)
        return;
    char err[1024];
    long long total;
    json_t *rows = optimize_table_read(db, req->params[0], (size_t)offset, (size_t)limit, &total, err,
                                       sizeof err);
    if (rows == NULL) {
        http_reply_error(rep, 503, "cannot read the optimize table: %s", err);
    } else if (total == 0) {
        json_decref(rows);
        http_reply_error(rep, 404, "no optimize table for job %s (not an optimize job, or not ranked yet)",
                         req->params[0]);
    } else {
        http_reply_json(rep, 200, json_pack("{s:s, s:I, s:I, s:o}", "id", req->params[0], "total",
                                            (json_int_t)total, "offset", (json_int_t)offset, "rows", rows));
    }
}
