/* scheduler.h — fires recurring jobs: `tickq scheduler`, or inside a worker
 * (`tickq worker --scheduler`).
 *
 * Any number of schedulers may run against one Redis; the one holding the
 * lease (queue_lease) fires, the others stand by and take over within the
 * lease's TTL when it dies. Each firing enqueues a job with the id
 * "<schedule>:<fire time, YYYY-MM-DDTHH:MM:SSZ>", so a time fired twice (two
 * leaders in a race, a restart) is enqueued once. The last fire time of each
 * schedule is kept in Redis (<prefix>:scheduler:last), so a new leader or a
 * restarted one knows what was missed: misfire = run_once enqueues the
 * latest missed time if it is within the grace period, skip enqueues none. */
#ifndef TICKQ_SCHEDULER_H
#define TICKQ_SCHEDULER_H

#include <signal.h>
#include <stdint.h>

#include "core/config.h"
#include "core/rconn.h"
#include "sched/schedule_config.h"

typedef struct scheduler scheduler_t;

/* A scheduler over `set` (which it does not own) on its own connection
 * (`conn`, prepared, owned by the caller). */
scheduler_t *scheduler_new(const schedule_config_t *set, const config_t *cfg, rconn_t *conn);
void scheduler_free(scheduler_t *s);

/* Logs the banner: each schedule and its next three fire times. */
void scheduler_banner(const scheduler_t *s);

/* One step: renews or takes the lease, fires what is due. Returns the
 * milliseconds until it wants to run again. */
int64_t scheduler_tick(scheduler_t *s);

/* Stops firing and gives the lease up (so another scheduler takes over at
 * once). */
void scheduler_stop(scheduler_t *s);

/* Runs until *stop is set (SIGTERM/SIGINT), then stops. Returns 0. */
int scheduler_run(scheduler_t *s, volatile sig_atomic_t *stop);

#endif
