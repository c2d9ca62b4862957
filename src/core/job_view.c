/* job_view.c — a job's record, retries and running state as one JSON
 * object (job_view.h).
 *
 * When a running attempt started is not in its record (the claim writes
 * none): the worker's supervisor publishes it in its heartbeat, and the
 * claim's running result carries the claim's time until a progress report
 * rewrites it. The idle time XPENDING gives is no start: every heartbeat
 * renews the claim (touch.lua's XCLAIM), which sets it back to 0. */
#include "core/job_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/job.h"
#include "core/job_children.h"
#include "core/queue_names.h"

static json_t *reply_json(const redisReply *r)
{
    return r != NULL && r->type == REDIS_REPLY_STRING ? json_loadb(r->str, r->len, 0, NULL) : NULL;
}

/* When `worker` started job `id`, as its supervisor's heartbeat says
 * (heartbeat.c: "children": [{"id", "job": {"id", "started_at"}}], one job
 * a child: a child running several lists one); 0 when it does not list it. */
static int64_t heartbeat_started(const redisReply *doc, const char *worker, const char *id)
{
    json_t *d = reply_json(doc), *child;
    int64_t us = 0;
    size_t i;
    json_array_foreach(json_object_get(d, "children"), i, child) {
        const json_t *job = json_object_get(child, "job");
        const char *cid = json_string_value(json_object_get(child, "id"));
        const char *jid = json_string_value(json_object_get(job, "id"));
        if (cid && jid && strcmp(cid, worker) == 0 && strcmp(jid, id) == 0)
            us = clock_parse_iso_us(json_string_value(json_object_get(job, "started_at")));
    }
    json_decref(d);
    return us;
}

/* When `worker` claimed attempt `attempt`, as the running result the claim
 * wrote says (claim.lua, started, admit: {"status": "running", "data":
 * {"attempt", "worker_id"}, "updated_at"}); 0 when the result is another
 * (a progress report rewrote it, with its own updated_at). */
static int64_t result_started(const redisReply *res, const char *worker, long long attempt)
{
    json_t *r = reply_json(res), *data = json_object_get(r, "data");
    const char *status = json_string_value(json_object_get(r, "status"));
    const char *wid = json_string_value(json_object_get(data, "worker_id"));
    int64_t us = 0;
    if (status && strcmp(status, "running") == 0 && json_object_size(data) == 2 && wid && strcmp(wid, worker) == 0 &&
        json_integer_value(json_object_get(data, "attempt")) == attempt)
        us = clock_parse_iso_us(json_string_value(json_object_get(r, "updated_at")));
    json_decref(r);
    return us;
}

/* Reads `sent` pipelined replies into rs (NULL past a failure). 0, or -1
 * with err. */
static int read_replies(queue_t *q, redisReply **rs, size_t sent, char *err, size_t errlen)
{
    int st = 0;
    for (size_t k = 0; k < sent; k++)
        if (st == 0 && (rs[k] = rconn_read(q->conn, err, errlen)) == NULL)
            st = -1;
    return st;
}

int job_view_running(queue_t *q, job_running_t *jobs, size_t n, char *err, size_t errlen)
{
    redisReply **rs = calloc(2 * n + 1, sizeof *rs);
    if (rs == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t sent = 0;
    int st = 0;
    err[0] = '\0';
    for (size_t i = 0; i < n; i++) { /* round trip 1: is its entry pending? */
        job_running_t *j = &jobs[i];
        j->running = 0;
        j->worker[0] = '\0';
        j->attempt = j->started_us = j->running_for_ms = 0;
        if (st != 0 || j->stream == NULL || j->entry == NULL || j->entry[0] == '\0')
            continue;
        const char *argv[6] = { "XPENDING", j->stream, q->group, j->entry, j->entry, "1" };
        st = rconn_append_argv(q->conn, 6, argv, NULL);
        sent += st == 0;
    }
    if (read_replies(q, rs, sent, err, errlen) != 0)
        st = -1;
    size_t k = 0;
    for (size_t i = 0; i < n && st == 0; i++) {
        job_running_t *j = &jobs[i];
        if (j->stream == NULL || j->entry == NULL || j->entry[0] == '\0')
            continue;
        const redisReply *p = rs[k++];
        if (p->type != REDIS_REPLY_ARRAY || p->elements != 1 || p->element[0]->type != REDIS_REPLY_ARRAY ||
            p->element[0]->elements < 4 || p->element[0]->element[1]->type != REDIS_REPLY_STRING ||
            p->element[0]->element[2]->type != REDIS_REPLY_INTEGER)
            continue; /* not pending (NOGROUP: never read) */
        j->running = 1;
        queue_consumer_worker(p->element[0]->element[1]->str, j->worker, sizeof j->worker);
        j->attempt = j->attempts + 1; /* the record counts the attempts that ended */
        j->running_for_ms = p->element[0]->element[2]->integer;
    }
    for (size_t i = 0; i < sent; i++) {
        freeReplyObject(rs[i]);
        rs[i] = NULL;
    }
    sent = 0;
    for (size_t i = 0; i < n && st == 0; i++) { /* round trip 2: its heartbeat and result */
        if (!jobs[i].running)
            continue;
        char instance[QUEUE_CONSUMER_MAX], wk[300], rk[300];
        if (queue_worker_instance(jobs[i].worker, instance, sizeof instance) != 0)
            snprintf(instance, sizeof instance, "%s", jobs[i].worker); /* no such key: the result tells */
        queue_worker_key(q, instance, wk, sizeof wk);
        queue_result_key(jobs[i].id, rk, sizeof rk);
        const char *hb[2] = { "GET", wk }, *res[2] = { "GET", rk };
        st = rconn_append_argv(q->conn, 2, hb, NULL);
        sent += st == 0;
        if (st == 0)
            st = rconn_append_argv(q->conn, 2, res, NULL);
        sent += st == 0;
    }
    if (read_replies(q, rs, sent, err, errlen) != 0)
        st = -1;
    int64_t now_us = clock_now_us();
    k = 0;
    for (size_t i = 0; i < n && st == 0; i++) {
        job_running_t *j = &jobs[i];
        if (!j->running)
            continue;
        /* The heartbeat has the start finish will store; up to one beat
         * old, it may still list the attempt before on the same worker
         * slot, which began before the record's last end. Else the claim's
         * result, which names its attempt (its time is the claim's, a
         * little before the start). */
        int64_t beat = heartbeat_started(rs[k], j->worker, j->id);
        j->started_us = beat > j->ended_us ? beat : result_started(rs[k + 1], j->worker, j->attempt);
        if (j->started_us > 0)
            j->running_for_ms = now_us > j->started_us ? (now_us - j->started_us) / 1000 : 0;
        k += 2;
    }
    for (size_t i = 0; i < sent; i++)
        freeReplyObject(rs[i]);
    free(rs);
    if (st != 0 && err[0] == '\0')
        snprintf(err, errlen, "cannot tell whether the jobs run: out of memory or a broken connection");
    return st;
}

/* Fields stored as numbers in the hash come out as JSON numbers. */
static json_t *field_value(const char *name, const char *value)
{
    static const char *const numeric[] = { "attempts", "max_retries", "timeout_ms", "enqueued_us",
                                           "started_us", "finished_us", "run", "expires_us", "deps_left",
                                           "needed_by", "not_before" };
    for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++)
        if (strcmp(name, numeric[i]) == 0)
            return json_integer(strtoll(value, NULL, 10));
    /* A fraction from 0 to 1, written by tickq_p1_progress as the text
     * queue_send_progress sent ("%.6g"): the double that text reads as,
     * which json_exact_dumps writes back as that text (0.1, 0.333333). */
    if (strcmp(name, "progress") == 0)
        return json_real(strtod(value, NULL));
    if (strcmp(name, "args") == 0) {
        json_t *v = json_loads(value, 0, NULL);
        if (v)
            return v;
    }
    return json_string(value);
}

/* The order `tickq job` prints fields in: who and where first, then what
 * went wrong, then when, then the job's input and the stored details.
 * Fields not listed (none today) follow in the record's order. */
static const char *const field_order[] = {
    "id", "type", "state", "run", "attempts", "max_retries", "queue", "priority", "worker", "running_for_ms",
    "progress", "progress_message", "error", "depends_on", "after_any", "deps_left", "needed_by", "due_at",
    "next_retry_at", "created_at", "scheduled_for", "expires_at", "enqueued_at",
    "started_at", "finished_at", "timeout_seconds", "args", "timeout_ms", "enqueued_us", "expires_us", "started_us",
    "finished_us", "stream", "entry",
    "dead_entry", "cancel_requested", "retries",
};

/* A new object with job's fields in field_order, then any others. */
static json_t *in_order(json_t *job)
{
    json_t *out = json_object();
    for (size_t i = 0; i < sizeof field_order / sizeof field_order[0]; i++) {
        json_t *v = json_object_get(job, field_order[i]);
        if (v != NULL)
            json_object_set(out, field_order[i], v);
    }
    const char *name;
    json_t *v;
    json_object_foreach(job, name, v)
        if (json_object_get(out, name) == NULL)
            json_object_set(out, name, v);
    return out;
}

/* The jobs a job depends on (read when its record counts some: `deps`) as
 * [{"id", "state"}] in the order given, state "expired" for one whose
 * record has gone (job_deps_read); replaces the count. 0, or -1 (err set). */
static int depends_on(queue_t *q, const char *id, json_t *job, char *err, size_t errlen)
{
    if (json_object_get(job, "deps") == NULL)
        return 0;
    json_t *deps = job_deps_read(q, id, 0, err, errlen);
    if (deps == NULL)
        return -1;
    json_object_del(job, "deps");
    json_object_set_new(job, "depends_on", deps);
    json_t *any = json_object_get(job, "after_any");
    json_object_set_new(job, "after_any", json_boolean(any != NULL));
    return 0;
}

int job_view_read(queue_t *q, const char *id, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    char key[300], rkey[300];
    queue_job_key(q, id, key, sizeof key);
    queue_retries_key(q, id, rkey, sizeof rkey);
    /* The record and its retries in one round trip. */
    const char *hgetall[2] = { "HGETALL", key }, *lrange[4] = { "LRANGE", rkey, "0", "-1" };
    redisReply *rs[2] = { NULL, NULL };
    size_t sent = rconn_append_argv(q->conn, 2, hgetall, NULL) == 0;
    sent += sent == 1 && rconn_append_argv(q->conn, 4, lrange, NULL) == 0;
    int st = read_replies(q, rs, sent, err, errlen); /* what was sent is read, whatever else failed */
    if (st == 0 && sent < 2)
        snprintf(err, errlen, "%s", rconn_broken(q->conn) ? "Redis connection is down"
                                                          : "out of memory sending the job's reads");
    if (st != 0 || sent < 2) {
        freeReplyObject(rs[0]);
        freeReplyObject(rs[1]);
        return -1;
    }
    redisReply *h = rs[0], *l = rs[1];
    if (h->type != REDIS_REPLY_ARRAY || h->elements == 0) {
        freeReplyObject(h);
        freeReplyObject(l);
        return 0;
    }
    json_t *job = json_object();
    for (size_t i = 0; i + 1 < h->elements; i += 2)
        json_object_set_new(job, h->element[i]->str, field_value(h->element[i]->str, h->element[i + 1]->str));
    /* A record from before runs were counted is its id's first run. */
    if (json_object_get(job, "run") == NULL)
        json_object_set_new(job, "run", json_integer(1));
    json_t *retries = json_array();
    for (size_t i = 0; l->type == REDIS_REPLY_ARRAY && i < l->elements; i++) {
        json_t *v = json_loads(l->element[i]->str, 0, NULL);
        json_array_append_new(retries, v ? v : json_string(l->element[i]->str));
    }
    json_object_set_new(job, "retries", retries);
    if (depends_on(q, id, job, err, errlen) != 0) {
        json_decref(job);
        freeReplyObject(h);
        freeReplyObject(l);
        return -1;
    }
    /* A deferred job's delay, when it has one, is kept as an epoch ms. */
    json_t *nb = json_object_get(job, "not_before");
    if (json_is_integer(nb)) {
        char iso[CLOCK_ISO_LEN];
        clock_iso8601(json_integer_value(nb) * 1000, iso);
        json_object_set_new(job, "not_before", json_string(iso));
    }
    /* Times are stored as epoch microseconds; show them as ISO 8601 too. */
    static const char *const times[][2] = { { "enqueued_us", "enqueued_at" }, { "started_us", "started_at" },
                                            { "finished_us", "finished_at" }, { "expires_us", "expires_at" } };
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        json_t *us = json_object_get(job, times[i][0]);
        if (json_is_integer(us) && json_integer_value(us) > 0) {
            char iso[CLOCK_ISO_LEN];
            clock_iso8601(json_integer_value(us), iso);
            json_object_set_new(job, times[i][1], json_string(iso));
        }
    }
    /* A job enqueued without a timeout keeps timeout_ms 0: whichever
     * worker runs it gives it its own default, unknown here. */
    json_t *timeout = json_object_get(job, "timeout_ms");
    if (json_is_integer(timeout) && json_integer_value(timeout) == JOB_TIMEOUT_UNSET)
        json_object_set_new(job, "timeout_seconds", json_string("worker default"));
    else if (json_is_integer(timeout)) /* the double nearest ms / 1000: 100 ms is 0.1 */
        json_object_set_new(job, "timeout_seconds", json_real((double)json_integer_value(timeout) / 1000.0));
    /* "running" is not stored: a queued job whose entry is pending in the
     * consumer group is being run, by the consumer holding it. Its record
     * counts the attempts that ended and holds the times of the last one:
     * shown are the attempt running and when it started (left out when
     * that cannot be known), and no end. */
    const char *state = json_string_value(json_object_get(job, "state"));
    const char *stream = json_string_value(json_object_get(job, "stream"));
    const char *entry = json_string_value(json_object_get(job, "entry"));
    if (state && strcmp(state, "queued") == 0 && stream && entry && *entry) {
        job_running_t run = { .id = id, .stream = stream, .entry = entry,
                              .attempts = json_integer_value(json_object_get(job, "attempts")),
                              .ended_us = json_integer_value(json_object_get(job, "finished_us")) };
        if (job_view_running(q, &run, 1, err, errlen) != 0) {
            json_decref(job);
            freeReplyObject(h);
            freeReplyObject(l);
            return -1;
        }
        if (run.running) {
            json_object_set_new(job, "state", json_string("running"));
            json_object_set_new(job, "worker", json_string(run.worker));
            json_object_set_new(job, "attempts", json_integer(run.attempt));
            json_object_set_new(job, "running_for_ms", json_integer(run.running_for_ms));
            static const char *const ended[] = { "started_us", "started_at", "finished_us", "finished_at" };
            for (size_t i = 0; i < sizeof ended / sizeof ended[0]; i++)
                json_object_del(job, ended[i]);
            if (run.started_us > 0) {
                char iso[CLOCK_ISO_LEN];
                clock_iso8601(run.started_us, iso);
                json_object_set_new(job, "started_us", json_integer(run.started_us));
                json_object_set_new(job, "started_at", json_string(iso));
            }
        }
    } else if (state && strcmp(state, "queued") == 0 && stream && (entry == NULL || *entry == '\0')) {
        /* Nor is "delayed": a queued job without an entry, in its queue's
         * delayed set (as tickq jobs lists it), due at its score. */
        char physical[QUEUE_PHYS_MAX], dkey[300];
        queue_stream_physical(q->prefix, stream, physical);
        queue_delayed_key(q, physical, dkey, sizeof dkey);
        redisReply *z = rconn_cmd(q->conn, err, errlen, "ZSCORE %s %s", dkey, id);
        if (z && z->type == REDIS_REPLY_STRING) {
            char iso[CLOCK_ISO_LEN];
            clock_iso8601((int64_t)strtod(z->str, NULL) * 1000, iso);
            json_object_set_new(job, "state", json_string("delayed"));
            json_object_set_new(job, "due_at", json_string(iso));
        }
        freeReplyObject(z);
    }
    *out = in_order(job);
    json_decref(job);
    freeReplyObject(h);
    freeReplyObject(l);
    return 1;
}
