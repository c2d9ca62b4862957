/* autoscaler.h — the autoscaler at work in a supervisor (--autoscale): its
 * interval clock, the child-time spent on jobs it sums between samples,
 * its backlog probe (backlog.h) and its policy (autoscale.h). Each interval
 * it samples and decides; the supervisor, which owns the children, applies
 * the decision and says whether it could; the autoscaler then leaves one
 * log line per change ("autoscale") and its numbers on the metrics page
 * (worker_metrics.h). */
#ifndef TICKQ_AUTOSCALER_H
#define TICKQ_AUTOSCALER_H

#include <stddef.h>
#include <stdint.h>

#include "core/autoscale.h"
#include "core/backlog.h"
#include "core/queue.h"

typedef struct {
    autoscale_t policy;
    backlog_probe_t probe;
    int64_t next_ms, last_ms;    /* monotonic: the next sample, the previous one */
    double busy_child_ms;        /* child-milliseconds of jobs since the previous sample */
    int failing;                 /* the last sample could not read Redis (said once a spell) */
    autoscale_sample_t sample;   /* the last one, for the log line */
} autoscaler_t;

/* Starts at the minimum, first sample one interval from now_ms, and puts
 * its numbers on the metrics page. */
void autoscaler_init(autoscaler_t *a, const autoscale_settings_t *s, int64_t now_ms);

/* Every supervisor turn: `busy` children ran a job over the `elapsed_ms`
 * since the previous turn. */
void autoscaler_turned(autoscaler_t *a, int busy, int64_t elapsed_ms);

/* 1 when an interval has ended at now_ms. */
int autoscaler_due(const autoscaler_t *a, int64_t now_ms);

/* Samples `queues` (one round trip; q's connection must be up) and decides
 * into *d: `finished_total` job attempts ended since start, `busy`
 * children run a job now, `idle` wanted children wait for one. 0, or -1
 * when Redis could not be read (logged once a spell, with err: it holds). */
int autoscaler_decide(autoscaler_t *a, queue_t *q, const queue_list_t *queues, const char *worker,
                      long long finished_total, int busy, int idle, int64_t now_ms, autoscale_decision_t *d,
                      char *err, size_t errlen);

/* The supervisor made the change *d asked for (`applied`), or could not (a
 * down whose idle child took a job meanwhile: *d becomes a hold): records
 * it, logs it (a change at info, a change held by a rule at debug) and
 * publishes the numbers. */
void autoscaler_done(autoscaler_t *a, autoscale_decision_t *d, int applied, const char *worker, int64_t now_ms);

#endif
