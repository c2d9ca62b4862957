/* heartbeat.h — the supervisor's heartbeat: renews its children's claims
 * (touch.lua), reclaims the jobs of dead workers (reclaim.lua), and
 * publishes the supervisor under <prefix>:worker:<id> in the registry
 * <prefix>:workers that `tickq stats` reads.
 *
 * Claims are renewed by consumer name, and a child's name carries a
 * generation (worker.c, slot.h): the heartbeat renews only the generation
 * each live child last published, and in the same call hands back to their
 * queues the entries of its older generations, which no child runs (a claim
 * the child gave up on that Redis ran late). So an entry pending for a
 * consumer that is not running it goes back within a heartbeat, and is never
 * renewed past the one after the child moved on.
 *
 * Each call logs what went wrong and what it settled; none stops the
 * supervisor. */
#ifndef TICKQ_HEARTBEAT_H
#define TICKQ_HEARTBEAT_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/queue.h"

/* One live worker child, as published. */
typedef struct {
    const char *id;              /* its worker id */
    int pid;
    int busy;
    const char *job_id, *type, *queue; /* its job while busy */
    int64_t started_us;          /* when that job started (wall clock) */
} heartbeat_child_t;

/* What the supervisor publishes about itself. */
typedef struct {
    const char *id;              /* the supervisor's instance id */
    const char *host;
    const char *started_at;      /* ISO 8601 */
    int workers;                 /* its worker children */
    int busy;                    /* of them running a job now */
    long long completed, failed; /* jobs, since it started */
    const heartbeat_child_t *children; /* its live children (`children` in the document) */
    size_t nchildren;
} heartbeat_info_t;

/* Renews the claims of `consumers` (each live child's current consumer
 * name, n of them) on cfg's queues, handing back the entries of their older
 * generations (touch.lua). `id` names the supervisor in log lines. */
void heartbeat_renew(queue_t *q, const config_t *cfg, const char *id, const char *const *consumers, size_t n);

/* Reclaims the entries of workers that stopped renewing their claims for
 * cfg->claim_timeout_ms (reclaim.lua), as `id`. */
void heartbeat_reclaim(queue_t *q, const config_t *cfg, const char *id);

/* Publishes `info` under <prefix>:worker:<id> for three heartbeats, and
 * drops registry entries of workers gone for long. */
void heartbeat_publish(queue_t *q, const config_t *cfg, const heartbeat_info_t *info);

/* Deletes the supervisor's heartbeat and registry entry (at exit). */
void heartbeat_withdraw(queue_t *q, const char *id);

#endif
