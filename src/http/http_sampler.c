/* http_sampler.c — the dashboard's samples of the last hour (http_sampler.h). */
#include "http/http_sampler.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/queue_names.h"
#include "core/stats.h"
#include "core/stream_info.h"

#define SAMPLE_MS_MIN 1000
#define SAMPLE_MS_MAX 60000
#define CONNECT_RETRY_MS 5000

int http_sampler_every_ms(int64_t *every_ms, char *err, size_t errlen)
{
    *every_ms = SAMPLE_MS_DEFAULT;
    const char *text = getenv("TICKQ_SAMPLE_MS");
    if (text == NULL)
        return 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < SAMPLE_MS_MIN || v > SAMPLE_MS_MAX) {
        snprintf(err, errlen, "TICKQ_SAMPLE_MS '%.40s' must be a whole number of milliseconds from %d to %d", text,
                 SAMPLE_MS_MIN, SAMPLE_MS_MAX);
        return -1;
    }
    *every_ms = v;
    return 0;
}

int http_sampler_init(http_sampler_t *s, const config_t *cfg, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    return http_sampler_every_ms(&s->every_ms, err, errlen);
}

static void *sampler_thread(void *arg)
{
    http_sampler_t *s = arg;
    for (;;) {
        http_sampler_tick(s);
        clock_sleep_ms(1000, NULL);
    }
    return NULL;
}

int http_sampler_start(http_sampler_t *s, char *err, size_t errlen)
{
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, sampler_thread, s);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start its thread: %s", strerror(rc));
        return -1;
    }
    return 0;
}

/* The age in seconds of the oldest entry of `stream` not yet delivered to
 * `group` (0 when none): the entry after the group's last delivered one. */
static int oldest_ready_age(http_sampler_t *s, const char *stream, int64_t now_ms, double *age, char *err,
                            size_t errlen)
{
    *age = 0;
    redisReply *g = rconn_cmd(s->redis.conn, err, errlen, "XINFO GROUPS %s", stream);
    if (g == NULL)
        return -1;
    const redisReply *mine = g->type == REDIS_REPLY_ARRAY ? stream_group_of(g, s->q.group) : NULL;
    const redisReply *last = mine ? stream_reply_field(mine, "last-delivered-id") : NULL;
    char from[80];
    if (last != NULL && last->type == REDIS_REPLY_STRING)
        snprintf(from, sizeof from, "(%s", last->str);
    else
        snprintf(from, sizeof from, "-");
    freeReplyObject(g);
    redisReply *r = rconn_cmd(s->redis.conn, err, errlen, "XRANGE %s %s + COUNT 1", stream, from);
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
        r->element[0]->elements >= 1 && r->element[0]->element[0]->type == REDIS_REPLY_STRING) {
        long long ms = strtoll(r->element[0]->element[0]->str, NULL, 10);
        if (ms > 0 && now_ms > ms)
            *age = (double)(now_ms - ms) / 1000.0;
    }
    freeReplyObject(r);
    return 0;
}

/* The sample of the cluster now; NULL with err. */
static json_t *sample_now(http_sampler_t *s, int64_t slot_ms, char *err, size_t errlen)
{
    json_t *st = stats_collect(&s->q, err, errlen);
    if (st == NULL)
        return NULL;
    const json_t *total = json_object_get(json_object_get(st, "counters"), "total");
    long long ready = 0;
    double latency = 0;
    int64_t now_ms = clock_now_ms();
    size_t i;
    const json_t *qd;
    json_array_foreach(json_object_get(st, "queues"), i, qd) {
        ready += json_integer_value(json_object_get(qd, "ready"));
        if (json_integer_value(json_object_get(qd, "ready")) == 0)
            continue;
        char stream[QUEUE_KEY_MAX];
        double age;
        queue_stream_key(s->q.prefix, json_string_value(json_object_get(qd, "name")), stream);
        if (oldest_ready_age(s, stream, now_ms, &age, err, errlen) != 0) {
            json_decref(st);
            return NULL;
        }
        if (age > latency)
            latency = age;
    }
    json_t *out = json_pack("{s:I, s:I, s:I, s:I, s:I, s:f}", "t", (json_int_t)slot_ms, "submitted",
                            json_integer_value(json_object_get(total, "submitted")), "completed",
                            json_integer_value(json_object_get(total, "completed")), "failed",
                            json_integer_value(json_object_get(total, "failed")) +
                                json_integer_value(json_object_get(total, "dead")),
                            "ready", (json_int_t)ready, "latency_s", latency);
    json_decref(st);
    return out;
}

/* Samples written by a tickq from before they were scored by time were
 * scored by slot number (t / slot length): every such score is below
 * this (1973 in epoch ms; a slot number of 1 s slots passes it in 5138).
 * migrate_slot_scores re-scores them by their time. */
#define SLOT_SCORE_MAX "100000000000"

/* Re-scores the samples of key scored by slot number (an HTTP process of
 * an older tickq wrote them, during an upgrade too) by their "t", so that
 * they take their place in time; drops one that has no "t". */
static void migrate_slot_scores(http_sampler_t *s, const char *key)
{
    char err[512];
    redisReply *r = rconn_cmd(s->redis.conn, err, sizeof err, "ZRANGEBYSCORE %s -inf (" SLOT_SCORE_MAX, key);
    for (size_t i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *m = r->element[i];
        json_t *v = m->type == REDIS_REPLY_STRING ? json_loads(m->str, 0, NULL) : NULL;
        json_int_t t = json_integer_value(json_object_get(v, "t"));
        json_decref(v);
        if (t > 0)
            freeReplyObject(rconn_cmd(s->redis.conn, err, sizeof err, "ZADD %s %lld %b", key, (long long)t, m->str,
                                      m->len));
        else
            freeReplyObject(rconn_cmd(s->redis.conn, err, sizeof err, "ZREM %s %b", key, m->str, m->len));
    }
    freeReplyObject(r);
}

void http_sampler_tick(http_sampler_t *s)
{
    int64_t now = clock_now_ms(), slot = now / s->every_ms, t = slot * s->every_ms;
    if (slot == s->last_slot)
        return;
    char err[1024];
    int opened;
    rconn_t *c = rconn_lazy_get(&s->redis, &s->cfg->url, s->cfg->command_timeout_ms, CONNECT_RETRY_MS, &opened, err,
                                sizeof err);
    if (c == NULL)
        return; /* /health says Redis is down; a gap in the samples says it too */
    if (opened) {
        rconn_set_name(c, "tickq-http-sampler");
        queue_init(&s->q, c);
        config_apply(s->cfg, &s->q);
    }
    s->last_slot = slot;
    char key[256], lock[256];
    queue_dash_samples_key(&s->q, key, sizeof key);
    /* One host per slot: the first to take the slot's lock samples it. The
     * lock is named by the slot's start in ms, as the sample is scored:
     * hosts with other slot lengths (TICKQ_SAMPLE_MS) share the starts
     * they have in common, and sample each of them once too. */
    queue_dash_slot_key(&s->q, (long long)t, lock, sizeof lock);
    redisReply *r = rconn_cmd(c, err, sizeof err, "SET %s 1 NX PX %lld", lock, (long long)(s->every_ms * 6));
    int mine = r != NULL && r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    json_t *sample = mine ? sample_now(s, t, err, sizeof err) : NULL;
    char *text = sample ? json_dumps(sample, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(sample);
    if (text != NULL) {
        /* Scored by time (ms), trimmed to the hour by time, whatever slot
         * length each host samples at; the key goes when no host has
         * written for SAMPLE_TTL_MS (its samples are all past the hour). */
        freeReplyObject(rconn_cmd(s->redis.conn, err, sizeof err, "ZADD %s %lld %s", key, (long long)t, text));
        migrate_slot_scores(s, key);
        freeReplyObject(rconn_cmd(s->redis.conn, err, sizeof err, "ZREMRANGEBYSCORE %s -inf (%lld", key,
                                  (long long)(now - SAMPLE_KEEP_MS)));
        /* EXPIRE, not PEXPIRE: the ACL rule (production-redis.md) grants EXPIRE */
        freeReplyObject(
            rconn_cmd(s->redis.conn, err, sizeof err, "EXPIRE %s %lld", key, (long long)(SAMPLE_TTL_MS / 1000)));
        free(text);
    }
    if (rconn_broken(c))
        rconn_lazy_drop(&s->redis);
}

json_t *http_sampler_read(queue_t *q, char *err, size_t errlen)
{
    char key[256];
    queue_dash_samples_key(q, key, sizeof key);
    int64_t since = clock_now_ms() - SAMPLE_KEEP_MS;
    /* By score, from an hour ago: samples of an older tickq not yet
     * re-scored by time (migrate_slot_scores) are left out, never shown out
     * of order. */
    redisReply *r = rconn_cmd(q->conn, err, errlen, "ZRANGEBYSCORE %s %lld +inf", key, (long long)since);
    if (r == NULL)
        return NULL;
    json_t *list = json_array();
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        json_t *v = json_loads(r->element[i]->str, 0, NULL);
        if (v != NULL && json_integer_value(json_object_get(v, "t")) >= since)
            json_array_append_new(list, v);
        else
            json_decref(v); /* not ours: left out */
    }
    freeReplyObject(r);
    return json_pack("{s:o}", "samples", list);
}
