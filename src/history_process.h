/* history_process.h — the process that writes job history to the database.
 *
 * Worker children, and the supervisor for the jobs it settles itself, write
 * history records into one pipe (history.h). This process, a child of the
 * supervisor, reads them and writes them in batches (every 250 ms or 2,000
 * records, one transaction each) through a database connection of its own,
 * at a lower CPU priority than the queue's processes: on a busy host the
 * database work yields to Redis and the workers, so history costs the
 * queue little throughput, and the supervisor's loop (timeouts, claims,
 * heartbeats) never waits for the database.
 *
 * It stops when every write end of the pipe is closed (the workers and the
 * supervisor are gone), after a last flush: a graceful shutdown, and even a
 * kill -9 of the supervisor, lose nothing that reached the pipe. For that
 * it ignores SIGINT and SIGTERM (Ctrl-C reaches the whole process group).
 * Killed itself, it loses the batch it had read but not written; the
 * supervisor starts another, which reads on from the pipe. */
#ifndef TICKQ_HISTORY_PROCESS_H
#define TICKQ_HISTORY_PROCESS_H

#include <sys/types.h>

#include "config.h"

/* Forks the history process reading `read_fd` (the pipe's read end); every
 * other descriptor is closed in it. Returns its pid, or -1 (errno set). */
pid_t history_process_start(const config_t *cfg, int read_fd);

#endif
