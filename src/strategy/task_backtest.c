/* task_backtest.c — the `backtest` task: a signal backtest, as the users
 * run it today.
 *
 * The strategy sees every requested symbol's bars in [start_date, end_date]
 * (features warmed up by the history before). Each instance it returns on
 * bar t trades at the next bar's open, open[t+1], and exits at
 * close[t+hold_bars]: no look-ahead. A trade whose exit bar is missing or
 * after end_date has a null return.
 *
 * The trades are worked out in the sandbox (backtest_finish), right after
 * the strategy returns: the instances are written once, as JSON text, with
 * their returns, and only they and the summary cross to the worker. */
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "strategy/performance.h"
#include "strategy/strategy_lookahead.h"
#include "strategy/strategy_result.h"
#include "strategy/strategy_task.h"
#include "strategy/task_strategy.h"

typedef struct {
    const task_ctx_t *ctx;
    strategy_task_t *t;
    int hold;
    double commission;           /* per side, as a fraction */
    int64_t end;
    size_t processed;
} backtest_t;

/* The bar a well-formed instance (ticker, time) points at: its series and
 * index inside the window. -1 when there is none: a ticker not requested,
 * or a time that is not a bar of that ticker in [start_date, end_date].
 * *last remembers the previous instance's series (they come in runs). */
static int locate(const strategy_task_t *t, const char *ticker, int64_t ts, bar_series_t **last, size_t *si,
                  size_t *ti)
{
    bar_series_t *s = *last != NULL && strcmp((*last)->symbol, ticker) == 0 ? *last : bar_set_find(t->set, ticker);
    if (s == NULL)
        return -1;
    *last = s;
    size_t i = (size_t)(s - t->set->series);
    size_t k = strategy_lower_bound(s->ts, s->n, ts);
    if (k >= s->n || s->ts[k] != ts || k < t->lo[i] || k >= t->hi[i])
        return -1;
    *si = i;
    *ti = k;
    return 0;
}

/* The return of an instance's trade, or NaN when it cannot complete. */
static double trade_return(const bar_series_t *s, size_t k, const backtest_t *b, int is_short)
{
    size_t in = k + 1, out = k + (size_t)b->hold;
    if (out >= s->n || s->ts[out] > b->end)
        return NAN;
    double entry_price = s->open[in], exit_price = s->close[out];
    double gross = is_short ? entry_price / exit_price - 1.0 : exit_price / entry_price - 1.0;
    return gross - 2.0 * b->commission;
}

/* The instance's side (at idx): *is_short, 0; or -1 with what it was in
 * got (anything but "long", "short" or nothing is refused, never taken as
 * long). */
static int instance_side(lua_State *L, int idx, int *is_short, char *got, size_t gotlen)
{
    idx = lua_absindex(L, idx);
    lua_pushliteral(L, "side");
    lua_rawget(L, idx);
    int type = lua_type(L, -1);
    const char *v = type == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    *is_short = v != NULL && strcmp(v, "short") == 0;
    int ok = type == LUA_TNIL || (v != NULL && (*is_short || strcmp(v, "long") == 0));
    if (!ok && v != NULL)
        snprintf(got, gotlen, "\"%.40s%s\"", v, strlen(v) > 40 ? "…" : "");
    else if (!ok)
        snprintf(got, gotlen, "%s", lua_typename(L, type));
    lua_pop(L, 1);
    return ok ? 0 : -1;
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

/* In the sandbox: the instances with their returns (raw text), the summary
 * and the metrics. */
static json_t *backtest_finish(lua_State *L, int ret, void *ctx, json_writer_t *raw, char *why, size_t whylen)
{
    backtest_t *b = ctx;
    const strategy_task_t *t = b->t;
    size_t n;
    if (strategy_instances(L, ret, &n, why, whylen) != 0)
        return NULL;
    double *returns = malloc((n ? n : 1) * sizeof *returns);
    if (returns == NULL) {
        snprintf(why, whylen, "out of memory for %zu instances", n);
        return NULL;
    }
    static const char *const skip[] = { "return", NULL };
    size_t trades = 0, winning = 0, kept = 0, ignored = 0;
    bar_series_t *last = NULL;
    jw_char(raw, '[');
    for (size_t k = 1; k <= n; k++) {
        if (strategy_instance(L, ret, k, why, whylen) != 0) {
            free(returns);
            return NULL;
        }
        size_t si, ti;
        const char *ticker;
        int64_t ts;
        if (strategy_instance_where(L, -1, k, &ticker, &ts, why, whylen) != 0) {
            lua_pop(L, 1); /* malformed: an error, never an ignored signal */
            free(returns);
            return NULL;
        }
        if (locate(t, ticker, ts, &last, &si, &ti) != 0) {
            ignored++; /* well-formed, but not a bar of the window: not a signal of this backtest */
            lua_pop(L, 1);
            continue;
        }
        int is_short;
        char got[64];
        if (instance_side(L, -1, &is_short, got, sizeof got) != 0) {
            snprintf(why, whylen, "instance %zu: side must be \"long\" or \"short\" (or left out: long), got %s", k,
                     got);
            lua_pop(L, 1);
            free(returns);
            return NULL;
        }
        double r = trade_return(&t->set->series[si], ti, b, is_short);
        if (kept++ > 0)
            jw_char(raw, ',');
        jw_char(raw, '{');
        int fields = strategy_write_fields(L, -1, raw, skip, 1, 1, why, whylen);
        lua_pop(L, 1);
        if (fields < 0) {
            char inner[400];
            snprintf(inner, sizeof inner, "%s", why);
            snprintf(why, whylen, "instance %zu %s", k, inner);
            free(returns);
            return NULL;
        }
        jw_key(raw, "return", fields == 0);
        jw_number(raw, r);
        jw_char(raw, '}');
        if (isfinite(r)) {
            returns[trades++] = r;
            winning += r > 0;
        }
    }
    jw_char(raw, ']');
    trade_stats_t m;
    performance_trades(returns, trades, &m);
    free(returns);
    const json_t *args = b->ctx->args;
    /* winning_trades: trades with a return above 0. positive_signals is
     * the same number under the name the users' clients already read. */
    json_t *summary = json_pack("{s:I, s:I, s:I, s:I, s:[s,s], s:I, s:[I,I]}", "total_instances",
                                (json_int_t)kept, "ignored_instances", (json_int_t)ignored,
                                "winning_trades", (json_int_t)winning, "positive_signals", (json_int_t)winning,
                                "date_range", json_string_value(json_object_get(args, "start_date")),
                                json_string_value(json_object_get(args, "end_date")),
                                "symbols_processed", (json_int_t)b->processed, "data_shape",
                                (json_int_t)t->frame.rows, (json_int_t)strategy_offered_columns(L));
    return json_pack("{s:b, s:s, s:o, s:o}", "success", 1, "execution_mode", "backtest", "summary", summary,
                     "performance_metrics", metrics_json(&m));
}

task_status_t task_backtest(const task_ctx_t *ctx, task_out_t *out)
{
    int64_t t0 = clock_mono_us();
    strategy_task_t t;
    backtest_t b = { ctx, &t, 1, 0, 0, 0 };
    int64_t start;
    task_status_t st = strategy_task_args(ctx, &t, out);
    if (st == TASK_OK)
        st = strategy_task_symbols(ctx, "symbols", &t, out);
    b.hold = (int)task_arg_int(ctx, "hold_bars");
    b.commission = strategy_task_bps(ctx, "commission_bps");
    if (st == TASK_OK)
        st = strategy_task_range(ctx, &t, &start, &b.end, &b.processed, out);
    int lookahead = task_arg_bool(ctx, "check_lookahead");
    json_t *data = NULL;
    if (st == TASK_OK)
        st = strategy_task_run(ctx, &t, backtest_finish, &b, "instances", &data, out);
    if (st == TASK_OK && lookahead) {
        json_t *report;
        st = strategy_lookahead(ctx, &t, LOOKAHEAD_INSTANCES, backtest_finish, &b, out->raw, out->raw_len,
                                &report, out);
        if (st == TASK_OK)
            json_object_set_new(data, "lookahead", report);
    }
    return strategy_task_done(&t, st, data, t0, out);
}

static const task_arg_t backtest_args[] = {
    STRATEGY_CODE_ARG,
    { .name = "symbols", .type = TASK_ARG_LIST, .flags = TASK_ARG_REQUIRED, .min = 1, .max = STRATEGY_MAX_SYMBOLS,
      .type_doc = "symbols", .check = task_symbol_check, .doc = "the symbols whose bars df holds" },
    STRATEGY_WINDOW_ARGS,
    { .name = "hold_bars", .type = TASK_ARG_INT, .min = 1, .max = 10000, .num = 1,
      .doc = "bars a trade lasts: in at the next bar's open, out at the close hold_bars bars after the signal" },
    { .name = "commission_bps", .type = TASK_ARG_NUMBER, .min = 0, .max = 10000, .num = 0,
      .doc = "cost per side, in basis points of the trade's value" },
    { .name = "check_lookahead", .type = TASK_ARG_BOOL, .num = 0,
      .doc = "re-run the strategy on data cut at up to 20 dates (signal dates and others) and report the "
             "signals that change (lookahead in the result)" },
    STRATEGY_OPTION_ARGS,
    { .name = NULL }
};

const task_def_t task_def_backtest = {
    .name = "backtest",
    .run = task_backtest,
    .summary = "signal backtest of a strategy (Lua or Python) over stored bars",
    .args = backtest_args,
    .check = strategy_window_check,
};
