/* supervisor.h — the `tickq worker` parent process: forks N worker
 * children, enforces job timeouts and cancels, settles what a dead child
 * left behind, renews claims, reclaims jobs of dead hosts, writes heartbeats,
 * shuts down gracefully, and keeps the job history process running
 * (history_process.h). */
#ifndef TICKQ_SUPERVISOR_H
#define TICKQ_SUPERVISOR_H

#include "core/config.h"
#include "core/rconn.h"
#include "sched/schedule_config.h"

/* Runs until SIGTERM/SIGINT (or, with --burst, until the queues are drained).
 * `conn` is a prepared connection (queue_prepare done) the supervisor keeps;
 * job history goes to the database of cfg, through the history process
 * (unless cfg->history is 0). With `schedules` (may be NULL) it also runs a
 * scheduler (scheduler.h) on a connection of its own. Returns the process
 * exit status. */
int supervisor_run(const config_t *cfg, rconn_t *conn, const schedule_config_t *schedules);

#endif
