/* optimize_walk.c — walk-forward folds, test runs and the stitched
 * out-of-sample curve (optimize_walk.h). */
#include "strategy/optimize_walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "data/bars.h"
#include "strategy/strategy_task.h"

/* A whole number from 1 to WALK_BARS_MAX in wf's key `key` (required). */
static int bars_of(const json_t *wf, const char *key, long long *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(wf, key);
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > WALK_BARS_MAX) {
        snprintf(err, errlen, "walk_forward.%s must be a whole number of bars from 1 to %d%s", key, WALK_BARS_MAX,
                 v == NULL ? " (it is required)" : "");
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

int walk_forward_parse(const json_t *w, walk_forward_t *wf, char *err, size_t errlen)
{
    memset(wf, 0, sizeof *wf);
    if (!json_is_object(w)) {
        snprintf(err, errlen, "walk_forward must be an object: {\"train_bars\": 252, \"test_bars\": 63, "
                 "\"anchored\": false}");
        return -1;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)w, k, v) {
        if (strcmp(k, "train_bars") != 0 && strcmp(k, "test_bars") != 0 && strcmp(k, "anchored") != 0) {
            snprintf(err, errlen, "unknown key walk_forward.%.60s (it takes train_bars, test_bars, anchored)", k);
            return -1;
        }
    }
    if (bars_of(w, "train_bars", &wf->train_bars, err, errlen) != 0 ||
        bars_of(w, "test_bars", &wf->test_bars, err, errlen) != 0)
        return -1;
    const json_t *anchored = json_object_get(w, "anchored");
    if (anchored != NULL && !json_is_boolean(anchored)) {
        snprintf(err, errlen, "walk_forward.anchored must be true or false");
        return -1;
    }
    wf->anchored = json_is_true(anchored);
    return 0;
}

int walk_forward_read(const json_t *args, int *on, walk_forward_t *wf, char *err, size_t errlen)
{
    const json_t *w = json_object_get(args, "walk_forward");
    memset(wf, 0, sizeof *wf);
    *on = w != NULL && !json_is_null(w);
    if (!*on)
        return 0;
    if (walk_forward_parse(w, wf, err, errlen) != 0)
        return -1;
    if (json_object_get(args, "score_from") != NULL) {
        snprintf(err, errlen, "score_from goes without walk_forward: each fold's test run scores from its test "
                 "window, its train window the warm-up");
        return -1;
    }
    const char *task = json_string_value(json_object_get(args, "task"));
    if (task != NULL && strcmp(task, "portfolio_backtest") != 0) {
        snprintf(err, errlen, "walk_forward works with task portfolio_backtest (it stitches the test windows' "
                 "equity curves), not %s", task);
        return -1;
    }
    return 0;
}

static int cmp_ts(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The bar times of the task's window, any symbol, ascending and distinct:
 * TASK_OK with a new array in *times, or the failure with out filled. */
static task_status_t window_times(const task_ctx_t *ctx, const task_def_t *sub, const json_t *sub_args,
                                  int64_t **times, size_t *n, int *daily, task_out_t *out)
{
    task_ctx_t c = *ctx;
    c.args = sub_args;
    c.task = sub;
    c.type = sub->name;
    strategy_task_t t;
    int64_t start, end, *ts = NULL;
    size_t processed;
    *n = 0;
    *times = NULL;
    task_status_t st = strategy_task_args(&c, &t, out);
    if (st == TASK_OK)
        st = strategy_task_symbols(&c, "symbols", &t, out);
    if (st == TASK_OK)
        st = strategy_task_range(&c, &t, &start, &end, &processed, out);
    if (st != TASK_OK) {
        strategy_task_free(&t);
        return st;
    }
    *daily = bar_interval_is_daily(t.interval);
    size_t total = 0;
    for (size_t i = 0; i < t.set->n; i++)
        total += t.hi[i] - t.lo[i];
    ts = malloc((total ? total : 1) * sizeof *ts);
    if (ts == NULL) {
        strategy_task_free(&t);
        return task_error(out, TASK_TRANSIENT, "out of memory");
    }
    for (size_t i = 0; i < t.set->n; i++)
        for (size_t k = t.lo[i]; k < t.hi[i]; k++)
            ts[(*n)++] = t.set->series[i].ts[k];
    strategy_task_free(&t);
    qsort(ts, *n, sizeof *ts, cmp_ts);
    size_t u = 0;
    for (size_t i = 0; i < *n; i++)
        if (u == 0 || ts[u - 1] != ts[i])
            ts[u++] = ts[i];
    *n = u;
    *times = ts;
    return TASK_OK;
}

static json_t *part(const int64_t *ts, size_t from, size_t to, int daily)
{
    char a[CLOCK_DATE_LEN], b[CLOCK_DATE_LEN];
    clock_format_bar(daily, ts[from], a);
    clock_format_bar(daily, ts[to - 1], b);
    return json_pack("{s:s, s:s, s:I}", "start", a, "end", b, "bars", (json_int_t)(to - from));
}

task_status_t walk_forward_folds(const task_ctx_t *ctx, const task_def_t *sub, const json_t *sub_args,
                                 const walk_forward_t *wf, json_t **folds_out, task_out_t *out)
{
    size_t n;
    int daily = 1;
    int64_t *ts;
    *folds_out = NULL;
    task_status_t st = window_times(ctx, sub, sub_args, &ts, &n, &daily, out);
    if (st != TASK_OK)
        return st;
    size_t train = (size_t)wf->train_bars, test = (size_t)wf->test_bars;
    if (n < train + test) {
        free(ts);
        return task_error(out, TASK_PERMANENT, "walk_forward: the window has %zu bars, fewer than train_bars + "
                          "test_bars = %zu: no fold fits", n, train + test);
    }
    size_t folds = (n - train) / test;
    if (folds > WALK_FOLDS_MAX) {
        free(ts);
        return task_error(out, TASK_PERMANENT, "walk_forward: %zu folds (%zu bars, test_bars %zu) is more than %d: "
                          "raise test_bars", folds, n, test, WALK_FOLDS_MAX);
    }
    json_t *list = json_array();
    for (size_t k = 0; k < folds; k++) {
        size_t train_to = train + k * test, train_from = wf->anchored ? 0 : k * test;
        json_array_append_new(list, json_pack("{s:I, s:o, s:o}", "fold", (json_int_t)k + 1, "train",
                                              part(ts, train_from, train_to, daily), "test",
                                              part(ts, train_to, train_to + test, daily)));
    }
    free(ts);
    *folds_out = list;
    return TASK_OK;
}

json_t *walk_forward_window(const json_t *sub_args, const json_t *fold, const char *which)
{
    const json_t *w = json_object_get(fold, which);
    json_t *args = json_copy((json_t *)sub_args);
    json_object_set(args, "start_date", json_object_get(w, "start"));
    json_object_set(args, "end_date", json_object_get(w, "end"));
    return args;
}

task_status_t walk_forward_test(const task_ctx_t *ctx, const task_def_t *sub, const json_t *sub_args,
                                const json_t *fold, const json_t *params, json_t **data, task_out_t *out)
{
    *data = NULL;
    /* The train window before it is warm-up: the strategy sees it (its
     * kernels start there), the portfolio trades from the test window on. */
    json_t *args = walk_forward_window(sub_args, fold, "test");
    json_object_set(args, "start_date", json_object_get(json_object_get(fold, "train"), "start"));
    json_object_set(args, "score_from", json_object_get(json_object_get(fold, "test"), "start"));
    json_object_set(args, "params", (json_t *)params);
    task_ctx_t c = *ctx;
    c.args = args;
    c.task = sub;
    c.type = sub->name;
    task_out_t o;
    memset(&o, 0, sizeof o);
    task_status_t st = sub->run(&c, &o);
    json_decref(args);
    json_decref(o.details);
    free(o.raw);
    if (st != TASK_OK) {
        json_decref(o.data);
        return task_error(out, st == TASK_PERMANENT ? TASK_PERMANENT : TASK_TRANSIENT, "walk_forward fold %lld, "
                          "test window %s..%s: %s", (long long)json_integer_value(json_object_get(fold, "fold")),
                          json_string_value(json_object_get(json_object_get(fold, "test"), "start")),
                          json_string_value(json_object_get(json_object_get(fold, "test"), "end")), o.error);
    }
    *data = o.data;
    return TASK_OK;
}

json_t *walk_forward_stitch(const json_t *datas, double initial_capital)
{
    json_t *curve = json_array();
    double running = initial_capital;
    size_t i;
    const json_t *d;
    json_array_foreach((json_t *)datas, i, d) {
        const json_t *points = json_object_get(d, "equity_curve");
        double start = json_number_value(json_object_get(json_object_get(d, "summary"), "initial_capital"));
        double scale = start > 0 ? running / start : 1.0, last = running;
        size_t k;
        const json_t *p;
        json_array_foreach((json_t *)points, k, p) {
            last = json_number_value(json_object_get(p, "equity")) * scale;
            json_array_append_new(curve, json_pack("{s:O, s:f}", "date", json_object_get(p, "date"), "equity",
                                                   last));
        }
        running = last;
    }
    return json_pack("{s:o, s:f, s:f, s:f}", "equity_curve", curve, "initial_capital", initial_capital,
                     "final_equity", running, "total_return", running / initial_capital - 1.0);
}
