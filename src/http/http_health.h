/* http_health.h — GET /health, /health/live and /health/ready
 * (docs/http.md, "Health"). */
#ifndef TICKQ_HTTP_HEALTH_H
#define TICKQ_HTTP_HEALTH_H

#include "http/http_server.h"

void http_health(void *app, const http_request_t *req, http_reply_t *rep);
void http_health_live(void *app, const http_request_t *req, http_reply_t *rep);
void http_health_ready(void *app, const http_request_t *req, http_reply_t *rep);
/* Closes the readiness probe's connection (at the server's end). */
void http_health_close(void);

#endif
