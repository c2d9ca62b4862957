/* optimize_walk.h — walk-forward optimisation for the optimize task
 * (docs/optimize.md, "Walk-forward"): the window's bars cut into folds, a
 * train window each on which the combinations are ranked, then the chosen
 * params run on the test window that follows; the test runs' equity
 * curves stitched into one out-of-sample curve.
 *
 * Folds step by the test length: fold k trains on bars [k*test, k*test +
 * train) (anchored: [0, k*test + train)) and tests on the test bars after
 * it; only whole test windows count. */
#ifndef TICKQ_OPTIMIZE_WALK_H
#define TICKQ_OPTIMIZE_WALK_H

#include <jansson.h>
#include <stddef.h>

#include "core/task.h"

#define WALK_BARS_MAX 1000000
#define WALK_FOLDS_MAX 1000

typedef struct {
    long long train_bars, test_bars;
    int anchored;
} walk_forward_t;

/* Reads a walk_forward value into *wf: {"train_bars": N, "test_bars": N,
 * "anchored": false}, nothing else. 0, or -1 with err naming what is
 * wrong. */
int walk_forward_parse(const json_t *w, walk_forward_t *wf, char *err, size_t errlen);

/* Checks args' walk_forward (absent or null: *on = 0) and reads it into
 * *wf (walk_forward_parse), only with task portfolio_backtest (its equity
 * curves are stitched) and without score_from. 0, or -1 with err naming
 * what is wrong. */
int walk_forward_read(const json_t *args, int *on, walk_forward_t *wf, char *err, size_t errlen);

/* The folds of the strategy task `sub` whose args are sub_args (symbols,
 * start_date, end_date, interval), cut from the dates that have a bar of
 * any of its symbols: TASK_OK with a new array in *folds of {"fold" (1, 2,
 * ...), "train": {"start", "end", "bars"}, "test": {...}}, the dates as
 * the task takes them; or the failure with out filled (permanent: too few
 * bars for one fold, unknown symbols; transient: the database). */
task_status_t walk_forward_folds(const task_ctx_t *ctx, const task_def_t *sub, const json_t *sub_args,
                                 const walk_forward_t *wf, json_t **folds, task_out_t *out);

/* sub_args with the window of fold's `part` ("train" or "test") as
 * start_date and end_date (a new object). */
json_t *walk_forward_window(const json_t *sub_args, const json_t *fold, const char *part);

/* Runs `sub` over fold's test window with `params`, the train window as
 * its warm-up (start_date the train start, score_from the test start):
 * TASK_OK with its result data (new) in *data, or the failure with out
 * filled. */
task_status_t walk_forward_test(const task_ctx_t *ctx, const task_def_t *sub, const json_t *sub_args,
                                const json_t *fold, const json_t *params, json_t **data, task_out_t *out);

/* The test runs' equity curves (datas: portfolio_backtest result data, in
 * fold order) chained into one, each scaled to start where the one before
 * ended: {"equity_curve": [{date, equity}...], "initial_capital",
 * "final_equity", "total_return"}. */
json_t *walk_forward_stitch(const json_t *datas, double initial_capital);

#endif
