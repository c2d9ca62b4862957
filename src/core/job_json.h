/* job_json.h — a job described as a JSON object, the form the REST API's
 * POST /api/tasks takes and a flow's parent and children are written in
 * (docs/http.md): {"type", "args", "queue", "priority", "id",
 * "max_retries", "timeout", "delay", "replace", "expires", "depends_on",
 * "after_any"}, times in seconds. Read into a job_spec_t, every field
 * checked for its JSON type and range; the spec itself is checked after
 * (job_admit_check), as for any other producer. And the answer to it:
 * what an enqueue did to the job, as JSON. */
#ifndef TICKQ_JOB_JSON_H
#define TICKQ_JOB_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "core/job.h"
#include "core/queue.h"

/* The text a spec read from JSON borrows (malloc'd): free with
 * job_json_text_free, after the spec's last use. */
typedef struct {
    char *args;
    char *deps;
} job_json_text_t;

void job_json_text_free(job_json_text_t *t);

#define JOB_JSON_BAD (-1)   /* a field is wrong: err names it */
#define JOB_JSON_NOMEM (-2)

/* Reads `task` into *spec (defaults: job_spec_init) and *text. `extra`
 * (NULL-terminated, may be NULL) names more keys the caller reads itself
 * (a flow's "children", "policy"), which are then not refused as unknown.
 * 0, or JOB_JSON_BAD / JOB_JSON_NOMEM with err saying what: an unknown key
 * with its close match (`unknown field 'tmeout' (did you mean
 * 'timeout'?)`), a field of the wrong JSON type or out of range. *text is
 * always set (free it either way). */
int job_json_spec(const json_t *task, const char *const *extra, job_spec_t *spec, job_json_text_t *text, char *err,
                  size_t errlen);

/* What an enqueue did to one job (queue_enqueue, queue_enqueue_batch), as
 * `tickq enqueue --json` prints it and POST /api/tasks answers it: {"id",
 * "created", "state", "run"}, and "replaced" (how the run before ended)
 * when it enqueued a new run. A new reference; NULL when out of memory. */
json_t *job_json_enqueue_result(const enqueue_result_t *r);

#endif
