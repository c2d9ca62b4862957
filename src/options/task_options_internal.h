/* task_options_internal.h — what the options task files (task_options.c,
 * task_iv_analysis.c, task_scan.c) share: argument readers, the database
 * handle, bar loading and JSON values; private to those files.
 *
 * The argument readers return TASK_OK, or the status of the error they put
 * in out->error (TASK_PERMANENT for bad arguments, TASK_TRANSIENT when out
 * of memory or the database is unavailable). */
#ifndef TICKQ_TASK_OPTIONS_INTERNAL_H
#define TICKQ_TASK_OPTIONS_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "data/bars.h"
#include "data/db.h"
#include "core/errmsg.h"
#include "core/task.h"
#include "data/task_args.h"

#define OPTIONS_MAX_SYMBOLS 5000        /* per job */
/* Bars and IV history are read over this many days first: 52 weeks, and
 * 252 observations or 61 bars of a daily history. A sparser history is
 * read back to OPTIONS_EARLIEST_DAY, so that a definition by count ("the
 * previous 252 observations", "the last 20 returns") holds however sparse
 * the history is. */
#define OPTIONS_HISTORY_LOOKBACK_DAYS 800
#define OPTIONS_EARLIEST_DAY (-719162)  /* 0001-01-01: before any stored row */


/* The range of the options tasks' date arguments, in days: from 1970-01-01
 * (day 0; before it, days would be negative, which these tasks take for
 * "absent") to 9999-12-31. */
#define OPTIONS_DATE_RANGE .min = 0, .max = 2932896

/* A checked date argument (YYYY-MM-DD, in OPTIONS_DATE_RANGE) in days since
 * 1970-01-01; -1 when absent. */
int64_t task_options_day_arg(const task_ctx_t *ctx, const char *field);

/* The worker's database (owned by the worker: not closed by the task). */
task_status_t task_options_open_db(const task_ctx_t *ctx, db_t **db, task_out_t *o);


/* A JSON date string (YYYY-MM-DD) of a day, or null when day <= 0. A new
 * reference. */
json_t *task_options_date_json(int64_t day);

/* The daily bars of one symbol with from_day <= date <= to_day (an empty
 * series when it has none) into *set; the caller frees it with
 * bar_set_free. 0, or -1 with err. */
int task_options_load_bars(db_t *db, const char *symbol, int64_t from_day, int64_t to_day, bar_set_t *set, char *err,
                           size_t errlen);

/* The daily bars of one symbol up to to_day that hold its last min_bars
 * bars: those of the OPTIONS_HISTORY_LOOKBACK_DAYS before, or all of them
 * when those are fewer. As task_options_load_bars. */
int task_options_load_last_bars(db_t *db, const char *symbol, int64_t to_day, size_t min_bars, bar_set_t *set,
                                char *err, size_t errlen);

/* Ends a write that failed: rolls back, a transient error. */
task_status_t task_options_write_failed(db_t *db, task_out_t *o, const char *what, const char *err);

#endif
