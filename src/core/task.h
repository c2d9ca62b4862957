/* task.h — the task registry: every job type a worker can run, by name.
 *
 * A task is a task_def_t, defined next to its code: its name, its handler,
 * a one-line summary, the table of the arguments it takes (task_schema.h)
 * and an optional check of what a table cannot say (one argument against
 * another, the worker's environment). The worker checks a job's args with
 * task_check before the handler runs, so a handler only sees args of the
 * declared names, types and ranges; it reads them with task_arg_*(), which
 * supply the declared defaults.
 *
 * A handler returns TASK_OK with a JSON object in out->data (stored under
 * "data" in task_result), or an error status with a message in out->error
 * (and optional out->details).
 *
 * The registry knows no task family: each domain exports its family's
 * table (task_family_t) and the composition above them registers them in
 * the order `tickq tasks` lists (cmd/tasks_all.h), before any task is
 * looked up. */
#ifndef TICKQ_TASK_H
#define TICKQ_TASK_H

#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stddef.h>

#include "core/task_env.h"
#include "core/task_schema.h"

typedef enum {
    TASK_OK = 0,
    TASK_TRANSIENT, /* worth retrying: a network hiccup, a busy resource */
    TASK_PERMANENT, /* retrying cannot help: bad input */
    /* For a task that stops itself (task_def_t.stops_within_ms): */
    TASK_TIMEOUT,   /* stopped at the job's deadline: a timeout, retried */
    TASK_CANCELLED, /* stopped because the job was cancelled */
    TASK_CRASHED,   /* the process running it died: a crashed attempt, retried */
    TASK_NOT_RUN,   /* it could not start (its handler would not): back to its
                     * queue, the attempt not charged */
    TASK_WAIT_CHILDREN /* out->data is {"children": [jobs, as POST /api/tasks takes them],
                     * "policy": "fail" | "continue"}: they are enqueued and the job waits for
                     * them (a flow's parent), then runs again (its next attempt), when
                     * hooks->children gives their results */
} task_status_t;

/* What the worker offers a running task beyond its job. */
typedef struct {
    void *user;
    /* Reports progress (fraction 0 to 1, a message or ""): shown in the
     * job's running result; call as often as you like, the worker writes at
     * most a few a second. */
    void (*progress)(void *user, double fraction, const char *message);
    /* Has the job been cancelled (tickq cancel)? One Redis round trip:
     * poll it a few times a second at most. */
    int (*cancel_requested)(void *user);
    /* The job's children (TASK_WAIT_CHILDREN), once they have ended: a new
     * array of {"id", "state", "result" (their task_result, or null)}, in
     * the order they were given; [] when it has none (its first run). NULL
     * with err on Redis trouble. */
    json_t *(*children)(void *user, char *err, size_t errlen);
} task_hooks_t;

struct task_def;

typedef struct {
    const char *job_id;
    const char *type;
    const char *queue;       /* logical queue */
    const char *worker_id;
    int attempt;             /* 1 on the first run */
    int max_retries;         /* retries the job may get */
    const json_t *args;      /* always a JSON object */
    volatile sig_atomic_t *stopping; /* set when the worker is shutting down */
    int64_t timeout_ms;      /* the job's timeout */
    int64_t started_ms;      /* when the attempt started (clock_mono_ms) */
    task_env_t *env;         /* what the worker offers beyond the job (task_env.h) */
    const struct task_def *task; /* the task being run (its argument table) */
    const task_hooks_t *hooks;   /* progress and cancel (never NULL) */
} task_ctx_t;

typedef struct {
    json_t *data;            /* owned reference; NULL means {} */
    char error[1024];
    /* Optional: JSON text (malloc'd) stored in data under raw_key as it is,
     * for a value too big to build as JSON and dump again. */
    char *raw;
    size_t raw_len;
    const char *raw_key;
    /* Optional, on an error: a JSON object (owned reference) of fields
     * added to the error result's data beside "error" (a strategy's
     * "strategy_output"); fields the queue writes itself win. */
    json_t *details;
} task_out_t;

typedef task_status_t (*task_run_fn)(const task_ctx_t *ctx, task_out_t *out);

/* Where a task's args are being checked: by a client submitting the job
 * (tickq enqueue, a schedule's config) or on behalf of the worker that will
 * run it (the worker itself, worker --check), whose environment (provider
 * settings, TICKQ_PROVIDER_ALLOW) then counts too. */
typedef enum { TASK_CHECK_CLIENT, TASK_CHECK_WORKER } task_check_where_t;

/* A job of an asynchronous task that ended (task_async_t.collect). */
typedef struct {
    void *tag;               /* the worker's, given to submit */
    task_status_t status;
    task_out_t out;          /* as run fills it */
} task_done_t;

/* A task that can run several jobs at once in a worker child (a handler
 * announcing max_jobs N): the worker submits jobs and collects their ends
 * instead of calling run for each. */
typedef struct task_async {
    /* How many jobs of this task may run at once now (1: run them one at a
     * time with run). */
    int (*capacity)(const struct task_def *task);
    /* Tasks of one group share that capacity (the types of one handler). */
    const void *(*group)(const struct task_def *task);
    /* Starts a job; ctx and what it points to stay valid until the job is
     * collected. 0; or -1 when it ended at once, *done filled. */
    int (*submit)(const task_ctx_t *ctx, void *tag, task_done_t *done);
    /* Waits up to wait_ms for jobs of the group to end; fills done (room
     * for capacity() of them) and returns how many ended. */
    size_t (*collect)(const void *group, int64_t wait_ms, task_done_t *done, size_t max);
} task_async_t;

/* A task's own check of args that passed its table: 0, or -1 with err. */
typedef int (*task_check_fn)(const json_t *args, task_check_where_t where, char *err, size_t errlen);

typedef struct task_def {
    const char *name;
    task_run_fn run;
    const char *summary;     /* one line for `tickq tasks` and error messages */
    const task_arg_t *args;  /* the arguments it takes; NULL: any object (echo) */
    task_check_fn check;     /* NULL: the table says it all */
    /* 0: the supervisor kills the worker child at the job's deadline and on
     * a cancel. > 0: the task stops itself then (a handler job: it polls
     * ctx->hooks->cancel_requested and returns TASK_TIMEOUT or
     * TASK_CANCELLED), within this long after the deadline; the
     * supervisor kills the child only if it has not. */
    int64_t stops_within_ms;
    const struct task_async *async; /* NULL: one job at a time, through run */
    /* A task that runs another (optimize runs a strategy task): `args`
     * lists its own arguments, and every other key is an argument of the
     * task inner() names from the job's args (NULL when they name none:
     * the table's check of the naming argument says why). A key of neither
     * table is unknown (task_schema_check_outer); the inner task's values
     * are for the task's own check. NULL: `args` lists every key. */
    const struct task_def *(*inner)(const json_t *args);
    const char *inner_doc;   /* with inner: a sentence saying which task takes the other keys (`tickq tasks`) */
} task_def_t;

/* A task family: the tasks one domain offers, in listing order. */
typedef struct {
    const task_def_t *const *defs;
    size_t n;
    /* Optional: called in each worker child when it starts and when it
     * stops (a handler family starts and stops its processes). */
    void (*child_start)(void);
    void (*child_stop)(void);
    /* Optional: called in each worker child before each claim (after each
     * batch of jobs, and about once a second while its queues are empty):
     * a handler family reads what its idle processes wrote meanwhile, which
     * would otherwise fill their pipes and stall a thread of theirs that
     * prints. */
    void (*child_idle)(void);
} task_family_t;

/* A family's initializer from its array of task_def_t pointers. */
#define TASK_FAMILY(defs) { (defs), sizeof (defs) / sizeof (defs)[0], NULL, NULL, NULL }

/* Adds a family's tasks after those registered before. The names must be
 * new and the registry has room for TASKS_MAX (both asserted). */
#define TASKS_MAX 512
void task_register(const task_family_t *family);

/* Removes a family registered before (a reload replaces the handler
 * family); the others keep their order. */
void task_unregister(const task_family_t *family);

/* Calls each family's child_start (in a worker child that starts), or
 * child_stop (one that stops), in registration order. */
void task_families_child_start(void);
void task_families_child_stop(void);
void task_families_child_idle(void);

/* The task registered as `name`, or NULL. */
const task_def_t *task_find(const char *name);
/* The registry, for listings: *n gets the number of entries. */
const task_def_t *const *task_all(size_t *n);

/* Checks a job's args (a JSON object) against the task's table (and, for a
 * task with an inner one, the keys of neither table), then its own check.
 * 0, or -1 with every problem named in err. */
int task_check(const task_def_t *task, const json_t *args, task_check_where_t where, char *err, size_t errlen);

/* The job's arguments by name, with the table's defaults (task_schema.h). */
static inline int task_arg_given(const task_ctx_t *ctx, const char *name)
{
    return task_schema_given(ctx->args, name);
}
static inline int task_arg_bool(const task_ctx_t *ctx, const char *name)
{
    return task_schema_bool(ctx->task->args, ctx->args, name);
}
static inline int64_t task_arg_int(const task_ctx_t *ctx, const char *name)
{
    return task_schema_int(ctx->task->args, ctx->args, name);
}
static inline double task_arg_number(const task_ctx_t *ctx, const char *name)
{
    return task_schema_number(ctx->task->args, ctx->args, name);
}
static inline const char *task_arg_string(const task_ctx_t *ctx, const char *name)
{
    return task_schema_string(ctx->task->args, ctx->args, name);
}
/* Writes "noop, echo, ..." (the registered names) into out. */
void task_names(char *out, size_t outlen);

/* Writes " (did you mean 'sleep'?)" into out when a registered name is
 * close to `word` (close_match.h), else "". */
void task_name_hint(const char *word, char *out, size_t outlen);

/* A JSON number, or null for NaN and infinities (results never hold NaN). */
json_t *json_number_or_null(double v);

/* Helper for handlers: formats out->error and returns `status`. */
task_status_t task_error(task_out_t *out, task_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
