/* job_view.h — a job as `tickq job` and the HTTP API show it: its record
 * (the job hash, numbers as numbers, times also as ISO 8601), its retry
 * history, "running" with the worker, its attempt and when it started when
 * its entry is pending, and its fields in one fixed order (docs/cli.md,
 * `tickq job`). Its reals (timeout_seconds, timeout_ms / 1000; progress,
 * the record's text; any in args or the retries) are the doubles nearest
 * what was written: dump the view with json_exact_dumps, which writes each
 * in its fewest exact digits (0.1), not json_dumps (0.10000000000000001).
 *
 * "running" is not stored (docs/protocol.md, "States"): the record of a
 * running job says `queued`, with the attempts that have ended and the
 * times of the last of them, so claiming costs no write. job_view_running
 * tells a running job from a queued one for `tickq job` and `tickq flow`
 * (`tickq jobs` reads the pending entries itself: job_list.c). */
#ifndef TICKQ_JOB_VIEW_H
#define TICKQ_JOB_VIEW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/queue.h"
#include "core/queue_names.h"

/* The job `id` as a new JSON object: 1 with *out, 0 when there is no such
 * job (unknown id, or its record expired), -1 with err when Redis fails. */
int job_view_read(queue_t *q, const char *id, json_t **out, char *err, size_t errlen);

/* One job to look at (in) and whether it runs (out). */
typedef struct {
    const char *id, *stream, *entry; /* in: from its record; a job whose record
                                      * does not say queued, or has no entry,
                                      * is passed with entry NULL (not running) */
    long long attempts;              /* in: the record's attempts (those ended) */
    int64_t ended_us;                /* in: the record's finished_us, the last ended
                                      * attempt's end (0: none): a start the heartbeat
                                      * gives at or before it is that attempt's */
    int running;                     /* out: 1 when its entry is pending in the group */
    char worker[QUEUE_CONSUMER_MAX]; /* out, running: the worker id holding it */
    long long attempt;               /* out, running: the attempt running (attempts + 1) */
    int64_t started_us;              /* out, running: when that attempt started (the
                                      * worker's heartbeat, when after ended_us, else
                                      * the claim's running result, which names the
                                      * attempt); 0 when neither tells */
    int64_t running_for_ms;          /* out, running: since started_us, or when that is
                                      * unknown since the claim's last renewal (a
                                      * lower bound) */
} job_running_t;

/* Fills the outs of jobs[0..n) in two pipelined round trips (the pending
 * entries, then the running ones' worker heartbeats and results). 0, or -1
 * with err when Redis fails. */
int job_view_running(queue_t *q, job_running_t *jobs, size_t n, char *err, size_t errlen);

#endif
