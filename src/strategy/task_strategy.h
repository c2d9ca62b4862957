/* task_strategy.h — the strategy task types: backtest (signal backtest),
 * portfolio_backtest (position backtest), screening, and optimize (one of
 * them over a grid of params, with its chunks, optimize_chunk). */
#ifndef TICKQ_TASK_STRATEGY_H
#define TICKQ_TASK_STRATEGY_H

#include "core/task.h"

task_status_t task_backtest(const task_ctx_t *ctx, task_out_t *out);
task_status_t task_screening(const task_ctx_t *ctx, task_out_t *out);
task_status_t task_portfolio_backtest(const task_ctx_t *ctx, task_out_t *out);

extern const task_def_t task_def_backtest, task_def_screening, task_def_portfolio_backtest;
/* optimize: a strategy task over many params, fanned out (task_optimize.c). */
extern const task_def_t task_def_optimize, task_def_optimize_chunk;

/* The three, for the task registry (core/task.h). */
extern const task_family_t task_family_strategy;

#endif
