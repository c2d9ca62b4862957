/* http_triggers.h — the users' manual triggers (docs/http.md, "Manual
 * triggers"): each enqueues the matching task and answers with its id, as
 * POST /api/tasks does. POST /api/opportunities/scan runs
 * scan_opportunities (the body, when given, is its args). */
#ifndef TICKQ_HTTP_TRIGGERS_H
#define TICKQ_HTTP_TRIGGERS_H

#include "http/http_server.h"

void http_trigger_scan(void *app, const http_request_t *req, http_reply_t *rep);

#endif
