/* history_process.h — the process that writes job history to the database.
 *
 * The Redis functions that finish attempts append their rows to the
 * database's history stream (history.h). This process, a child of the
 * supervisor, reads that stream as consumer <supervisor id>:history of
 * group `history` and writes the rows in batches (one transaction about
 * every 250 ms while rows come in, up to 5,000 rows each) through a
 * database connection of its own, at a lower CPU priority than the queue's
 * processes: on a busy host the database work yields to Redis and the
 * workers, and the supervisor's loop never waits for the database. It
 * acknowledges entries only after their rows are committed.
 *
 * Lifetime: the supervisor holds the write end of a pipe this process
 * reads; nothing is written to it. When it ends (the supervisor exited, or
 * was killed with -9 and its children with it), this process writes what
 * the stream holds up to then and exits. For that it ignores SIGINT and
 * SIGTERM (Ctrl-C reaches the whole process group). Killed itself, it loses
 * nothing: what it had read and not acknowledged stays pending for its
 * consumer name, and the one the supervisor starts next reads it first; the
 * pending entries of a history process that died with its supervisor are
 * taken over after the claim timeout by any other (XAUTOCLAIM). */
#ifndef TICKQ_HISTORY_PROCESS_H
#define TICKQ_HISTORY_PROCESS_H

#include <sys/types.h>

#include "core/config.h"

/* Forks the history process as `consumer`, reading `read_fd` (the pipe's
 * read end) for its lifetime; every other descriptor is closed in it.
 * Returns its pid, or -1 (errno set). */
pid_t history_process_start(const config_t *cfg, int read_fd, const char *consumer);

#endif
