/* worker_scheduler.h — `tickq worker --scheduler`: a scheduler
 * (sched/scheduler.h) plugged into the supervisor as a companion
 * (core/supervisor.h).
 *
 * It runs on a connection of its own (its lease and state calls never
 * interleave with the supervisor's), ticked from the supervisor's loop, so
 * while Redis is unreachable its reconnect attempts take their time out of
 * that loop as the supervisor's own do. It stops firing the moment shutdown
 * begins and gives its lease up, so another replica takes over at once. */
#ifndef TICKQ_WORKER_SCHEDULER_H
#define TICKQ_WORKER_SCHEDULER_H

#include "core/config.h"
#include "core/supervisor.h"
#include "sched/schedule_config.h"

typedef struct worker_scheduler worker_scheduler_t;

/* A scheduler of `schedules` (not owned, outlives it) for cfg, not yet
 * connected (the supervisor starts it); NULL when out of memory. */
worker_scheduler_t *worker_scheduler_new(const config_t *cfg, const schedule_config_t *schedules);

/* Its hooks for the supervisor (the plan's companions). */
supervisor_companion_t worker_scheduler_companion(worker_scheduler_t *w);

/* Stops it if it still runs; accepts NULL. */
void worker_scheduler_free(worker_scheduler_t *w);

#endif
