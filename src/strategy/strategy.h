/* strategy.h — user strategies in Lua 5.4 or Python, evaluated in a sandbox.
 *
 * A strategy is Lua source defining a function that takes a data frame `df`
 * (all requested symbols' rows, sorted by ticker then date) and returns
 * either a list of instances (backtest, screening) or an array of target
 * positions aligned with df's rows (portfolio backtest). strategy_run forks
 * a sandbox child (sandbox.h) that inherits the frame's memory, runs the
 * code in a Lua state with only safe libraries, an instruction hook for the
 * time limit and a capped allocator; the task's finish step turns the
 * strategy's return value into the task's result there, in the sandbox, and
 * only that result comes back. A Python strategy runs in a child of the
 * worker's Python host (strategy_python.h) and returns its value as JSON,
 * which the worker reads back into a Lua state capped at the strategy's
 * memory_mb (strategy_json.h), in a protected call, to meet the same
 * finish step. */
#ifndef TICKQ_STRATEGY_H
#define TICKQ_STRATEGY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/json_writer.h"
#include "data/bars.h"
#include "data/feature.h"

/* The rows a strategy sees: of each series of `set`, [lo[i], hi[i]). The
 * feature frame covers whole series, so rolling features are warmed up by
 * the history before each window. */
typedef struct {
    const bar_set_t *set;
    feature_frame_t *features;
    const size_t *lo, *hi;
    size_t rows;                 /* sum of hi - lo */
    int daily;                   /* dates as YYYY-MM-DD, else ISO 8601 */
    uint64_t generation;         /* the bar cache load it comes from (bar_cache.h) */
} strategy_frame_t;

struct lua_State;
struct strategy_job;

/* A task's own step after the strategy returned, run in the sandbox child
 * with the return value at index `ret`: checks it and turns it into the
 * task's result, so that only the result crosses the pipe. Returns a JSON
 * object (the task's result fields) and may write one large JSON value into
 * `raw` (a backtest's instances), which the worker splices into the result
 * as text; NULL with `why` when the strategy broke its contract (reported as
 * "Strategy error: <why>"). Lua values are read raw (no metamethods). */
typedef json_t *(*strategy_finish_fn)(struct lua_State *L, int ret, void *ctx, json_writer_t *raw, char *why,
                                      size_t whylen);

typedef struct strategy_job {
    const char *code;
    size_t code_len;
    const char *entry_point;     /* the function to run (the task's "entry"); NULL: the one the code defines */
    size_t memory_bytes;
    int64_t time_limit_ms;
    const strategy_frame_t *frame;
    strategy_finish_fn finish;
    void *finish_ctx;
    int python;                  /* the code is Python (strategy_python.h), else Lua */
    int positions;               /* it returns positions (portfolio_backtest), else instances */
    int cold;                    /* 1: run in a fresh Lua state and leave the warm one (for the full
                                  * frame) as it is: a look-ahead re-run on a cut frame */
    const json_t *params;        /* the strategy's second argument, a JSON object (the task's
                                  * "params"); NULL: it gets df alone */
} strategy_job_t;

/* How the strategy_runs of this process since strategy_split_reset spent
 * their time, added up: the strategy function (Lua: its call; Python: its
 * evaluation in the host, the host's start included) and the finish step
 * (the task's simulation and metrics, strategy_finish_fn), as measured
 * where they ran; total_ms is the whole runs, the sandbox's start, the
 * reply and its reading included. known is 0 when a run failed or did not
 * report them, or none ran. For a report of where a sweep's time goes (a
 * task with a look-ahead check runs the strategy several times). */
typedef struct {
    int known;
    double strategy_ms, finish_ms, total_ms;
} strategy_split_t;
void strategy_split_reset(void);
strategy_split_t strategy_split_read(void);

/* Runs the Lua strategy of `job` once per object of `params` (its second
 * argument), all in one sandbox child (wall_ms for them all), each in a
 * fresh Lua state with the job's memory and time limits: the work a
 * sandbox's start costs is paid once. datas[i] (n = the params' size) is
 * then run i's result data without its lists (trades, the curve), or
 * NULL for a run that did not complete there (its error, a limit, the
 * child's end): run it alone (strategy_run) for its own outcome. splits[i]
 * likewise (total_ms with its share of the child's cost). 0, or -1 with
 * error when no batch could run (a Python strategy, the sandbox). */
int strategy_run_batch(const strategy_job_t *job, const json_t *params, int64_t wall_ms, json_t **datas,
                       strategy_split_t *splits, char *error, size_t errlen);

/* Why a run failed. */
typedef enum {
    STRATEGY_FAILED,             /* the strategy's own error ("Strategy error: ...", "Security validation
                                  * failed: ...", a crash) */
    STRATEGY_NOT_STARTED,        /* the sandbox could not be set up ("Strategy could not start: ..."):
                                  * worth a retry */
    STRATEGY_INTERRUPTED,        /* the process running it ended from outside mid-run ("Strategy
                                  * interrupted: ..."): worth a retry */
    STRATEGY_TIME_LIMIT,         /* it ran out of its time ("Strategy exceeded time limit (30 s)") */
    STRATEGY_MEMORY_LIMIT        /* it ran out of its memory ("... memory limit (512 MiB)") */
} strategy_failure_t;

/* Whether a run that failed so is worth a retry: it could not start, or
 * was cut from outside; the others would fail the same way again. */
static inline int strategy_failure_transient(strategy_failure_t f)
{
    return f == STRATEGY_NOT_STARTED || f == STRATEGY_INTERRUPTED;
}

/* Runs the strategy. Returns 0 with *result: {"data": <what finish
 * returned>, "columns": [the df columns it used], "output": "what it
 * printed" (if anything), "output_truncated": true (when it printed more
 * than SANDBOX_OUTPUT_MAX)} and *raw (malloc'd, NUL-terminated; NULL when
 * none) with the raw text finish wrote. On failure returns -1 with the
 * failure's kind in *failure, the message the job's result should carry in
 * error and, in *result, what it printed before it failed ({"output",
 * "output_truncated"}; NULL when it printed nothing). */
int strategy_run(const strategy_job_t *job, json_t **result, char **raw, size_t *raw_len,
                 strategy_failure_t *failure, char *error, size_t errlen);

/* The error of a strategy past its memory_mb: "Strategy exceeded memory
 * limit (512 MiB)" (both languages, wherever it is found out). */
void strategy_memory_limit_message(size_t memory_bytes, char *out, size_t outlen);

/* 1 when `code` is taken for Python when the task does not say: some line
 * starts with def, import, from or class, and none with function or local. */
int strategy_is_python(const char *code);

/* Columns one run may add to the warm state (strategy_warm.c) and to the bar
 * cache's frame (bar_cache_warm): a strategy that reads thousands of
 * columns adds its first ones, the rest are computed when used. */
#define STRATEGY_WARM_COLUMNS 32

#endif
