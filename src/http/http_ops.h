/* http_ops.h — what operators look at and act on (docs/http.md): GET
 * /api/queues (depths and counters), GET /api/workers (live workers' heartbeats),
 * GET /api/schedules (each schedule, its next fire times, last fire and
 * counts), GET /api/dlq (dead letters, newest first) and POST
 * /api/dlq/{entry}/retry. */
#ifndef TICKQ_HTTP_OPS_H
#define TICKQ_HTTP_OPS_H

#include "http/http_server.h"

void http_ops_queues(void *app, const http_request_t *req, http_reply_t *rep);
void http_ops_workers(void *app, const http_request_t *req, http_reply_t *rep);
void http_ops_schedules(void *app, const http_request_t *req, http_reply_t *rep);
/* GET /api/calendar?from=YYYY-MM-DD&days=N: `tickq schedule calendar --json`
 * of the server's calendar (the configuration file's closures included). */
void http_ops_calendar(void *app, const http_request_t *req, http_reply_t *rep);
/* GET /api/overview/history: the dashboard's samples of the last hour
 * (http_sampler.h). */
void http_ops_history(void *app, const http_request_t *req, http_reply_t *rep);
void http_ops_dlq(void *app, const http_request_t *req, http_reply_t *rep);
void http_ops_dlq_retry(void *app, const http_request_t *req, http_reply_t *rep);
/* POST /api/queues/{name}/purge: as `tickq purge NAME --yes`. */
void http_ops_purge(void *app, const http_request_t *req, http_reply_t *rep);

#endif
