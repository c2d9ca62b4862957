/* http_sampler.h — the dashboard's last hour: every SAMPLE_MS one sample of
 * the cluster (the jobs submitted, completed and failed so far, the ready
 * jobs, and the queue latency: the age of the oldest ready job), kept in
 * Redis under <prefix>:dash:samples (a sorted set scored by the slot's
 * start in epoch ms, trimmed to the last SAMPLE_KEEP_MS, the key expiring
 * SAMPLE_TTL_MS after the last write) so that every API host shows the
 * same. Each HTTP process samples on a thread of its own, over its own
 * connection (the stats it reads are collected without shared state); a
 * lock per slot start (SET NX) makes one sample per slot however many
 * hosts run, and hosts with other slot lengths order and trim by the same
 * time. A slot no host sampled (none running, Redis down) is a gap, not a
 * zero. */
#ifndef TICKQ_HTTP_SAMPLER_H
#define TICKQ_HTTP_SAMPLER_H

#include <jansson.h>
#include <stdint.h>

#include "core/config.h"
#include "core/queue.h"
#include "core/rconn.h"
#include "core/rconn_lazy.h"

#define SAMPLE_MS_DEFAULT 10000
#define SAMPLE_KEEP_MS 3600000      /* an hour */
#define SAMPLE_TTL_MS (SAMPLE_KEEP_MS + 600000) /* the hour and 10 minutes: no host wrote for that long */

typedef struct {
    const config_t *cfg;
    int64_t every_ms;            /* TICKQ_SAMPLE_MS (for tests), else SAMPLE_MS_DEFAULT */
    rconn_lazy_t redis;          /* redis.conn: NULL until the first tick, and after a broken one */
    queue_t q;
    int64_t last_slot;           /* the last slot this process looked at */
} http_sampler_t;

/* The sample period: TICKQ_SAMPLE_MS (1000 to 60000 ms), else
 * SAMPLE_MS_DEFAULT. 0, or -1 with err when it is set to anything else.
 * The commands that start an HTTP process call it first, so that a bad
 * value stops them at once instead of failing every server they start. */
int http_sampler_every_ms(int64_t *every_ms, char *err, size_t errlen);
/* Reads the sample period (http_sampler_every_ms): 0, or -1 with err. */
int http_sampler_init(http_sampler_t *s, const config_t *cfg, char *err, size_t errlen);
/* Takes the current slot's sample unless this process or another did. */
void http_sampler_tick(http_sampler_t *s);
/* Starts a detached thread that ticks once a second for the life of the
 * process (s must outlive it). 0, or -1 with err. */
int http_sampler_start(http_sampler_t *s, char *err, size_t errlen);

/* The samples of the last hour, oldest first: {"samples": [{"t" (epoch ms
 * of its slot), "submitted", "completed", "failed" (failed and dead),
 * "ready", "latency_s"}, ...]}; NULL with err. */
json_t *http_sampler_read(queue_t *q, char *err, size_t errlen);

#endif
