/* supervisor.h — the `tickq worker` parent process: forks N worker
 * children, enforces job timeouts and cancels, settles what a dead child
 * left behind, renews claims, reclaims jobs of dead hosts, writes heartbeats
 * and shuts down gracefully. */
#ifndef TICKQ_SUPERVISOR_H
#define TICKQ_SUPERVISOR_H

#include "config.h"
#include "rconn.h"

/* Runs until SIGTERM/SIGINT (or, with --burst, until the queues are drained).
 * `conn` is a prepared connection (queue_prepare done) the supervisor keeps.
 * Returns the process exit status. */
int supervisor_run(const config_t *cfg, rconn_t *conn);

#endif
