/* worker_scheduler.c — `tickq worker --scheduler` (worker_scheduler.h). */
#include "cmd/worker_scheduler.h"

#include <stdlib.h>

#include "core/log.h"
#include "sched/scheduler.h"

struct worker_scheduler {
    const config_t *cfg;
    const schedule_config_t *schedules;
    scheduler_t *scheduler;       /* NULL: not started, or stopped */
    rconn_t *conn;
    int64_t next_tick_ms;
};

worker_scheduler_t *worker_scheduler_new(const config_t *cfg, const schedule_config_t *schedules)
{
    worker_scheduler_t *w = calloc(1, sizeof *w);
    if (w != NULL) {
        w->cfg = cfg;
        w->schedules = schedules;
    }
    return w;
}

static int on_start(void *ctx)
{
    worker_scheduler_t *w = ctx;
    char err[1024];
    /* Its calls wait shutdown_wait at most, as `tickq scheduler`'s do. */
    w->conn = rconn_open(&w->cfg->url, (int)w->schedules->shutdown_wait_ms, err, sizeof err);
    if (w->conn == NULL) {
        log_error("cannot connect the scheduler to Redis", LF_S("error", err));
        return -1;
    }
    rconn_set_name(w->conn, "tickq-scheduler");
    w->scheduler = scheduler_new(w->schedules, w->cfg, w->conn);
    if (w->scheduler == NULL) {
        rconn_free(w->conn);
        w->conn = NULL;
        return -1;
    }
    scheduler_banner(w->scheduler);
    return 0;
}

static void on_tick(void *ctx, int64_t now_ms, int stopping)
{
    worker_scheduler_t *w = ctx;
    if (w->scheduler != NULL && !stopping && now_ms >= w->next_tick_ms)
        w->next_tick_ms = now_ms + scheduler_tick(w->scheduler);
}

/* The child has no use for the scheduler's connection. */
static void on_forked(void *ctx)
{
    worker_scheduler_t *w = ctx;
    rconn_free(w->conn);
}

/* Stops firing and gives the lease up: another replica takes over. */
static void on_stopping(void *ctx)
{
    worker_scheduler_t *w = ctx;
    if (w->scheduler == NULL)
        return;
    scheduler_stop(w->scheduler);
    scheduler_free(w->scheduler);
    rconn_free(w->conn);
    w->scheduler = NULL;
    w->conn = NULL;
}

supervisor_companion_t worker_scheduler_companion(worker_scheduler_t *w)
{
    return (supervisor_companion_t){ .ctx = w, .start = on_start, .tick = on_tick, .forked = on_forked,
                                     .stopping = on_stopping };
}

void worker_scheduler_free(worker_scheduler_t *w)
{
    if (w == NULL)
        return;
    on_stopping(w);
    free(w);
}
