/* heartbeat.c — the supervisor's heartbeat (heartbeat.h). */
#include "core/heartbeat.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

/* Entries claimed for a consumer generation no child uses any more (a late
 * call of a connection its child gave up on) went back to their queues. */
static void join_ids(char *out, size_t outlen, const char (*ids)[JOB_ID_MAX + 1], size_t n, long long total)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < outlen; i++)
        used += (size_t)snprintf(out + used, outlen - used, "%s%s", i ? "," : "", ids[i]);
    if (total > (long long)n && used < outlen)
        snprintf(out + used, outlen - used, ",...");
}

static void log_released(const char *id, const touch_result_t *t)
{
    char ids[TOUCH_IDS_MAX * (JOB_ID_MAX + 2) + 8];
    if (t->released > 0) {
        join_ids(ids, sizeof ids, t->ids, t->nids, t->released);
        log_warn("jobs claimed for a worker's old consumer name returned to their queues (a call Redis ran after "
                 "the worker had given up on its connection)", LF_S("worker", id), LF_I("jobs", t->released),
                 LF_S("job_ids", ids));
    }
    if (t->cancelled > 0) {
        join_ids(ids, sizeof ids, t->cancelled_ids, t->ncancelled, t->cancelled);
        log_info("jobs claimed for a worker's old consumer name and cancelled meanwhile ended cancelled",
                 LF_S("worker", id), LF_I("jobs", t->cancelled), LF_S("job_ids", ids));
    }
}

/* One renewal names every child of a supervisor. */
_Static_assert(TOUCH_CONSUMERS_MAX >= WORKERS_MAX, "queue_touch must take a consumer per worker child");

void heartbeat_renew(queue_t *q, const config_t *cfg, const char *id, const char *const *consumers, size_t n)
{
    char err[1024];
    touch_result_t touched;
    if (queue_touch(q, &cfg->queues, consumers, n, &touched, err, sizeof err) != QUEUE_OK)
        log_warn("cannot renew claims", LF_S("worker", id), LF_S("error", err));
    else if (touched.released > 0 || touched.cancelled > 0)
        log_released(id, &touched);
}

void heartbeat_reclaim(queue_t *q, const config_t *cfg, const char *id)
{
    char err[1024];
    long long reclaimed = 0;
    if (queue_reclaim(q, &cfg->queues, id, cfg->claim_timeout_ms, NULL, 0, &reclaimed, err, sizeof err) !=
        QUEUE_OK) {
        log_warn("cannot reclaim jobs of dead workers", LF_S("worker", id), LF_S("error", err));
        return;
    }
    /* One call takes at most a batch per stream (reclaim.lua). More is
     * Redis running another library: said, not asserted, since an abort
     * here would kill every running job. */
    long long most = (long long)cfg->queues.n * QUEUE_RECLAIM_BATCH;
    if (reclaimed > most)
        log_warn("reclaim reported more jobs than one call takes (another tickq library in Redis?)",
                 LF_S("worker", id), LF_I("jobs", reclaimed), LF_I("most", most));
    if (reclaimed > 0)
        log_warn("reclaimed jobs from a dead worker", LF_S("worker", id), LF_I("jobs", reclaimed));
}

void heartbeat_publish(queue_t *q, const config_t *cfg, const heartbeat_info_t *info)
{
    char err[1024], now[CLOCK_ISO_LEN], queues[2048];
    clock_iso8601(clock_now_us(), now);
    queue_list_describe(&cfg->queues, queues, sizeof queues);
    json_t *doc = json_pack("{s:s, s:s, s:i, s:s, s:s, s:i, s:i, s:s, s:s, s:I, s:I, s:b}",
                            "id", info->id, "host", info->host, "pid", (int)getpid(), "queues", queues,
                            "group", cfg->group, "workers", info->workers, "busy", info->busy,
                            "started_at", info->started_at, "heartbeat_at", now,
                            "completed", (json_int_t)info->completed, "failed", (json_int_t)info->failed,
                            "burst", cfg->burst);
    json_t *children = json_array();
    for (size_t i = 0; doc != NULL && i < info->nchildren; i++) {
        const heartbeat_child_t *c = &info->children[i];
        json_t *job = json_null();
        if (c->busy) {
            char at[CLOCK_ISO_LEN];
            clock_iso8601(c->started_us, at);
            job = json_pack("{s:s, s:s, s:s, s:s}", "id", c->job_id, "type", c->type, "queue", c->queue,
                            "started_at", at);
        }
        json_array_append_new(children, json_pack("{s:s, s:i, s:b, s:o}", "id", c->id, "pid", c->pid, "busy",
                                                  c->busy, "job", job ? job : json_null()));
    }
    if (doc != NULL)
        json_object_set_new(doc, "children", children);
    else
        json_decref(children);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text == NULL)
        return;
    char key[256], set[256], ttl[24], score[24];
    queue_worker_key(q, info->id, key, sizeof key);
    queue_workers_key(q, set, sizeof set);
    snprintf(ttl, sizeof ttl, "%" PRId64, cfg->heartbeat_ms * 3 / 1000 + 2);
    snprintf(score, sizeof score, "%" PRId64, clock_now_ms());
    /* Registry entries of workers gone for long are dropped here, so the
     * registry stays bounded even if nobody runs `tickq stats`. */
    int64_t stale_ms = cfg->heartbeat_ms * 10 > 60000 ? cfg->heartbeat_ms * 10 : 60000;
    char stale[32];
    snprintf(stale, sizeof stale, "(%" PRId64, clock_now_ms() - stale_ms);
    const char *a1[5] = { "SET", key, text, "EX", ttl };
    const char *a2[4] = { "ZADD", set, score, info->id };
    const char *a3[4] = { "ZREMRANGEBYSCORE", set, "-inf", stale };
    redisReply *r = rconn_argv(q->conn, 5, a1, NULL, err, sizeof err);
    freeReplyObject(r);
    if (r != NULL) {
        r = rconn_argv(q->conn, 4, a2, NULL, err, sizeof err);
        freeReplyObject(r);
    }
    if (r != NULL)
        freeReplyObject(rconn_argv(q->conn, 4, a3, NULL, err, sizeof err));
    free(text);
}

void heartbeat_withdraw(queue_t *q, const char *id)
{
    char err[1024], key[256], set[256];
    queue_worker_key(q, id, key, sizeof key);
    queue_workers_key(q, set, sizeof set);
    freeReplyObject(rconn_cmd(q->conn, err, sizeof err, "DEL %s", key));
    freeReplyObject(rconn_cmd(q->conn, err, sizeof err, "ZREM %s %s", set, id));
}
