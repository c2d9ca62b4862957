/* backlog.h — what waits on a worker's queues, for the autoscaler: ready
 * jobs, retries and delayed jobs whose time has come, and the age of the
 * oldest ready job, in one pipelined round trip to Redis.
 *
 * "Ready" is counted as tickq stats counts it (stats.c): the consumer
 * group's lag, or length - pending when Redis cannot tell the lag. The age
 * of the oldest ready job needs the group's last delivered entry, which the
 * same round trip reads; so the probe looks for the first entry after the
 * one delivered at its previous sample (the hint). When nothing was
 * delivered from that stream since, that entry is the oldest ready one and
 * the age is exact; otherwise it is the age of a job that was still waiting
 * at the previous sample and has been delivered since: an upper bound,
 * close to the wait jobs have seen lately. At the first sample there is no
 * hint yet and the age reads 0. O(streams) commands, none scans. */
#ifndef TICKQ_BACKLOG_H
#define TICKQ_BACKLOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/queue.h"

#define BACKLOG_ID_MAX 48

/* What a probe remembers between samples: per stream of the list, the
 * group's last delivered entry id ("" unknown; "-" the stream has no group,
 * so nothing was delivered). */
typedef struct {
    char hint[QUEUE_LIST_MAX][BACKLOG_ID_MAX];
} backlog_probe_t;

typedef struct {
    long long ready;             /* entries not yet delivered */
    long long due;               /* retries and delayed jobs due by now, not yet moved into their stream */
    double oldest_ready_age_s;   /* 0: none ready, or not known yet */
} backlog_t;

/* Starts a probe with no hints. */
void backlog_probe_init(backlog_probe_t *p);

/* Samples the streams of `queues` at wall-clock `now_ms` in one pipelined
 * round trip. Returns 0, or -1 with err (an I/O error: the connection needs
 * a reconnect; the probe is unchanged). */
int backlog_sample(backlog_probe_t *p, queue_t *q, const queue_list_t *queues, int64_t now_ms, backlog_t *out,
                   char *err, size_t errlen);

#endif
