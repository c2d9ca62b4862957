/* queue_keys.c — the name of every Redis key tickq uses: one builder per
 * key kind, declared in queue.h ("Keys"). No other C file spells a key
 * (scripts/check-keys, run by make test); queue_names.c names the queue
 * streams and history_keys.c the job history's streams. docs/protocol.md
 * lists what each key holds. */
#include "core/queue.h"

#include <assert.h>
#include <stdio.h>

/* Writes "<prefix>:<a>", "<prefix>:<a>:<b>" or "<prefix>:<a>:<b>:<c>" (b,
 * then c, may be NULL): the one shape of every key below. */
static void queue_key(const queue_t *q, const char *a, const char *b, const char *c, char *out, size_t outlen)
{
    assert(b != NULL || c == NULL);
    if (c)
        snprintf(out, outlen, "%s:%s:%s:%s", q->prefix, a, b, c);
    else if (b)
        snprintf(out, outlen, "%s:%s:%s", q->prefix, a, b);
    else
        snprintf(out, outlen, "%s:%s", q->prefix, a);
}

void queue_protocol_key(const queue_t *q, char *out, size_t outlen)
{
    queue_key(q, "protocol", NULL, NULL, out, outlen);
}

void queue_queues_key(const queue_t *q, char *out, size_t outlen)
{
    queue_key(q, "queues", NULL, NULL, out, outlen);
}

void queue_types_key(const queue_t *q, char *out, size_t outlen)
{
    queue_key(q, "types", NULL, NULL, out, outlen);
}

void queue_job_key(const queue_t *q, const char *id, char *out, size_t outlen)
{
    queue_key(q, "job", id, NULL, out, outlen);
}

void queue_retries_key(const queue_t *q, const char *id, char *out, size_t outlen)
{
    queue_key(q, "retries", id, NULL, out, outlen);
}

void queue_delayed_key(const queue_t *q, const char *physical, char *out, size_t outlen)
{
    queue_key(q, "delayed", physical, NULL, out, outlen);
}

void queue_deferred_key(const queue_t *q, const char *physical, char *out, size_t outlen)
{
    queue_key(q, "deferred", physical, NULL, out, outlen);
}

void queue_deps_key(const queue_t *q, const char *id, char *out, size_t outlen)
{
    queue_key(q, "deps", id, NULL, out, outlen);
}

void queue_retry_key(const queue_t *q, const char *physical, char *out, size_t outlen)
{
    queue_key(q, "retry", physical, NULL, out, outlen);
}

void queue_stats_key(const queue_t *q, const char *logical, char *out, size_t outlen)
{
    queue_key(q, "stats", logical, NULL, out, outlen);
}

void queue_dead_key(const queue_t *q, char *out, size_t outlen)
{
    queue_key(q, "dead", NULL, NULL, out, outlen);
}

void queue_rejected_key(const queue_t *q, char *out, size_t outlen)
{
    queue_key(q, "rejected", NULL, NULL, out, outlen);
}

void queue_workers_key(const queue_t *q, char *out, size_t outlen)
{
    queue_key(q, "workers", NULL, NULL, out, outlen);
}

void queue_worker_key(const queue_t *q, const char *id, char *out, size_t outlen)
{
    queue_key(q, "worker", id, NULL, out, outlen);
}

void queue_scheduler_last_key(const queue_t *q, char *out, size_t outlen)
{
    queue_key(q, "scheduler", "last", NULL, out, outlen);
}

void queue_scheduler_lease_key(const queue_t *q, char *out, size_t outlen)
{
    queue_key(q, "scheduler", "lease", NULL, out, outlen);
}

void queue_scheduler_fires_key(const queue_t *q, char *out, size_t outlen)
{
    queue_key(q, "scheduler", "fires", NULL, out, outlen);
}

void queue_scheduler_misfires_key(const queue_t *q, char *out, size_t outlen)
{
    queue_key(q, "scheduler", "misfires", NULL, out, outlen);
}

void queue_paused_key(const queue_t *q, char *out, size_t outlen)
{
    queue_key(q, "paused", NULL, NULL, out, outlen);
}

void queue_limits_key(const queue_t *q, char *out, size_t outlen)
{
    queue_key(q, "limits", NULL, NULL, out, outlen);
}

void queue_running_key(const queue_t *q, const char *type, char *out, size_t outlen)
{
    queue_key(q, "running", type, NULL, out, outlen);
}

void queue_holding_key(const queue_t *q, char *out, size_t outlen)
{
    queue_key(q, "holding", NULL, NULL, out, outlen);
}

void queue_held_key(const queue_t *q, const char *type, char *out, size_t outlen)
{
    queue_key(q, "held", type, NULL, out, outlen);
}

void queue_index_key(const queue_t *q, const char *queue, const char *state, char *out, size_t outlen)
{
    queue_key(q, "index", queue, state, out, outlen);
}

void queue_dash_samples_key(const queue_t *q, char *out, size_t outlen)
{
    queue_key(q, "dash", "samples", NULL, out, outlen);
}

void queue_dash_slot_key(const queue_t *q, long long slot, char *out, size_t outlen)
{
    char n[24];
    snprintf(n, sizeof n, "%lld", slot);
    queue_key(q, "dash", "slot", n, out, outlen);
}

void queue_result_key(const char *id, char *out, size_t outlen)
{
    snprintf(out, outlen, "task_result:%s", id);
}
