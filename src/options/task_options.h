/* task_options.h — the options tasks (docs/options.md):
 *
 * update_options_data: option chains from a provider (csv_dir, http_csv,
 *   synthetic) into option_quotes, every symbol or none.
 * calculate_iv_analysis: each contract's implied volatility and Greeks at
 *   its mid price (option_iv), and per symbol and day the 30-day ATM IV,
 *   IV rank, IV percentile, hv_20 and hv_60 (iv_history).
 * scan_opportunities: ranks premium-selling and premium-buying candidates
 *   from each symbol's latest IV history row and stores the list. */
#ifndef TICKQ_TASK_OPTIONS_H
#define TICKQ_TASK_OPTIONS_H

#include "core/task.h"

task_status_t task_update_options_data(const task_ctx_t *ctx, task_out_t *out);
task_status_t task_calculate_iv_analysis(const task_ctx_t *ctx, task_out_t *out);
task_status_t task_scan_opportunities(const task_ctx_t *ctx, task_out_t *out);

extern const task_def_t task_def_update_options_data, task_def_calculate_iv_analysis, task_def_scan_opportunities;

/* The three, for the task registry (core/task.h). */
extern const task_family_t task_family_options;

#endif
