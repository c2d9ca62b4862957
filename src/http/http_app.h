/* http_app.h — what every endpoint of the HTTP server shares: the
 * configuration, the role of the process (tickq serve, or beside a worker),
 * one Redis connection (opened on first use, opened again after a broken
 * one), the database check of /health, and the route table.
 *
 * Endpoints run one at a time on the server's thread (http_server.h), so
 * nothing here is locked. */
#ifndef TICKQ_HTTP_APP_H
#define TICKQ_HTTP_APP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/queue.h"
#include "core/rconn.h"
#include "core/rconn_lazy.h"
#include "data/db.h"
#include "http/http_server.h"
#include "sched/schedule_config.h"

typedef enum {
    HTTP_ROLE_SERVE,             /* tickq serve: an API host with no workers */
    HTTP_ROLE_WORKER             /* tickq worker --http: beside a supervisor */
} http_role_t;

typedef struct {
    const config_t *cfg;
    http_role_t role;
    int cluster_metrics;         /* serve the cluster-wide series (tickq serve; worker --cluster-metrics) */
    const char *instance;        /* the worker's instance id (worker role), else "" */
    const schedule_config_t *schedules; /* the configuration file's schedules; NULL: none read */
    const char *schedules_path;  /* where they were read from */
    rconn_lazy_t redis;          /* redis.conn: NULL until the first use; see http_app_queue */
    queue_t q;
    db_t *db;                    /* opened by the first check (NULL: not open); see http_app_database_ok */
    int64_t db_checked_ms;       /* monotonic; the database check is kept for 5 s */
    int db_ok;
    char db_error[512];
} http_app_t;

/* After a failed connect to Redis, the server's requests and its
 * readiness probe fail at once this long with that connect's error. */
#define HTTP_CONNECT_RETRY_MS 2000

/* The queue over a live connection (connecting, or connecting again after a
 * broken one): NULL with err when Redis cannot be reached. Within 2 s of a
 * failed connect it fails at once with that error, so that requests do not
 * each wait out a connect timeout while Redis is down. */
queue_t *http_app_queue(http_app_t *a, char *err, size_t errlen);
/* After a call that failed on the connection: drop it, the next use opens another. */
void http_app_broken(http_app_t *a);
/* The same when the connection is broken (rconn_broken); else it is kept. */
void http_app_drop_broken(http_app_t *a);
/* `status` (a 503, mostly) for a Redis call that failed having done
 * nothing: the connection dropped if it broke, the formatted text the
 * reply's error. */
void http_app_fail(http_app_t *a, http_reply_t *rep, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Why an outcome is unknown, in the words of every such reply. */
#define HTTP_SENT_FAILED "Redis failed after the call was sent"
/* 503 for a call that changes something (an enqueue, a cancel, ...) and
 * failed on the connection (QUEUE_ERR_IO) once it was under way: its reply
 * never came (a read that timed out, a connection lost), so Redis may have
 * run it, or may run it later, when a stall ends. The connection is
 * dropped; `body` (stolen; NULL: a new object) gets "error", the
 * formatted text (which says how to find out), and "outcome": "unknown".
 * Every other 503 of the API did nothing: Redis could not be reached, or
 * answered with an error. */
void http_app_outcome_unknown(http_app_t *a, http_reply_t *rep, json_t *body, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Whether the database answers (checked at most every 5 s): 1, or 0 with
 * the reason in a->db_error. The first check opens it (as `tickq worker`
 * does: a new schema is migrated then); later ones only read, and a
 * failed one closes it, so the next opens it again. */
int http_app_database_ok(http_app_t *a);
/* The database for an endpoint that reads it, or NULL with rep filled
 * (503, saying why). */
db_t *http_app_database(http_app_t *a, http_reply_t *rep);

/* Every route of the server. */
const http_route_t *http_app_routes(size_t *n);

/* Serves until SIGTERM or SIGINT (blocked by the caller in every thread, so
 * that they wait here), then stops the server. `token`: TICKQ_API_TOKEN
 * (NULL: none). Returns 0, or EX_UNAVAILABLE (69) when it cannot listen
 * and EX_CONFIG (78) when the bind needs a token it lacks, logged. */
int http_app_run(http_app_t *a, const http_bind_t *bind, const char *token);

void http_app_close(http_app_t *a);

#endif
