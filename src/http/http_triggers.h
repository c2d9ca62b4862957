/* http_triggers.h — the users' manual triggers (docs/http.md, "Manual
 * triggers"): each enqueues the matching task and answers with its id, as
 * POST /api/tasks does. POST /api/opportunities/scan runs
 * scan_opportunities (the body, when given, is its args); the updates
 * enqueue a chain (below). */
#ifndef TICKQ_HTTP_TRIGGERS_H
#define TICKQ_HTTP_TRIGGERS_H

#include "http/http_server.h"

void http_trigger_scan(void *app, const http_request_t *req, http_reply_t *rep);
/* POST /api/update/{SYMBOL} and POST /api/update-all: update_stock_data,
 * then update_options_data, then calculate_iv_analysis, of that symbol or
 * of all, as a chain of dependent jobs enqueued in one transaction. */
void http_trigger_update(void *app, const http_request_t *req, http_reply_t *rep);
void http_trigger_update_all(void *app, const http_request_t *req, http_reply_t *rep);

#endif
