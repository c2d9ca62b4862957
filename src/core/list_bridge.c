/* list_bridge.c — the users' list protocol, C side (list_bridge.h). */
#include "core/list_bridge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/list_watch.h"
#include "core/log.h"

#define LIST_BATCH LIST_BATCH_MAX
#define LIST_ROUNDS 10
#define LIST_WARN_EVERY_MS 10000
#define LIST_OOM_RETRY_MS 1000
#define LIST_BURST_HOLD_MS 500

struct list_bridge {
    const config_t *cfg;
    int64_t next_import_ms;
    int64_t active_ms;            /* when an import last found entries */
    int64_t warned_ms;
    int import_ok;                /* the last import worked: the watch may wake it */
    list_watch_t *watch;          /* wakes the import when the list gets a task */
    list_import_t got;            /* the last import's reply */
    char err[1024];
};

list_bridge_t *list_bridge_new(const config_t *cfg)
{
    if (!cfg->list_queue[0])
        return NULL;
    char target[QUEUE_PHYS_MAX];
    queue_physical(cfg->list_target, "normal", target);
    int serves = 0;
    for (int q = 0; q < cfg->queues.n; q++)
        serves |= strcmp(cfg->queues.name[q], target) == 0;
    if (!serves) {
        log_info("not taking tasks from the list: this worker does not serve its target queue",
                 LF_S("list", cfg->list_queue), LF_S("target", target));
        return NULL;
    }
    list_bridge_t *b = calloc(1, sizeof *b);
    if (b == NULL) {
        log_error("cannot take tasks from the list: out of memory", LF_S("list", cfg->list_queue));
        return NULL;
    }
    b->cfg = cfg;
    b->watch = list_watch_new(&cfg->url, cfg->list_queue, cfg->command_timeout_ms);
    return b;
}

void list_bridge_free(list_bridge_t *b)
{
    if (b == NULL)
        return;
    list_watch_free(b->watch);
    free(b);
}

/* What a list import reported, one log line each: rejected entries and
 * duplicates at warning level, re-runs of finished ids at info level. */
static void log_list_event(const list_bridge_t *b, const list_event_t *e)
{
    const char *list = b->cfg->list_queue;
    switch (e->kind) {
    case LIST_REJECTED:
        if (e->task_id[0])
            log_warn("malformed task in the list: error result written, entry kept (tickq rejected)",
                     LF_S("list", list), LF_S("task_id", e->task_id), LF_S("error", e->error),
                     LF_S("entry", e->list_item), LF_S("rejected_id", e->rejected_id));
        else
            log_warn("malformed task in the list without a task_id: entry kept (tickq rejected)",
                     LF_S("list", list), LF_S("error", e->error), LF_S("entry", e->list_item),
                     LF_S("rejected_id", e->rejected_id));
        break;
    case LIST_DUPLICATE:
        log_warn("duplicate task in the list: its task_id is still waiting or running, not run again",
                 LF_S("list", list), LF_S("task_id", e->task_id), LF_S("state", e->state),
                 LF_S("job_args", e->job_args), LF_S("entry", e->list_item));
        break;
    case LIST_RERUN:
        log_info("finished task pushed again: running it again", LF_S("list", list), LF_S("task_id", e->task_id),
                 LF_I("run", e->run), LF_S("previous_state", e->state));
        break;
    }
}

static void import_list(list_bridge_t *b, queue_t *q, int64_t now, int64_t tick_ms)
{
    const char *list = b->cfg->list_queue;
    b->next_import_ms = now + tick_ms;
    for (int round = 0; round < LIST_ROUNDS; round++) {
        queue_status_t st = queue_list_import(q, list, b->cfg->list_target, LIST_BATCH, &b->got, b->err,
                                              sizeof b->err);
        if (st != QUEUE_OK) {
            b->import_ok = 0;
            if (st == QUEUE_ERR_OOM) /* not every tick: it will not pass soon, and each refusal asks INFO too */
                b->next_import_ms = now + LIST_OOM_RETRY_MS;
            if (now - b->warned_ms >= LIST_WARN_EVERY_MS) {
                b->warned_ms = now;
                log_warn("cannot take tasks from the list", LF_S("list", list), LF_S("error", b->err));
            }
            return;
        }
        b->import_ok = 1;
        for (size_t i = 0; i < b->got.nevents; i++)
            log_list_event(b, &b->got.events[i]);
        if (b->got.moved > 0 || b->got.duplicates > 0 || b->got.nevents > 0) {
            b->active_ms = now;
            log_debug("took tasks from the list", LF_S("list", list), LF_I("jobs", b->got.moved),
                      LF_I("reruns", b->got.reruns), LF_I("duplicates", b->got.duplicates));
        }
        long long remaining = b->got.remaining;
        list_import_clear(&b->got);
        if (remaining == 0)
            return;
    }
    b->next_import_ms = now; /* more than LIST_ROUNDS batches waiting: go on next turn */
}

void list_bridge_turn(list_bridge_t *b, queue_t *q, int64_t now_ms, int64_t tick_ms)
{
    if (now_ms >= b->next_import_ms && !rconn_broken(q->conn))
        import_list(b, q, now_ms, tick_ms);
    /* Woken by the watch, a task waits no tick; while imports fail, the
     * tick alone retries them (a watch would wake at once, again and again). */
    if (b->watch != NULL && b->import_ok)
        list_watch_arm(b->watch, now_ms);
}

int list_bridge_fd(const list_bridge_t *b)
{
    return b->watch != NULL ? list_watch_fd(b->watch) : -1;
}

void list_bridge_woken(list_bridge_t *b)
{
    if (list_watch_wake(b->watch))
        b->next_import_ms = 0;
}

int list_bridge_holds_burst(const list_bridge_t *b, int64_t now_ms)
{
    return b != NULL && b->active_ms != 0 && now_ms - b->active_ms < LIST_BURST_HOLD_MS;
}
