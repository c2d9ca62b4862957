/* job_children.h — the children of a job that waited for them (a task's
 * TASK_WAIT_CHILDREN, a flow's parent): the jobs it depends on, with their
 * states and results, read from Redis in two round trips; the payload a
 * task's children are enqueued from; and the rule that no two jobs of one
 * flow share an id (the second would not be enqueued: an id names one
 * job). */
#ifndef TICKQ_JOB_CHILDREN_H
#define TICKQ_JOB_CHILDREN_H

#include <jansson.h>
#include <stddef.h>

#include "core/queue.h"

/* A new array of {"id", "state" ("expired" when its record is gone),
 * "result" (its task_result as JSON, or null)}, in the order of the job's
 * deps list, when this run of the job asked for children (its record's
 * `waited_children`: not for dependencies given at enqueue, nor for a run
 * before a replace or a retry); [] otherwise. NULL with err on Redis
 * trouble. */
json_t *job_children_read(queue_t *q, const char *id, char *err, size_t errlen);

/* The jobs `id` depends on (its deps list, whatever put them there), as a
 * new array of {"id", "state" ("expired" when its record is gone)} and,
 * with `results`, "result" (its task_result, or null); one pipelined round
 * trip after the list. NULL with err on Redis trouble. */
json_t *job_deps_read(queue_t *q, const char *id, int results, char *err, size_t errlen);

/* The payload of a TASK_WAIT_CHILDREN outcome (finish.lua's kind
 * `children`) from the task's data {"children": [jobs as POST /api/tasks
 * takes them], "policy": "fail" | "continue"}: every child checked as
 * `tickq enqueue` checks a job (its queue, when it names none, is
 * `queue`), given an id, and written as {"policy", "max_payload",
 * "children": [{"id", "type", "args" (JSON text), "queue", "priority",
 * "max_retries", "timeout_ms"}]}. A malloc'd string, or NULL with err
 * naming the child and what is wrong. */
char *job_children_payload(const json_t *data, const char *queue, size_t max_payload, size_t *len, char *err,
                           size_t errlen);

/* Whether an id repeats among ids[0..n) (a flow's jobs, a task's
 * children): 1 with *again the first position whose id an earlier one
 * holds, at *first; 0 when all differ; -1 out of memory. Sorts a copy,
 * O(n log n): a flow has up to 10,001 jobs. */
int job_children_repeat(const char *const *ids, size_t n, size_t *first, size_t *again);

#endif
