/* http_metrics.h — GET /metrics: Prometheus text format (version 0.0.4).
 *
 * Two kinds of series (docs/http.md, "Metrics"):
 *  - this process's own, from a worker (core/worker_metrics.h): the jobs it
 *    ran by queue, type and outcome, their durations, its children, sandbox
 *    kills by reason;
 *  - the cluster's, read from Redis: queue depths and the age of the
 *    oldest ready job per physical queue, totals per logical queue, dead
 *    letters, live workers, scheduler fires and misfires, list imports and
 *    rejections, the job history's backlog and lag. Served by `tickq
 *    serve` and by a worker started with --cluster-metrics only, so that
 *    scraping every worker does not multiply them.
 * Redis is read in a few pipelined round trips whatever the number of
 * queues. */
#ifndef TICKQ_HTTP_METRICS_H
#define TICKQ_HTTP_METRICS_H

#include "http/http_server.h"

void http_metrics(void *app, const http_request_t *req, http_reply_t *rep);

#endif
