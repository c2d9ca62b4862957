/* http_dashboard.h — the dashboard's page (GET /): one self-contained HTML
 * page, inlined from its parts in src/http/dashboard/ and compiled into the
 * binary. */
#ifndef TICKQ_HTTP_DASHBOARD_H
#define TICKQ_HTTP_DASHBOARD_H

#include "http/http_server.h"

/* GET /: the page. Public: it holds no data (the API calls it makes carry
 * the token); served with a Content-Security-Policy that lets it load
 * nothing from elsewhere. */
void http_dashboard_page(void *app, const http_request_t *req, http_reply_t *rep);

#endif
