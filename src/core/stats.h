/* stats.h — a snapshot of the queues: depths per physical queue, counters
 * per logical queue and in total, dead letters and live workers. */
#ifndef TICKQ_STATS_H
#define TICKQ_STATS_H

#include <jansson.h>

#include "core/queue.h"

/* The counter fields every stats hash may hold, in display order. */
extern const char *const stats_counter_names[];
extern const int stats_counter_count;

/* Collects a snapshot as a JSON object:
 *   {"queues": [{"name", "queue", "priority", "ready", "running", "delayed",
 *                "retrying", "deferred"}...],
 *    "counters": {"<queue>": {...}, "total": {sums}},   (plus "active")
 *    "dead_letter": N, "rejected": N (entries kept in <prefix>:rejected),
 *    "workers": [heartbeat objects...]}
 * Returns a new reference, or NULL with err. Workers whose heartbeat
 * expired are dropped from the registry on the way. */
json_t *stats_collect(queue_t *q, char *err, size_t errlen);
/* Besides, each queue has "paused" (its logical queue is paused: tickq
 * pause), "served" (live workers whose heartbeat lists it) and "unserved"
 * (ready jobs and no live worker serving it); the root has "paused" (the
 * paused logical queues) and "limits" ([{type, limit, running, held}]). */

/* *served gets how many live workers (a heartbeat within its TTL) serve
 * physical queue `physical`. 0, or -1 with err. */
int stats_queue_served(queue_t *q, const char *physical, int *served, char *err, size_t errlen);

#endif
