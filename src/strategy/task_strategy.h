/* task_strategy.h — the strategy task types: backtest (signal backtest),
 * portfolio_backtest (position backtest), screening, and optimize (one of
 * them over a grid of params, with its chunks, optimize_chunk). */
#ifndef TICKQ_TASK_STRATEGY_H
#define TICKQ_TASK_STRATEGY_H

#include "core/task.h"
#include "strategy/strategy.h"

task_status_t task_backtest(const task_ctx_t *ctx, task_out_t *out);
task_status_t task_screening(const task_ctx_t *ctx, task_out_t *out);
task_status_t task_portfolio_backtest(const task_ctx_t *ctx, task_out_t *out);
/* optimize's fast path: portfolio_backtest over ctx->args (no params of
 * its own, a Lua strategy, no check_lookahead) once per object of `params`,
 * all in one sandbox (strategy_task_eval_batch): datas[i] is run i's
 * result data without its lists, or NULL for a run to do alone. A status
 * other than TASK_OK: nothing ran in a batch (run each alone). */
task_status_t task_portfolio_sweep(const task_ctx_t *ctx, const json_t *params, json_t **datas,
                                   strategy_split_t *splits, task_out_t *out);

extern const task_def_t task_def_backtest, task_def_screening, task_def_portfolio_backtest;
/* optimize: a strategy task over many params, fanned out (task_optimize.c). */
extern const task_def_t task_def_optimize, task_def_optimize_chunk;

/* The three, for the task registry (core/task.h). */
extern const task_family_t task_family_strategy;

#endif
