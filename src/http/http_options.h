/* http_options.h — the options analytics of the REST API (docs/http.md,
 * "Options"): what calculate_iv_analysis and scan_opportunities stored in
 * the database, read back for the dashboard's Options view. */
#ifndef TICKQ_HTTP_OPTIONS_H
#define TICKQ_HTTP_OPTIONS_H

#include "http/http_server.h"

/* GET /api/options: each symbol's latest iv_history row. */
void http_options_symbols(void *app, const http_request_t *req, http_reply_t *rep);
/* GET /api/iv/{symbol}?from=YYYY-MM-DD&to=YYYY-MM-DD: the symbol's
 * iv_history rows in that range; without from, the 365 days up to `to`,
 * and without to, up to its latest row. */
void http_options_iv(void *app, const http_request_t *req, http_reply_t *rep);
/* GET /api/opportunities: the newest stored scan. */
void http_options_opportunities(void *app, const http_request_t *req, http_reply_t *rep);

#endif
