/* http_dashboard.c — the dashboard's page (http_dashboard.h). */
#include "http/http_dashboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard_page.h"

void http_dashboard_page(void *app, const http_request_t *req, http_reply_t *rep)
{
    (void)app;
    static const char *const none[] = { NULL };
    if (http_query_only(req, none, rep) != 0)
        return;
    size_t len = sizeof dashboard_page_source - 1;
    char *body = malloc(len);
    if (body == NULL) {
        http_reply_error(rep, 500, "out of memory");
        return;
    }
    memcpy(body, dashboard_page_source, len);
    http_reply_body(rep, 200, "text/html; charset=utf-8", body, len);
    /* The page's own script and style only; fetch() to this host only; never
     * inside another site's frame (its buttons act). */
    snprintf(rep->header[0], sizeof rep->header[0],
             "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; "
             "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
             "base-uri 'none'; form-action 'none'");
}
