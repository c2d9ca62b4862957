/* queue.c — tickq's Redis protocol: the C side of the Lua scripts in src/lua.
 *
 * Every state change of a job happens inside one script, so a worker killed
 * at any instruction leaves Redis consistent: a job is either waiting in a
 * stream or delayed set, pending in the consumer group (claimed), or finished
 * with its result written. See docs/protocol.md for keys and transitions. */
#include "core/queue.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/clock.h"
#include "lua_scripts.h"
#include "core/uuid.h"

#define HEADER_ARGS 9
#define MAX_ARGS 1024
_Static_assert(MAX_ARGS + 3 <= RCONN_FCALL_ARGS_MAX, "an argument vector fits in one FCALL");

static rlibrary_t library = { "tickq_p" TICKQ_PROTOCOL, lua_library, 0 };

/* Function names carry the protocol version, like the library's name. */
#define FN(name) "tickq_p" TICKQ_PROTOCOL "_" name

/* The errors a tickq function answers with, told apart by the start of
 * their text (and Redis's own refusal for lack of memory): the one table
 * of them, read by script_error and queue_error_status. */
static const struct {
    const char *prefix;
    queue_status_t status;
    int keeps_prefix;        /* 1: the message is the whole text */
} reply_errors[] = {
    /* enqueue.lua: the job was refused; the reason follows */
    { "TICKQ_INVALID ", QUEUE_ERR_INVALID, 0 },
    /* common.lua, protocol_error: Redis holds another protocol version */
    { "TICKQ_PROTOCOL ", QUEUE_ERR_PROTOCOL, 0 },
    /* Redis: over its maxmemory, the call wrote nothing (rconn_reply_is_oom) */
    { "OOM ", QUEUE_ERR_OOM, 1 },
};

queue_status_t queue_error_status(const char *said, const char **message)
{
    for (size_t i = 0; i < sizeof reply_errors / sizeof reply_errors[0]; i++) {
        size_t n = strlen(reply_errors[i].prefix);
        if (strncmp(said, reply_errors[i].prefix, n) == 0) {
            if (message != NULL)
                *message = reply_errors[i].keeps_prefix ? said : said + n;
            return reply_errors[i].status;
        }
    }
    if (message != NULL)
        *message = said;
    return QUEUE_ERR_REPLY;
}

void queue_init(queue_t *q, rconn_t *conn)
{
    memset(q, 0, sizeof *q);
    q->conn = conn;
}

queue_status_t queue_types_add(queue_t *q, const char *const *names, size_t n, char *err, size_t errlen)
{
    char key[256];
    queue_types_key(q, key, sizeof key);
    for (size_t i = 0; i < n; i++) {
        redisReply *r = rconn_cmd(q->conn, err, errlen, "SADD %s %s", key, names[i]);
        queue_status_t st = r == NULL ? QUEUE_ERR_IO : r->type == REDIS_REPLY_ERROR ? queue_error_status(r->str, NULL)
                                                                                     : QUEUE_OK;
        if (r != NULL && r->type == REDIS_REPLY_ERROR)
            snprintf(err, errlen, "%s", r->str);
        freeReplyObject(r);
        if (st != QUEUE_OK)
            return st;
    }
    return QUEUE_OK;
}

queue_status_t queue_type_known(queue_t *q, const char *name, int *known, char *err, size_t errlen)
{
    char key[256];
    queue_types_key(q, key, sizeof key);
    *known = 0;
    redisReply *r = rconn_cmd(q->conn, err, errlen, "SISMEMBER %s %s", key, name);
    if (r == NULL)
        return QUEUE_ERR_IO;
    queue_status_t st = QUEUE_OK;
    if (r->type == REDIS_REPLY_INTEGER)
        *known = r->integer == 1;
    else {
        snprintf(err, errlen, "%s", r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply to SISMEMBER");
        st = r->type == REDIS_REPLY_ERROR ? queue_error_status(r->str, NULL) : QUEUE_ERR_IO;
    }
    freeReplyObject(r);
    return st;
}


/* A per-process random seed for backoff jitter, reseeded after fork. */
static uint64_t next_seed(void)
{
    static uint64_t state;
    static pid_t owner;
    if (owner != getpid()) {
        owner = getpid();
        if (getrandom(&state, sizeof state, GRND_NONBLOCK) != sizeof state)
            state = (uint64_t)clock_now_us() ^ ((uint64_t)owner << 32);
        state |= 1;
    }
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state % 2147483647;
}

/* The argument header every library function starts with (src/lua/common.lua). */
typedef struct {
    char num[6][24];
    char iso[CLOCK_ISO_LEN];
    const char *argv[HEADER_ARGS];
} header_t;

static void header_fill(const queue_t *q, header_t *h)
{
    int64_t now_us = clock_now_us();
    snprintf(h->num[0], sizeof h->num[0], "%" PRId64, now_us / 1000);
    clock_iso8601(now_us, h->iso);
    snprintf(h->num[1], sizeof h->num[1], "%" PRId64, q->result_ttl_s);
    snprintf(h->num[2], sizeof h->num[2], "%" PRId64, q->dlq_cap);
    snprintf(h->num[3], sizeof h->num[3], "%" PRId64, q->retry_base_ms);
    snprintf(h->num[4], sizeof h->num[4], "%" PRId64, q->retry_max_ms);
    snprintf(h->num[5], sizeof h->num[5], "%" PRIu64, next_seed());
    h->argv[0] = q->prefix;
    h->argv[1] = h->num[0];
    h->argv[2] = h->iso;
    h->argv[3] = q->group;
    h->argv[4] = h->num[1];
    h->argv[5] = h->num[2];
    h->argv[6] = h->num[3];
    h->argv[7] = h->num[4];
    h->argv[8] = h->num[5];
}

/* Argument vector builder: keys, then the header, then a function's own
 * arguments. Each call builds one on its stack; the _Static_asserts beside
 * the callers show that their largest vector fits in MAX_ARGS. */
typedef struct {
    int n;
    const char *v[MAX_ARGS];
    size_t len[MAX_ARGS];
    header_t h;
} args_t;

static void args_add(args_t *a, const char *s, size_t len)
{
    assert(a->n < MAX_ARGS && "an argument vector never drops an argument");
    a->v[a->n] = s;
    a->len[a->n] = len;
    a->n++;
}

static void args_str(args_t *a, const char *s) { args_add(a, s, strlen(s)); }

static void args_header(args_t *a, const queue_t *q)
{
    header_fill(q, &a->h);
    for (int i = 0; i < HEADER_ARGS; i++)
        args_str(a, a->h.argv[i]);
}

static void args_streams(args_t *a, const queue_list_t *streams)
{
    for (int i = 0; i < streams->n; i++)
        args_str(a, streams->key[i]);
}

static const char *reply_str(const redisReply *r)
{
    if (r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS))
        return r->str;
    return "";
}

/* QUEUE_ERR_OOM with its message: what Redis refused, its memory figures
 * (rconn_describe_memory) and what to do. Every OOM status comes from here. */
static queue_status_t out_of_memory(queue_t *q, const char *what, const char *said, char *err, size_t errlen)
{
    char mem[300];
    rconn_describe_memory(q->conn, mem, sizeof mem);
    snprintf(err, errlen, "Redis is out of memory and refuses writes (%s): %s was not done; free memory in Redis "
             "or raise its maxmemory, then try again (Redis said: %s)", mem, what, said);
    return QUEUE_ERR_OOM;
}

queue_status_t queue_out_of_memory(queue_t *q, const char *what, const char *said, char *err, size_t errlen)
{
    return out_of_memory(q, what, said, err, errlen);
}

/* Maps an error reply to a status and a message (reply_errors): an OOM
 * refusal (out_of_memory; with q NULL, in the middle of a pipeline where no
 * other command may be sent, only Redis's words), a script's TICKQ_INVALID
 * or TICKQ_PROTOCOL (without the prefix), or QUEUE_ERR_REPLY naming `fname`. */
static queue_status_t script_error(queue_t *q, const redisReply *r, const char *fname, char *err, size_t errlen)
{
    const char *said = r->str ? r->str : "", *message;
    queue_status_t st = queue_error_status(said, &message);
    if (st == QUEUE_ERR_OOM && q != NULL)
        return out_of_memory(q, fname, said, err, errlen);
    if (st == QUEUE_ERR_REPLY && rconn_reply_is_noperm(r))
        snprintf(err, errlen, "Redis refused %s for this user (ACL, NOPERM): %s; give tickq's Redis user the rule in "
                 "docs/production-redis.md (the server's ACL LOG names what was refused)", fname, said);
    else if (st == QUEUE_ERR_REPLY)
        snprintf(err, errlen, "Redis error in %s: %s", fname, said);
    else
        snprintf(err, errlen, "%s", message);
    return st;
}

/* Calls a library function; on QUEUE_OK *out holds a non-error reply to free. */
static queue_status_t run(queue_t *q, const char *fname, int nkeys, args_t *a, redisReply **out,
                          char *err, size_t errlen)
{
    *out = NULL;
    redisReply *r = rconn_fcall(q->conn, &library, fname, nkeys, a->n, a->v, a->len, err, errlen);
    if (r == NULL)
        return rconn_broken(q->conn) ? QUEUE_ERR_IO : QUEUE_ERR_REPLY;
    if (r->type == REDIS_REPLY_ERROR) {
        queue_status_t st = script_error(q, r, fname, err, errlen);
        freeReplyObject(r);
        return st;
    }
    *out = r;
    return QUEUE_OK;
}

/* Loads the function library: QUEUE_OK, QUEUE_ERR_OOM, or the I/O or
 * reply error. */
static queue_status_t load_library(queue_t *q, char *err, size_t errlen)
{
    char said[600];
    int rc = rconn_library_load(q->conn, &library, said, sizeof said);
    if (rc == RCONN_OOM)
        return out_of_memory(q, "FUNCTION LOAD", said, err, errlen);
    if (rc != 0) {
        snprintf(err, errlen, "%s", said);
        return rconn_broken(q->conn) ? QUEUE_ERR_IO : QUEUE_ERR_REPLY;
    }
    return QUEUE_OK;
}

queue_status_t queue_prepare(queue_t *q, const queue_list_t *streams, char *err, size_t errlen)
{
    char key[256];
    queue_protocol_key(q, key, sizeof key);
    redisReply *r = rconn_cmd(q->conn, err, errlen, "SET %s %s NX GET", key, TICKQ_PROTOCOL);
    if (r == NULL)
        return QUEUE_ERR_IO;
    if (r->type == REDIS_REPLY_STRING && strcmp(r->str, TICKQ_PROTOCOL) != 0) {
        snprintf(err, errlen, "Redis holds tickq protocol %s but this tickq speaks protocol %s: "
                 "run the same tickq version on every worker and client", r->str, TICKQ_PROTOCOL);
        freeReplyObject(r);
        return QUEUE_ERR_PROTOCOL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        char what[300];
        snprintf(what, sizeof what, "SET %s", key);
        queue_status_t st = rconn_reply_is_oom(r) ? out_of_memory(q, what, r->str, err, errlen) : QUEUE_ERR_REPLY;
        if (st == QUEUE_ERR_REPLY)
            snprintf(err, errlen, "Redis refused SET %s: %s", key, r->str);
        freeReplyObject(r);
        return st;
    }
    freeReplyObject(r);

    char queues_key[256];
    queue_queues_key(q, queues_key, sizeof queues_key);
    for (int i = 0; streams != NULL && i < streams->n; i++) {
        r = rconn_cmd(q->conn, err, errlen, "XGROUP CREATE %s %s 0 MKSTREAM", streams->key[i], q->group);
        if (r == NULL)
            return QUEUE_ERR_IO;
        int bad = r->type == REDIS_REPLY_ERROR && !rconn_reply_is_error(r, "BUSYGROUP");
        queue_status_t st = QUEUE_ERR_REPLY;
        if (bad && rconn_reply_is_oom(r))
            st = out_of_memory(q, "XGROUP CREATE", r->str, err, errlen);
        else if (bad)
            snprintf(err, errlen, "cannot create consumer group %s on %s: %s", q->group, streams->key[i], r->str);
        freeReplyObject(r);
        if (bad)
            return st;
        r = rconn_cmd(q->conn, err, errlen, "SADD %s %s", queues_key, streams->name[i]);
        if (r == NULL)
            return QUEUE_ERR_IO;
        freeReplyObject(r);
    }
    return load_library(q, err, errlen);
}

/* Enqueue arguments for one job; numbers live in `num`. */
#define ENQUEUE_NUMS 7
typedef struct {
    char id[UUID_STR_LEN > JOB_ID_MAX + 1 ? UUID_STR_LEN : JOB_ID_MAX + 1];
    char num[ENQUEUE_NUMS][24];
} enqueue_buf_t;

static void enqueue_args(queue_t *q, const job_spec_t *s, args_t *a, enqueue_buf_t *b)
{
    if (s->id != NULL)
        snprintf(b->id, sizeof b->id, "%s", s->id);
    else
        uuid_v4(b->id);
    snprintf(b->num[0], sizeof b->num[0], "%d", s->max_retries);
    snprintf(b->num[1], sizeof b->num[1], "%" PRId64, s->timeout_ms);
    snprintf(b->num[2], sizeof b->num[2], "%" PRId64, s->delay_ms);
    snprintf(b->num[3], sizeof b->num[3], "%zu", q->max_payload);
    snprintf(b->num[4], sizeof b->num[4], "%" PRId64, clock_now_us());
    snprintf(b->num[5], sizeof b->num[5], "%d", s->replace ? 1 : 0);
    snprintf(b->num[6], sizeof b->num[6], "%" PRId64, s->expires_ms); /* 0: none */
    a->n = 0;
    args_header(a, q);
    args_str(a, b->id);
    args_str(a, s->type ? s->type : "");
    args_add(a, s->args ? s->args : "", s->args ? s->args_len : 0);
    args_str(a, s->queue ? s->queue : "");
    args_str(a, s->priority ? s->priority : "");
    for (int i = 0; i < ENQUEUE_NUMS; i++)
        args_str(a, b->num[i]);
    if (s->depends_on != NULL && *s->depends_on != '\0') { /* an older library never sees these */
        args_str(a, s->depends_on);
        args_str(a, s->after_any ? "1" : "0");
        args_str(a, s->flow ? "1" : "0");
    }
}

/* The state a new job is told as: the record of a job waiting for its
 * delay says queued, as tickq job, tickq jobs and the API tell it delayed
 * (job_view.c, job_list.c); a job with dependencies is deferred already. */
static void told_state(const job_spec_t *spec, enqueue_result_t *out)
{
    if (out->created && spec->delay_ms > 0 && strcmp(out->state, "queued") == 0)
        snprintf(out->state, sizeof out->state, "delayed");
}

/* Reads an enqueue call's reply for spec into out. */
static queue_status_t enqueue_reply(queue_t *q, const job_spec_t *spec, const redisReply *r, enqueue_result_t *out,
                                    char *err, size_t errlen)
{
    if (r->type == REDIS_REPLY_ERROR)
        return script_error(q, r, "enqueue", err, errlen);
    /* {created, id, state[, run, previous state]}: a library from before
     * runs existed answers with the first three. */
    if (r->type != REDIS_REPLY_ARRAY || (r->elements != 3 && r->elements != 5)) {
        snprintf(err, errlen, "unexpected reply from tickq's enqueue script");
        return QUEUE_ERR_REPLY;
    }
    out->created = (int)rconn_reply_integer(r->element[0]);
    snprintf(out->id, sizeof out->id, "%s", reply_str(r->element[1]));
    snprintf(out->state, sizeof out->state, "%s", reply_str(r->element[2]));
    out->run = r->elements == 5 ? (int)rconn_reply_integer(r->element[3]) : 1; /* an older library: run 1 */
    snprintf(out->previous, sizeof out->previous, "%s", r->elements == 5 ? reply_str(r->element[4]) : "");
    told_state(spec, out);
    return QUEUE_OK;
}

queue_status_t queue_enqueue(queue_t *q, const job_spec_t *spec, enqueue_result_t *out,
                             char *err, size_t errlen)
{
    args_t a;
    enqueue_buf_t b;
    enqueue_args(q, spec, &a, &b);
    redisReply *r = rconn_fcall(q->conn, &library, FN("enqueue"), 0, a.n, a.v, a.len, err, errlen);
    if (r == NULL)
        return rconn_broken(q->conn) ? QUEUE_ERR_IO : QUEUE_ERR_REPLY;
    queue_status_t st = enqueue_reply(q, spec, r, out, err, errlen);
    freeReplyObject(r);
    return st;
}

#define BATCH_FIELDS 10 /* per job: enqueue_batch.lua */
_Static_assert(HEADER_ARGS + 3 + BATCH_FIELDS * QUEUE_BATCH_MAX + 3 <= RCONN_FCALL_ARGS_MAX,
               "enqueue_batch: QUEUE_BATCH_MAX jobs a call");

/* A refusal of one job of an enqueue_batch call, as enqueue_batch.lua
 * words it: "job <n> (<id>): <why>", n counting from 1 within the call and
 * id the one sent (out[n - 1].id). The job's index in out, with *why
 * pointing into `said`; SIZE_MAX when `said` is not such a refusal. */
static size_t batch_refusal(const char *said, const enqueue_result_t *out, size_t n, const char **why)
{
    unsigned long place;
    int used = 0;
    if (sscanf(said, "job %lu (%n", &place, &used) != 1 || used == 0 || place < 1 || place > n)
        return SIZE_MAX;
    const char *id = said + used;
    size_t len = strlen(out[place - 1].id);
    if (strncmp(id, out[place - 1].id, len) != 0 || strncmp(id + len, "): ", 3) != 0)
        return SIZE_MAX;
    *why = id + len + 3;
    return place - 1;
}

/* One enqueue_batch call for specs[0..n): out[i] per job; a refusal of one
 * job sets *refused to its index (else SIZE_MAX). */
static queue_status_t enqueue_batch_call(queue_t *q, const job_spec_t *specs, size_t n, enqueue_result_t *out,
                                         size_t *refused, char *err, size_t errlen)
{
    enum { NUMS = 6 };
    *refused = SIZE_MAX;
    size_t argc = HEADER_ARGS + 3 + BATCH_FIELDS * n;
    const char **argv = malloc(argc * sizeof *argv);
    size_t *lens = malloc(argc * sizeof *lens);
    char(*num)[NUMS][24] = malloc(n * sizeof *num);
    if (argv == NULL || lens == NULL || num == NULL) {
        free(argv), free(lens), free(num);
        snprintf(err, errlen, "out of memory for a batch of %zu jobs", n);
        return QUEUE_ERR_REPLY;
    }
    header_t h;
    header_fill(q, &h);
    char max_payload[24], now_us[24], fields[8];
    snprintf(max_payload, sizeof max_payload, "%zu", q->max_payload);
    snprintf(now_us, sizeof now_us, "%" PRId64, clock_now_us());
    snprintf(fields, sizeof fields, "%d", BATCH_FIELDS);
    size_t a = 0;
#define ARG(s, l) (argv[a] = (s), lens[a] = (l), a++)
#define ARG_STR(s) ARG((s), strlen(s))
    for (int i = 0; i < HEADER_ARGS; i++)
        ARG_STR(h.argv[i]);
    ARG_STR(max_payload);
    ARG_STR(now_us);
    ARG_STR(fields);
    for (size_t i = 0; i < n; i++) {
        const job_spec_t *s = &specs[i];
        assert((s->depends_on == NULL || s->depends_on[0] == '\0') && "a batch has no dependencies");
        if (s->id != NULL)
            snprintf(out[i].id, sizeof out[i].id, "%s", s->id);
        else
            uuid_v4(out[i].id);
        snprintf(num[i][0], sizeof num[i][0], "%d", s->max_retries);
        snprintf(num[i][1], sizeof num[i][1], "%" PRId64, s->timeout_ms);
        snprintf(num[i][2], sizeof num[i][2], "%" PRId64, s->delay_ms);
        snprintf(num[i][3], sizeof num[i][3], "%d", s->replace ? 1 : 0);
        snprintf(num[i][4], sizeof num[i][4], "%" PRId64, s->expires_ms);
        ARG_STR(out[i].id);
        ARG_STR(s->type ? s->type : "");
        ARG(s->args ? s->args : "", s->args ? s->args_len : 0);
        ARG_STR(s->queue ? s->queue : "");
        ARG_STR(s->priority ? s->priority : "");
        for (int k = 0; k < 5; k++)
            ARG_STR(num[i][k]);
    }
#undef ARG
#undef ARG_STR
    assert(a == argc);
    redisReply *r = rconn_fcall(q->conn, &library, FN("enqueue_batch"), 0, (int)argc, argv, lens, err, errlen);
    free(argv), free(lens), free(num);
    if (r == NULL)
        return rconn_broken(q->conn) ? QUEUE_ERR_IO : QUEUE_ERR_REPLY;
    queue_status_t st = QUEUE_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        char said[600];
        const char *why = said;
        st = script_error(q, r, FN("enqueue_batch"), said, sizeof said);
        if (st == QUEUE_ERR_INVALID)
            *refused = batch_refusal(said, out, n, &why);
        snprintf(err, errlen, "%s", why);
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 * n) {
        snprintf(err, errlen, "unexpected reply from tickq's enqueue_batch function (%zu elements for %zu jobs)",
                 r->type == REDIS_REPLY_ARRAY ? r->elements : 0, n);
        st = QUEUE_ERR_REPLY;
    } else {
        for (size_t i = 0; i < n; i++) {
            redisReply *const *e = &r->element[4 * i];
            out[i].created = (int)rconn_reply_integer(e[0]);
            snprintf(out[i].state, sizeof out[i].state, "%s", reply_str(e[1]));
            out[i].run = (int)rconn_reply_integer(e[2]);
            snprintf(out[i].previous, sizeof out[i].previous, "%s", reply_str(e[3]));
            told_state(&specs[i], &out[i]);
        }
    }
    freeReplyObject(r);
    return st;
}

queue_status_t queue_enqueue_batch(queue_t *q, const job_spec_t *specs, size_t n, enqueue_result_t *out,
                                   size_t *done, size_t *refused, char *err, size_t errlen)
{
    *done = 0;
    *refused = SIZE_MAX;
    while (*done < n) {
        /* QUEUE_BATCH_MAX jobs, or fewer when their args pass
         * QUEUE_BATCH_BYTES (one call stays a bounded stretch of Redis time) */
        size_t chunk = 0, bytes = 0, which;
        while (*done + chunk < n && chunk < QUEUE_BATCH_MAX && (chunk == 0 || bytes < QUEUE_BATCH_BYTES))
            bytes += specs[*done + chunk++].args_len;
        queue_status_t st = enqueue_batch_call(q, specs + *done, chunk, out + *done, &which, err, errlen);
        if (st != QUEUE_OK) {
            if (which != SIZE_MAX)
                *refused = *done + which;
            return st;
        }
        *done += chunk;
    }
    return QUEUE_OK;
}

void list_import_clear(list_import_t *li)
{
    if (li->reply)
        freeReplyObject(li->reply);
    li->reply = NULL;
    li->nevents = 0;
}

/* An event of a list import's reply: {kind, task_id, ...}. 0, or -1. */
static int list_event(redisReply *e, list_event_t *ev)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 4)
        return -1;
    const char *kind = reply_str(e->element[0]);
    ev->task_id = reply_str(e->element[1]);
    ev->error = ev->state = ev->job_args = ev->list_item = ev->rejected_id = "";
    ev->run = 0;
    if (strcmp(kind, "rerun") == 0) {
        ev->kind = LIST_RERUN;
        ev->run = rconn_reply_integer(e->element[2]);
        ev->state = reply_str(e->element[3]);
        return 0;
    }
    if (e->elements < 5)
        return -1;
    if (strcmp(kind, "rejected") == 0) {
        ev->kind = LIST_REJECTED;
        ev->error = reply_str(e->element[2]);
        ev->list_item = reply_str(e->element[3]);
        ev->rejected_id = reply_str(e->element[4]);
    } else if (strcmp(kind, "duplicate") == 0) {
        ev->kind = LIST_DUPLICATE;
        ev->state = reply_str(e->element[2]);
        ev->job_args = reply_str(e->element[3]);
        ev->list_item = reply_str(e->element[4]);
    } else {
        return -1;
    }
    return 0;
}

/* A rejection as a library from before reply format 2 writes it,
 * "task_id\treason\tentry start", split in place. */
static void list_old_rejection(redisReply *e, list_event_t *ev)
{
    char *text = e->type == REDIS_REPLY_STRING ? e->str : (char *)"";
    char *why = strchr(text, '\t'), *item = NULL;
    if (why != NULL) {
        *why++ = '\0';
        item = strchr(why, '\t');
        if (item != NULL)
            *item++ = '\0';
    }
    ev->kind = LIST_REJECTED;
    ev->task_id = text;
    ev->error = why ? why : "";
    ev->list_item = item ? item : "";
    ev->state = ev->job_args = ev->rejected_id = "";
    ev->run = 0;
}

queue_status_t queue_list_import(queue_t *q, const char *list, const char *queue, int max_entries,
                                 list_import_t *out, char *err, size_t errlen)
{
    args_t a;
    char num[5][24];
    list_import_clear(out);
    memset(out, 0, sizeof *out);
    assert(max_entries >= 1 && max_entries <= LIST_BATCH_MAX);
    snprintf(num[0], sizeof num[0], "%d", JOB_DEFAULT_MAX_RETRIES);
    snprintf(num[1], sizeof num[1], "%d", JOB_TIMEOUT_UNSET); /* the list's tasks carry none */
    snprintf(num[2], sizeof num[2], "%zu", q->max_payload);
    snprintf(num[3], sizeof num[3], "%" PRId64, clock_now_us());
    snprintf(num[4], sizeof num[4], "%d", max_entries);
    a.n = 0;
    args_str(&a, list);
    args_header(&a, q);
    args_str(&a, queue);
    args_str(&a, "normal");
    for (int i = 0; i < 5; i++)
        args_str(&a, num[i]);
    args_str(&a, "2"); /* reply format: events as arrays */
    redisReply *r;
    queue_status_t st = run(q, FN("list_import"), 1, &a, &r, err, errlen);
    if (st != QUEUE_OK)
        return st;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3) {
        snprintf(err, errlen, "unexpected reply from tickq's list import");
        freeReplyObject(r);
        return QUEUE_ERR_REPLY;
    }
    out->reply = r;
    out->moved = rconn_reply_integer(r->element[0]);
    out->duplicates = rconn_reply_integer(r->element[1]);
    out->remaining = rconn_reply_integer(r->element[2]);
    /* Format 2 has the re-run count at [3]; an older library (mixed
     * versions during an upgrade) has only rejection strings from [3]. */
    int format2 = r->elements >= 4 && r->element[3]->type == REDIS_REPLY_INTEGER;
    size_t first = format2 ? 4 : 3;
    if (format2)
        out->reruns = r->element[3]->integer;
    for (size_t i = first; i < r->elements && out->nevents < LIST_BATCH_MAX; i++) {
        list_event_t *ev = &out->events[out->nevents];
        if (!format2)
            list_old_rejection(r->element[i], ev);
        else if (list_event(r->element[i], ev) != 0)
            continue;
        out->nevents++;
    }
    return QUEUE_OK;
}

queue_status_t queue_lease(queue_t *q, const char *holder, int acquire, int64_t ttl_ms, int *held, char *current,
                           size_t curlen, char *err, size_t errlen)
{
    args_t a;
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%" PRId64, ttl_ms);
    a.n = 0;
    args_header(&a, q);
    args_str(&a, holder);
    args_str(&a, acquire ? "acquire" : "release");
    args_str(&a, ttl);
    redisReply *r;
    queue_status_t st = run(q, FN("lease"), 0, &a, &r, err, errlen);
    if (st != QUEUE_OK)
        return st;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        snprintf(err, errlen, "unexpected reply from tickq's lease function");
        freeReplyObject(r);
        return QUEUE_ERR_REPLY;
    }
    *held = (int)rconn_reply_integer(r->element[0]);
    if (current != NULL)
        snprintf(current, curlen, "%s", reply_str(r->element[1]));
    freeReplyObject(r);
    return QUEUE_OK;
}

queue_status_t queue_enqueue_many(queue_t *q, const job_spec_t *specs, size_t n,
                                  enqueue_result_t *out, queue_status_t *st,
                                  char *err, size_t errlen)
{
    if (!library.loaded) {
        queue_status_t st0 = load_library(q, err, errlen);
        if (st0 != QUEUE_OK)
            return st0;
    }
    args_t a;
    for (size_t i = 0; i < n; i++) {
        enqueue_buf_t b;
        enqueue_args(q, &specs[i], &a, &b);
        if (rconn_append_fcall(q->conn, FN("enqueue"), 0, a.n, a.v, a.len) != 0) {
            snprintf(err, errlen, "cannot queue a pipelined command");
            return QUEUE_ERR_IO;
        }
    }
    queue_status_t result = QUEUE_OK;
    for (size_t i = 0; i < n; i++) {
        redisReply *r = rconn_read(q->conn, err, errlen);
        if (r == NULL)
            return QUEUE_ERR_IO;
        if (r->type == REDIS_REPLY_ERROR && strstr(r->str, "Function not found") != NULL) {
            /* Redis lost the library mid-pipeline: redo this one alone. */
            freeReplyObject(r);
            enqueue_buf_t b;
            enqueue_args(q, &specs[i], &a, &b);
            r = rconn_fcall(q->conn, &library, FN("enqueue"), 0, a.n, a.v, a.len, err, errlen);
            if (r == NULL)
                return QUEUE_ERR_IO;
        }
        char one_err[512];
        st[i] = enqueue_reply(NULL, &specs[i], r, &out[i], one_err, sizeof one_err);
        if (st[i] != QUEUE_OK && result == QUEUE_OK) {
            result = st[i];
            snprintf(err, errlen, "job %zu: %s", i + 1, one_err);
        }
        freeReplyObject(r);
    }
    if (result == QUEUE_ERR_OOM) { /* every reply read: the memory figures may be asked for now */
        char said[600];
        snprintf(said, sizeof said, "%s", err);
        return out_of_memory(q, "enqueue", said, err, errlen);
    }
    return result;
}

/* Reads the replies of n calls queued after a MULTI, and of its EXEC;
 * returns the EXEC's reply (an array of n, or an error: EXECABORT, and then
 * err says what the queuing refused), or NULL on a broken connection. */
static redisReply *exec_reply(queue_t *q, size_t n, char *err, size_t errlen)
{
    char queued_err[512] = "";
    for (size_t i = 0; i < n; i++) { /* QUEUED or a refusal per call */
        redisReply *r = rconn_read(q->conn, err, errlen);
        if (r == NULL)
            return NULL;
        if (r->type == REDIS_REPLY_ERROR && queued_err[0] == '\0')
            snprintf(queued_err, sizeof queued_err, "%s", r->str);
        freeReplyObject(r);
    }
    redisReply *r = rconn_read(q->conn, err, errlen);
    if (r != NULL && r->type == REDIS_REPLY_ERROR)
        snprintf(err, errlen, "%s", queued_err[0] ? queued_err : r->str);
    return r;
}

/* Whether a transaction's calls all failed for want of the library (Redis
 * restarted without it, FUNCTION FLUSH): nothing ran, so it may be sent
 * again once the library is loaded. */
static int library_missing(const redisReply *r)
{
    return r->type == REDIS_REPLY_ARRAY && r->elements > 0 && r->element[0]->type == REDIS_REPLY_ERROR &&
           strstr(r->element[0]->str, "Function not found") != NULL;
}

static queue_status_t enqueue_transaction(queue_t *q, const job_spec_t *specs, size_t n, enqueue_result_t *out,
                                          int retried, char *err, size_t errlen);

queue_status_t queue_enqueue_chain(queue_t *q, const job_spec_t *specs, size_t n, enqueue_result_t *out,
                                   char *err, size_t errlen)
{
    return enqueue_transaction(q, specs, n, out, 0, err, errlen);
}

static queue_status_t enqueue_transaction(queue_t *q, const job_spec_t *specs, size_t n, enqueue_result_t *out,
                                          int retried, char *err, size_t errlen)
{
    assert(n >= 1);
    if (!library.loaded) {
        queue_status_t st0 = load_library(q, err, errlen);
        if (st0 != QUEUE_OK)
            return st0;
    }
    /* MULTI waits for its reply: were it refused (an ACL without +multi)
     * and the calls sent behind it, they would run one by one. */
    const char *multi[1] = { "MULTI" }, *exec[1] = { "EXEC" };
    redisReply *m = rconn_argv(q->conn, 1, multi, NULL, err, errlen);
    if (m == NULL)
        return rconn_broken(q->conn) ? QUEUE_ERR_IO : QUEUE_ERR_REPLY;
    if (m->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "Redis refused the enqueue transaction%s (nothing enqueued): %s%s",
                 rconn_reply_is_noperm(m) ? " for this user (ACL)" : "", m->str,
                 rconn_reply_is_noperm(m) ? "; give tickq's Redis user the rule in docs/production-redis.md" : "");
        freeReplyObject(m);
        return QUEUE_ERR_REPLY;
    }
    freeReplyObject(m);
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++) {
        args_t a;
        enqueue_buf_t b;
        assert(specs[i].id != NULL);
        enqueue_args(q, &specs[i], &a, &b);
        bad = rconn_append_fcall(q->conn, FN("enqueue"), 0, a.n, a.v, a.len) != 0;
    }
    if (bad || rconn_append_argv(q->conn, 1, exec, NULL) != 0) {
        snprintf(err, errlen, "cannot queue a pipelined command");
        return QUEUE_ERR_IO;
    }
    redisReply *r = exec_reply(q, n, err, errlen);
    if (r == NULL)
        return QUEUE_ERR_IO;
    queue_status_t result = QUEUE_OK;
    if (r->type == REDIS_REPLY_ERROR) { /* discarded whole: err says why */
        char said[600];
        const char *message;
        snprintf(said, sizeof said, "%s", err);
        result = queue_error_status(said, &message);
        if (result == QUEUE_ERR_REPLY || result == QUEUE_OK) {
            result = QUEUE_ERR_REPLY;
            if (strncmp(said, "NOPERM", 6) == 0)
                snprintf(err, errlen, "Redis refused the enqueue transaction for this user (ACL; nothing enqueued): "
                         "%s; give tickq's Redis user the rule in docs/production-redis.md", said);
            else
                snprintf(err, errlen, "Redis refused the enqueue transaction (nothing enqueued): %s", said);
        } else {
            snprintf(err, errlen, "%s", message);
        }
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
        snprintf(err, errlen, "unexpected reply from a transaction of %zu enqueues", n);
        result = QUEUE_ERR_REPLY;
    } else if (library_missing(r) && !retried) {
        freeReplyObject(r);
        library.loaded = 0;
        return enqueue_transaction(q, specs, n, out, 1, err, errlen);
    } else {
        for (size_t i = 0; i < n && result == QUEUE_OK; i++) {
            char one_err[512];
            result = enqueue_reply(NULL, &specs[i], r->element[i], &out[i], one_err, sizeof one_err);
            if (result != QUEUE_OK)
                snprintf(err, errlen, "job %zu of %zu: %s", i + 1, n, one_err);
        }
    }
    freeReplyObject(r);
    if (result == QUEUE_ERR_OOM) {
        char said[600];
        snprintf(said, sizeof said, "%s", err);
        return out_of_memory(q, "enqueue", said, err, errlen);
    }
    return result;
}

void claim_batch_clear(claim_batch_t *b)
{
    if (b->reply)
        freeReplyObject(b->reply);
    b->reply = NULL;
    b->n = 0;
}

/* A job's stream entry: these fields in this order, as add_entry
 * (src/lua/common.lua) writes them; an entry with anything else is not a
 * job. Claim's reply gives the same values in the same order after each
 * entry id, with the attempt (attempts + 1) for attempts. */
enum { ENTRY_JOB, ENTRY_TYPE, ENTRY_ARGS, ENTRY_ATTEMPTS, ENTRY_MAX_RETRIES, ENTRY_TIMEOUT_MS, ENTRY_ENQUEUED_US,
       ENTRY_FIELDS };
_Static_assert(ENTRY_FIELDS == QUEUE_ENTRY_FIELD_COUNT, "one stream entry layout");
const char *const queue_entry_field_names[QUEUE_ENTRY_FIELD_COUNT] = { "job", "type", "args", "attempts",
                                                                      "max_retries", "timeout_ms", "enqueued_us" };
#define CLAIM_FIELDS (1 + ENTRY_FIELDS)

/* Fills a claimed job from its entry id and its values in entry order;
 * `attempt_added` is what turns the value at ENTRY_ATTEMPTS into the attempt.
 * A job without a timeout of its own gets the claimer's default. */
static void claimed_fill(const queue_t *q, claimed_job_t *cj, int stream_index, const redisReply *entry,
                         redisReply *const *v, int attempt_added)
{
    cj->stream_index = stream_index;
    cj->entry = reply_str(entry);
    cj->id = reply_str(v[ENTRY_JOB]);
    cj->type = reply_str(v[ENTRY_TYPE]);
    cj->args = reply_str(v[ENTRY_ARGS]);
    cj->args_len = v[ENTRY_ARGS]->type == REDIS_REPLY_STRING ? v[ENTRY_ARGS]->len : 0;
    cj->attempt = (int)rconn_reply_integer(v[ENTRY_ATTEMPTS]) + attempt_added;
    cj->max_retries = (int)rconn_reply_integer(v[ENTRY_MAX_RETRIES]);
    cj->timeout_ms = rconn_reply_integer(v[ENTRY_TIMEOUT_MS]);
    if (cj->timeout_ms == JOB_TIMEOUT_UNSET)
        cj->timeout_ms = q->default_timeout_ms;
    cj->enqueued_us = rconn_reply_integer(v[ENTRY_ENQUEUED_US]);
}

_Static_assert(QUEUE_LIST_MAX + HEADER_ARGS + 2 <= MAX_ARGS, "claim: every stream of a queue list");

queue_status_t queue_claim(queue_t *q, const queue_list_t *streams, const char *consumer,
                           int count, claim_batch_t *out, char *err, size_t errlen)
{
    claim_batch_clear(out);
    assert(count >= 1 && count <= CLAIM_MAX);
    assert(job_timeout_valid(q->default_timeout_ms));
    args_t a;
    char cnt[16];
    snprintf(cnt, sizeof cnt, "%d", count);
    a.n = 0;
    args_streams(&a, streams);
    args_header(&a, q);
    args_str(&a, consumer);
    args_str(&a, cnt);
    redisReply *r;
    queue_status_t st = run(q, FN("claim"), streams->n, &a, &r, err, errlen);
    if (st != QUEUE_OK)
        return st;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
        snprintf(err, errlen, "unexpected reply from tickq's claim script");
        freeReplyObject(r);
        return QUEUE_ERR_REPLY;
    }
    out->reply = r;
    long long index = rconn_reply_integer(r->element[0]);
    if (index == 0) {
        out->next_due_ms = r->elements > 1 ? rconn_reply_integer(r->element[1]) : -1;
        out->retrying = r->elements > 2 ? rconn_reply_integer(r->element[2]) : 0;
        out->gates = r->elements > 3 && rconn_reply_integer(r->element[3]) == 1;
        out->paused = 0;
        for (size_t i = 0; r->elements > 4 && r->element[4]->type == REDIS_REPLY_ARRAY &&
                           i < r->element[4]->elements; i++) {
            long long at = rconn_reply_integer(r->element[4]->element[i]);
            if (at >= 1 && at <= streams->n)
                out->paused |= UINT64_C(1) << (at - 1);
        }
        return QUEUE_OK;
    }
    size_t jobs = (r->elements - 1) / CLAIM_FIELDS;
    for (size_t j = 0; j < jobs && j < CLAIM_MAX; j++) {
        redisReply **e = r->element + 1 + j * CLAIM_FIELDS;
        claimed_fill(q, &out->jobs[j], (int)index - 1, e[0], e + 1, 0);
    }
    out->n = jobs;
    return QUEUE_OK;
}

/* A job from a stream entry as XREADGROUP returns it: 0, or -1 when the
 * entry is not a job (queue_entry_field_names). */
static int entry_to_job(const queue_t *q, const redisReply *e, int stream_index, claimed_job_t *cj)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[1]->type != REDIS_REPLY_ARRAY ||
        e->element[1]->elements != 2 * ENTRY_FIELDS)
        return -1;
    redisReply **f = e->element[1]->element, *values[ENTRY_FIELDS];
    for (int i = 0; i < ENTRY_FIELDS; i++) {
        if (f[2 * i]->type != REDIS_REPLY_STRING || strcmp(f[2 * i]->str, queue_entry_field_names[i]) != 0)
            return -1;
        values[i] = f[2 * i + 1];
    }
    claimed_fill(q, cj, stream_index, e->element[0], values, 1);
    return 0;
}

_Static_assert(9 + 2 * QUEUE_LIST_MAX <= MAX_ARGS, "XREADGROUP: every stream of a queue list");

queue_status_t queue_claim_blocking(queue_t *q, const queue_list_t *streams, const char *consumer,
                                    int count, int64_t block_ms, claim_batch_t *out,
                                    char *err, size_t errlen)
{
    claim_batch_clear(out);
    args_t a;
    char block[24], cnt[16];
    snprintf(block, sizeof block, "%" PRId64, block_ms < 1 ? 1 : block_ms);
    assert(count >= 1 && count <= CLAIM_MAX);
    assert(job_timeout_valid(q->default_timeout_ms));
    snprintf(cnt, sizeof cnt, "%d", count);
    const char *head[] = { "XREADGROUP", "GROUP", q->group, consumer, "COUNT", cnt, "BLOCK", block, "STREAMS" };
    a.n = 0;
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        args_str(&a, head[i]);
    args_streams(&a, streams);
    for (int i = 0; i < streams->n; i++)
        args_str(&a, ">");
    int saved = rconn_timeout(q->conn);
    rconn_set_timeout(q->conn, (int)block_ms + saved);
    redisReply *r = rconn_argv(q->conn, a.n, a.v, a.len, err, errlen);
    if (r == NULL)
        return QUEUE_ERR_IO;
    rconn_set_timeout(q->conn, saved);
    if (r->type == REDIS_REPLY_ERROR) {
        /* NOGROUP after a Redis restart: the next claim recreates the group. */
        snprintf(err, errlen, "XREADGROUP: %s", r->str);
        freeReplyObject(r);
        return QUEUE_OK;
    }
    out->reply = r;
    if (r->type != REDIS_REPLY_ARRAY)
        return QUEUE_OK; /* timed out */
    /* Redis replies in key order, which is the worker's priority order. */
    for (size_t s = 0; s < r->elements; s++) {
        redisReply *sr = r->element[s];
        if (sr->type != REDIS_REPLY_ARRAY || sr->elements != 2)
            continue;
        int index = -1;
        for (int i = 0; i < streams->n; i++)
            if (strcmp(streams->key[i], reply_str(sr->element[0])) == 0)
                index = i;
        for (size_t e = 0; index >= 0 && e < sr->element[1]->elements && out->n < CLAIM_MAX; e++) {
            redisReply *entry = sr->element[1]->element[e];
            if (entry_to_job(q, entry, index, &out->jobs[out->n]) == 0) {
                out->n++;
            } else if (entry->type == REDIS_REPLY_ARRAY && entry->elements > 0) {
                /* Not written by tickq (a foreign XADD): not a job, drop it. */
                const char *id = reply_str(entry->element[0]);
                freeReplyObject(rconn_cmd(q->conn, err, errlen, "XACK %s %s %s", streams->key[index], q->group, id));
                freeReplyObject(rconn_cmd(q->conn, err, errlen, "XDEL %s %s", streams->key[index], id));
            }
        }
    }
    return QUEUE_OK;
}

_Static_assert(HEADER_ARGS + 1 + 2 * CLAIM_MAX <= MAX_ARGS, "started: a whole batch in one call");

queue_status_t queue_send_started(queue_t *q, const claim_batch_t *b, const char *consumer)
{
    args_t a;
    char attempts[CLAIM_MAX][16];
    assert(b->n <= CLAIM_MAX);
    a.n = 0;
    args_header(&a, q);
    args_str(&a, consumer);
    for (size_t i = 0; i < b->n; i++) {
        snprintf(attempts[i], sizeof attempts[i], "%d", b->jobs[i].attempt);
        args_str(&a, b->jobs[i].id);
        args_str(&a, attempts[i]);
    }
    return rconn_send_fcall(q->conn, FN("started"), 0, a.n, a.v, a.len) == 0 ? QUEUE_OK : QUEUE_ERR_IO;
}

queue_status_t queue_send_progress(queue_t *q, const char *consumer, const char *id, int attempt, double fraction,
                                   const char *message)
{
    args_t a;
    char att[16], frac[32];
    snprintf(att, sizeof att, "%d", attempt);
    snprintf(frac, sizeof frac, "%.6g", fraction);
    a.n = 0;
    args_header(&a, q);
    args_str(&a, consumer);
    args_str(&a, id);
    args_str(&a, att);
    args_str(&a, frac);
    args_str(&a, message);
    return rconn_send_fcall(q->conn, FN("progress"), 0, a.n, a.v, a.len) == 0 ? QUEUE_OK : QUEUE_ERR_IO;
}

_Static_assert(2 + HEADER_ARGS + 1 + 7 * CLAIM_MAX <= MAX_ARGS, "finish: CLAIM_MAX outcomes a call");

queue_status_t queue_finish(queue_t *q, const char *stream_key, const char *worker_id,
                            job_outcome_t *o, size_t n, finish_tally_t *tally,
                            char (*states)[JOB_STATE_MAX], char *err, size_t errlen)
{
    args_t a;
    char nums[CLAIM_MAX][3][24];
    size_t done = 0;
    while (done < n) {
        size_t chunk = n - done < CLAIM_MAX ? n - done : CLAIM_MAX;
        a.n = 0;
        args_str(&a, stream_key);
        if (q->history[0])
            args_str(&a, q->history);
        args_header(&a, q);
        args_str(&a, worker_id);
        for (size_t i = 0; i < chunk; i++) {
            const job_outcome_t *x = &o[done + i];
            snprintf(nums[i][0], 24, "%d", x->attempt);
            snprintf(nums[i][1], 24, "%" PRId64, x->started_us);
            snprintf(nums[i][2], 24, "%" PRId64, x->finished_us);
            args_str(&a, x->entry);
            args_str(&a, x->id);
            args_str(&a, job_outcome_name(x->kind));
            args_add(&a, x->payload ? x->payload : "", x->payload ? x->payload_len : 0);
            args_str(&a, nums[i][0]);
            args_str(&a, nums[i][1]);
            args_str(&a, nums[i][2]);
        }
        redisReply *r;
        queue_status_t st = run(q, FN("finish"), q->history[0] ? 2 : 1, &a, &r, err, errlen);
        if (st != QUEUE_OK)
            return st;
        /* With a history stream, this library appends the number of rows;
         * a library from before the stream (an older tickq process loaded
         * it) does not, and wrote none: load ours again. */
        if (q->history[0] && r->type == REDIS_REPLY_ARRAY && r->elements < 4 + 2 * chunk + 1) {
            library.loaded = 0;
            if (tally != NULL)
                tally->unrecorded += rconn_reply_integer(r->element[0]);
        }
        if (tally != NULL && r->type == REDIS_REPLY_ARRAY && r->elements >= 4) {
            tally->recorded += rconn_reply_integer(r->element[0]);
            tally->skipped += rconn_reply_integer(r->element[1]);
            tally->retried += rconn_reply_integer(r->element[2]);
            tally->dead += rconn_reply_integer(r->element[3]);
        }
        for (size_t i = 0; states != NULL && i < chunk; i++) {
            const char *state = r->type == REDIS_REPLY_ARRAY && 4 + i < r->elements ? reply_str(r->element[4 + i]) : "";
            snprintf(states[done + i], JOB_STATE_MAX, "%s", state);
        }
        /* The runs follow the states (absent from a library from before
         * runs existed: those jobs are all first runs). */
        for (size_t i = 0; i < chunk; i++) {
            size_t at = 4 + chunk + i;
            long long run = r->type == REDIS_REPLY_ARRAY && at < r->elements ? rconn_reply_integer(r->element[at]) : 1;
            o[done + i].run = run > 0 ? (int)run : 1;
        }
        freeReplyObject(r);
        done += chunk;
    }
    return QUEUE_OK;
}

queue_status_t queue_finish_applied(queue_t *q, const char *worker, job_outcome_t *o, int *applied,
                                    char state[JOB_STATE_MAX], char *err, size_t errlen)
{
    char key[256], finished[24], attempt[16];
    *applied = 0;
    queue_job_key(q, o->id, key, sizeof key);
    redisReply *r = rconn_cmd(q->conn, err, errlen, "HMGET %s state attempts worker finished_us run", key);
    if (r == NULL)
        return QUEUE_ERR_IO;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 5) {
        snprintf(err, errlen, "HMGET %s: %s", key, r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        freeReplyObject(r);
        return QUEUE_ERR_REPLY;
    }
    snprintf(finished, sizeof finished, "%" PRId64, o->finished_us);
    snprintf(attempt, sizeof attempt, "%d", o->attempt);
    *applied = strcmp(reply_str(r->element[1]), attempt) == 0 && strcmp(reply_str(r->element[2]), worker) == 0 &&
               strcmp(reply_str(r->element[3]), finished) == 0;
    if (*applied) {
        snprintf(state, JOB_STATE_MAX, "%s", reply_str(r->element[0]));
        long long run = rconn_reply_integer(r->element[4]);
        o->run = run > 0 ? (int)run : 1;
    }
    freeReplyObject(r);
    return QUEUE_OK;
}

static void settled(redisReply **e, settled_job_t *out)
{
    snprintf(out->id, sizeof out->id, "%s", reply_str(e[0]));
    snprintf(out->type, sizeof out->type, "%s", reply_str(e[1]));
    snprintf(out->queue, sizeof out->queue, "%s", reply_str(e[2]));
    snprintf(out->state, sizeof out->state, "%s", reply_str(e[3]));
    out->attempts = (int)rconn_reply_integer(e[4]);
    out->run = 1;
}

queue_status_t queue_release(queue_t *q, const queue_list_t *streams, const char *consumer,
                             const char *current_entry, job_outcome_kind_t kind,
                             const char *error, long long *requeued, settled_job_t *current,
                             char *err, size_t errlen)
{
    return queue_release_started(q, streams, consumer, current_entry, kind, error, 0, requeued, current, err,
                                 errlen);
}

_Static_assert(QUEUE_LIST_MAX + HEADER_ARGS + 6 <= MAX_ARGS, "release: every stream of a queue list");

queue_status_t queue_release_started(queue_t *q, const queue_list_t *streams, const char *consumer,
                                     const char *current_entry, job_outcome_kind_t kind, const char *error,
                                     int64_t started_us, long long *requeued, settled_job_t *current,
                                     char *err, size_t errlen)
{
    args_t a;
    char started[24] = "";
    if (started_us > 0)
        snprintf(started, sizeof started, "%" PRId64, started_us);
    a.n = 0;
    args_streams(&a, streams);
    args_header(&a, q);
    args_str(&a, consumer);
    args_str(&a, current_entry ? current_entry : "");
    args_str(&a, job_outcome_name(kind));
    args_str(&a, error ? error : "");
    if (q->history[0]) {
        args_str(&a, started);
        args_str(&a, q->history);
    }
    redisReply *r;
    queue_status_t st = run(q, FN("release"), streams->n, &a, &r, err, errlen);
    if (st != QUEUE_OK)
        return st;
    /* requeued, state, id, type, queue, attempts, and the run when above 1;
     * with a history stream, the run always and the rows appended. */
    int ok = r->type == REDIS_REPLY_ARRAY && r->elements >= 6 && r->elements <= 8;
    if (ok && q->history[0] && r->elements != 8) {
        /* A library from before the stream wrote no rows: load ours again.
         * The current job's outcome would have had one (a requeued job
         * has none). */
        library.loaded = 0;
        const char *state = reply_str(r->element[1]);
        if (state[0] && strcmp(state, "queued") != 0)
            q->unrecorded++;
    }
    if (requeued)
        *requeued = ok ? rconn_reply_integer(r->element[0]) : 0;
    if (current != NULL) {
        memset(current, 0, sizeof *current);
        if (ok) {
            /* reply: requeued, state, id, type, queue, attempts */
            redisReply *e[5] = { r->element[2], r->element[3], r->element[4], r->element[1], r->element[5] };
            settled(e, current);
            if (r->elements == 7 && rconn_reply_integer(r->element[6]) > 0)
                current->run = (int)rconn_reply_integer(r->element[6]);
        }
    }
    freeReplyObject(r);
    return QUEUE_OK;
}

_Static_assert(QUEUE_LIST_MAX + HEADER_ARGS + 4 <= MAX_ARGS, "reclaim: every stream of a queue list");

queue_status_t queue_reclaim(queue_t *q, const queue_list_t *streams, const char *reclaimer,
                             int64_t min_idle_ms, settled_job_t *jobs, size_t max,
                             long long *reclaimed, char *err, size_t errlen)
{
    args_t a;
    char idle[24], msg[160];
    snprintf(idle, sizeof idle, "%" PRId64, min_idle_ms);
    snprintf(msg, sizeof msg, "Worker lost: its claim was not renewed for %.1f s (worker process or host died)",
             (double)min_idle_ms / 1000.0);
    a.n = 0;
    args_streams(&a, streams);
    args_header(&a, q);
    args_str(&a, reclaimer);
    args_str(&a, idle);
    args_str(&a, msg);
    if (q->history[0])
        args_str(&a, q->history);
    redisReply *r;
    queue_status_t st = run(q, FN("reclaim"), streams->n, &a, &r, err, errlen);
    if (st != QUEUE_OK)
        return st;
    size_t n = r->type == REDIS_REPLY_ARRAY && r->elements >= 2 ? (r->elements - 2) / 6 : 0;
    /* per job: id, type, queue, state, attempts, error; then one array of
     * their runs (absent from a library from before runs existed) */
    const redisReply *runs = n > 0 && r->elements > 2 + n * 6 ? r->element[2 + n * 6] : NULL;
    /* With a history stream the rows appended come last; a library from
     * before the stream wrote none: load ours again. */
    if (q->history[0] && r->type == REDIS_REPLY_ARRAY &&
        !(r->elements == 2 + n * 6 + 2 && r->element[r->elements - 1]->type == REDIS_REPLY_INTEGER)) {
        library.loaded = 0;
        q->unrecorded += (long long)n;
    }
    for (size_t i = 0; jobs != NULL && i < n && i < max; i++) {
        settled(r->element + 2 + i * 6, &jobs[i]);
        snprintf(jobs[i].error, sizeof jobs[i].error, "%s", reply_str(r->element[2 + i * 6 + 5]));
        if (runs != NULL && runs->type == REDIS_REPLY_ARRAY && i < runs->elements &&
            rconn_reply_integer(runs->element[i]) > 0)
            jobs[i].run = (int)rconn_reply_integer(runs->element[i]);
    }
    if (reclaimed)
        *reclaimed = (long long)n;
    freeReplyObject(r);
    return QUEUE_OK;
}

#define HISTORY_ACK_CHUNK 400
_Static_assert(1 + HEADER_ARGS + 1 + 2 * HISTORY_ACK_CHUNK <= MAX_ARGS, "history_ack: a chunk a call");

queue_status_t queue_history_ack(queue_t *q, const char *stream, const char *group, const char *const *entries,
                                 const int *counts, size_t n, long long *rows, char *err, size_t errlen)
{
    args_t a;
    char nums[HISTORY_ACK_CHUNK][16];
    if (rows != NULL)
        *rows = 0;
    for (size_t done = 0; done < n;) {
        size_t chunk = n - done < HISTORY_ACK_CHUNK ? n - done : HISTORY_ACK_CHUNK;
        a.n = 0;
        args_str(&a, stream);
        args_header(&a, q);
        args_str(&a, group);
        for (size_t i = 0; i < chunk; i++) {
            snprintf(nums[i], sizeof nums[i], "%d", counts[done + i]);
            args_str(&a, entries[done + i]);
            args_str(&a, nums[i]);
        }
        redisReply *r;
        queue_status_t st = run(q, FN("history_ack"), 1, &a, &r, err, errlen);
        if (st != QUEUE_OK)
            return st;
        if (rows != NULL)
            *rows += rconn_reply_integer(r);
        freeReplyObject(r);
        done += chunk;
    }
    return QUEUE_OK;
}

_Static_assert(QUEUE_LIST_MAX + 1 + HEADER_ARGS + TOUCH_CONSUMERS_MAX <= MAX_ARGS, "touch: every consumer in one call");

queue_status_t queue_touch(queue_t *q, const queue_list_t *streams, const char *const *consumers,
                           size_t n, touch_result_t *out, char *err, size_t errlen)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (n == 0)
        return QUEUE_OK;
    assert(n <= TOUCH_CONSUMERS_MAX && "touch renews at most TOUCH_CONSUMERS_MAX consumers a call");
    args_t a;
    a.n = 0;
    args_streams(&a, streams);
    if (q->history[0])
        args_str(&a, q->history); /* the last key; touch.lua tells it by its name */
    args_header(&a, q);
    for (size_t i = 0; i < n; i++)
        args_str(&a, consumers[i]);
    redisReply *r;
    queue_status_t st = run(q, FN("touch"), streams->n + (q->history[0] ? 1 : 0), &a, &r, err, errlen);
    if (st != QUEUE_OK)
        return st;
    /* {renewed, released, job id..., {cancelled job id...}[, rows]}; a
     * library from before generations answers with the renewed count
     * alone, one from before the history stream without the cancels (it
     * counts them as released) and the rows. */
    touch_result_t t;
    memset(&t, 0, sizeof t);
    int rows = 0;
    if (r->type == REDIS_REPLY_INTEGER) {
        t.renewed = r->integer;
    } else if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2) {
        t.renewed = rconn_reply_integer(r->element[0]);
        t.released = rconn_reply_integer(r->element[1]);
        for (size_t i = 2; i < r->elements; i++) {
            const redisReply *e = r->element[i];
            if (e->type == REDIS_REPLY_ARRAY) {
                t.cancelled = (long long)e->elements;
                for (size_t j = 0; j < e->elements && t.ncancelled < TOUCH_IDS_MAX; j++)
                    snprintf(t.cancelled_ids[t.ncancelled++], sizeof t.cancelled_ids[0], "%s",
                             reply_str(e->element[j]));
            } else if (e->type == REDIS_REPLY_INTEGER) {
                rows = 1;
            } else if (t.nids < TOUCH_IDS_MAX) {
                snprintf(t.ids[t.nids++], sizeof t.ids[0], "%s", reply_str(e));
            }
        }
    }
    if (q->history[0] && !rows)
        library.loaded = 0; /* from before the stream: its cancels (counted as released) wrote no rows */
    if (out != NULL)
        *out = t;
    freeReplyObject(r);
    return QUEUE_OK;
}

_Static_assert(QUEUE_LIST_MAX + HEADER_ARGS + QUEUE_FCALL_ARGS_MAX <= MAX_ARGS, "queue_fcall: keys and arguments");

queue_status_t queue_fcall(queue_t *q, const char *name, const queue_list_t *streams, const char *const *argv,
                           const size_t *lens, int argc, redisReply **out, char *err, size_t errlen)
{
    assert(argc >= 0 && argc <= QUEUE_FCALL_ARGS_MAX);
    char fname[64];
    snprintf(fname, sizeof fname, "tickq_p%s_%s", TICKQ_PROTOCOL, name);
    args_t a;
    a.n = 0;
    if (streams != NULL)
        args_streams(&a, streams);
    args_header(&a, q);
    for (int i = 0; i < argc; i++)
        args_add(&a, argv[i], lens ? lens[i] : strlen(argv[i]));
    return run(q, fname, streams ? streams->n : 0, &a, out, err, errlen);
}

queue_status_t queue_cancel(queue_t *q, const char *id, cancel_status_t *result,
                            char state[JOB_STATE_MAX], char *err, size_t errlen)
{
    args_t a;
    a.n = 0;
    args_header(&a, q);
    args_str(&a, id);
    redisReply *r;
    queue_status_t st = run(q, FN("cancel"), 0, &a, &r, err, errlen);
    if (st != QUEUE_OK)
        return st;
    const char *what = r->type == REDIS_REPLY_ARRAY && r->elements > 0 ? reply_str(r->element[0]) : "";
    const char *detail = r->type == REDIS_REPLY_ARRAY && r->elements > 1 ? reply_str(r->element[1]) : "";
    snprintf(state, JOB_STATE_MAX, "%s", detail);
    if (strcmp(what, "cancelled") == 0)
        *result = CANCEL_DONE;
    else if (strcmp(what, "running") == 0)
        *result = CANCEL_RUNNING;
    else if (strcmp(what, "final") == 0)
        *result = CANCEL_FINAL;
    else
        *result = CANCEL_MISSING;
    freeReplyObject(r);
    return QUEUE_OK;
}

int queue_cancel_requested_send(queue_t *q, const char *id)
{
    char key[QUEUE_JOB_KEY_MAX];
    queue_job_key(q, id, key, sizeof key);
    const char *argv[3] = { "HGET", key, "cancel_requested" };
    return rconn_append_argv(q->conn, 3, argv, NULL);
}

queue_status_t queue_job_state(queue_t *q, const char *id, char state[JOB_STATE_MAX], char *err, size_t errlen)
{
    char key[QUEUE_JOB_KEY_MAX];
    state[0] = '\0';
    queue_job_key(q, id, key, sizeof key);
    const char *argv[3] = { "HGET", key, "state" };
    redisReply *r = rconn_argv(q->conn, 3, argv, NULL, err, errlen);
    if (r == NULL)
        return QUEUE_ERR_IO;
    queue_status_t st = QUEUE_OK;
    if (r->type == REDIS_REPLY_STRING) {
        snprintf(state, JOB_STATE_MAX, "%s", r->str);
    } else if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "HGET %s state: %s", key, r->str);
        st = QUEUE_ERR_REPLY;
    }
    freeReplyObject(r);
    return st;
}

int queue_cancel_requested_read(queue_t *q, char *err, size_t errlen)
{
    redisReply *r = rconn_read(q->conn, err, errlen);
    if (r == NULL)
        return -1;
    int asked = r->type == REDIS_REPLY_STRING && strcmp(r->str, "1") == 0;
    freeReplyObject(r);
    return asked;
}

#define DLQ_RETRY_CHUNK 500
_Static_assert(HEADER_ARGS + DLQ_RETRY_CHUNK <= MAX_ARGS, "dlq_retry: a chunk a call");

queue_status_t queue_dlq_retry(queue_t *q, const char *const *entries, size_t n,
                               long long *requeued, char *err, size_t errlen)
{
    args_t a;
    *requeued = 0;
    size_t done = 0;
    while (done < n) {
        size_t chunk = n - done < DLQ_RETRY_CHUNK ? n - done : DLQ_RETRY_CHUNK;
        a.n = 0;
        args_header(&a, q);
        for (size_t i = 0; i < chunk; i++)
            args_str(&a, entries[done + i]);
        redisReply *r;
        queue_status_t st = run(q, FN("dlq_retry"), 0, &a, &r, err, errlen);
        if (st != QUEUE_OK)
            return st;
        if (r->type == REDIS_REPLY_ARRAY)
            *requeued += (long long)r->elements;
        freeReplyObject(r);
        done += chunk;
    }
    return QUEUE_OK;
}
