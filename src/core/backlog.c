/* backlog.c — a worker's backlog in one round trip (backlog.h). */
#include "core/backlog.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stream_info.h"

/* Commands per stream: XINFO GROUPS, XLEN, two ZCOUNTs, and an XRANGE
 * when the stream has a hint. */
#define PER_STREAM 5

void backlog_probe_init(backlog_probe_t *p)
{
    memset(p, 0, sizeof *p);
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
        const redisReply *g = stream_group_of(r[k], q->group);
        const redisReply *last = stream_reply_field(g, "last-delivered-id");
        long long length = rconn_reply_integer(r[k + 1]);
        long long ready = stream_ready(g, length);
        b.ready += ready;
        b.due += rconn_reply_integer(r[k + 2]) + rconn_reply_integer(r[k + 3]);
        if (last != NULL && last->type == REDIS_REPLY_STRING)
            snprintf(hints[i], sizeof hints[i], "%s", last->str);
        else
            snprintf(hints[i], sizeof hints[i], "%s", g == NULL ? "-" : "");
        /* The first entry after the previous sample's last delivered one:
         * the oldest ready one when it is still undelivered, else older. */
        const char *first = sent[i] == 5 && ready > 0 ? stream_first_id(r[k + 4]) : NULL;
        if (first == NULL)
            continue;
        int64_t ms = stream_id_ms(first);
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
