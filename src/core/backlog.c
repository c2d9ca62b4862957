/* backlog.c — a worker's backlog in one round trip (backlog.h). */
#include "core/backlog.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Commands per stream: XINFO GROUPS, XLEN, two ZCOUNTs, and an XRANGE
 * when the stream has a hint. */
#define PER_STREAM 5

void backlog_probe_init(backlog_probe_t *p)
{
    memset(p, 0, sizeof *p);
}

static const redisReply *field_of(const redisReply *pairs, const char *name)
{
    for (size_t j = 0; pairs != NULL && pairs->type == REDIS_REPLY_ARRAY && j + 1 < pairs->elements; j += 2)
        if (pairs->element[j]->type == REDIS_REPLY_STRING && strcmp(pairs->element[j]->str, name) == 0)
            return pairs->element[j + 1];
    return NULL;
}

/* Our group's entry of an XINFO GROUPS reply (an error reply: the stream
 * does not exist yet), or NULL. */
static const redisReply *group_of(const redisReply *groups, const char *group)
{
    for (size_t i = 0; groups->type == REDIS_REPLY_ARRAY && i < groups->elements; i++) {
        const redisReply *name = field_of(groups->element[i], "name");
        if (name != NULL && name->type == REDIS_REPLY_STRING && strcmp(name->str, group) == 0)
            return groups->element[i];
    }
    return NULL;
}

/* The milliseconds of a stream entry id ("1700000000000-0"). */
static int64_t id_ms(const char *id)
{
    return (int64_t)strtoull(id, NULL, 10);
}

/* The id of the first entry of an XRANGE reply, or NULL. */
static const char *first_id(const redisReply *r)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0)
        return NULL;
    const redisReply *e = r->element[0];
    if (e->type != REDIS_REPLY_ARRAY || e->elements == 0 || e->element[0]->type != REDIS_REPLY_STRING)
        return NULL;
    return e->element[0]->str;
}

static void append_stream(queue_t *q, const backlog_probe_t *p, const queue_list_t *queues, int i,
                          const char *now, int *sent)
{
    char delayed[256], retry[256], from[BACKLOG_ID_MAX + 1];
    const char *stream = queues->key[i];
    queue_delayed_key(q, queues->name[i], delayed, sizeof delayed);
    queue_retry_key(q, queues->name[i], retry, sizeof retry);
    const char *groups[3] = { "XINFO", "GROUPS", stream }, *len[2] = { "XLEN", stream };
    const char *due_retry[4] = { "ZCOUNT", retry, "-inf", now }, *due_delayed[4] = { "ZCOUNT", delayed, "-inf", now };
    rconn_append_argv(q->conn, 3, groups, NULL);
    rconn_append_argv(q->conn, 2, len, NULL);
    rconn_append_argv(q->conn, 4, due_retry, NULL);
    rconn_append_argv(q->conn, 4, due_delayed, NULL);
    *sent = 4;
    if (p->hint[i][0] == '\0')
        return;
    /* "-": no group, nothing delivered: the stream's first entry is ready. */
    snprintf(from, sizeof from, "%s%s", strcmp(p->hint[i], "-") == 0 ? "" : "(", p->hint[i]);
    const char *range[6] = { "XRANGE", stream, from, "+", "COUNT", "1" };
    rconn_append_argv(q->conn, 6, range, NULL);
    *sent = 5;
}

int backlog_sample(backlog_probe_t *p, queue_t *q, const queue_list_t *queues, int64_t now_ms, backlog_t *out,
                   char *err, size_t errlen)
{
    int n = queues->n, sent[QUEUE_LIST_MAX], total = 0, rc = -1;
    char now[32];
    snprintf(now, sizeof now, "%" PRId64, now_ms);
    for (int i = 0; i < n; i++) {
        append_stream(q, p, queues, i, now, &sent[i]);
        total += sent[i];
    }
    redisReply **r = calloc((size_t)total + 1, sizeof *r);
    int got = 0;
    for (; r != NULL && got < total; got++)
        if ((r[got] = rconn_read(q->conn, err, errlen)) == NULL)
            goto out;
    if (r == NULL) {
        /* Read the replies all the same, or the connection is out of step. */
        for (int k = 0; k < total; k++)
            freeReplyObject(rconn_read(q->conn, err, errlen));
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    backlog_t b = { 0, 0, 0 };
    char hints[QUEUE_LIST_MAX][BACKLOG_ID_MAX];
    for (int i = 0, k = 0; i < n; k += sent[i], i++) {
        const redisReply *g = group_of(r[k], q->group);
        const redisReply *pending = field_of(g, "pending"), *lag = field_of(g, "lag");
        const redisReply *last = field_of(g, "last-delivered-id");
        long long length = rconn_reply_integer(r[k + 1]);
        long long ready = lag != NULL && lag->type == REDIS_REPLY_INTEGER ? lag->integer
                                                                           : length - rconn_reply_integer(pending);
        b.ready += ready > 0 ? ready : 0;
        b.due += rconn_reply_integer(r[k + 2]) + rconn_reply_integer(r[k + 3]);
        if (last != NULL && last->type == REDIS_REPLY_STRING)
            snprintf(hints[i], sizeof hints[i], "%s", last->str);
        else
            snprintf(hints[i], sizeof hints[i], "%s", g == NULL ? "-" : "");
        /* The first entry after the previous sample's last delivered one:
         * the oldest ready one when it is still undelivered, else older. */
        const char *first = sent[i] == 5 && ready > 0 ? first_id(r[k + 4]) : NULL;
        if (first == NULL)
            continue;
        int64_t ms = id_ms(first);
        double age = ms < now_ms ? (double)(now_ms - ms) / 1000.0 : 0;
        if (age > b.oldest_ready_age_s)
            b.oldest_ready_age_s = age;
    }
    memcpy(p->hint, hints, sizeof hints[0] * (size_t)n);
    *out = b;
    rc = 0;
out:
    for (int k = 0; k < got; k++)
        freeReplyObject(r[k]);
    free(r);
    return rc;
}
