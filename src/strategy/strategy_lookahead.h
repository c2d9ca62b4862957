/* strategy_lookahead.h — the look-ahead check: does a strategy's output up
 * to a date change when the bars after that date are removed?
 *
 * A strategy that peeks at later bars (df.close[i + 1], the frame's last
 * date, df.n) produces signals a live run could never have produced. The
 * check re-runs it on the frame cut at a sample of dates (at most
 * LOOKAHEAD_MAX_CUTS: half among its own signal dates, where a signal that
 * needed later bars disappears, half among the frame's other dates, where
 * one that later bars suppressed appears; each half evenly spaced over its
 * sorted dates, so the same run always gives the same cuts) and compares: every signal
 * (backtest) or position (portfolio backtest) dated up to the cut must come
 * out of the cut run exactly as it came out of the full one. A cut keeps,
 * of each series, the window bars dated at or before the cut: df.n, the
 * columns and the kernels all see only those rows, and features at a bar
 * use only bars up to it, so nothing after the cut is visible. Each re-run
 * counts against the job's time. */
#ifndef TICKQ_STRATEGY_LOOKAHEAD_H
#define TICKQ_STRATEGY_LOOKAHEAD_H

#include <jansson.h>

#include "strategy/strategy_task.h"

#define LOOKAHEAD_MAX_CUTS 20
#define LOOKAHEAD_MAX_LISTED 100 /* violations listed; all are counted */

typedef enum {
    LOOKAHEAD_INSTANCES,         /* the raw text is the backtest's instances array */
    LOOKAHEAD_POSITIONS          /* the raw text is a JSON array of numbers, one per df row */
} lookahead_kind_t;


/* Runs the check after the full run of t's strategy, whose finish step
 * wrote `full` (kind says what it holds): re-runs it with the same `finish`
 * (which must write the same kind of raw text) on each cut. Returns TASK_OK
 * with *report = {checked, cut_dates, violations, violations_total,
 * execution_time_ms}; a cut run that fails with the strategy's own error is
 * a violation ("what": "error"). A cut run that hits the time or memory
 * limit (the job's time is shared by all runs) or cannot start is the
 * task's error, in out. t's windows are as before on return. */
task_status_t strategy_lookahead(const task_ctx_t *ctx, strategy_task_t *t, lookahead_kind_t kind,
                                 strategy_finish_fn finish, void *finish_ctx, const char *full, size_t full_len,
                                 json_t **report, task_out_t *out);

#endif
