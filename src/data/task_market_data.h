/* task_market_data.h — the market-data task: update_stock_data fetches
 * bars from a provider (market_data_provider.h) and upserts them. */
#ifndef TICKQ_TASK_MARKET_DATA_H
#define TICKQ_TASK_MARKET_DATA_H

#include "core/task.h"

/* args: {"symbols": [...] | "all", "provider": {...} (default: from the
 * worker's TICKQ_MARKET_DATA_* environment), "interval": "1d"}. Writes
 * every symbol's bars in one transaction, or nothing when any symbol
 * fails (docs/market_data.md). */
task_status_t task_update_stock_data(const task_ctx_t *ctx, task_out_t *out);

extern const task_def_t task_def_update_stock_data;

/* The market-data tasks, for the task registry (core/task.h). */
extern const task_family_t task_family_market_data;

#endif
