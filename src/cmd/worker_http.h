/* worker_http.h — `tickq worker --http ADDR:PORT`: the HTTP server
 * (src/http/) in a process of its own beside the worker's children,
 * plugged into the supervisor as a companion (core/supervisor.h).
 *
 * The process is forked when the supervisor starts, after the shared page
 * of core/worker_metrics.h is mapped, so it serves the worker's own
 * numbers; it runs in a process group of its own (a Ctrl-C meant for the
 * worker does not take health and metrics down while jobs drain), is
 * started again a second after it dies, ends with the supervisor
 * (PR_SET_PDEATHSIG), and is stopped with SIGTERM once every child is
 * gone: until then /health/ready answers 503 "shutting down". */
#ifndef TICKQ_WORKER_HTTP_H
#define TICKQ_WORKER_HTTP_H

#include "core/supervisor.h"
#include "http/http_app.h"
#include "http/http_server.h"

typedef struct worker_http worker_http_t;

/* `app` (role worker) and `bind` must outlive it; `token` may be NULL. */
worker_http_t *worker_http_new(http_app_t *app, const http_bind_t *bind, const char *token);
supervisor_companion_t worker_http_companion(worker_http_t *h);
void worker_http_free(worker_http_t *h);

/* Whether `bind` can be listened on now (a socket bound and closed): 0, or
 * -1 with err. So that a taken port stops `tickq worker` at once instead of
 * a server process failing every second. For PORT 0 the port picked is
 * kept in *where, so that a restarted server listens where the first one
 * did. */
int worker_http_probe(http_bind_t *where, char *err, size_t errlen);

#endif
