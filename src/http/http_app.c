/* http_app.c — the HTTP server's shared state and route table
 * (http_app.h). */
#include "http/http_app.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "core/clock.h"
#include "core/log.h"
#include "data/db.h"
#include "http/http_dashboard.h"
#include "http/http_health.h"
#include "http/http_metrics.h"
#include "http/http_ops.h"
#include "http/http_options.h"
#include "http/http_sampler.h"
#include "http/http_tasks.h"
#include "http/http_triggers.h"

#define DB_CHECK_EVERY_MS 5000

queue_t *http_app_queue(http_app_t *a, char *err, size_t errlen)
{
    int opened;
    rconn_t *c =
        rconn_lazy_get(&a->redis, &a->cfg->url, a->cfg->command_timeout_ms, HTTP_CONNECT_RETRY_MS, &opened, err, errlen);
    if (c == NULL)
        return NULL;
    if (opened) {
        rconn_set_name(c, "tickq-http");
        queue_init(&a->q, c);
        config_apply(a->cfg, &a->q);
    }
    return &a->q;
}

void http_app_broken(http_app_t *a)
{
    rconn_lazy_drop(&a->redis);
}

void http_app_drop_broken(http_app_t *a)
{
    if (a->redis.conn != NULL && rconn_broken(a->redis.conn))
        http_app_broken(a);
}

void http_app_fail(http_app_t *a, http_reply_t *rep, int status, const char *fmt, ...)
{
    http_app_drop_broken(a);
    va_list ap;
    va_start(ap, fmt);
    http_reply_verror(rep, status, fmt, ap);
    va_end(ap);
}

void http_app_outcome_unknown(http_app_t *a, http_reply_t *rep, json_t *body, const char *fmt, ...)
{
    http_app_broken(a);
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *text = json_string(msg);
    if (text == NULL) /* not UTF-8 (Redis's words): said without them */
        text = json_string("the outcome is unknown: " HTTP_SENT_FAILED);
    json_t *out = json_pack("{s:o, s:s}", "error", text, "outcome", "unknown");
    if (out != NULL && body != NULL)
        json_object_update(out, body);
    json_decref(body);
    http_reply_json(rep, 503, out);
}

int http_app_database_ok(http_app_t *a)
{
    int64_t now = clock_mono_ms();
    if (a->db != NULL && db_connection_lost(a->db)) {
        /* The server went away (restarted, failed over): open it again
         * now rather than serve a handle that fails every statement. */
        db_close(a->db);
        a->db = NULL;
        a->db_checked_ms = 0;
    }
    if (a->db_checked_ms != 0 && now - a->db_checked_ms < DB_CHECK_EVERY_MS)
        return a->db_ok;
    db_failure_t failure;
    if (a->db == NULL)
        a->db_ok = db_open(a->cfg->database_url, a->cfg->db_path, &a->db, &failure, a->db_error,
                           sizeof a->db_error) == 0;
    else
        a->db_ok = db_ping(a->db, a->db_error, sizeof a->db_error) == 0;
    if (a->db_ok) {
        a->db_error[0] = '\0';
    } else if (a->db != NULL) {
        db_close(a->db);
        a->db = NULL;
    }
    a->db_checked_ms = now;
    return a->db_ok;
}

db_t *http_app_database(http_app_t *a, http_reply_t *rep)
{
    if (!http_app_database_ok(a)) {
        http_reply_error(rep, 503, "the database is unavailable: %s", a->db_error);
        return NULL;
    }
    return a->db;
}

static const http_route_t g_routes[] = {
    { "GET", "/", http_dashboard_page, HTTP_PUBLIC },
    { "GET", "/health", http_health, HTTP_PUBLIC },
    { "GET", "/health/live", http_health_live, HTTP_PUBLIC | HTTP_UNLOCKED },
    { "GET", "/health/ready", http_health_ready, HTTP_PUBLIC | HTTP_UNLOCKED },
    { "GET", "/metrics", http_metrics, 0 },
    { "POST", "/api/tasks", http_tasks_create, HTTP_AUDIT | HTTP_BODY },
    { "GET", "/api/tasks", http_tasks_list, 0 },
    { "GET", "/api/tasks/{id*}", http_tasks_get, 0 },
    { "DELETE", "/api/tasks/{id*}", http_tasks_cancel, HTTP_AUDIT },
    { "POST", "/api/retry/{id*}", http_tasks_retry, HTTP_AUDIT },
    { "POST", "/api/delete/{id*}", http_tasks_delete, HTTP_AUDIT },
    { "GET", "/api/tables/{id*}", http_tasks_table, 0 },
    { "GET", "/api/queues", http_ops_queues, 0 },
    { "POST", "/api/queues/{name}/purge", http_ops_purge, HTTP_AUDIT },
    { "GET", "/api/workers", http_ops_workers, 0 },
    { "GET", "/api/overview/history", http_ops_history, 0 },
    { "GET", "/api/schedules", http_ops_schedules, 0 },
    { "GET", "/api/calendar", http_ops_calendar, 0 },
    { "GET", "/api/options", http_options_symbols, 0 },
    { "GET", "/api/iv/{symbol*}", http_options_iv, 0 },
    { "GET", "/api/opportunities", http_options_opportunities, 0 },
    { "GET", "/api/dlq", http_ops_dlq, 0 },
    { "POST", "/api/dlq/{entry}/retry", http_ops_dlq_retry, HTTP_AUDIT },
    { "POST", "/api/opportunities/scan", http_trigger_scan, HTTP_AUDIT | HTTP_BODY },
    { "POST", "/api/update/{symbol}", http_trigger_update, HTTP_AUDIT | HTTP_BODY },
    { "POST", "/api/update-all", http_trigger_update_all, HTTP_AUDIT | HTTP_BODY },
};

const http_route_t *http_app_routes(size_t *n)
{
    *n = sizeof g_routes / sizeof g_routes[0];
    return g_routes;
}

int http_app_run(http_app_t *a, const http_bind_t *bind, const char *token)
{
    char err[600];
    if (http_bind_check_token(bind, token, err, sizeof err) != 0) {
        log_error("cannot start the HTTP server", LF_S("error", err));
        return EX_CONFIG;
    }
    static http_sampler_t sampler; /* outlives this call: its thread is never joined */
    if (http_sampler_init(&sampler, a->cfg, err, sizeof err) != 0) {
        log_error("cannot start the HTTP server", LF_S("error", err));
        return EX_CONFIG;
    }
    size_t n;
    const http_route_t *routes = http_app_routes(&n);
    /* A body holds a job's args (max_payload) and the request's other fields. */
    http_server_t *s = http_server_start(bind, token, routes, n, a, a->cfg->max_payload + 64 * 1024, err, sizeof err);
    if (s == NULL) {
        log_error("cannot start the HTTP server", LF_S("error", err));
        return EX_UNAVAILABLE;
    }
    char where[96]; /* the port picked for PORT 0 */
    snprintf(where, sizeof where, "%.*s:%d", (int)(strrchr(bind->text, ':') - bind->text), bind->text,
             http_server_port(s));
    log_info("http server listening", LF_S("address", where), LF_I("port", http_server_port(s)),
             LF_S("role", a->role == HTTP_ROLE_SERVE ? "serve" : "worker"),
             LF_B("token", token != NULL && token[0] != '\0'), LF_B("cluster_metrics", a->cluster_metrics));
    /* The dashboard's samples on a thread of their own (a slow Redis must
     * not delay the stop); it is left running when the process ends. */
    if (http_sampler_start(&sampler, err, sizeof err) != 0)
        log_warn("the dashboard's samples are off", LF_S("error", err));
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    log_info("http server stopping", LF_S("signal", sig == SIGINT ? "SIGINT" : "SIGTERM"));
    http_server_stop(s);
    return 0;
}

void http_app_close(http_app_t *a)
{
    rconn_lazy_drop(&a->redis);
    http_health_close();
    db_close(a->db);
    a->db = NULL;
}
