/* task_backtest.c — the `backtest` task: a signal backtest, as the users
 * run it today.
 *
 * The strategy sees every requested symbol's bars in [start_date, end_date]
 * (features warmed up by the history before). Each instance it returns on
 * bar t trades at the next bar's open, open[t+1], and exits at
 * close[t+hold_bars]: no look-ahead. A trade whose exit bar is missing or
 * after end_date has a null return. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "performance.h"
#include "strategy_task.h"
#include "task_strategy.h"

typedef struct {
    int hold;
    double commission;           /* per side, as a fraction */
    int64_t end;
} trade_rules_t;

/* The bar an instance points at: its series and index inside the window. */
static int locate(const strategy_task_t *t, json_t *inst, size_t *si, size_t *ti)
{
    const char *ticker = json_string_value(json_object_get(inst, "ticker"));
    const char *date = json_string_value(json_object_get(inst, "date"));
    if (ticker == NULL || date == NULL)
        return -1;
    bar_series_t *s = bar_set_find(t->set, ticker);
    int64_t ts;
    int date_only;
    if (s == NULL || clock_parse_iso8601(date, &ts, &date_only) != 0)
        return -1;
    size_t i = (size_t)(s - t->set->series);
    size_t k = strategy_lower_bound(s->ts, s->n, ts);
    if (k >= s->n || s->ts[k] != ts || k < t->lo[i] || k >= t->hi[i])
        return -1;
    *si = i;
    *ti = k;
    return 0;
}

/* The return of an instance's trade, or NaN when it cannot complete. */
static double trade_return(const bar_series_t *s, size_t k, const trade_rules_t *rules, int is_short)
{
    size_t in = k + 1, out = k + (size_t)rules->hold;
    if (out >= s->n || s->ts[out] > rules->end)
        return NAN;
    double entry = s->open[in], exit = s->close[out];
    double gross = is_short ? entry / exit - 1.0 : exit / entry - 1.0;
    return gross - 2.0 * rules->commission;
}

static json_t *metrics_json(const trade_stats_t *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "trades", json_integer((json_int_t)m->trades));
    json_object_set_new(o, "total_return", json_number_or_null(m->total_return));
    json_object_set_new(o, "avg_return", json_number_or_null(m->avg_return));
    json_object_set_new(o, "win_rate", json_number_or_null(m->win_rate));
    json_object_set_new(o, "median_return", json_number_or_null(m->median_return));
    json_object_set_new(o, "best", json_number_or_null(m->best));
    json_object_set_new(o, "worst", json_number_or_null(m->worst));
    json_object_set_new(o, "profit_factor", json_number_or_null(m->profit_factor));
    return o;
}

task_status_t task_backtest(const task_ctx_t *ctx, task_out_t *out)
{
    int64_t t0 = clock_mono_us();
    strategy_task_t t;
    json_t *env = NULL;
    double *returns = NULL;
    int64_t start, end;
    size_t processed = 0;
    trade_rules_t rules = { 1, 0, 0 };
    task_status_t st = strategy_task_args(ctx, &t, out);
    if (st == TASK_OK)
        st = strategy_task_symbols(ctx, "symbols", &t, out);
    json_t *hold = json_object_get(ctx->args, "hold_bars");
    if (st == TASK_OK && hold != NULL && !json_is_null(hold)) {
        if (!json_is_integer(hold) || json_integer_value(hold) < 1 || json_integer_value(hold) > 10000)
            st = task_error(out, TASK_PERMANENT, "hold_bars must be an integer from 1 to 10000");
        else
            rules.hold = (int)json_integer_value(hold);
    }
    if (st == TASK_OK)
        st = strategy_task_bps(ctx, "commission_bps", &rules.commission, out);
    if (st == TASK_OK)
        st = strategy_task_range(ctx, &t, &start, &end, &processed, out);
    if (st != TASK_OK)
        goto done;
    rules.end = end;
    if ((st = strategy_task_run(ctx, &t, STRATEGY_INSTANCES, &env, out)) != TASK_OK)
        goto done;

    json_t *found = json_object_get(env, "instances");
    size_t n = json_array_size(found), trades = 0, positive = 0, ignored = 0;
    returns = malloc((n ? n : 1) * sizeof *returns);
    json_t *instances = json_array();
    for (size_t k = 0; k < n; k++) {
        json_t *inst = json_array_get(found, k);
        size_t si, ti;
        if (locate(&t, inst, &si, &ti) != 0) {
            ignored++; /* not a bar of the window: not a signal of this backtest */
            continue;
        }
        const char *side = json_string_value(json_object_get(inst, "side"));
        double r = trade_return(&t.set->series[si], ti, &rules, side != NULL && strcmp(side, "short") == 0);
        json_object_set_new(inst, "return", json_number_or_null(r));
        json_array_append(instances, inst);
        if (isfinite(r)) {
            returns[trades++] = r;
            positive += r > 0;
        }
    }
    trade_stats_t m;
    performance_trades(returns, trades, &m);
    size_t offered = STRATEGY_NAMED_COLUMNS + strategy_task_parametric_columns(env);
    json_t *summary = json_pack("{s:I, s:I, s:[s,s], s:I, s:[I,I]}", "total_instances", (json_int_t)json_array_size(instances),
                                "positive_signals", (json_int_t)positive,
                                "date_range", json_string_value(json_object_get(ctx->args, "start_date")),
                                json_string_value(json_object_get(ctx->args, "end_date")),
                                "symbols_processed", (json_int_t)processed, "data_shape", (json_int_t)t.frame.rows,
                                (json_int_t)offered);
    if (ignored > 0)
        json_object_set_new(summary, "ignored_instances", json_integer((json_int_t)ignored));
    double ms = (double)(clock_mono_us() - t0) / 1000.0;
    out->data = json_pack("{s:b, s:s, s:o, s:o, s:o, s:f}", "success", 1, "execution_mode", "backtest",
                          "instances", instances, "summary", summary, "performance_metrics", metrics_json(&m),
                          "execution_time_ms", ms);
    json_t *printed = json_object_get(env, "output");
    if (printed != NULL)
        json_object_set(out->data, "strategy_output", printed);
    st = out->data ? TASK_OK : task_error(out, TASK_TRANSIENT, "out of memory building the result");
done:
    free(returns);
    json_decref(env);
    strategy_task_free(&t);
    return st;
}
