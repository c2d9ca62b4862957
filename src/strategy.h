/* strategy.h — user strategies in Lua 5.4, evaluated in a sandbox.
 *
 * A strategy is Lua source defining a function that takes a data frame `df`
 * (all requested symbols' rows, sorted by ticker then date) and returns
 * either a list of instances (backtest, screening) or an array of target
 * positions aligned with df's rows (portfolio backtest). strategy_run forks
 * a sandbox child (sandbox.h) that inherits the frame's memory, runs the
 * code in a Lua state with only safe libraries, an instruction hook for the
 * time limit and a capped allocator, and sends back a JSON envelope. */
#ifndef TICKQ_STRATEGY_H
#define TICKQ_STRATEGY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "bars.h"
#include "feature.h"

/* The rows a strategy sees: of each series of `set`, [lo[i], hi[i]). The
 * feature frame covers whole series, so rolling features are warmed up by
 * the history before each window. */
typedef struct {
    const bar_set_t *set;
    feature_frame_t *features;
    const size_t *lo, *hi;
    size_t rows;                 /* sum of hi - lo */
    int daily;                   /* dates as YYYY-MM-DD, else ISO 8601 */
} strategy_frame_t;

typedef enum { STRATEGY_INSTANCES, STRATEGY_POSITIONS } strategy_mode_t;

typedef struct {
    const char *code;
    size_t code_len;
    const char *entry;           /* NULL: the one function the code defines */
    size_t memory_bytes;
    int64_t time_limit_ms;
    strategy_mode_t mode;
    const strategy_frame_t *frame;
} strategy_job_t;

/* Runs the strategy. Returns 0 with *result: {"instances": [...]} or
 * {"positions": [...]}, plus "columns" (the feature columns it used) and
 * "output" (what it printed, if anything). Returns -1 with the message the
 * job's result should carry ("Strategy error: ...", "Strategy exceeded time
 * limit (30 s)", "Security validation failed: ..."). */
int strategy_run(const strategy_job_t *job, json_t **result, char *error, size_t errlen);

/* 1 when `code` looks like Python rather than Lua (def/import/from/class at
 * the start of a line, no Lua `function`). */
int strategy_is_python(const char *code);

/* --- used by strategy.c and strategy_frame.c ------------------------- */
struct lua_State;
/* Pushes the df table for frame; records used feature columns in the
 * registry. */
void strategy_push_frame(struct lua_State *L, const strategy_frame_t *frame);
/* Registers the array kernels (sma, ema, rsi, ..., crossover) as globals. */
void strategy_open_kernels(struct lua_State *L, const strategy_frame_t *frame);
/* The feature columns df materialised, as a JSON array (new reference). */
json_t *strategy_used_columns(struct lua_State *L);

#endif
