/* stats.c — a snapshot of the queues, read with a handful of commands.
 * Cost is O(queues + workers); nothing here scans jobs. "active" is derived
 * from the consumer groups' pending counts rather than stored, so it cannot
 * drift when a worker dies; totals are the sums of the per-queue counters. */
#include "core/stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/history_keys.h"
#include "core/queue_controls.h"
#include "core/stream_info.h"

const char *const stats_counter_names[] = { "submitted", "completed", "failed", "timeout", "retried",
                                            "dead", "cancelled", "failed_attempts", "reruns",
                                            "list_imported", "list_rejected", "list_duplicates" };
const int stats_counter_count = sizeof stats_counter_names / sizeof stats_counter_names[0];

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *counters_of(queue_t *q, const char *queue, char *err, size_t errlen)
{
    char key[256];
    queue_stats_key(q, queue, key, sizeof key);
    redisReply *r = rconn_cmd(q->conn, err, errlen, "HGETALL %s", key);
    if (r == NULL)
        return NULL;
    json_t *c = json_object();
    for (int i = 0; i < stats_counter_count; i++)
        json_object_set_new(c, stats_counter_names[i], json_integer(0));
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2)
        json_object_set_new(c, r->element[i]->str, json_integer(rconn_reply_integer(r->element[i + 1])));
    freeReplyObject(r);
    return c;
}

/* One physical queue's depths. Acked entries may linger in a stream until
 * the node holding them is trimmed, so "ready" is the group's lag (entries
 * not yet delivered) rather than the stream length; when Redis cannot tell
 * the lag (after deletions ahead of the group), it falls back to
 * length - pending, which may count up to one node of acked entries. */
static json_t *queue_depths(queue_t *q, const char *physical, long long *pending_out,
                            char *err, size_t errlen)
{
    char stream[QUEUE_KEY_MAX], delayed[256], retry[256], deferred[256];
    queue_stream_key(q->prefix, physical, stream);
    queue_delayed_key(q, physical, delayed, sizeof delayed);
    queue_retry_key(q, physical, retry, sizeof retry);
    queue_deferred_key(q, physical, deferred, sizeof deferred);
    const char *cmds[5][3] = {
        { "XLEN", stream, NULL },
        { "XINFO", "GROUPS", stream },
        { "ZCARD", delayed, NULL },
        { "ZCARD", retry, NULL },
        { "ZCARD", deferred, NULL },
    };
    int argcs[5] = { 2, 3, 2, 2, 2 };
    for (int i = 0; i < 5; i++)
        rconn_append_argv(q->conn, argcs[i], cmds[i], NULL);
    redisReply *r[5] = { NULL, NULL, NULL, NULL, NULL };
    for (int i = 0; i < 5; i++) {
        r[i] = rconn_read(q->conn, err, errlen);
        if (r[i] == NULL) {
            for (int k = 0; k < i; k++)
                freeReplyObject(r[k]);
            return NULL;
        }
    }
    long long length = rconn_reply_integer(r[0]);
    const redisReply *g = stream_group_of(r[1], q->group);
    long long pending = rconn_reply_integer(stream_reply_field(g, "pending")), ready = stream_ready(g, length);
    long long delayed_n = rconn_reply_integer(r[2]), retrying = rconn_reply_integer(r[3]);
    long long deferred_n = rconn_reply_integer(r[4]);
    for (int i = 0; i < 5; i++)
        freeReplyObject(r[i]);
    *pending_out = pending;
    char logical[QUEUE_PHYS_MAX];
    const char *priority = queue_logical(physical, logical, sizeof logical);
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "name", physical, "queue", logical,
                     "priority", priority, "ready", (json_int_t)ready, "running", (json_int_t)pending,
                     "delayed", (json_int_t)delayed_n, "retrying", (json_int_t)retrying,
                     "deferred", (json_int_t)deferred_n);
}

static json_t *live_workers(queue_t *q, char *err, size_t errlen)
{
    char set[256];
    queue_workers_key(q, set, sizeof set);
    redisReply *ids = rconn_cmd(q->conn, err, errlen, "ZRANGE %s 0 -1", set);
    if (ids == NULL)
        return NULL;
    json_t *out = json_array();
    for (size_t i = 0; ids->type == REDIS_REPLY_ARRAY && i < ids->elements; i++) {
        char key[300];
        queue_worker_key(q, ids->element[i]->str, key, sizeof key);
        redisReply *r = rconn_cmd(q->conn, err, errlen, "GET %s", key);
        if (r == NULL) {
            json_decref(out);
            freeReplyObject(ids);
            return NULL;
        }
        json_t *w = r->type == REDIS_REPLY_STRING ? json_loads(r->str, 0, NULL) : NULL;
        if (w != NULL)
            json_array_append_new(out, w);
        else /* heartbeat expired: that worker is gone */
            freeReplyObject(rconn_cmd(q->conn, err, errlen, "ZREM %s %s", set, ids->element[i]->str));
        freeReplyObject(r);
    }
    freeReplyObject(ids);
    return out;
}

/* The job history streams (history.h): per database, rows waiting for a
 * history process, rows dropped when the backlog passed its cap and rows
 * the database refused; the totals of the last two into *dropped and
 * *refused. */
static json_t *history_streams(queue_t *q, long long *dropped, long long *refused, char *err, size_t errlen)
{
    char key[256];
    history_streams_key(q->prefix, key, sizeof key);
    redisReply *names = rconn_cmd(q->conn, err, errlen, "SMEMBERS %s", key);
    if (names == NULL)
        return NULL;
    json_t *out = json_array();
    *dropped = *refused = 0;
    for (size_t i = 0; names->type == REDIS_REPLY_ARRAY && i < names->elements; i++) {
        char state[HISTORY_KEY_MAX + 16];
        history_state_key(names->element[i]->str, state, sizeof state);
        redisReply *r = rconn_cmd(q->conn, err, errlen, "HMGET %s database waiting dropped cap refused", state);
        if (r == NULL) {
            json_decref(out);
            freeReplyObject(names);
            return NULL;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 5) {
            long long d = rconn_reply_integer(r->element[2]), f = rconn_reply_integer(r->element[4]);
            *dropped += d;
            *refused += f;
            json_array_append_new(out, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "stream",
                                                 names->element[i]->str,
                                                 "database", r->element[0]->str ? r->element[0]->str : "",
                                                 "waiting", (json_int_t)rconn_reply_integer(r->element[1]),
                                                 "history_dropped", (json_int_t)d,
                                                 "history_refused", (json_int_t)f,
                                                 "cap", (json_int_t)rconn_reply_integer(r->element[3])));
        }
        freeReplyObject(r);
    }
    freeReplyObject(names);
    return out;
}

/* 1 when a heartbeat's queue list ("a_high,a_normal,...") names `physical`. */
static int lists_queue(const char *list, const char *physical)
{
    size_t n = strlen(physical);
    for (const char *p = list; p != NULL && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, physical, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

/* How many of `workers` (heartbeat objects) serve physical queue `physical`. */
static int serving(json_t *workers, const char *physical)
{
    size_t i;
    json_t *w;
    int n = 0;
    json_array_foreach(workers, i, w)
        n += lists_queue(json_string_value(json_object_get(w, "queues")), physical);
    return n;
}

int stats_queue_served(queue_t *q, const char *physical, int *served, char *err, size_t errlen)
{
    json_t *workers = live_workers(q, err, errlen);
    if (workers == NULL)
        return -1;
    *served = serving(workers, physical);
    json_decref(workers);
    return 0;
}

/* The controls (queue_controls.h): "paused" (logical queues, sorted) and
 * "limits" ({type, limit, running, held} per limited type) into root, and
 * each queue's "paused" and "served" (live workers serving it) and
 * "unserved" (ready jobs and no live worker serving it). 0, or -1. */
static int add_controls(queue_t *q, json_t *root, char *err, size_t errlen)
{
    char key[256];
    queue_paused_key(q, key, sizeof key);
    redisReply *r = rconn_cmd(q->conn, err, errlen, "SMEMBERS %s", key);
    if (r == NULL)
        return -1;
    size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
    const char **names = calloc(n + 1, sizeof *names);
    json_t *paused = json_array();
    for (size_t i = 0; names != NULL && i < n; i++)
        names[i] = r->element[i]->str;
    if (names != NULL)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; names != NULL && i < n; i++)
        json_array_append_new(paused, json_string(names[i]));
    free(names);
    freeReplyObject(r);
    json_object_set_new(root, "paused", paused);
    size_t i, k;
    json_t *d, *p;
    json_array_foreach(json_object_get(root, "queues"), i, d) {
        int is_paused = 0, served = serving(json_object_get(root, "workers"), json_string_value(json_object_get(d, "name")));
        json_array_foreach(paused, k, p)
            is_paused |= strcmp(json_string_value(p), json_string_value(json_object_get(d, "queue"))) == 0;
        json_object_set_new(d, "paused", json_boolean(is_paused));
        json_object_set_new(d, "served", json_integer(served));
        json_object_set_new(d, "unserved", json_boolean(served == 0 && json_integer_value(json_object_get(d, "ready")) > 0));
    }
    /* Per call: stats are collected on several threads of the HTTP process at once. */
    type_limit_t *limits = malloc(QUEUE_LIMITS_MAX * sizeof *limits);
    size_t nl = 0;
    if (limits == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (queue_limit_list(q, limits, QUEUE_LIMITS_MAX, &nl, err, errlen) != QUEUE_OK) {
        free(limits);
        return -1;
    }
    json_t *out = json_array();
    for (i = 0; i < nl; i++)
        json_array_append_new(out, json_pack("{s:s, s:I, s:I, s:I}", "type", limits[i].type, "limit",
                                             (json_int_t)limits[i].slots, "running", (json_int_t)limits[i].running,
                                             "held", (json_int_t)limits[i].held));
    free(limits);
    json_object_set_new(root, "limits", out);
    return 0;
}

json_t *stats_collect(queue_t *q, char *err, size_t errlen)
{
    char key[256];
    queue_queues_key(q, key, sizeof key);
    redisReply *names = rconn_cmd(q->conn, err, errlen, "SMEMBERS %s", key);
    if (names == NULL)
        return NULL;
    size_t n = names->type == REDIS_REPLY_ARRAY ? names->elements : 0;
    const char **sorted = calloc(n + 1, sizeof *sorted);
    for (size_t i = 0; i < n; i++)
        sorted[i] = names->element[i]->str;
    qsort(sorted, n, sizeof *sorted, cmp_str);

    json_t *root = json_object(), *queues = json_array(), *counters = json_object();
    json_object_set_new(root, "queues", queues);
    json_object_set_new(root, "counters", counters);
    json_t *total = json_object();
    json_object_set_new(counters, "total", total);
    for (int i = 0; i < stats_counter_count; i++)
        json_object_set_new(total, stats_counter_names[i], json_integer(0));
    for (size_t i = 0; i < n; i++) {
        long long pending = 0;
        json_t *d = queue_depths(q, sorted[i], &pending, err, errlen);
        if (d == NULL)
            goto fail;
        json_array_append_new(queues, d);
        const char *logical = json_string_value(json_object_get(d, "queue"));
        json_t *c = json_object_get(counters, logical);
        if (c == NULL) {
            if ((c = counters_of(q, logical, err, errlen)) == NULL)
                goto fail;
            json_object_set_new(counters, logical, c);
            json_object_set_new(c, "active", json_integer(0));
            const char *field;
            json_t *v;
            json_object_foreach(c, field, v)
                json_object_set_new(total, field, json_integer(json_integer_value(json_object_get(total, field)) +
                                                               json_integer_value(v)));
        }
        json_object_set_new(c, "active", json_integer(json_integer_value(json_object_get(c, "active")) + pending));
        json_object_set_new(total, "active", json_integer(json_integer_value(json_object_get(total, "active")) + pending));
    }

    queue_dead_key(q, key, sizeof key);
    redisReply *r = rconn_cmd(q->conn, err, errlen, "XLEN %s", key);
    if (r == NULL)
        goto fail;
    json_object_set_new(root, "dead_letter", json_integer(rconn_reply_integer(r)));
    freeReplyObject(r);
    queue_rejected_key(q, key, sizeof key);
    if ((r = rconn_cmd(q->conn, err, errlen, "XLEN %s", key)) == NULL)
        goto fail;
    json_object_set_new(root, "rejected", json_integer(rconn_reply_integer(r)));
    freeReplyObject(r);
    json_t *workers = live_workers(q, err, errlen);
    if (workers == NULL)
        goto fail;
    json_object_set_new(root, "workers", workers);
    long long dropped = 0, refused = 0;
    json_t *history = history_streams(q, &dropped, &refused, err, errlen);
    if (history == NULL)
        goto fail;
    json_object_set_new(root, "history", history);
    json_object_set_new(root, "history_dropped", json_integer(dropped));
    json_object_set_new(root, "history_refused", json_integer(refused));
    if (add_controls(q, root, err, errlen) != 0)
        goto fail;
    free(sorted);
    freeReplyObject(names);
    return root;
fail:
    free(sorted);
    freeReplyObject(names);
    json_decref(root);
    return NULL;
}
