/* strategy.h — user strategies in Lua 5.4, evaluated in a sandbox.
 *
 * A strategy is Lua source defining a function that takes a data frame `df`
 * (all requested symbols' rows, sorted by ticker then date) and returns
 * either a list of instances (backtest, screening) or an array of target
 * positions aligned with df's rows (portfolio backtest). strategy_run forks
 * a sandbox child (sandbox.h) that inherits the frame's memory, runs the
 * code in a Lua state with only safe libraries, an instruction hook for the
 * time limit and a capped allocator; the task's finish step turns the
 * strategy's return value into the task's result there, in the sandbox, and
 * only that result comes back. */
#ifndef TICKQ_STRATEGY_H
#define TICKQ_STRATEGY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "data/bars.h"
#include "data/feature.h"
#include "core/json_writer.h"

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
    const char *entry;           /* NULL: the one function the code defines */
    size_t memory_bytes;
    int64_t time_limit_ms;
    const strategy_frame_t *frame;
    strategy_finish_fn finish;
    void *finish_ctx;
    int cold;                    /* 1: run in a fresh Lua state and leave the warm one (for the full
                                  * frame) as it is: a look-ahead re-run on a cut frame */
} strategy_job_t;

/* Runs the strategy. Returns 0 with *result: {"data": <what finish
 * returned>, "columns": [the df columns it used], "output": "what it
 * printed" (if anything), "output_truncated": true (when it printed more
 * than SANDBOX_OUTPUT_MAX)} and *raw (malloc'd, NUL-terminated; NULL when
 * none) with the raw text finish wrote. On failure returns the error's kind
 * with the message the job's result should carry and, in *result, what it
 * printed before it failed ({"output", "output_truncated"}; NULL when it
 * printed nothing): -1 for the strategy's own error ("Strategy error: ...",
 * "Security validation failed: ...", a crash), STRATEGY_TIME_LIMIT
 * ("Strategy exceeded time limit (30 s)"), STRATEGY_MEMORY_LIMIT ("...
 * memory limit (512 MiB)"), or
 * STRATEGY_NOT_STARTED ("Strategy could not start: ...") when no sandbox
 * could be made. */
#define STRATEGY_NOT_STARTED (-2) /* the sandbox could not be set up: worth a retry */
#define STRATEGY_TIME_LIMIT (-3)   /* it ran out of its time */
#define STRATEGY_MEMORY_LIMIT (-4) /* it ran out of its memory */
int strategy_run(const strategy_job_t *job, json_t **result, char **raw, size_t *raw_len, char *error,
                 size_t errlen);

/* --- for finish steps (in the sandbox child) --------------------------- */
/* Checks a list of instances at `idx`: *n entries. nil (a strategy that
 * forgot its `return`) is an error; an empty list is no signals. */
int strategy_instances(struct lua_State *L, int idx, size_t *n, char *why, size_t whylen);
/* Pushes instance i (1-based) of the list at `list`; -1 with why when it is
 * not a table of fields (nothing pushed). */
int strategy_instance(struct lua_State *L, int list, size_t i, char *why, size_t whylen);
/* Where instance i (the table at idx) points: its `ticker` (a non-empty
 * string, valid while the table is) and its `date` (an ISO 8601 string, as
 * epoch seconds). -1 with why naming the instance and the key when either
 * is missing or malformed ("instance 3 has no 'ticker' (it has: date,
 * signal, symbol)"): a malformed signal is an error, never a signal that is
 * quietly dropped. Whether the place is a bar of the frame is the task's
 * question. */
int strategy_instance_where(struct lua_State *L, int idx, size_t i, const char **ticker, int64_t *ts, char *why,
                            size_t whylen);
/* A string field of the table at idx, or NULL (valid while the table is). */
const char *strategy_field_string(struct lua_State *L, int idx, const char *key);
/* A number field, or NaN. */
double strategy_field_number(struct lua_State *L, int idx, const char *key);
/* Writes any Lua value as JSON (tables: arrays or objects of string keys,
 * at most 8 deep). 0, or -1 with why. */
int strategy_write_value(struct lua_State *L, int idx, json_writer_t *w, int depth, char *why, size_t whylen);
/* Writes the `"key":value` pairs of the table at idx, except the keys in
 * `skip` (NULL-terminated, may be NULL), each after a comma unless `first`
 * and none written yet. Returns the number written, or -1 with why. */
int strategy_write_fields(struct lua_State *L, int idx, json_writer_t *w, const char *const *skip, int first,
                          int depth, char *why, size_t whylen);

/* A string the strategy made, for an error message: its first 40 bytes,
 * printable ASCII only (others as '?'), "..." when cut; outlen >= 48. */
void strategy_quote(const char *s, char *out, size_t outlen);

/* A JSON string (new reference) of bytes that may not be UTF-8 (what a
 * strategy printed, its error message): when they are not, every byte from
 * 0x80 up (and NUL) becomes '?'. Never NULL but out of memory. */
json_t *strategy_json_text(const char *s, size_t len);

/* 1 when `code` looks like Python rather than Lua: some line starts with
 * def, import, from or class, and none with function or local. */
int strategy_is_python(const char *code);

/* --- used by strategy.c and strategy_frame.c ------------------------- */
/* Pushes the df table for frame (its columns materialise on first use, or
 * come from those built before); records the columns used. */
void strategy_push_frame(struct lua_State *L, const strategy_frame_t *frame);
/* Registers the array kernels (sma, ema, rsi, ..., crossover) as globals. */
void strategy_open_kernels(struct lua_State *L);
/* Replaces tostring, print and string.format with versions that name
 * tables, functions, coroutines and userdata without their address
 * ("table: #1"; strategy_tostring.c). */
void strategy_open_tostring(struct lua_State *L);
/* What results report as the columns offered to a strategy: the named ones
 * (ticker, date, OHLCV, prev_close, gap_pct, return_pct, volume_ratio, macd,
 * macd_signal, macd_hist) and the parametric ones it used (sma_20 ...). */
#define STRATEGY_NAMED_COLUMNS 14
size_t strategy_offered_columns(struct lua_State *L);
/* The df columns used (ticker and date too), as a JSON array (new reference). */
json_t *strategy_used_columns(struct lua_State *L);
/* Builds column `name` of frame into the state, for the df of later
 * evaluations, in a protected call: 0, or -1 when it is no column or the
 * state's allocator refused (nothing built). */
int strategy_build_column(struct lua_State *L, const strategy_frame_t *frame, const char *name);
/* Forgets a column built before (garbage for the next collection). */
void strategy_drop_column(struct lua_State *L, const char *name);
/* Columns one run may add to the warm state (strategy.c) and to the bar
 * cache's frame (bar_cache_warm): a strategy that reads thousands of
 * columns adds its first ones, the rest are computed when used. */
#define STRATEGY_WARM_COLUMNS 32

#endif
