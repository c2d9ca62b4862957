/* enqueue_file.h — `tickq enqueue --file`: many jobs from a JSON Lines
 * file, one job a line as POST /api/tasks takes one, checked all before
 * any is sent, then enqueued in batches (job_batch.h). */
#ifndef TICKQ_ENQUEUE_FILE_H
#define TICKQ_ENQUEUE_FILE_H

#include "core/config.h"

/* Enqueues the jobs of `path` ("-": standard input); prints one line a
 * job (its id, or with as_json the object `tickq enqueue --json` prints).
 * Returns the exit status: 0 every job enqueued, 4 some ids existed (they
 * are named on stderr; the others went in), 65 a bad line (named; nothing
 * enqueued), or the status of a Redis failure. */
int enqueue_file(config_t *cfg, const char *path, int as_json);

#endif
