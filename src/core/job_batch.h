/* job_batch.h — many jobs read from JSON and enqueued together: the lines
 * of `tickq enqueue --file` and the list POST /api/tasks takes. Each job
 * is a JSON object as POST /api/tasks takes one (job_json.h) and is
 * checked as one would be (job_admit.h), but without dependencies (a
 * batch goes in as QUEUE_BATCH_MAX-job calls, each all or nothing:
 * queue_enqueue_batch; `tickq flow` and --after chain jobs). Every job
 * is checked before any is sent, so a bad one refuses the whole batch. */
#ifndef TICKQ_JOB_BATCH_H
#define TICKQ_JOB_BATCH_H

#include <jansson.h>
#include <stddef.h>

#include "core/job.h"
#include "core/job_json.h"
#include "core/queue.h"

typedef struct {
    job_spec_t *specs;       /* borrow from the JSON objects added (keep them alive) and texts */
    job_json_text_t *texts;
    size_t n, cap;
} job_batch_t;

void job_batch_init(job_batch_t *b);
void job_batch_free(job_batch_t *b);

/* Adds `task` (a JSON object, kept alive by the caller until the batch is
 * freed) as the next job: read and checked (fields, depends_on refused,
 * job_admit_check). 0, or JOB_JSON_BAD / JOB_JSON_NOMEM with err saying
 * what (without saying which job: the caller names its line or index). */
int job_batch_add(job_batch_t *b, const json_t *task, size_t max_payload, char *err, size_t errlen);

/* Asks Redis about each distinct task type that is not built in
 * (job_admit_type). QUEUE_OK with *bad the index of the first job of an
 * unknown type (err says why) or SIZE_MAX when all are known; another
 * status with err when Redis could not be asked. */
queue_status_t job_batch_types(queue_t *q, const job_batch_t *b, size_t *bad, char *err, size_t errlen);

#endif
