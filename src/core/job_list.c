/* job_list.c — jobs by state, read from Redis (job_list.h). */
#include "core/job_list.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/errmsg.h"
#include "core/queue_controls.h"
#include "core/stream_info.h"

const char *const job_list_states[JOB_LIST_STATES] = { "failed", "dead", "retrying", "running",
                                                       "queued", "delayed", "held", "deferred", "cancelled" };

int job_list_state_known(const char *s)
{
    for (int i = 0; i < JOB_LIST_STATES; i++)
        if (strcmp(s, job_list_states[i]) == 0)
            return 1;
    return 0;
}

int job_list_state_in_history(const char *s)
{
    return strcmp(s, "failed") == 0 || strcmp(s, "dead") == 0 || strcmp(s, "cancelled") == 0;
}

job_row_t *job_rows_add(job_rows_t *out, const job_row_t *row, const char *error)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 64;
        job_row_t *grown = realloc(out->rows, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        out->rows = grown;
        out->cap = cap;
    }
    job_row_t *r = &out->rows[out->n];
    *r = *row;
    r->error = NULL;
    if (error != NULL && *error && (r->error = strdup(error)) == NULL)
        return NULL;
    out->n++;
    return r;
}

void job_rows_free(job_rows_t *rows)
{
    for (size_t i = 0; i < rows->n; i++)
        free(rows->rows[i].error);
    free(rows->rows);
    memset(rows, 0, sizeof *rows);
}

/* Rows fetched per Redis round trip. */
#define PAGE 200

static const char *str_of(const redisReply *r)
{
    return r != NULL && r->type == REDIS_REPLY_STRING ? r->str : NULL;
}

static long long num_of(const redisReply *r)
{
    const char *s = str_of(r);
    return s ? strtoll(s, NULL, 10) : rconn_reply_integer(r);
}

static int wants_type(const job_filter_t *f, const char *type)
{
    return f->type == NULL || (type != NULL && strcmp(f->type, type) == 0);
}

/* The physical queues ever used (<prefix>:queues) of f->queue (every queue
 * when NULL), in the order a worker of all of them drains: by logical
 * name, then high, normal, low. *names is malloc'd, NULL when none. */
typedef struct {
    char logical[QUEUE_PHYS_MAX];
    int priority;                /* 0 high, 1 normal, 2 low, 3 other */
    char physical[QUEUE_PHYS_MAX];
} physical_t;

static int cmp_physical(const void *a, const void *b)
{
    const physical_t *x = a, *y = b;
    int c = strcmp(x->logical, y->logical);
    return c != 0 ? c : x->priority - y->priority;
}

static int physical_queues(queue_t *q, const job_filter_t *f, physical_t **out, size_t *n, char *err, size_t errlen)
{
    char key[256];
    queue_queues_key(q, key, sizeof key);
    *out = NULL;
    *n = 0;
    redisReply *r = rconn_cmd(q->conn, err, errlen, "SMEMBERS %s", key);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        if (r != NULL)
            errmsg_set(err, errlen, "SMEMBERS %s: %s", key, r->str ? r->str : "unexpected reply");
        freeReplyObject(r);
        return -1;
    }
    physical_t *p = calloc(r->elements + 1, sizeof *p);
    if (p == NULL) {
        freeReplyObject(r);
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < r->elements; i++) {
        physical_t *x = &p[*n];
        snprintf(x->physical, sizeof x->physical, "%s", r->element[i]->str);
        const char *prio = queue_logical(x->physical, x->logical, sizeof x->logical);
        if (f->queue != NULL && strcmp(f->queue, x->logical) != 0)
            continue;
        x->priority = 3;
        for (int k = 0; k < 3; k++)
            if (strcmp(prio, queue_priorities[k]) == 0)
                x->priority = k;
        (*n)++;
    }
    freeReplyObject(r);
    qsort(p, *n, sizeof *p, cmp_physical);
    *out = p;
    return 0;
}

/* Sends one command per id (fmt: "HMGET <job key> fields...") and reads the
 * replies into rs[0..n). 0, or -1 with err. */
static int job_records(queue_t *q, char *const *ids, size_t n, redisReply **rs, char *err, size_t errlen)
{
    static const char *const fields[] = { "state", "type", "queue", "attempts", "error", "run", "enqueued_us" };
    for (size_t i = 0; i < n; i++) {
        char key[QUEUE_JOB_KEY_MAX];
        queue_job_key(q, ids[i], key, sizeof key);
        const char *argv[9] = { "HMGET", key };
        for (size_t k = 0; k < 7; k++)
            argv[2 + k] = fields[k];
        rconn_append_argv(q->conn, 9, argv, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        rs[i] = rconn_read(q->conn, err, errlen);
        if (rs[i] == NULL) {
            for (size_t k = 0; k < i; k++)
                freeReplyObject(rs[k]);
            return -1;
        }
    }
    return 0;
}
enum { REC_STATE, REC_TYPE, REC_QUEUE, REC_ATTEMPTS, REC_ERROR, REC_RUN, REC_ENQUEUED_US };

/* The record field k of an HMGET reply, or NULL. */
static const char *rec(const redisReply *r, int k)
{
    return r->type == REDIS_REPLY_ARRAY && (size_t)k < r->elements ? str_of(r->element[k]) : NULL;
}

/* Fills a row from job id's record reply; 0, or -1 when the record is gone
 * or says another state than `state` (`record_state`, may differ: a held
 * or delayed job's record says queued). */
static int row_from_record(job_row_t *row, const char *id, const redisReply *r, const char *record_state,
                           const char *shown)
{
    const char *state = rec(r, REC_STATE);
    if (state == NULL || strcmp(state, record_state) != 0)
        return -1;
    memset(row, 0, sizeof *row);
    snprintf(row->id, sizeof row->id, "%s", id);
    snprintf(row->type, sizeof row->type, "%s", rec(r, REC_TYPE) ? rec(r, REC_TYPE) : "");
    snprintf(row->queue, sizeof row->queue, "%s", rec(r, REC_QUEUE) ? rec(r, REC_QUEUE) : "");
    snprintf(row->state, sizeof row->state, "%s", shown);
    row->attempts = rec(r, REC_ATTEMPTS) ? atoi(rec(r, REC_ATTEMPTS)) : 0;
    row->run = rec(r, REC_RUN) ? atoi(rec(r, REC_RUN)) : 1;
    return 0;
}

/* --- the state index (failed, dead, cancelled, retrying) ------------------ */

static int cmp_newest(const void *a, const void *b)
{
    const job_row_t *x = a, *y = b;
    return x->since_ms < y->since_ms ? 1 : x->since_ms > y->since_ms ? -1 : strcmp(x->id, y->id);
}

/* Up to `want` rows of one index key, newest first, into *found. */
static int index_read(queue_t *q, const char *key, const char *state, const job_filter_t *f, size_t want,
                      job_rows_t *found, char *err, size_t errlen)
{
    char min[32];
    snprintf(min, sizeof min, "%" PRId64, f->since_ms > 0 ? f->since_ms : 0);
    size_t got = 0;
    for (long long offset = 0; got < want; offset += PAGE) {
        redisReply *z = rconn_cmd(q->conn, err, errlen, "ZREVRANGEBYSCORE %s +inf %s WITHSCORES LIMIT %lld %d", key,
                                  min, offset, PAGE);
        if (z == NULL || z->type != REDIS_REPLY_ARRAY) {
            if (z != NULL)
                errmsg_set(err, errlen, "ZREVRANGEBYSCORE %s: %s", key, z->str ? z->str : "unexpected reply");
            freeReplyObject(z);
            return -1;
        }
        size_t n = z->elements / 2;
        char *ids[PAGE];
        redisReply *rs[PAGE];
        for (size_t i = 0; i < n; i++)
            ids[i] = z->element[2 * i]->str;
        if (n > 0 && job_records(q, ids, n, rs, err, errlen) != 0) {
            freeReplyObject(z);
            return -1;
        }
        int st = 0;
        for (size_t i = 0; i < n; i++) {
            job_row_t row;
            if (st == 0 && got < want && row_from_record(&row, ids[i], rs[i], state, state) == 0 &&
                wants_type(f, row.type)) {
                row.since_ms = (int64_t)strtod(z->element[2 * i + 1]->str, NULL);
                if (job_rows_add(found, &row, rec(rs[i], REC_ERROR)) == NULL)
                    st = -1;
                got++;
            }
            freeReplyObject(rs[i]);
        }
        freeReplyObject(z);
        if (st != 0) {
            errmsg_set(err, errlen, "out of memory");
            return -1;
        }
        if (n < PAGE)
            break;
    }
    return 0;
}

/* The indexed state's newest rows across the logical queues in scope. */
static int list_indexed(queue_t *q, const char *state, const job_filter_t *f, job_rows_t *out, char *err,
                        size_t errlen)
{
    physical_t *ps;
    size_t np;
    if (physical_queues(q, f, &ps, &np, err, errlen) != 0)
        return -1;
    size_t want = f->limit - out->n;
    job_rows_t found = { NULL, 0, 0 };
    int st = 0;
    for (size_t i = 0; st == 0 && i < np; i++) {
        if (i > 0 && strcmp(ps[i].logical, ps[i - 1].logical) == 0)
            continue; /* one index per logical queue */
        char key[QUEUE_KEY_MAX + 32];
        queue_index_key(q, ps[i].logical, state, key, sizeof key);
        st = index_read(q, key, state, f, want, &found, err, errlen);
    }
    free(ps);
    if (found.n > 0)
        qsort(found.rows, found.n, sizeof *found.rows, cmp_newest);
    for (size_t i = 0; st == 0 && i < found.n && i < want; i++) {
        if (job_rows_add(out, &found.rows[i], found.rows[i].error) == NULL) {
            errmsg_set(err, errlen, "out of memory");
            st = -1;
        }
    }
    job_rows_free(&found);
    return st;
}

/* --- the streams (queued, running) ---------------------------------------- */

/* Our group's last delivered id of a stream, into last ("" when the stream
 * or group does not exist: nothing was read). */
static int last_delivered(queue_t *q, const char *stream, char *last, size_t cap, char *err, size_t errlen)
{
    last[0] = '\0';
    redisReply *g = rconn_cmd(q->conn, err, errlen, "XINFO GROUPS %s", stream);
    if (g == NULL)
        return -1;
    const redisReply *ours = stream_group_of(g, q->group);
    const char *id = ours != NULL ? str_of(stream_reply_field(ours, "last-delivered-id")) : NULL;
    if (id != NULL)
        snprintf(last, cap, "%s", id);
    freeReplyObject(g);
    return 0;
}

/* A job from a stream entry reply {id, [field, value...]} (the fields the
 * functions write: queue_entry_field_names); 0, or -1 when not a job. */
static int entry_job(const redisReply *e, const char **id, const char **type, int *attempts, int64_t *ready_ms)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[1]->type != REDIS_REPLY_ARRAY ||
        e->element[1]->elements != 2 * QUEUE_ENTRY_FIELD_COUNT)
        return -1;
    const redisReply *f = e->element[1];
    for (int i = 0; i < QUEUE_ENTRY_FIELD_COUNT; i++)
        if (str_of(f->element[2 * i]) == NULL || strcmp(f->element[2 * i]->str, queue_entry_field_names[i]) != 0)
            return -1;
    *id = str_of(f->element[1]);
    *type = str_of(f->element[3]);
    *attempts = (int)num_of(f->element[7]);
    *ready_ms = stream_id_ms(e->element[0]->str);
    return *id && *type ? 0 : -1;
}

/* Ready entries of one stream (after our group's last delivered id), in
 * order, into out. */
static int list_ready(queue_t *q, const physical_t *p, const job_filter_t *f, job_rows_t *out, char *err,
                      size_t errlen)
{
    char stream[QUEUE_KEY_MAX], last[64], from[80];
    queue_stream_key(q->prefix, p->physical, stream);
    if (last_delivered(q, stream, last, sizeof last, err, errlen) != 0)
        return -1;
    snprintf(from, sizeof from, "%s%s", last[0] ? "(" : "", last[0] ? last : "-");
    if (f->since_ms > 0 && (!last[0] || strtoll(last, NULL, 10) < f->since_ms))
        snprintf(from, sizeof from, "%" PRId64, f->since_ms);
    while (out->n < f->limit) {
        redisReply *r = rconn_cmd(q->conn, err, errlen, "XRANGE %s %s + COUNT %d", stream, from, PAGE);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(r);
            return r == NULL ? -1 : 0;
        }
        size_t n = r->elements;
        char *ids[PAGE];
        redisReply *rs[PAGE];
        size_t nids = 0;
        struct { const char *type; int attempts; int64_t ready; } e[PAGE];
        for (size_t i = 0; i < n; i++) {
            const char *id, *type;
            if (entry_job(r->element[i], &id, &type, &e[nids].attempts, &e[nids].ready) == 0 && wants_type(f, type)) {
                e[nids].type = type;
                ids[nids++] = (char *)id;
            }
        }
        if (nids > 0 && job_records(q, ids, nids, rs, err, errlen) != 0) {
            freeReplyObject(r);
            return -1;
        }
        int st = 0;
        for (size_t i = 0; i < nids; i++) {
            job_row_t row;
            if (st == 0 && out->n < f->limit && row_from_record(&row, ids[i], rs[i], "queued", "queued") == 0) {
                row.attempts = e[i].attempts;
                row.since_ms = e[i].ready;
                if (job_rows_add(out, &row, rec(rs[i], REC_ERROR)) == NULL)
                    st = -1;
            }
            freeReplyObject(rs[i]);
        }
        if (n > 0)
            snprintf(from, sizeof from, "(%s", r->element[n - 1]->element[0]->str);
        freeReplyObject(r);
        if (st != 0) {
            errmsg_set(err, errlen, "out of memory");
            return -1;
        }
        if (n < PAGE)
            break;
    }
    return 0;
}

/* Pending entries of one stream in our group, oldest first, into out. */
static int list_running(queue_t *q, const physical_t *p, const job_filter_t *f, job_rows_t *out, char *err,
                        size_t errlen)
{
    char stream[QUEUE_KEY_MAX], from[80] = "-";
    queue_stream_key(q->prefix, p->physical, stream);
    while (out->n < f->limit) {
        redisReply *r = rconn_cmd(q->conn, err, errlen, "XPENDING %s %s %s + %d", stream, q->group, from, PAGE);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(r); /* NOGROUP: nothing ever read */
            return r == NULL ? -1 : 0;
        }
        size_t n = r->elements;
        for (size_t i = 0; i < n && out->n < f->limit; i++) {
            const redisReply *pe = r->element[i];
            if (pe->type != REDIS_REPLY_ARRAY || pe->elements < 2)
                continue;
            const char *entry = pe->element[0]->str;
            redisReply *x = rconn_cmd(q->conn, err, errlen, "XRANGE %s %s %s", stream, entry, entry);
            if (x == NULL) {
                freeReplyObject(r);
                return -1;
            }
            const char *id, *type;
            int attempts;
            int64_t ready;
            if (x->type == REDIS_REPLY_ARRAY && x->elements == 1 &&
                entry_job(x->element[0], &id, &type, &attempts, &ready) == 0 && wants_type(f, type) &&
                ready >= f->since_ms) {
                char *ids[1] = { (char *)id };
                redisReply *rs[1];
                if (job_records(q, ids, 1, rs, err, errlen) != 0) {
                    freeReplyObject(x);
                    freeReplyObject(r);
                    return -1;
                }
                job_row_t row;
                if (row_from_record(&row, id, rs[0], "queued", "running") == 0) {
                    row.attempts = attempts + 1;
                    row.since_ms = ready;
                    queue_consumer_worker(pe->element[1]->str, row.worker, sizeof row.worker);
                    if (job_rows_add(out, &row, rec(rs[0], REC_ERROR)) == NULL) {
                        errmsg_set(err, errlen, "out of memory");
                        freeReplyObject(rs[0]);
                        freeReplyObject(x);
                        freeReplyObject(r);
                        return -1;
                    }
                }
                freeReplyObject(rs[0]);
            }
            freeReplyObject(x);
        }
        if (n > 0)
            snprintf(from, sizeof from, "(%s", r->element[n - 1]->element[0]->str);
        freeReplyObject(r);
        if (n < PAGE)
            break;
    }
    return 0;
}

/* --- sorted sets of waiting jobs (delayed, held, deferred) ------------------- */

/* Members of zset `key` in score order (with scores), whose record says
 * queued (deferred for `shown` deferred) and matches f, into out as
 * `shown`; the score goes to since_ms (held: when it was set aside;
 * deferred: its enqueue) or due_ms (delayed: since_ms is then its
 * enqueue). */
static int zset_waiting(queue_t *q, const char *key, const char *shown, const job_filter_t *f, job_rows_t *out,
                        char *err, size_t errlen)
{
    int delayed = strcmp(shown, "delayed") == 0;
    const char *stored = strcmp(shown, "deferred") == 0 ? "deferred" : "queued";
    for (long long offset = 0; out->n < f->limit; offset += PAGE) {
        redisReply *z = rconn_cmd(q->conn, err, errlen, "ZRANGE %s %lld %lld WITHSCORES", key, offset,
                                  offset + PAGE - 1);
        if (z == NULL || z->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(z);
            return z == NULL ? -1 : 0;
        }
        size_t n = z->elements / 2;
        char *ids[PAGE];
        redisReply *rs[PAGE];
        for (size_t i = 0; i < n; i++)
            ids[i] = z->element[2 * i]->str;
        if (n > 0 && job_records(q, ids, n, rs, err, errlen) != 0) {
            freeReplyObject(z);
            return -1;
        }
        int st = 0;
        for (size_t i = 0; i < n; i++) {
            job_row_t row;
            int64_t score = (int64_t)strtod(z->element[2 * i + 1]->str, NULL);
            if (st == 0 && out->n < f->limit && row_from_record(&row, ids[i], rs[i], stored, shown) == 0 &&
                wants_type(f, row.type) && (f->queue == NULL || strcmp(f->queue, row.queue) == 0)) {
                row.since_ms = score;
                if (delayed) {
                    row.due_ms = score;
                    row.since_ms = rec(rs[i], REC_ENQUEUED_US) ? strtoll(rec(rs[i], REC_ENQUEUED_US), NULL, 10) / 1000 : 0;
                }
                if (row.since_ms >= f->since_ms && job_rows_add(out, &row, rec(rs[i], REC_ERROR)) == NULL)
                    st = -1;
            }
            freeReplyObject(rs[i]);
        }
        freeReplyObject(z);
        if (st != 0) {
            errmsg_set(err, errlen, "out of memory");
            return -1;
        }
        if (n < PAGE)
            break;
    }
    return 0;
}

static int list_held(queue_t *q, const job_filter_t *f, job_rows_t *out, char *err, size_t errlen)
{
    char key[256];
    queue_holding_key(q, key, sizeof key);
    redisReply *types = rconn_cmd(q->conn, err, errlen, "SMEMBERS %s", key);
    if (types == NULL)
        return -1;
    int st = 0;
    for (size_t i = 0; st == 0 && types->type == REDIS_REPLY_ARRAY && i < types->elements; i++) {
        if (!wants_type(f, types->element[i]->str))
            continue;
        char hk[256];
        queue_held_key(q, types->element[i]->str, hk, sizeof hk);
        st = zset_waiting(q, hk, "held", f, out, err, errlen);
    }
    freeReplyObject(types);
    return st;
}

int job_list_state(queue_t *q, const char *state, const job_filter_t *f, job_rows_t *out, char *err,
                   size_t errlen)
{
    if (out->n >= f->limit)
        return 0;
    if (strcmp(state, "held") == 0)
        return list_held(q, f, out, err, errlen);
    if (strcmp(state, "failed") == 0 || strcmp(state, "dead") == 0 || strcmp(state, "cancelled") == 0 ||
        strcmp(state, "retrying") == 0)
        return list_indexed(q, state, f, out, err, errlen);
    physical_t *ps;
    size_t np;
    if (physical_queues(q, f, &ps, &np, err, errlen) != 0)
        return -1;
    int st = 0;
    for (size_t i = 0; st == 0 && i < np && out->n < f->limit; i++) {
        if (strcmp(state, "running") == 0) {
            st = list_running(q, &ps[i], f, out, err, errlen);
        } else if (strcmp(state, "queued") == 0) {
            st = list_ready(q, &ps[i], f, out, err, errlen);
        } else {
            char key[256];
            if (strcmp(state, "deferred") == 0)
                queue_deferred_key(q, ps[i].physical, key, sizeof key);
            else
                queue_delayed_key(q, ps[i].physical, key, sizeof key);
            st = zset_waiting(q, key, state, f, out, err, errlen);
        }
    }
    free(ps);
    return st;
}

json_t *job_row_json(const job_row_t *r, int64_t now_ms)
{
    char since[CLOCK_ISO_LEN];
    clock_iso8601(r->since_ms * 1000, since);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:f, s:s?, s:s}", "id", r->id, "type", r->type,
                          "queue", r->queue, "state", r->state, "attempts", r->attempts, "run", r->run,
                          "since", since, "age_s", (double)(now_ms - r->since_ms) / 1000.0, "error", r->error,
                          "source", r->from_history ? "history" : "redis");
    if (o != NULL && r->worker[0])
        json_object_set_new(o, "worker", json_string(r->worker));
    if (o != NULL && r->due_ms > 0) {
        char due[CLOCK_ISO_LEN];
        clock_iso8601(r->due_ms * 1000, due);
        json_object_set_new(o, "due_at", json_string(due));
    }
    return o;
}
