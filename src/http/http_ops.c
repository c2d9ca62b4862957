/* http_ops.c — queues, workers, schedules and dead letters over REST
 * (http_ops.h). */
#include "http/http_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/queue_controls.h"
#include "core/queue_names.h"
#include "core/stats.h"
#include "http/http_app.h"
#include "http/http_sampler.h"
#include "sched/calendar_view.h"

#define DLQ_LIMIT_DEFAULT 100
#define DLQ_LIMIT_MAX 10000
#define NEXT_FIRES 3

static const char *const no_params[] = { NULL };

/* The cluster's stats snapshot, or NULL with rep filled (503). */
static json_t *snapshot(http_app_t *a, http_reply_t *rep)
{
    char err[1024];
    queue_t *q = http_app_queue(a, err, sizeof err);
    json_t *s = q != NULL ? stats_collect(q, err, sizeof err) : NULL;
    if (s == NULL) {
        http_app_fail(a, rep, 503, "cannot read the queues from Redis: %s", err);
    }
    return s;
}

void http_ops_queues(void *app, const http_request_t *req, http_reply_t *rep)
{
    if (http_query_only(req, no_params, rep) != 0)
        return;
    json_t *s = snapshot(app, rep);
    if (s == NULL)
        return;
    json_object_del(s, "workers");
    http_reply_json(rep, 200, s);
}

void http_ops_workers(void *app, const http_request_t *req, http_reply_t *rep)
{
    if (http_query_only(req, no_params, rep) != 0)
        return;
    json_t *s = snapshot(app, rep);
    if (s == NULL)
        return;
    http_reply_json(rep, 200, json_pack("{s:O}", "workers", json_object_get(s, "workers")));
    json_decref(s);
}

/* A hash of schedule name -> integer (key_of's key), as a JSON object;
 * NULL with err when Redis fails. */
static json_t *hash_of(http_app_t *a, void (*key_of)(const queue_t *, char *, size_t), char *err, size_t errlen)
{
    char key[256];
    key_of(&a->q, key, sizeof key);
    redisReply *r = rconn_cmd(a->redis.conn, err, errlen, "HGETALL %s", key);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        if (r != NULL)
            snprintf(err, errlen, "%s", r->str);
        freeReplyObject(r);
        return NULL;
    }
    json_t *o = json_object();
    for (size_t i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2)
        json_object_set_new(o, r->element[i]->str, json_integer(rconn_reply_integer(r->element[i + 1])));
    freeReplyObject(r);
    return o;
}

void http_ops_schedules(void *app, const http_request_t *req, http_reply_t *rep)
{
    if (http_query_only(req, no_params, rep) != 0)
        return;
    http_app_t *a = app;
    char err[1024];
    if (http_app_queue(a, err, sizeof err) == NULL) {
        http_reply_error(rep, 503, "cannot reach Redis: %s", err);
        return;
    }
    /* fires before misfires, as /metrics reads them (see count_runs) */
    json_t *last = hash_of(a, queue_scheduler_last_key, err, sizeof err);
    json_t *fires = last ? hash_of(a, queue_scheduler_fires_key, err, sizeof err) : NULL;
    json_t *misfires = fires ? hash_of(a, queue_scheduler_misfires_key, err, sizeof err) : NULL;
    if (misfires == NULL) {
        json_decref(last);
        json_decref(fires);
        http_app_fail(a, rep, 503, "cannot read the scheduler's last fires and counts: %s", err);
        return;
    }
    json_t *list = json_array();
    int64_t now = clock_now_ms() / 1000;
    for (size_t i = 0; a->schedules != NULL && i < a->schedules->n; i++) {
        const schedule_t *s = &a->schedules->items[i];
        json_t *next = json_array();
        int64_t t = now, n;
        for (int k = 0; k < NEXT_FIRES && schedule_next(s, t, &n) == 0; k++, t = n) {
            char local[64], utc[64];
            schedule_format_local(s, n, local, sizeof local);
            schedule_format_utc(n, utc, sizeof utc);
            json_array_append_new(next, json_pack("{s:s, s:s}", "local", local, "utc", utc));
        }
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "name", s->name, "cron", s->expr, "timezone",
                              s->zone[0] ? s->zone : "UTC", "task", s->task, "queue", s->queue, "priority",
                              s->priority, "next", next);
        if (s->after[0] != '\0') { /* no times of its own: it fires with `after` */
            json_object_set_new(o, "after", json_string(s->after));
            json_object_set_new(o, "cron", json_null());
            json_object_set_new(o, "timezone", json_null());
        }
        json_t *l = json_object_get(last, s->name);
        if (l != NULL) {
            char utc[64];
            schedule_format_utc(json_integer_value(l), utc, sizeof utc);
            json_object_set_new(o, "last_fire", json_string(utc));
            /* the scheduler's job ids: "<schedule>:<fire time>" (scheduler.c, fire) */
            json_object_set_new(o, "last_job", json_sprintf("%s:%s", s->name, utc));
        } else {
            json_object_set_new(o, "last_fire", json_null());
            json_object_set_new(o, "last_job", json_null());
        }
        json_object_set_new(o, "fires", json_integer(json_integer_value(json_object_get(fires, s->name))));
        json_object_set_new(o, "misfires", json_integer(json_integer_value(json_object_get(misfires, s->name))));
        json_array_append_new(list, o);
    }
    json_decref(last);
    json_decref(fires);
    json_decref(misfires);
    http_reply_json(rep, 200, json_pack("{s:o, s:o}", "schedules", list, "config",
                                        a->schedules_path ? json_string(a->schedules_path) : json_null()));
}

void http_ops_dlq(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { "limit", NULL };
    if (http_query_only(req, known, rep) != 0)
        return;
    http_app_t *a = app;
    long long limit;
    if (http_query_count(req, "limit", 1, DLQ_LIMIT_MAX, DLQ_LIMIT_DEFAULT, &limit, rep) != 0)
        return;
    char err[1024], key[256];
    queue_t *q = http_app_queue(a, err, sizeof err);
    if (q == NULL) {
        http_reply_error(rep, 503, "cannot reach Redis: %s", err);
        return;
    }
    queue_dead_key(q, key, sizeof key);
    redisReply *r = rconn_cmd(a->redis.conn, err, sizeof err, "XREVRANGE %s + - COUNT %lld", key, limit);
    if (r == NULL) {
        http_app_fail(a, rep, 503, "cannot read the dead letters: %s", err);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *f = r->element[i]->element[1];
        json_t *o = json_pack("{s:s}", "entry", r->element[i]->element[0]->str);
        for (size_t j = 0; j + 1 < f->elements; j += 2)
            json_object_set_new(o, f->element[j]->str, json_string(f->element[j + 1]->str));
        json_array_append_new(list, o);
    }
    freeReplyObject(r);
    http_reply_json(rep, 200, json_pack("{s:o}", "dead", list));
}

void http_ops_dlq_retry(void *app, const http_request_t *req, http_reply_t *rep)
{
    if (http_query_only(req, no_params, rep) != 0)
        return;
    http_app_t *a = app;
    const char *entry = req->params[0];
    char err[1024], key[256];
    size_t ms = strspn(entry, "0123456789"), seq = ms < strlen(entry) ? strspn(entry + ms + 1, "0123456789") : 0;
    if (ms == 0 || ms > 20 || entry[ms] != '-' || seq == 0 || seq > 20 || entry[ms + 1 + seq] != '\0') {
        http_reply_error(rep, 400, "'%s' is not a dead-letter entry id (like 1733300000000-0: GET /api/dlq lists "
                         "them)", entry);
        return;
    }
    queue_t *q = http_app_queue(a, err, sizeof err);
    if (q == NULL) {
        http_reply_error(rep, 503, "cannot reach Redis: %s", err);
        return;
    }
    queue_dead_key(q, key, sizeof key);
    redisReply *r = rconn_cmd(a->redis.conn, err, sizeof err, "XRANGE %s %s %s", key, entry, entry);
    if (r == NULL) {
        http_app_fail(a, rep, 503, "cannot read the dead letters: %s", err);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR) { /* past 64 bits */
        http_reply_error(rep, 400, "'%s' is not a dead-letter entry id: %s", entry, r->str);
        freeReplyObject(r);
        return;
    }
    int found = r->type == REDIS_REPLY_ARRAY && r->elements == 1;
    char job[200] = "";
    for (size_t j = 0; found && j + 1 < r->element[0]->element[1]->elements; j += 2)
        if (strcmp(r->element[0]->element[1]->element[j]->str, "job") == 0)
            snprintf(job, sizeof job, "%s", r->element[0]->element[1]->element[j + 1]->str);
    freeReplyObject(r);
    if (!found) {
        http_reply_error(rep, 404, "no dead-letter entry %s", entry);
        return;
    }
    const char *entries[1] = { entry };
    long long requeued = 0;
    queue_status_t qs = queue_dlq_retry(q, entries, 1, &requeued, err, sizeof err);
    if (qs == QUEUE_ERR_IO) {
        http_app_outcome_unknown(a, rep, json_pack("{s:s, s:s}", "entry", entry, "id", job), "dead job %s may have "
                                 "been put back on its queue: " HTTP_SENT_FAILED " (%s); look at "
                                 "its state (GET /api/tasks/%s)", job, err, job);
    } else if (qs != QUEUE_OK) {
        http_app_fail(a, rep, 503, "cannot retry (nothing was done): %s", err);
    } else if (requeued == 0) {
        http_reply_error(rep, 409, "job %s was enqueued again meanwhile; its dead-letter entry was dropped", job);
    } else {
        http_reply_json(rep, 200, json_pack("{s:s, s:s, s:b}", "entry", entry, "id", job, "requeued", 1));
    }
}

void http_ops_purge(void *app, const http_request_t *req, http_reply_t *rep)
{
    if (http_query_only(req, no_params, rep) != 0)
        return;
    http_app_t *a = app;
    const char *queue = req->params[0];
    char err[1024];
    if (queue_name_check(queue, err, sizeof err) != 0) {
        http_reply_error(rep, 400, "%s", err);
        return;
    }
    queue_t *q = http_app_queue(a, err, sizeof err);
    if (q == NULL) {
        http_reply_error(rep, 503, "cannot reach Redis: %s", err);
        return;
    }
    purge_count_t n;
    long long cancelled = 0;
    queue_status_t qs = queue_purge_count(q, queue, &n, err, sizeof err);
    int counted = qs == QUEUE_OK; /* the count only reads: failing there, nothing was purged */
    if (counted)
        qs = queue_purge(q, queue, &cancelled, err, sizeof err);
    if (qs == QUEUE_ERR_IO && counted) {
        http_app_outcome_unknown(a, rep, json_pack("{s:s, s:I}", "queue", queue, "cancelled", (json_int_t)cancelled),
                                 "purge of %s stopped after %lld jobs, and may have cancelled more: Redis failed "
                                 "after a call was sent (%s); purge again to finish", queue, cancelled, err);
        return;
    }
    if (qs != QUEUE_OK) {
        http_app_fail(a, rep, qs == QUEUE_ERR_INVALID ? 400 : 503, "purge of %s stopped after %lld jobs: %s", queue,
                      cancelled, err);
        return;
    }
    http_reply_json(rep, 200, json_pack("{s:s, s:I, s:I}", "queue", queue, "cancelled", (json_int_t)cancelled,
                                        "running", (json_int_t)n.running));
}

void http_ops_calendar(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { "from", "days", NULL };
    if (http_query_only(req, known, rep) != 0)
        return;
    http_app_t *a = app;
    long long days;
    if (http_query_count(req, "days", CALENDAR_DAYS_MIN, CALENDAR_DAYS_MAX, CALENDAR_DAYS_DEFAULT, &days, rep) != 0)
        return;
    /* The configuration file's calendar (its [scheduler] closures), else the built-in one. */
    market_calendar_t own;
    const market_calendar_t *cal = a->schedules != NULL ? &a->schedules->xnys : NULL;
    char err[700];
    if (cal == NULL) {
        if (market_calendar_init(&own, "XNYS", err, sizeof err) != 0) {
            http_reply_error(rep, 500, "%s", err);
            return;
        }
        cal = &own;
    }
    calendar_view_t v;
    calendar_view_status_t st = calendar_view_make(cal, http_query(req, "from"), days, &v, err, sizeof err);
    if (st == CALENDAR_VIEW_OK) {
        json_t *o = calendar_view_json(cal, &v);
        if (o != NULL)
            http_reply_json(rep, 200, o);
        else
            http_reply_error(rep, 500, "out of memory");
    } else {
        http_reply_error(rep, st == CALENDAR_VIEW_NO_ZONE ? 500 : 400, "from %s", err);
    }
    if (cal == &own)
        market_calendar_free(&own);
}

void http_ops_history(void *app, const http_request_t *req, http_reply_t *rep)
{
    if (http_query_only(req, no_params, rep) != 0)
        return;
    http_app_t *a = app;
    char err[1024];
    queue_t *q = http_app_queue(a, err, sizeof err);
    json_t *v = q != NULL ? http_sampler_read(q, err, sizeof err) : NULL;
    if (v == NULL) {
        http_app_fail(a, rep, 503, "cannot read the samples from Redis: %s", err);
        return;
    }
    http_reply_json(rep, 200, v);
}
