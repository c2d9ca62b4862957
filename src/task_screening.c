/* task_screening.c — the `screening` task: run a strategy over a universe
 * and rank today's opportunities.
 *
 * The frame holds each ticker's last `lookback_bars` bars up to `as_of`
 * (features computed from all stored history, as in a backtest). Instances
 * dated on a ticker's last bar are its current opportunities; they are ranked
 * by `score` (descending; unscored ones after the scored, then by ticker)
 * and the top `limit` are returned. Symbols without bars are skipped and
 * listed in `missing_symbols`, so one delisted ticker does not sink a
 * screen of 500. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "strategy_task.h"
#include "task_strategy.h"

#define SCREEN_DEFAULT_LIMIT 50
#define SCREEN_DEFAULT_LOOKBACK 252

typedef struct {
    json_t *inst;
    const char *ticker;
    double score;                /* NaN: unscored */
} ranked_t;

static int cmp_ranked(const void *x, const void *y)
{
    const ranked_t *a = x, *b = y;
    int sa = !isnan(a->score), sb = !isnan(b->score);
    if (sa != sb)
        return sb - sa;          /* scored first */
    if (sa && a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return strcmp(a->ticker, b->ticker);
}

/* An integer argument in [lo, hi], or dflt when absent. */
static task_status_t int_arg(const task_ctx_t *ctx, const char *field, long dflt, long lo, long hi, long *v,
                             task_out_t *out)
{
    json_t *j = json_object_get(ctx->args, field);
    if (j == NULL || json_is_null(j)) {
        *v = dflt;
        return TASK_OK;
    }
    if (!json_is_integer(j) || json_integer_value(j) < lo || json_integer_value(j) > hi)
        return task_error(out, TASK_PERMANENT, "%s must be an integer from %ld to %ld", field, lo, hi);
    *v = (long)json_integer_value(j);
    return TASK_OK;
}

/* The missing symbols as a JSON array (new reference). */
static json_t *missing_json(const strategy_task_t *t)
{
    json_t *a = json_array();
    for (size_t i = 0; i < t->nsymbols; i++)
        if (bar_set_find(t->set, t->symbols[i]) == NULL)
            json_array_append_new(a, json_string(t->symbols[i]));
    return a;
}

/* The current opportunity of instance `inst`: its ticker is in the frame
 * and its date is that ticker's last bar in the frame. */
static int is_current(const strategy_task_t *t, json_t *inst, const char **ticker)
{
    *ticker = json_string_value(json_object_get(inst, "ticker"));
    const char *date = json_string_value(json_object_get(inst, "date"));
    if (*ticker == NULL || date == NULL)
        return 0;
    bar_series_t *s = bar_set_find(t->set, *ticker);
    int64_t ts;
    int date_only;
    if (s == NULL || clock_parse_iso8601(date, &ts, &date_only) != 0)
        return 0;
    size_t i = (size_t)(s - t->set->series);
    return t->hi[i] > t->lo[i] && s->ts[t->hi[i] - 1] == ts;
}

/* The ranked result row: ticker, score, signal, message first, then the
 * instance's other fields, and its rank. */
static json_t *result_row(json_t *inst, size_t rank)
{
    json_t *row = json_object();
    json_t *score = json_object_get(inst, "score");
    json_t *signal = json_object_get(inst, "signal");
    json_t *message = json_object_get(inst, "message");
    json_object_set(row, "ticker", json_object_get(inst, "ticker"));
    json_object_set_new(row, "score", json_is_number(score) ? json_incref(score) : json_null());
    json_object_set_new(row, "signal", signal ? json_incref(signal) : json_true());
    json_object_set_new(row, "message", message ? json_incref(message) : json_null());
    json_object_update_missing(row, inst);
    json_object_set_new(row, "rank", json_integer((json_int_t)rank));
    return row;
}

task_status_t task_screening(const task_ctx_t *ctx, task_out_t *out)
{
    int64_t t0 = clock_mono_us();
    strategy_task_t t;
    json_t *env = NULL;
    ranked_t *ranked = NULL;
    long limit = 0, lookback = 0;
    int64_t as_of;
    task_status_t st = strategy_task_args(ctx, &t, out);
    if (st == TASK_OK)
        st = strategy_task_symbols(ctx, "universe", &t, out);
    if (st == TASK_OK)
        st = int_arg(ctx, "limit", SCREEN_DEFAULT_LIMIT, 1, 100000, &limit, out);
    if (st == TASK_OK)
        st = int_arg(ctx, "lookback_bars", SCREEN_DEFAULT_LOOKBACK, 1, 100000, &lookback, out);
    if (st == TASK_OK)
        st = strategy_task_time(ctx, "as_of", 0, 1, INT64_MAX, &as_of, out);
    if (st == TASK_OK)
        st = strategy_task_load(ctx, &t, out);
    if (st != TASK_OK)
        goto done;
    size_t rows = 0, screened = 0;
    for (size_t i = 0; i < t.set->n; i++) {
        const bar_series_t *s = &t.set->series[i];
        t.hi[i] = strategy_upper_bound(s->ts, s->n, as_of);
        t.lo[i] = t.hi[i] > (size_t)lookback ? t.hi[i] - (size_t)lookback : 0;
        rows += t.hi[i] - t.lo[i];
        screened += t.hi[i] > t.lo[i];
    }
    if (rows == 0) {
        char missing[600];
        strategy_task_missing(&t, missing, sizeof missing);
        if (t.set->n == 0)
            st = task_error(out, TASK_PERMANENT, "unknown symbols: %s (no %s bars stored; import them with "
                            "tickq data import)", missing, t.interval);
        else
            st = task_error(out, TASK_PERMANENT, "no %s bars on or before as_of %s for these symbols", t.interval,
                            json_string_value(json_object_get(ctx->args, "as_of")));
        goto done;
    }
    if ((st = strategy_task_run(ctx, &t, STRATEGY_INSTANCES, &env, out)) != TASK_OK)
        goto done;

    json_t *found = json_object_get(env, "instances");
    size_t n = json_array_size(found), current = 0;
    ranked = malloc((n ? n : 1) * sizeof *ranked);
    if (ranked == NULL) {
        st = task_error(out, TASK_TRANSIENT, "out of memory ranking %zu instances", n);
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        json_t *inst = json_array_get(found, k);
        const char *ticker;
        if (!is_current(&t, inst, &ticker))
            continue;            /* a past signal: not an opportunity now */
        json_t *score = json_object_get(inst, "score");
        double v = json_is_number(score) ? json_number_value(score) : NAN;
        ranked[current++] = (ranked_t){ inst, ticker, v };
    }
    qsort(ranked, current, sizeof *ranked, cmp_ranked);
    size_t take = current < (size_t)limit ? current : (size_t)limit;
    json_t *results = json_array();
    for (size_t k = 0; k < take; k++)
        json_array_append_new(results, result_row(ranked[k].inst, k + 1));

    double ms = (double)(clock_mono_us() - t0) / 1000.0;
    out->data = json_pack("{s:b, s:s, s:o, s:I, s:I, s:I, s:I, s:o, s:[I,I], s:f}", "success", 1,
                          "execution_mode", "screening", "ranked_results", results,
                          "universe_size", (json_int_t)t.nsymbols, "results_returned", (json_int_t)take,
                          "opportunities", (json_int_t)current, "symbols_screened", (json_int_t)screened,
                          "missing_symbols", missing_json(&t), "data_shape", (json_int_t)rows,
                          (json_int_t)STRATEGY_NAMED_COLUMNS + (json_int_t)strategy_task_parametric_columns(env),
                          "execution_time_ms", ms);
    json_t *as_of_arg = json_object_get(ctx->args, "as_of");
    if (out->data != NULL && json_is_string(as_of_arg))
        json_object_set(out->data, "as_of", as_of_arg);
    json_t *printed = json_object_get(env, "output");
    if (out->data != NULL && printed != NULL)
        json_object_set(out->data, "strategy_output", printed);
    st = out->data ? TASK_OK : task_error(out, TASK_TRANSIENT, "out of memory building the result");
done:
    free(ranked);
    json_decref(env);
    strategy_task_free(&t);
    return st;
}
