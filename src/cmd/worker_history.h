/* worker_history.h — `tickq worker`'s job history process, plugged into the
 * supervisor as a companion (core/supervisor.h).
 *
 * The history process (data/history_process.h) starts before the worker
 * children and again whenever it dies while the supervisor runs. Its
 * lifetime is a pipe: it reads, the supervisor holds the write end. At the
 * end, when every child is gone and what they and the supervisor settled is
 * in the history stream, closing the write end lets it write what the
 * stream holds and exit; the supervisor waits for that (restarting one
 * killed on its way) up to HISTORY_DRAIN_MS. */
#ifndef TICKQ_WORKER_HISTORY_H
#define TICKQ_WORKER_HISTORY_H

#include "core/config.h"
#include "core/rconn.h"
#include "core/supervisor.h"

typedef struct worker_history worker_history_t;

/* Registers cfg's history stream (cfg->history_stream, of the database
 * `where` describes: history_stream_key) on `conn` (its backlog cap is in
 * Redis before any row is) and starts the history process as consumer
 * "<supervisor_id>:history". NULL, with the failure logged and *status
 * set to the exit status (69 when Redis refuses, 71 without a pipe or
 * memory). */
worker_history_t *worker_history_start(const config_t *cfg, rconn_t *conn, const char *supervisor_id,
                                       const char *where, int *status);

/* Its hooks for the supervisor (the plan's companions). */
supervisor_companion_t worker_history_companion(worker_history_t *h);

/* Closes what is left of the pipe; accepts NULL. */
void worker_history_free(worker_history_t *h);

#endif
