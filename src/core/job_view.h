/* job_view.h — a job as `tickq job` and the HTTP API show it: its record
 * (the job hash, numbers as numbers, times also as ISO 8601), its retry
 * history, "running" with the worker and for how long when its entry is
 * pending, and its fields in one fixed order (docs/cli.md, `tickq job`).
 * Its reals (timeout_seconds, timeout_ms / 1000; progress, the record's
 * text; any in args or the retries) are the doubles nearest what was
 * written: dump the view with json_exact_dumps, which writes each in its
 * fewest exact digits (0.1), not json_dumps (0.10000000000000001). */
#ifndef TICKQ_JOB_VIEW_H
#define TICKQ_JOB_VIEW_H

#include <jansson.h>
#include <stddef.h>

#include "core/queue.h"

/* The job `id` as a new JSON object: 1 with *out, 0 when there is no such
 * job (unknown id, or its record expired), -1 with err when Redis fails. */
int job_view_read(queue_t *q, const char *id, json_t **out, char *err, size_t errlen);

#endif
