/* task_strategy.c — the strategy task family's table, for the task
 * registry (task_strategy.h). */
#include "strategy/task_strategy.h"

static const task_def_t *const strategy_tasks[] = {
    &task_def_backtest,
    &task_def_portfolio_backtest,
    &task_def_screening,
    &task_def_optimize,
    &task_def_optimize_chunk,
};

const task_family_t task_family_strategy = TASK_FAMILY(strategy_tasks);
