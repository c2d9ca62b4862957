/* strategy_task.h — what the strategy tasks (backtest, portfolio_backtest,
 * screening) share: reading their arguments, loading bars through the
 * worker's cache, running the strategy, and JSON helpers. */
#ifndef TICKQ_STRATEGY_TASK_H
#define TICKQ_STRATEGY_TASK_H

#include <jansson.h>

#include "data/bars.h"
#include "strategy/strategy.h"
#include "core/task.h"
#include "data/task_args.h"

#define STRATEGY_MAX_SYMBOLS 5000
#define STRATEGY_PYTHON_MIN_MB 64     /* memory_mb's least for a Python strategy */

typedef struct {
    strategy_job_t job;          /* code, entry point, limits (mode set by the task) */
    int64_t time_limit_asked_ms; /* strategy_timeout_seconds, before the job's time left cuts job.time_limit_ms */
    char interval[BAR_INTERVAL_MAX + 1];
    const char **symbols;        /* sorted, distinct; point into args */
    size_t nsymbols;
    bar_set_t *set;              /* from the worker's cache, after load */
    feature_frame_t *features;
    size_t *lo, *hi;             /* the window of each series */
    strategy_frame_t frame;
} strategy_task_t;

/* The arguments every strategy task takes, for its table: the code first,
 * the options last (task_schema.h). */
#define STRATEGY_CODE_ARG                                                                                      \
    { .name = "strategy_code", .type = TASK_ARG_STRING, .flags = TASK_ARG_REQUIRED,                            \
      .doc = "the strategy's source: Lua or Python defining one function that takes df (docs/strategies.md)" }
#define STRATEGY_WINDOW_ARGS                                                                                   \
    { .name = "start_date", .type = TASK_ARG_TIME, .flags = TASK_ARG_REQUIRED,                                 \
      .doc = "the window's first bar time (a date alone: from 00:00 UTC)" },                                   \
    { .name = "end_date", .type = TASK_ARG_TIME, .flags = TASK_ARG_REQUIRED,                                   \
      .doc = "the window's last bar time (a date alone: through 23:59:59 UTC); not before start_date" }
#define STRATEGY_OPTION_ARGS                                                                                   \
    { .name = "interval", .type = TASK_ARG_STRING, .str = "1d", .type_doc = "bar interval",                    \
      .check = task_interval_check, .doc = "the bars' interval: 1d, 1wk, 1h, 15m, ... (as stored)" },          \
    { .name = "language", .type = TASK_ARG_ENUM, .choices = "lua, python",                                     \
      .default_doc = "detected from the code",                                                                 \
      .doc = "the strategy's language: code with a line starting def, import, from or class and none "          \
             "starting function or local is Python" },                            \
    { .name = "entry", .type = TASK_ARG_STRING, .default_doc = "the one function the code defines",            \
      .doc = "the name of the function to call" },                                                             \
    { .name = "strategy_timeout_seconds", .type = TASK_ARG_NUMBER, .flags = TASK_ARG_ABOVE_MIN, .min = 0,     \
      .max = 86400, .num = 30,                                                                                 \
      .doc = "the strategy's time limit; cut to what is left of the job's own timeout" },                     \
    { .name = "memory_mb", .type = TASK_ARG_INT, .min = 16, .max = 65536, .num = 512,                         \
      .doc = "the sandbox's memory limit, in MiB (Python: at least 64, beyond the warm interpreter and df)" },  \
    { .name = "params", .type = TASK_ARG_OBJECT, .check = strategy_params_check,                               \
      .default_doc = "none: the strategy gets df alone",                                                       \
      .doc = "the strategy's parameters, its second argument: function s(df, params) / def s(df, params=None)" }

/* The check of a strategy's params: a JSON object of at most
 * STRATEGY_PARAMS_MAX_BYTES as compact JSON, nested at most
 * STRATEGY_PARAMS_MAX_DEPTH deep (task_arg_check_fn). */
#define STRATEGY_PARAMS_MAX_BYTES (64 * 1024)
#define STRATEGY_PARAMS_MAX_DEPTH 8
int strategy_params_check(const char *what, const json_t *v, char *err, size_t errlen);

/* Reads strategy_code, language, entry, strategy_timeout_seconds (clamped
 * to the job's timeout at the run), memory_mb and interval, as checked by
 * the task's table. TASK_OK, or TASK_PERMANENT with out->error. */
task_status_t strategy_task_args(const task_ctx_t *ctx, strategy_task_t *t, task_out_t *out);

/* The task check of start_date <= end_date (task.h). */
int strategy_window_check(const json_t *args, task_check_where_t where, char *err, size_t errlen);

/* Takes the (checked) list of symbols args[field], sorted and distinct. */
task_status_t strategy_task_symbols(const task_ctx_t *ctx, const char *field, strategy_task_t *t, task_out_t *out);

/* A checked ISO 8601 date or time argument in epoch seconds; a date alone
 * covers its whole day (end_of_day picks its last second). Absent: dflt. */
int64_t strategy_task_time(const task_ctx_t *ctx, const char *field, int end_of_day, int64_t dflt);

/* Loads every stored bar of the symbols (worker cache) and allocates the
 * window arrays (all empty). A database failure is TASK_TRANSIENT. */
task_status_t strategy_task_load(const task_ctx_t *ctx, strategy_task_t *t, task_out_t *out);

/* A cost argument in basis points as a fraction (1 bp = 0.0001). */
double strategy_task_bps(const task_ctx_t *ctx, const char *field);

/* Reads start_date and end_date (a date alone covers its whole day), loads
 * the bars and sets each series' window to [start, end]. Fails
 * (permanently) on unknown symbols or an empty window.
 * *processed gets the symbols with at least one bar in the window. */
task_status_t strategy_task_range(const task_ctx_t *ctx, strategy_task_t *t, int64_t *start, int64_t *end,
                                  size_t *processed, task_out_t *out);

/* Lists the requested symbols with no bars at all; "" when none. */
void strategy_task_missing(const strategy_task_t *t, char *out, size_t outlen);

/* Sets the frame from the windows (lo, hi), clamps the strategy's time
 * limit to what is left of the job's time, and runs it with `finish`:
 * strategy_run's return value and outputs (strategy.h). */
int strategy_task_eval(const task_ctx_t *ctx, strategy_task_t *t, strategy_finish_fn finish, void *finish_ctx,
                       json_t **result, char **raw, size_t *raw_len, strategy_failure_t *failure, char *error,
                       size_t errlen);

/* strategy_task_eval once per object of `params` in one sandbox child
 * (strategy_run_batch: datas[i] and splits[i] per run; NULL for a run to
 * do alone), all of them within the job's time left. */
int strategy_task_eval_batch(const task_ctx_t *ctx, strategy_task_t *t, strategy_finish_fn finish, void *finish_ctx,
                             const json_t *params, json_t **datas, strategy_split_t *splits, char *error,
                             size_t errlen);

/* Runs the strategy with the task's finish step (strategy_task_eval); on
 * success *data holds what finish returned (plus "strategy_output" when it
 * printed), `raw_key` the raw text it wrote, if any (in out->raw), and the
 * used columns are warmed in the cache. On failure out->error has the
 * message and out->details what it printed ("strategy_output"). */
task_status_t strategy_task_run(const task_ctx_t *ctx, strategy_task_t *t, strategy_finish_fn finish,
                                void *finish_ctx, const char *raw_key, json_t **data, task_out_t *out);


void strategy_task_free(strategy_task_t *t);

/* The end of a strategy task: on TASK_OK, `data` (taken) with its
 * "execution_time_ms" since t0 (clock_mono_us) becomes out->data, else it
 * is dropped; frees t and returns st. */
task_status_t strategy_task_done(strategy_task_t *t, task_status_t st, json_t *data, int64_t t0, task_out_t *out);

/* Index of the first ts >= x (lower) or > x (upper) in a sorted array. */
size_t strategy_lower_bound(const int64_t *ts, size_t n, int64_t x);
size_t strategy_upper_bound(const int64_t *ts, size_t n, int64_t x);


#endif
