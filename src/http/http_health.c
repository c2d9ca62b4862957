/* http_health.c — the health endpoints (http_health.h).
 *
 * /health says everything at once: Redis (it answers, and holds this
 * tickq's protocol version or none yet), the database, the supervisor of
 * a worker (running, stopping, or stalled: its loop has not turned for
 * STALLED_MS), its children, the scheduler lease holder and when a job
 * last finished here. 200 when all is well, 503 with the problems named.
 * /health/live is the liveness probe: the process answers and, beside a
 * worker, its supervisor's loop turns. /health/ready is the readiness
 * probe: Redis answers (on a connection of its own, outside the server's
 * lock) and, beside a worker, it has children and is not shutting down. */
#include "http/http_health.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/rconn_lazy.h"
#include "core/worker_metrics.h"
#include "http/http_app.h"

#define STALLED_MS 10000
#define LIVE_MS 30000

/* The readiness probe's own Redis connection, under a lock of its own: the
 * probe runs outside the server's lock (HTTP_UNLOCKED), so that an endpoint
 * waiting on a slow database or a long Redis read does not make this
 * instance look unready and take it out of service. One HTTP server a
 * process. */
static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static rconn_lazy_t probe;

/* 1 when Redis answers a PING on the probe's connection; 0 with err. */
static int probe_ping(const config_t *cfg, char *err, size_t errlen)
{
    int ok = 0, opened;
    pthread_mutex_lock(&probe_lock);
    rconn_t *c =
        rconn_lazy_get(&probe, &cfg->url, cfg->command_timeout_ms, HTTP_CONNECT_RETRY_MS, &opened, err, errlen);
    if (c != NULL) {
        if (opened)
            rconn_set_name(c, "tickq-http-probe");
        redisReply *r = rconn_cmd(c, err, errlen, "PING");
        ok = r != NULL && r->type != REDIS_REPLY_ERROR;
        if (r != NULL && r->type == REDIS_REPLY_ERROR)
            snprintf(err, errlen, "%s", r->str);
        freeReplyObject(r);
    }
    pthread_mutex_unlock(&probe_lock);
    return ok;
}

void http_health_close(void)
{
    pthread_mutex_lock(&probe_lock);
    rconn_lazy_drop(&probe);
    pthread_mutex_unlock(&probe_lock);
}

/* PING and the protocol key: 1 when Redis answers, with *protocol the
 * version it holds ("" for none). */
static int redis_check(http_app_t *a, char *protocol, size_t plen, char *err, size_t errlen)
{
    protocol[0] = '\0';
    queue_t *q = http_app_queue(a, err, errlen);
    if (q == NULL)
        return 0;
    redisReply *r = rconn_cmd(a->redis.conn, err, errlen, "PING");
    int ok = r != NULL && r->type != REDIS_REPLY_ERROR;
    if (r != NULL && r->type == REDIS_REPLY_ERROR)
        snprintf(err, errlen, "%s", r->str);
    freeReplyObject(r);
    if (!ok) {
        http_app_drop_broken(a);
        return 0;
    }
    char key[256];
    queue_protocol_key(q, key, sizeof key);
    if ((r = rconn_cmd(a->redis.conn, err, errlen, "GET %s", key)) == NULL) {
        http_app_drop_broken(a);
        return 0;
    }
    if (r->type == REDIS_REPLY_STRING)
        snprintf(protocol, plen, "%s", r->str);
    freeReplyObject(r);
    return 1;
}

static json_t *lease_holder(http_app_t *a)
{
    char err[256], key[200];
    if (a->redis.conn == NULL)
        return json_null();
    queue_scheduler_lease_key(&a->q, key, sizeof key);
    redisReply *r = rconn_cmd(a->redis.conn, err, sizeof err, "GET %s", key);
    json_t *v = r != NULL && r->type == REDIS_REPLY_STRING ? json_string(r->str) : json_null();
    freeReplyObject(r);
    return v;
}

/* The supervisor's state as JSON, and whether it is well (running, turning). */
static json_t *supervisor_json(int *well, const char **state)
{
    worker_metrics_t *m = worker_metrics_page();
    *well = 0;
    *state = "none";
    if (m == NULL || atomic_load(&m->started_ms) == 0)
        return json_null();
    int64_t age = clock_mono_ms() - atomic_load(&m->turned_ms);
    if (atomic_load(&m->turned_ms) == 0)
        *state = "starting";
    else if (age > STALLED_MS)
        *state = "stalled";
    else if (atomic_load(&m->stopping))
        *state = "stopping";
    else
        *state = "running";
    *well = strcmp(*state, "running") == 0;
    return json_pack("{s:s, s:i, s:i, s:i, s:f}", "state", *state, "children", atomic_load(&m->children), "busy",
                     atomic_load(&m->busy), "workers", atomic_load(&m->wanted), "last_turn_age_s",
                     atomic_load(&m->turned_ms) ? (double)age / 1000.0 : 0.0);
}

static json_t *last_finished(void)
{
    worker_metrics_t *m = worker_metrics_page();
    long long us = m != NULL ? atomic_load(&m->last_finished_us) : 0;
    if (us == 0)
        return json_null();
    char iso[CLOCK_ISO_LEN];
    clock_iso8601(us, iso);
    return json_string(iso);
}

void http_health(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { NULL };
    if (http_query_only(req, known, rep) != 0)
        return;
    http_app_t *a = app;
    json_t *problems = json_array();
    char protocol[32], err[512];
    int redis_ok = redis_check(a, protocol, sizeof protocol, err, sizeof err);
    json_t *redis = json_pack("{s:b}", "ok", redis_ok);
    if (!redis_ok) {
        json_object_set_new(redis, "error", json_string(err));
        json_array_append_new(problems, json_sprintf("redis: %s", err));
    } else {
        json_object_set_new(redis, "protocol", protocol[0] ? json_string(protocol) : json_null());
        if (protocol[0] && strcmp(protocol, TICKQ_PROTOCOL) != 0) {
            json_array_append_new(problems, json_sprintf("redis holds tickq protocol %s; this tickq speaks %s",
                                                         protocol, TICKQ_PROTOCOL));
        }
    }
    int db_ok = http_app_database_ok(a);
    json_t *db = json_pack("{s:b}", "ok", db_ok);
    if (!db_ok) {
        json_object_set_new(db, "error", json_string(a->db_error));
        json_array_append_new(problems, json_sprintf("database: %s", a->db_error));
    }
    int sup_well = 1;
    const char *state = "none";
    json_t *sup = json_null();
    if (a->role == HTTP_ROLE_WORKER) {
        json_decref(sup);
        sup = supervisor_json(&sup_well, &state);
        if (!sup_well)
            json_array_append_new(problems, json_sprintf("supervisor: %s", state));
    }
    int healthy = json_array_size(problems) == 0;
    json_t *body = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:{s:o}, s:o, s:o}", "status",
                             healthy ? "healthy" : "unhealthy", "role", a->role == HTTP_ROLE_WORKER ? "worker" : "serve",
                             "protocol", TICKQ_PROTOCOL, "redis", redis, "database", db, "supervisor", sup,
                             "scheduler", "lease_holder", redis_ok ? lease_holder(a) : json_null(),
                             "last_job_finished", last_finished(), "problems", problems);
    if (a->role == HTTP_ROLE_WORKER)
        json_object_set_new(body, "worker", json_string(a->instance));
    http_reply_json(rep, healthy ? 200 : 503, body);
}

void http_health_live(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { NULL };
    if (http_query_only(req, known, rep) != 0)
        return;
    http_app_t *a = app;
    worker_metrics_t *m = worker_metrics_page();
    if (a->role == HTTP_ROLE_WORKER && m != NULL && atomic_load(&m->turned_ms) != 0 &&
        clock_mono_ms() - atomic_load(&m->turned_ms) > LIVE_MS) {
        http_reply_json(rep, 503, json_pack("{s:s, s:s}", "status", "dead", "reason",
                                             "the supervisor's loop has not turned for 30 s"));
        return;
    }
    http_reply_json(rep, 200, json_pack("{s:s}", "status", "alive"));
}

void http_health_ready(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { NULL };
    if (http_query_only(req, known, rep) != 0)
        return;
    http_app_t *a = app;
    char err[512];
    if (!probe_ping(a->cfg, err, sizeof err)) {
        http_reply_json(rep, 503, json_pack("{s:s, s:s}", "status", "not ready", "reason", "redis unreachable"));
        return;
    }
    worker_metrics_t *m = worker_metrics_page();
    if (a->role == HTTP_ROLE_WORKER && m != NULL) {
        const char *why = atomic_load(&m->stopping) ? "shutting down"
                          : atomic_load(&m->children) == 0 ? "no worker child running" : NULL;
        if (why != NULL) {
            http_reply_json(rep, 503, json_pack("{s:s, s:s}", "status", "not ready", "reason", why));
            return;
        }
    }
    http_reply_json(rep, 200, json_pack("{s:s}", "status", "ready"));
}
