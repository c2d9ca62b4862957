/* http_tasks.h — the jobs of the REST API (docs/http.md, "Tasks"):
 * POST /api/tasks (enqueue, tickq enqueue's options), GET /api/tasks/{id}
 * (record, result, retries, progress), DELETE /api/tasks/{id} (cancel),
 * POST /api/retry/{id}, POST /api/delete/{id} (a finished job), GET /api/tasks (the listing by state), GET /api/tables/{id} (an
 * optimize job's whole table, from the database). */
#ifndef TICKQ_HTTP_TASKS_H
#define TICKQ_HTTP_TASKS_H

#include <jansson.h>

#include "http/http_app.h"
#include "http/http_server.h"

void http_tasks_create(void *app, const http_request_t *req, http_reply_t *rep);
void http_tasks_get(void *app, const http_request_t *req, http_reply_t *rep);
void http_tasks_cancel(void *app, const http_request_t *req, http_reply_t *rep);
/* POST /api/retry/{id}: runs a failed or dead job again, as `tickq retry
 * ID`: 200 {"id", "state": "queued", "run"}; 404 unknown; 409 in another
 * state (named). */
void http_tasks_retry(void *app, const http_request_t *req, http_reply_t *rep);
/* POST /api/delete/{id}: deletes a finished job, as `tickq delete ID`: 200
 * {"id", "state" (the one it had), "deleted": true}; 404 unknown; 409 not
 * finished (state named) or needed by waiting jobs ("needed_by"). */
void http_tasks_delete(void *app, const http_request_t *req, http_reply_t *rep);
/* GET /api/tasks?state=S&queue=Q&type=T&limit=N&offset=N: jobs as `tickq
 * jobs --json` lists them (failed and dead first when no state is given),
 * rows offset to offset + limit: {"jobs", "offset", "limit", "more"}. */
void http_tasks_list(void *app, const http_request_t *req, http_reply_t *rep);
/* GET /api/tables/{id}?offset=N&limit=N: {"id", "total", "offset", "rows"},
 * the rows as `tickq job ID --table --json` prints them; 404 when the job
 * has no table. */
void http_tasks_table(void *app, const http_request_t *req, http_reply_t *rep);

/* Enqueues the job `task` describes (the POST /api/tasks object) and fills
 * rep: 201 with {id, state, run, created}, 409 when the id exists, 400 for
 * bad input naming it, 503 when Redis cannot be reached or refused the
 * call (nothing enqueued), or 503 with "outcome": "unknown" and its "id"
 * (made here when the task has none) when Redis failed after the call was
 * sent (http_app_outcome_unknown). For the manual triggers too
 * (http_triggers.h). */
void http_tasks_enqueue(http_app_t *a, const json_t *task, http_reply_t *rep);

#endif
