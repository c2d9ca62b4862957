/* job_admit.h — what a producer checks before it enqueues a job (`tickq
 * enqueue`, POST /api/tasks): one rule for both, so that a job one of
 * them refuses the other refuses too, with the same words.
 *
 * job_admit_check needs no Redis: the spec (job_spec_check) and, for a
 * built-in task, its args against the task's schema. job_admit_type asks
 * Redis about a type that is not built in: a handler type some worker
 * announced, or one added by `tickq types add`, is accepted with its args
 * unchecked here (the worker checks them against the handler's schema). */
#ifndef TICKQ_JOB_ADMIT_H
#define TICKQ_JOB_ADMIT_H

#include <stddef.h>

#include "core/job.h"
#include "core/queue.h"

/* 0, or -1 with err naming what is wrong (no "job refused:" prefix). */
int job_admit_check(const job_spec_t *spec, size_t max_payload, char *err, size_t errlen);

/* QUEUE_OK with *known 1 (built in, or known in Redis) or 0 (err then
 * says why: "unknown task type 'x' (built in: ...; ...)"); another status
 * with err when Redis could not be asked. */
queue_status_t job_admit_type(queue_t *q, const char *type, int *known, char *err, size_t errlen);

#endif
