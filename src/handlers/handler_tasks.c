/* handler_tasks.c — handler types in the task registry (handler_tasks.h). */
#include "handlers/handler_tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/errmsg.h"
#include "core/log.h"
#include "core/task.h"
#include "handlers/handler_proc.h"

static const handler_set_t *g_set;
static task_def_t *g_defs;
static const task_def_t **g_def_ptrs;
static char (*g_summaries)[160];
static task_family_t g_family;
static handler_proc_t **g_procs;   /* per handler, in a worker child */
static handler_proc_t *g_described; /* started by handler_tasks_describe */

/* The handler process serving a type, in this worker child. */
static handler_proc_t *proc_for(const char *type)
{
    const handler_def_t *h = g_set != NULL ? handler_config_for_type(g_set, type) : NULL;
    return h != NULL && g_procs != NULL ? g_procs[h - g_set->items] : NULL;
}

static handler_request_t request_of(const task_ctx_t *ctx)
{
    return (handler_request_t){
        .id = ctx->job_id, .type = ctx->type, .queue = ctx->queue, .args = ctx->args,
        .attempt = ctx->attempt, .max_retries = ctx->max_retries, .timeout_ms = ctx->timeout_ms,
        .deadline_ms = clock_now_ms() + (ctx->started_ms + ctx->timeout_ms - clock_mono_ms()),
    };
}

/* A handler's outcome as a task's status, with out filled. */
static task_status_t status_of(handler_outcome_t oc, json_t *data, const char *err, task_out_t *out)
{
    if (oc == HANDLER_DONE) {
        out->data = data;
        return TASK_OK;
    }
    json_decref(data);
    snprintf(out->error, sizeof out->error, "%s", err);
    errmsg_utf8_trim(out->error); /* a long error cut to the buffer */
    switch (oc) {
    case HANDLER_RETRY: return TASK_TRANSIENT;
    case HANDLER_FAIL: return TASK_PERMANENT;
    case HANDLER_TIMEOUT: return TASK_TIMEOUT;
    case HANDLER_CANCELLED: return TASK_CANCELLED;
    case HANDLER_NOT_STARTED: return TASK_NOT_RUN;
    default: return TASK_CRASHED;
    }
}

static task_status_t run_handler_job(const task_ctx_t *ctx, task_out_t *out)
{
    handler_proc_t *p = proc_for(ctx->type);
    if (p == NULL) /* registered, so it does not happen */
        return task_error(out, TASK_PERMANENT, "no handler serves task type '%s'", ctx->type);
    handler_request_t req = request_of(ctx);
    json_t *data = NULL;
    char err[sizeof out->error];
    int64_t retry_in_ms = 0;
    handler_outcome_t oc = handler_proc_run(p, &req, ctx->started_ms + ctx->timeout_ms, ctx->hooks, &data, err,
                                            sizeof err, &retry_in_ms);
    if (oc == HANDLER_NOT_STARTED) /* the job goes back: wait before this child takes it again */
        clock_sleep_ms(retry_in_ms < 1000 ? retry_in_ms : 1000, ctx->stopping);
    return status_of(oc, data, err, out);
}

/* Several jobs at once, for a handler announcing max_jobs above 1. */
static int async_capacity(const task_def_t *task)
{
    handler_proc_t *p = proc_for(task->name);
    return p != NULL ? handler_proc_capacity(p) : 1;
}

static const void *async_group(const task_def_t *task)
{
    return proc_for(task->name);
}

static int async_submit(const task_ctx_t *ctx, void *tag, task_done_t *done)
{
    handler_proc_t *p = proc_for(ctx->type);
    memset(done, 0, sizeof *done);
    done->tag = tag;
    if (p == NULL) {
        done->status = task_error(&done->out, TASK_PERMANENT, "no handler serves task type '%s'", ctx->type);
        return -1;
    }
    handler_request_t req = request_of(ctx);
    handler_done_t hd;
    if (handler_proc_submit(p, &req, ctx->started_ms + ctx->timeout_ms, ctx->hooks, tag, &hd) == 0)
        return 0;
    if (hd.outcome == HANDLER_NOT_STARTED)
        clock_sleep_ms(hd.retry_in_ms < 1000 ? hd.retry_in_ms : 1000, ctx->stopping);
    done->status = status_of(hd.outcome, hd.data, hd.err, &done->out);
    return -1;
}

static size_t async_collect(const void *group, int64_t wait_ms, task_done_t *done, size_t max)
{
    static handler_done_t *ended;
    static size_t room;
    handler_proc_t *p = (handler_proc_t *)group;
    if (room < max) {
        handler_done_t *grown = realloc(ended, max * sizeof *grown);
        if (grown == NULL)
            return 0;
        ended = grown;
        room = max;
    }
    size_t n = handler_proc_wait(p, wait_ms, ended, max);
    for (size_t i = 0; i < n; i++) {
        memset(&done[i], 0, sizeof done[i]);
        done[i].tag = ended[i].tag;
        done[i].status = status_of(ended[i].outcome, ended[i].data, ended[i].err, &done[i].out);
    }
    return n;
}

static const task_async_t handler_async = { async_capacity, async_group, async_submit, async_collect };

/* In a worker child, before each claim and while a handler's job runs:
 * what the idle handlers wrote meanwhile. */
static void child_idle(void)
{
    for (size_t i = 0; g_procs != NULL && i < g_set->n; i++)
        if (g_procs[i] != NULL)
            handler_proc_idle(g_procs[i]);
}

/* In a worker child: every handler started now, so the first job finds it
 * warm; one that cannot start is tried again by its next job. */
static void child_start(void)
{
    g_procs = calloc(g_set->n, sizeof *g_procs);
    for (size_t i = 0; g_procs != NULL && i < g_set->n; i++) {
        char err[1200];
        if ((g_procs[i] = handler_proc_new(&g_set->items[i])) == NULL)
            log_error("cannot set up a handler: out of memory", LF_S("handler", g_set->items[i].name));
        else if (handler_proc_start(g_procs[i], err, sizeof err) != 0)
            log_warn("handler did not start; its next job tries again", LF_S("handler", g_set->items[i].name),
                     LF_S("error", err));
        else if (handler_proc_check_types(g_procs[i], err, sizeof err) != 0)
            log_warn("handler does not serve every type its section lists: their jobs fail", LF_S("error", err));
    }
    if (g_procs == NULL)
        log_error("cannot set up the handlers: out of memory");
    handler_proc_set_meanwhile(child_idle);
}

static void child_stop(void)
{
    handler_proc_set_meanwhile(NULL);
    for (size_t i = 0; g_procs != NULL && i < g_set->n; i++)
        handler_proc_free(g_procs[i]);
    free(g_procs);
    g_procs = NULL;
}

int handler_tasks_register(const handler_set_t *set)
{
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++)
        n += set->items[i].ntypes;
    task_def_t *defs = calloc(n ? n : 1, sizeof *defs);
    const task_def_t **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    char (*summaries)[160] = calloc(n ? n : 1, sizeof *summaries);
    if (defs == NULL || ptrs == NULL || summaries == NULL) {
        free(defs);
        free(ptrs);
        free(summaries);
        return -1;
    }
    if (g_set != NULL) { /* a reload: the old ones go */
        task_unregister(&g_family);
        free(g_defs);
        free(g_def_ptrs);
        free(g_summaries);
    }
    g_defs = defs;
    g_def_ptrs = ptrs;
    g_summaries = summaries;
    size_t k = 0;
    for (size_t i = 0; i < set->n; i++)
        for (size_t t = 0; t < set->items[i].ntypes; t++, k++) {
            snprintf(g_summaries[k], sizeof g_summaries[k], "served by [handler %s] (its own code)",
                     set->items[i].name);
            g_defs[k] = (task_def_t){ .name = set->items[i].types[t], .run = run_handler_job,
                                      .summary = g_summaries[k], .args = NULL, .check = NULL,
                                      .stops_within_ms = set->items[i].cancel_grace_ms + 1000,
                                      .async = &handler_async };
            g_def_ptrs[k] = &g_defs[k];
        }
    g_set = set;
    g_family = (task_family_t){ g_def_ptrs, n, child_start, child_stop, child_idle };
    task_register(&g_family);
    return 0;
}

int handler_tasks_check(void (*say)(int ok, const char *name, const char *what))
{
    int bad = 0;
    for (size_t i = 0; g_set != NULL && i < g_set->n; i++) {
        const handler_def_t *h = &g_set->items[i];
        handler_proc_t *p = handler_proc_new(h);
        char err[1200], types[800], what[1300];
        if (p == NULL) {
            say(0, h->name, "out of memory");
            bad++;
            continue;
        }
        if (handler_proc_start(p, err, sizeof err) != 0 || handler_proc_check_types(p, err, sizeof err) != 0) {
            say(0, h->name, err);
            bad++;
        } else {
            handler_types_text(h, types, sizeof types);
            snprintf(what, sizeof what, "started and announced %s (max_jobs %d)", types,
                     handler_proc_hello(p)->max_jobs);
            say(1, h->name, what);
        }
        handler_proc_free(p);
    }
    return bad;
}

const handler_set_t *handler_tasks_set(void)
{
    return g_set;
}

int handler_tasks_serves(const char *name)
{
    return g_set != NULL && handler_config_for_type(g_set, name) != NULL;
}

int handler_tasks_describe(const char *type, const task_arg_t **table, char *err, size_t errlen)
{
    handler_tasks_describe_end();
    const handler_def_t *h = g_set != NULL ? handler_config_for_type(g_set, type) : NULL;
    if (h == NULL) {
        snprintf(err, errlen, "no handler serves task type '%s'", type);
        return -1;
    }
    if ((g_described = handler_proc_new(h)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (handler_proc_start(g_described, err, errlen) != 0 || handler_proc_check_types(g_described, err, errlen) != 0)
        return -1;
    *table = handler_schema_table(handler_proc_hello(g_described)->schema, type);
    return *table != NULL;
}

void handler_tasks_describe_end(void)
{
    handler_proc_free(g_described);
    g_described = NULL;
}
