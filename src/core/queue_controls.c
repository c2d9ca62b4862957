/* queue_controls.c — pause, limits, purge, retry, delete and the worker's
 * admission of blocking claims (queue_controls.h), over the Redis functions
 * of src/lua (queue_fcall). */
#include "core/queue_controls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str_of(const redisReply *r)
{
    return r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) ? r->str : "";
}

/* Calls function `fname` (queue_fcall) and checks that its reply is the
 * array of at least n elements it answers with: QUEUE_OK with *r to free,
 * else the call's status, or QUEUE_ERR_REPLY naming the function for
 * another reply (freed). */
static queue_status_t call(queue_t *q, const char *fname, const queue_list_t *streams, const char *const *argv,
                           int argc, size_t n, redisReply **r, char *err, size_t errlen)
{
    queue_status_t st = queue_fcall(q, fname, streams, argv, NULL, argc, r, err, errlen);
    if (st != QUEUE_OK || ((*r)->type == REDIS_REPLY_ARRAY && (*r)->elements >= n))
        return st;
    snprintf(err, errlen, "unexpected reply from tickq's %s function", fname);
    freeReplyObject(*r);
    return QUEUE_ERR_REPLY;
}

queue_status_t queue_admit(queue_t *q, const queue_list_t *streams, const char *consumer, claim_batch_t *b,
                           char *err, size_t errlen)
{
    const char *argv[QUEUE_FCALL_ARGS_MAX];
    char nums[CLAIM_MAX][2][16];
    int argc = 0;
    argv[argc++] = consumer;
    for (size_t i = 0; i < b->n; i++) {
        snprintf(nums[i][0], sizeof nums[i][0], "%d", b->jobs[i].stream_index + 1);
        snprintf(nums[i][1], sizeof nums[i][1], "%d", b->jobs[i].attempt);
        argv[argc++] = nums[i][0];
        argv[argc++] = b->jobs[i].entry;
        argv[argc++] = b->jobs[i].id;
        argv[argc++] = nums[i][1];
    }
    redisReply *r;
    queue_status_t st = call(q, "admit", streams, argv, argc, b->n, &r, err, errlen);
    if (st != QUEUE_OK)
        return st;
    size_t kept = 0;
    for (size_t i = 0; i < b->n; i++)
        if (rconn_reply_integer(r->element[i]) == 1)
            b->jobs[kept++] = b->jobs[i];
    b->n = kept;
    freeReplyObject(r);
    return QUEUE_OK;
}

queue_status_t queue_pause(queue_t *q, const char *queue, int pause, int *changed, char *err, size_t errlen)
{
    char key[256];
    queue_paused_key(q, key, sizeof key);
    const char *argv[3] = { pause ? "SADD" : "SREM", key, queue };
    redisReply *r = rconn_argv(q->conn, 3, argv, NULL, err, errlen);
    if (r == NULL)
        return QUEUE_ERR_IO;
    queue_status_t st = QUEUE_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        char what[300];
        snprintf(what, sizeof what, "%s %s", argv[0], key);
        st = queue_error_status(r->str, NULL);
        if (st == QUEUE_ERR_OOM)
            queue_out_of_memory(q, what, r->str, err, errlen);
        else
            snprintf(err, errlen, "%s: %s", what, r->str);
    } else if (changed != NULL) {
        *changed = rconn_reply_integer(r) == 1;
    }
    freeReplyObject(r);
    return st;
}

int queue_is_paused(queue_t *q, const char *queue, char *err, size_t errlen)
{
    char key[256];
    queue_paused_key(q, key, sizeof key);
    const char *argv[3] = { "SISMEMBER", key, queue };
    redisReply *r = rconn_argv(q->conn, 3, argv, NULL, err, errlen);
    if (r == NULL)
        return -1;
    int paused = r->type == REDIS_REPLY_INTEGER ? r->integer == 1 : -1;
    if (paused < 0)
        snprintf(err, errlen, "SISMEMBER %s: %s", key, r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    freeReplyObject(r);
    return paused;
}

queue_status_t queue_retry(queue_t *q, const char *id, retry_status_t *result, int *run, char state[JOB_STATE_MAX],
                           char *err, size_t errlen)
{
    redisReply *r;
    queue_status_t st = call(q, "retry", NULL, &id, 1, 1, &r, err, errlen);
    if (st != QUEUE_OK)
        return st;
    /* {what happened[, a number or a state]} */
    const char *what = str_of(r->element[0]);
    const redisReply *detail = r->elements > 1 ? r->element[1] : NULL;
    state[0] = '\0';
    *run = 0;
    if (strcmp(what, "requeued") == 0 && detail != NULL) {
        *result = RETRY_REQUEUED;
        *run = (int)rconn_reply_integer(detail);
    } else if (strcmp(what, "refused") == 0 && detail != NULL) {
        *result = RETRY_REFUSED;
        snprintf(state, JOB_STATE_MAX, "%s", str_of(detail));
    } else {
        *result = RETRY_MISSING;
    }
    freeReplyObject(r);
    return QUEUE_OK;
}

queue_status_t queue_delete(queue_t *q, const char *id, delete_status_t *result, char state[JOB_STATE_MAX],
                            long long *needed_by, char *err, size_t errlen)
{
    redisReply *r;
    queue_status_t st = call(q, "delete", NULL, &id, 1, 1, &r, err, errlen);
    if (st != QUEUE_OK)
        return st;
    /* {what happened[, a number or a state]} */
    const char *what = str_of(r->element[0]);
    const redisReply *detail = r->elements > 1 ? r->element[1] : NULL;
    state[0] = '\0';
    *needed_by = 0;
    if (strcmp(what, "deleted") == 0 && detail != NULL) {
        *result = DELETE_DONE;
        snprintf(state, JOB_STATE_MAX, "%s", str_of(detail));
    } else if (strcmp(what, "refused") == 0 && detail != NULL) {
        *result = DELETE_REFUSED;
        snprintf(state, JOB_STATE_MAX, "%s", str_of(detail));
    } else if (strcmp(what, "needed") == 0 && detail != NULL) {
        *result = DELETE_NEEDED;
        *needed_by = rconn_reply_integer(detail);
    } else if (strcmp(what, "missing") == 0) {
        *result = DELETE_MISSING;
    } else {
        snprintf(err, errlen, "unexpected reply from tickq's delete function: '%s'", what);
        st = QUEUE_ERR_REPLY;
    }
    freeReplyObject(r);
    return st;
}

queue_status_t queue_purge_count(queue_t *q, const char *queue, purge_count_t *out, char *err, size_t errlen)
{
    const char *argv[2] = { queue, "count" };
    redisReply *r;
    queue_status_t st = call(q, "purge", NULL, argv, 2, 6, &r, err, errlen);
    if (st != QUEUE_OK)
        return st;
    out->ready = rconn_reply_integer(r->element[0]);
    out->delayed = rconn_reply_integer(r->element[1]);
    out->retrying = rconn_reply_integer(r->element[2]);
    out->held = rconn_reply_integer(r->element[3]);
    out->running = rconn_reply_integer(r->element[4]);
    out->deferred = rconn_reply_integer(r->element[5]);
    freeReplyObject(r);
    return QUEUE_OK;
}

queue_status_t queue_purge(queue_t *q, const char *queue, long long *cancelled, char *err, size_t errlen)
{
    char max[16];
    snprintf(max, sizeof max, "%d", QUEUE_PURGE_BATCH);
    const char *argv[3] = { queue, "purge", max };
    *cancelled = 0;
    for (;;) {
        redisReply *r;
        queue_status_t st = call(q, "purge", NULL, argv, 3, 2, &r, err, errlen);
        if (st != QUEUE_OK)
            return st;
        long long n = rconn_reply_integer(r->element[0]), more = rconn_reply_integer(r->element[1]);
        freeReplyObject(r);
        *cancelled += n;
        if (!more)
            return QUEUE_OK;
    }
}

queue_status_t queue_limit_set(queue_t *q, const char *type, long long slots, long long *previous,
                               long long *running, char *err, size_t errlen)
{
    char n[24];
    snprintf(n, sizeof n, "%lld", slots);
    const char *argv[3] = { "set", type, n };
    redisReply *r;
    queue_status_t st = call(q, "limit", NULL, argv, 3, 3, &r, err, errlen);
    if (st != QUEUE_OK)
        return st;
    *previous = rconn_reply_integer(r->element[1]);
    *running = rconn_reply_integer(r->element[2]);
    freeReplyObject(r);
    return QUEUE_OK;
}

queue_status_t queue_limit_clear(queue_t *q, const char *type, long long *previous, long long *held, char *err,
                                 size_t errlen)
{
    const char *argv[2] = { "clear", type };
    redisReply *r;
    queue_status_t st = call(q, "limit", NULL, argv, 2, 3, &r, err, errlen);
    if (st != QUEUE_OK)
        return st;
    *previous = rconn_reply_integer(r->element[1]);
    *held = rconn_reply_integer(r->element[2]);
    freeReplyObject(r);
    return QUEUE_OK;
}

static int cmp_type(const void *a, const void *b)
{
    return strcmp(((const type_limit_t *)a)->type, ((const type_limit_t *)b)->type);
}

/* Plain reads, not a function: Redis out of memory refuses every function
 * that may write, and a listing must work then. */
queue_status_t queue_limit_list(queue_t *q, type_limit_t *out, size_t max, size_t *n, char *err, size_t errlen)
{
    char key[256];
    queue_limits_key(q, key, sizeof key);
    *n = 0;
    redisReply *r = rconn_cmd(q->conn, err, errlen, "HGETALL %s", key);
    if (r == NULL)
        return QUEUE_ERR_IO;
    if (r->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "HGETALL %s: %s", key, r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        freeReplyObject(r);
        return QUEUE_ERR_REPLY;
    }
    for (size_t i = 0; i + 1 < r->elements && *n < max; i += 2) {
        type_limit_t *l = &out[(*n)++];
        snprintf(l->type, sizeof l->type, "%s", str_of(r->element[i]));
        l->slots = strtoll(str_of(r->element[i + 1]), NULL, 10);
    }
    freeReplyObject(r);
    for (size_t i = 0; i < *n; i++) {
        char running[256], held[256];
        queue_running_key(q, out[i].type, running, sizeof running);
        queue_held_key(q, out[i].type, held, sizeof held);
        const char *a1[2] = { "ZCARD", running }, *a2[2] = { "ZCARD", held };
        rconn_append_argv(q->conn, 2, a1, NULL);
        rconn_append_argv(q->conn, 2, a2, NULL);
    }
    for (size_t i = 0; i < 2 * *n; i++) {
        redisReply *c = rconn_read(q->conn, err, errlen);
        if (c == NULL)
            return QUEUE_ERR_IO;
        if (i % 2 == 0)
            out[i / 2].running = rconn_reply_integer(c);
        else
            out[i / 2].held = rconn_reply_integer(c);
        freeReplyObject(c);
    }
    qsort(out, *n, sizeof *out, cmp_type);
    return QUEUE_OK;
}
