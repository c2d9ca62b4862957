/* history.c — job history: from the Redis history stream to the database
 * (history.h). The rows' layout in a stream entry is written by
 * src/lua/common.lua (history_job, history_retry) and read here: fields
 * `job` or `retry`, each value one row, its columns separated by NUL bytes
 * (hiredis keeps a value's bytes as they are and ends it with one more NUL,
 * so the columns are C strings in place):
 *   job    id, run, created_at, attempts, state, type, queue, worker, started_us, finished_us, error
 *   retry  id, run, created_at, attempt, kind, worker, at_us, error */
#include "data/history.h"

#include "core/utf8.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JOB_COLUMNS 11
#define RETRY_COLUMNS 8

void history_identity(db_kind_t kind, const char *where, const char *host, char *out, size_t outlen)
{
    if (kind == DB_SQLITE) {
        snprintf(out, outlen, "sqlite:%s:%s", host, where);
        return;
    }
    /* postgresql://[user[:***]@]host[:port]/db?...: the host, if any */
    const char *h = strstr(where, "://");
    h = h ? h + 3 : where;
    const char *end = h + strcspn(h, "/?");
    const char *at = memchr(h, '@', (size_t)(end - h));
    if (at != NULL)
        h = at + 1;
    size_t n = (size_t)(end - h);
    const char *colon = h[0] == '[' ? memchr(h, ']', n) : memchr(h, ':', n);
    if (colon != NULL)
        n = (size_t)(colon - h) + (h[0] == '[');
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), h);
    int local = name[0] == '\0' || strcmp(name, "localhost") == 0 || strncmp(name, "127.", 4) == 0 ||
                strcmp(name, "[::1]") == 0;
    if (local)
        snprintf(out, outlen, "%s@%s", where, host);
    else
        snprintf(out, outlen, "%s", where);
}

/* 64-bit FNV-1a: names, not security. */
static uint64_t fnv1a(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

int history_stream_key(const char *prefix, const char *database_url, const char *sqlite_path, char *out,
                       size_t outlen, char *where, size_t wherelen, db_failure_t *failure, char *err,
                       size_t errlen)
{
    db_location_t loc;
    if (db_locate(database_url, sqlite_path, &loc, failure, err, errlen) != 0)
        return -1;
    char host[256], id[DB_WHERE_MAX + 300];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    history_identity(loc.kind, loc.where, host, id, sizeof id);
    history_stream_name(prefix, fnv1a(id), out, outlen);
    if (where != NULL)
        snprintf(where, wherelen, "%s", loc.kind == DB_SQLITE ? id + 7 : loc.where); /* host:path, or the URL */
    return 0;
}

/* Runs a command whose reply only needs checking; 0, or -1 with err. */
static int command(rconn_t *c, char *err, size_t errlen, int argc, const char **argv, const char *allowed)
{
    redisReply *r = rconn_argv(c, argc, argv, NULL, err, errlen);
    if (r == NULL)
        return -1;
    int bad = r->type == REDIS_REPLY_ERROR && !(allowed && rconn_reply_is_error(r, allowed));
    if (bad)
        snprintf(err, errlen, "Redis refused %s %s: %s", argv[0], argv[1], r->str);
    freeReplyObject(r);
    return bad ? -1 : 0;
}

int history_register(rconn_t *c, const char *prefix, const char *stream, long long cap, const char *where,
                     char *err, size_t errlen)
{
    char state[HISTORY_KEY_MAX + 16], streams[HISTORY_KEY_MAX], capstr[24];
    history_state_key(stream, state, sizeof state);
    history_streams_key(prefix, streams, sizeof streams);
    snprintf(capstr, sizeof capstr, "%lld", cap);
    const char *hset[6] = { "HSET", state, "cap", capstr, "database", where };
    const char *sadd[3] = { "SADD", streams, stream };
    const char *group[6] = { "XGROUP", "CREATE", stream, HISTORY_GROUP, "0", "MKSTREAM" };
    if (command(c, err, errlen, 6, hset, NULL) != 0 || command(c, err, errlen, 3, sadd, NULL) != 0 ||
        command(c, err, errlen, 6, group, "BUSYGROUP") != 0)
        return -1;
    return 0;
}

long long history_dropped(rconn_t *c, const char *stream, char *err, size_t errlen)
{
    char state[HISTORY_KEY_MAX + 16];
    history_state_key(stream, state, sizeof state);
    redisReply *r = rconn_cmd(c, err, errlen, "HGET %s dropped", state);
    if (r == NULL)
        return -1;
    long long n = rconn_reply_integer(r);
    freeReplyObject(r);
    return n;
}

/* --- the batch ---------------------------------------------------------- */

struct history_batch {
    redisReply **replies;
    size_t nreplies, capreplies;
    const char **ids;
    int *counts;                 /* rows of ids[i] as the stream counts them: fields / 2 */
    size_t nids, capids, capcounts;
    history_rec_t *jobs;
    size_t njobs, capjobs;
    retry_rec_t *retries;
    size_t nretries, capretries;
    char **texts;                /* columns made text (text_columns), freed with the batch's rows */
    size_t ntexts, captexts;
    unsigned long long malformed;
};

history_batch_t *history_batch_new(void) { return calloc(1, sizeof(history_batch_t)); }

void history_batch_clear(history_batch_t *b)
{
    for (size_t i = 0; i < b->nreplies; i++)
        freeReplyObject(b->replies[i]);
    for (size_t i = 0; i < b->ntexts; i++)
        free(b->texts[i]);
    b->nreplies = b->nids = b->njobs = b->nretries = b->ntexts = 0;
}

void history_batch_free(history_batch_t *b)
{
    if (b == NULL)
        return;
    history_batch_clear(b);
    free(b->replies);
    free(b->ids);
    free(b->counts);
    free(b->jobs);
    free(b->retries);
    free(b->texts);
    free(b);
}

size_t history_batch_entries(const history_batch_t *b) { return b->nids; }
size_t history_batch_rows(const history_batch_t *b) { return b->njobs + b->nretries; }
unsigned long long history_batch_malformed(const history_batch_t *b) { return b->malformed; }

/* Makes room for one more element in *p (of *cap); 0, or -1. */
static int room(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t cap2 = *cap ? *cap * 2 : 64;
    void *q = realloc(*p, cap2 * size);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = cap2;
    return 0;
}

/* Splits a row into its NUL-separated columns; returns how many there are
 * (at most `max`). */
static int columns(const char *s, size_t len, const char **col, int max)
{
    const char *end = s + len;
    int n = 0;
    for (const char *p = s; n < max;) {
        col[n++] = p;
        const char *z = memchr(p, '\0', (size_t)(end - p));
        if (z == NULL)
            break;
        p = z + 1;
    }
    return n;
}

static int64_t micros(const char *s) { return *s ? strtoll(s, NULL, 10) : 0; }

/* The text columns of a row as UTF-8 (utf8.h): the rows tickq writes are,
 * but an entry written by an older tickq may not be, and a database that
 * refuses it (PostgreSQL) would refuse its whole batch. A column that is
 * not text is replaced by a copy the batch owns. 0, or -1 when memory ran
 * out. */
static int text_columns(history_batch_t *b, const char **col, int n)
{
    for (int i = 0; i < n; i++) {
        size_t len = strlen(col[i]);
        if (utf8_is_text(col[i], len))
            continue;
        if (room((void **)&b->texts, &b->captexts, b->ntexts, sizeof *b->texts) != 0 ||
            (b->texts[b->ntexts] = utf8_clean_dup(col[i], len, NULL)) == NULL)
            return -1;
        col[i] = b->texts[b->ntexts++];
    }
    return 0;
}

/* Adds a row; 0, -1 when it is not a tickq row (counted), or -2 when
 * memory ran out. */
static int add_row(history_batch_t *b, const redisReply *name, const redisReply *value)
{
    const char *col[JOB_COLUMNS];
    if (name->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING)
        goto bad;
    if (strcmp(name->str, "job") == 0) {
        if (columns(value->str, value->len, col, JOB_COLUMNS) != JOB_COLUMNS || !*col[0] || !*col[4])
            goto bad;
        if (text_columns(b, col, JOB_COLUMNS) != 0 ||
            room((void **)&b->jobs, &b->capjobs, b->njobs, sizeof *b->jobs) != 0)
            return -2;
        history_rec_t *h = &b->jobs[b->njobs++];
        h->job_id = col[0];
        h->run = atoi(col[1]);
        h->created_at = col[2];
        h->attempts = atoi(col[3]);
        h->state = col[4];
        h->type = col[5];
        h->queue = col[6];
        h->worker = col[7];
        h->started_us = micros(col[8]);
        h->finished_us = micros(col[9]);
        h->error = col[10];
        return 0;
    }
    if (strcmp(name->str, "retry") == 0) {
        if (columns(value->str, value->len, col, RETRY_COLUMNS) != RETRY_COLUMNS || !*col[0] || !*col[4])
            goto bad;
        if (text_columns(b, col, RETRY_COLUMNS) != 0 ||
            room((void **)&b->retries, &b->capretries, b->nretries, sizeof *b->retries) != 0)
            return -2;
        retry_rec_t *r = &b->retries[b->nretries++];
        r->job_id = col[0];
        r->run = atoi(col[1]);
        r->created_at = col[2];
        r->attempt = atoi(col[3]);
        r->kind = col[4];
        r->worker = col[5];
        r->at_us = micros(col[6]);
        r->error = col[7];
        return 0;
    }
bad:
    b->malformed++;
    return -1;
}

/* Adds the entries of an array of [id, fields] (fields nil: an entry deleted
 * after its delivery, acknowledged with no rows). Returns how many, or -1
 * when memory ran out (the batch then holds part of them: take_reply). */
static int add_entries(history_batch_t *b, const redisReply *entries)
{
    int n = 0;
    for (size_t i = 0; entries->type == REDIS_REPLY_ARRAY && i < entries->elements; i++) {
        const redisReply *e = entries->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 || e->element[0]->type != REDIS_REPLY_STRING)
            continue;
        if (room((void **)&b->ids, &b->capids, b->nids, sizeof *b->ids) != 0 ||
            room((void **)&b->counts, &b->capcounts, b->nids, sizeof *b->counts) != 0)
            return -1;
        const redisReply *f = e->elements > 1 ? e->element[1] : NULL;
        b->counts[b->nids] = f != NULL && f->type == REDIS_REPLY_ARRAY ? (int)(f->elements / 2) : 0;
        b->ids[b->nids++] = e->element[0]->str;
        n++;
        for (size_t k = 0; f != NULL && f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements; k += 2)
            if (add_row(b, f->element[k], f->element[k + 1]) == -2)
                return -1;
    }
    return n;
}

/* Adds the entries of reply r (`entries` inside it) and keeps r in the batch
 * (its strings are the rows'), or frees it when it adds none. When memory
 * runs out, everything this read added is taken back before r is freed (no
 * pointer into it is left, and no entry of it is acknowledged: they stay
 * pending for us and are read again) and -1 is returned. */
static int take_reply(history_batch_t *b, redisReply *r, const redisReply *entries, char *err, size_t errlen)
{
    size_t nids = b->nids, njobs = b->njobs, nretries = b->nretries;
    unsigned long long malformed = b->malformed;
    int got = 0;
    if (room((void **)&b->replies, &b->capreplies, b->nreplies, sizeof *b->replies) != 0 ||
        (got = add_entries(b, entries)) < 0) {
        b->nids = nids;
        b->njobs = njobs;
        b->nretries = nretries;
        b->malformed = malformed;
        freeReplyObject(r);
        snprintf(err, errlen, "out of memory reading the job history stream");
        return -1;
    }
    if (got == 0)
        freeReplyObject(r);
    else
        b->replies[b->nreplies++] = r;
    return got;
}

int history_read(rconn_t *c, const char *stream, const char *consumer, history_read_t what, int count,
                 int64_t block_ms, history_batch_t *b, char *err, size_t errlen)
{
    char n[16], block[24];
    snprintf(n, sizeof n, "%d", count);
    snprintf(block, sizeof block, "%" PRId64, block_ms);
    const char *argv[11] = { "XREADGROUP", "GROUP", HISTORY_GROUP, consumer, "COUNT", n, "BLOCK", block,
                             "STREAMS", stream, what == HISTORY_READ_OWN ? "0" : ">" };
    int argc = 11;
    if (what == HISTORY_READ_OWN || block_ms <= 0) { /* without BLOCK */
        memmove(&argv[6], &argv[8], 3 * sizeof *argv);
        argc = 9;
    }
    redisReply *r = rconn_argv(c, argc, argv, NULL, err, errlen);
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "Redis refused XREADGROUP on %s: %s", stream, r->str);
        freeReplyObject(r);
        return -1;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 && r->element[0]->type == REDIS_REPLY_ARRAY &&
        r->element[0]->elements == 2)
        return take_reply(b, r, r->element[0]->element[1], err, errlen);
    freeReplyObject(r);
    return 0;
}

/* Deletes consumers (not `self`) holding nothing, idle for min_idle_ms. */
static void delete_idle_consumers(rconn_t *c, const char *stream, const char *self, int64_t min_idle_ms)
{
    char err[256];
    redisReply *r = rconn_cmd(c, err, sizeof err, "XINFO CONSUMERS %s %s", stream, HISTORY_GROUP);
    for (size_t i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *cs = r->element[i];
        const char *name = NULL;
        long long pending = -1, idle = 0;
        for (size_t k = 0; cs->type == REDIS_REPLY_ARRAY && k + 1 < cs->elements; k += 2) {
            const char *f = cs->element[k]->str;
            if (f == NULL)
                continue;
            if (strcmp(f, "name") == 0)
                name = cs->element[k + 1]->str;
            else if (strcmp(f, "pending") == 0)
                pending = rconn_reply_integer(cs->element[k + 1]);
            else if (strcmp(f, "idle") == 0)
                idle = rconn_reply_integer(cs->element[k + 1]);
        }
        if (name != NULL && pending == 0 && idle > min_idle_ms && strcmp(name, self) != 0)
            freeReplyObject(rconn_cmd(c, err, sizeof err, "XGROUP DELCONSUMER %s %s %s", stream, HISTORY_GROUP,
                                      name));
    }
    freeReplyObject(r);
}

int history_claim_idle(rconn_t *c, const char *stream, const char *consumer, int64_t min_idle_ms, int count,
                       history_batch_t *b, char *err, size_t errlen)
{
    redisReply *r = rconn_cmd(c, err, errlen, "XAUTOCLAIM %s %s %s %lld 0-0 COUNT %d", stream, HISTORY_GROUP,
                              consumer, (long long)min_idle_ms, count);
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "Redis refused XAUTOCLAIM on %s: %s", stream, r->str);
        freeReplyObject(r);
        return -1;
    }
    /* next cursor, entries, ids of entries deleted meanwhile (dropped from
     * the pending list by Redis itself) */
    int got = 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2)
        got = take_reply(b, r, r->element[1], err, errlen);
    else
        freeReplyObject(r);
    if (got < 0)
        return -1;
    delete_idle_consumers(c, stream, consumer, min_idle_ms);
    return got;
}

#define HISTORY_REFUSAL_MAX 512 /* bytes of the database's message kept per refused row */

/* Writes rows [lo, hi) of the batch (its job rows, then its retry rows)
 * in one transaction: db_history_put's answer. */
static int put_range(db_t *db, const history_batch_t *b, size_t lo, size_t hi, char *err, size_t errlen)
{
    size_t nj = b->njobs;
    size_t jlo = lo < nj ? lo : nj, jhi = hi < nj ? hi : nj;
    size_t rlo = lo > nj ? lo - nj : 0, rhi = hi > nj ? hi - nj : 0;
    return db_history_put(db, b->jobs + jlo, jhi - jlo, b->retries + rlo, rhi - rlo, err, errlen);
}

/* Rows [lo, hi), which the database refused together (its message in
 * err): writes them again in halves, down to the rows it refuses alone,
 * whose indices go to refused[*nrefused] and messages to why. 0, or -1
 * with err when the database could not be written. */
static int split_refused(db_t *db, const history_batch_t *b, size_t lo, size_t hi, size_t *refused,
                         size_t *nrefused, char *why, char *err, size_t errlen)
{
    if (hi - lo == 1) {
        refused[(*nrefused)++] = lo;
        snprintf(why + lo * HISTORY_REFUSAL_MAX, HISTORY_REFUSAL_MAX, "%s", err);
        return 0;
    }
    size_t mid = lo + (hi - lo) / 2, from[2] = { lo, mid }, to[2] = { mid, hi };
    for (int k = 0; k < 2; k++) {
        int rc = put_range(db, b, from[k], to[k], err, errlen);
        if (rc == DB_REFUSED)
            rc = split_refused(db, b, from[k], to[k], refused, nrefused, why, err, errlen);
        if (rc != 0)
            return -1;
    }
    return 0;
}

long long history_batch_write(db_t *db, const history_batch_t *b, history_refused_fn refused_fn, void *user,
                              char *err, size_t errlen)
{
    size_t n = b->njobs + b->nretries, nrefused = 0;
    if (n == 0)
        return 0;
    int rc = put_range(db, b, 0, n, err, errlen);
    if (rc != DB_REFUSED) /* the common case: written, or the batch waits */
        return rc == 0 ? 0 : -1;
    size_t *refused = malloc(n * sizeof *refused);
    char *why = malloc(n * HISTORY_REFUSAL_MAX);
    long long out = -1;
    if (refused == NULL || why == NULL) {
        snprintf(err, errlen, "out of memory writing job history");
    } else if (split_refused(db, b, 0, n, refused, &nrefused, why, err, errlen) != 0) {
        /* err says why; the batch waits in Redis */
    } else if (n > 1 && nrefused == n) {
        /* Every row refused alone: a cause of the database's (its encoding,
         * a constraint added by hand), not of the rows. Skipping would
         * delete the whole history behind it; it waits instead. */
        snprintf(err, errlen, "the database refused every row of a batch of %zu, each alone (%s): not skipped", n,
                 why);
    } else {
        for (size_t k = 0; k < nrefused; k++) {
            size_t i = refused[k];
            refused_fn(user, i < b->njobs ? &b->jobs[i] : NULL, i < b->njobs ? NULL : &b->retries[i - b->njobs],
                       why + i * HISTORY_REFUSAL_MAX);
        }
        out = (long long)nrefused;
    }
    free(refused);
    free(why);
    return out;
}

int history_count_refused(rconn_t *c, const char *stream, long long n, char *err, size_t errlen)
{
    char state[HISTORY_KEY_MAX + 16], by[24];
    history_state_key(stream, state, sizeof state);
    snprintf(by, sizeof by, "%lld", n);
    const char *argv[4] = { "HINCRBY", state, "refused", by };
    return command(c, err, errlen, 4, argv, NULL);
}

int history_batch_ack(queue_t *q, const char *stream, history_batch_t *b, char *err, size_t errlen)
{
    if (b->nids > 0 &&
        queue_history_ack(q, stream, HISTORY_GROUP, b->ids, b->counts, b->nids, NULL, err, errlen) != QUEUE_OK)
        return -1;
    history_batch_clear(b);
    return 0;
}

int history_last_id(rconn_t *c, const char *stream, char *out, size_t outlen, char *err, size_t errlen)
{
    redisReply *r = rconn_cmd(c, err, errlen, "XREVRANGE %s + - COUNT 1", stream);
    if (r == NULL)
        return -1;
    out[0] = '\0';
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 && r->element[0]->type == REDIS_REPLY_ARRAY &&
        r->element[0]->elements > 0 && r->element[0]->element[0]->type == REDIS_REPLY_STRING)
        snprintf(out, outlen, "%s", r->element[0]->element[0]->str);
    freeReplyObject(r);
    return 0;
}

/* Stream ids "ms-seq" in order; 1 when a >= b. */
static int id_at_or_after(const char *a, const char *b)
{
    unsigned long long am = 0, as = 0, bm = 0, bs = 0;
    sscanf(a, "%llu-%llu", &am, &as);
    sscanf(b, "%llu-%llu", &bm, &bs);
    return am > bm || (am == bm && as >= bs);
}

int history_batch_reaches(const history_batch_t *b, const char *id)
{
    for (size_t i = 0; i < b->nids; i++)
        if (id_at_or_after(b->ids[i], id))
            return 1;
    return 0;
}

void history_retire(rconn_t *c, const char *stream, const char *consumer)
{
    char err[256];
    redisReply *r = rconn_cmd(c, err, sizeof err, "XPENDING %s %s - + 1 %s", stream, HISTORY_GROUP, consumer);
    int empty = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 0;
    freeReplyObject(r);
    if (empty)
        freeReplyObject(rconn_cmd(c, err, sizeof err, "XGROUP DELCONSUMER %s %s %s", stream, HISTORY_GROUP,
                                  consumer));
}
