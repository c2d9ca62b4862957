/* task_portfolio.c — the `portfolio_backtest` task: a position backtest.
 *
 * The strategy returns one target position per df row, from -1 (fully
 * short) to 1 (fully long) of that ticker's sleeve; nil or NaN is flat.
 * initial_capital is split equally across the requested symbols. A position
 * decided on the close of bar t earns the ticker's return from close t to
 * close t+1; changing it costs (commission + slippage) on the traded
 * notional, |new - old| x sleeve equity, charged at that close. Positions
 * are fractions of the sleeve's current equity, so an unchanged position
 * rebalances for free. Nothing is liquidated at the end: a trade still open
 * is marked to the last close.
 *
 * The portfolio's equity is the sum of its sleeves on the union of the
 * symbols' bar dates; its returns, starting from initial_capital, give the
 * metrics (performance.h, empyrical definitions). Exposure is the average,
 * over the timeline, of the gross position held after each close as a
 * fraction of equity: sum |position| x sleeve equity / total equity. */
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/numfmt.h"
#include "strategy/performance.h"
#include "strategy/strategy_lookahead.h"
#include "strategy/strategy_result.h"
#include "strategy/strategy_task.h"
#include "strategy/task_strategy.h"

#define CURVE_MAX_POINTS 1000
#define TRADES_MAX_LISTED 10000
#define PORTFOLIO_MAX_COST_BPS 5000.0 /* commission + slippage a side: below it a reversal costs less than the sleeve */

typedef struct {
    size_t row;                  /* the sleeve's first row in df */
    size_t first;                /* its first window bar scored (score_from): the ones before are warm-up */
    size_t next;                 /* next window bar to process (0-based in the window) */
    double equity;
    double position;             /* held since the last processed close */
    double trade_start;          /* sleeve equity when the open trade began */
    size_t trade_bar;            /* window bar of its entry */
    double trade_size;
    int bust;                    /* its equity fell to 0 or below: flat and frozen from then on */
} sleeve_t;

typedef struct {
    const strategy_task_t *t;
    int daily;
    json_t *list;                /* listed trades */
    size_t count, wins;
    int truncated;
} trade_log_t;

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

/* Ends the sleeve's open trade at window bar `bar` with equity `exit_equity`
 * (after its exit cost); open_at_end marks one still held at the end. */
static void close_trade(trade_log_t *log, size_t series, const sleeve_t *s, size_t bar, double exit_equity,
                        int open_at_end)
{
    double r = exit_equity / s->trade_start - 1.0;
    log->count++;
    log->wins += r > 0;
    if (log->list == NULL) /* a sweep's run: the metrics only */
        return;
    if (json_array_size(log->list) >= TRADES_MAX_LISTED) {
        log->truncated = 1;
        return;
    }
    const bar_series_t *bs = &log->t->set->series[series];
    size_t lo = log->t->lo[series];
    char entry_date[CLOCK_DATE_LEN], exit_at[CLOCK_DATE_LEN];
    clock_format_bar(log->daily, bs->ts[lo + s->trade_bar], entry_date);
    clock_format_bar(log->daily, bs->ts[lo + bar], exit_at);
    json_t *tr = json_pack("{s:s, s:s, s:f, s:s, s:s?, s:I, s:o, s:o, s:b}", "ticker", bs->symbol,
                           "side", s->trade_size > 0 ? "long" : "short", "size", fabs(s->trade_size),
                           "entry_date", entry_date, "exit_date", open_at_end ? NULL : exit_at,
                           "bars", (json_int_t)(bar - s->trade_bar), "return", json_number_or_null(r),
                           "pnl", json_number_or_null(exit_equity - s->trade_start), "open", open_at_end);
    json_array_append_new(log->list, tr);
}

/* Reads the strategy's positions into a plain array of `rows` (a missing
 * row, nil or NaN: flat); NULL with why when they break the contract: not
 * an array (nil: a forgotten return), a key that is not a row, a value that
 * is not a number (a table: the list of instances of a signal strategy),
 * or a number outside [-1, 1]. */
static double *positions_array(lua_State *L, int ret, size_t rows, char *why, size_t whylen)
{
    if (lua_isnil(L, ret)) {
        snprintf(why, whylen, "the strategy returned nothing (nil): did it forget 'return positions'? "
                 "(one number per df row)");
        return NULL;
    }
    if (!lua_istable(L, ret)) {
        snprintf(why, whylen, "a position strategy returns an array with one target position per df row, "
                 "not a %s", strategy_typename(L, ret));
        return NULL;
    }
    size_t len = lua_rawlen(L, ret);
    if (len > rows) {
        snprintf(why, whylen, "returned %zu positions for %zu df rows", len, rows);
        return NULL;
    }
    double *p = calloc(rows ? rows : 1, sizeof *p); /* a missing row: flat */
    if (p == NULL) {
        snprintf(why, whylen, "out of memory for %zu positions", rows);
        return NULL;
    }
    /* One pass over the table. Every key must be a row: of string keys the
     * first in name order is named, of other bad keys the smallest number
     * (or, with none, the first type name), and of bad values the first row
     * (Lua's own order differs from run to run, the message must not). */
    const char *field = NULL, *bad_key_type = NULL;
    int bad_key = 0, bad_type = LUA_TNIL;
    double bad_key_number = 0;
    size_t bad_row = SIZE_MAX;      /* the first row whose value is not a number, nil, NaN or in [-1, 1] */
    double bad_value = 0;
    lua_pushnil(L);
    while (lua_next(L, ret) != 0) {
        int isnum;
        lua_Integer key = lua_tointegerx(L, -2, &isnum);
        int ktype = lua_type(L, -2);
        if (ktype == LUA_TSTRING) {
            if (field == NULL || strcmp(lua_tostring(L, -2), field) < 0)
                field = lua_tostring(L, -2); /* the key stays referenced by the table */
        } else if (ktype != LUA_TNUMBER || !isnum || key < 1 || (lua_Unsigned)key > rows) {
            if (ktype == LUA_TNUMBER) {
                double k = lua_tonumber(L, -2);
                if (bad_key_type != NULL || !bad_key || k < bad_key_number) /* a NaN key cannot be: Lua refuses it */
                    bad_key_number = k;
                bad_key_type = NULL;
            } else if (!bad_key || (bad_key_type != NULL && strcmp(strategy_typename(L, -2), bad_key_type) < 0)) {
                bad_key_type = strategy_typename(L, -2); /* a static name */
            }
            bad_key = 1;
        } else {
            size_t r = (size_t)key - 1;
            int type = lua_type(L, -1);
            if (type == LUA_TNUMBER) {
                double x = lua_tonumber(L, -1);
                if (isnan(x))
                    x = 0.0;
                if (x >= -1 && x <= 1)
                    p[r] = x;
                else if (r < bad_row) {
                    bad_row = r;
                    bad_type = LUA_TNUMBER;
                    bad_value = x;
                }
            } else if (!strategy_is_null(L, -1) && r < bad_row) { /* a Python strategy's None: flat, as nil */
                bad_row = r;
                bad_type = type;
                if (type == LUA_TSTRING) {
                    char shown[48];
                    strategy_quote(lua_tostring(L, -1), shown, sizeof shown);
                    snprintf(why, whylen, "position %zu is a string (\"%s\"), not a number: positions are "
                             "numbers from -1 to 1 (nil or NaN: flat)", r + 1, shown);
                } else if (type != LUA_TTABLE)
                    snprintf(why, whylen, "position %zu is a %s, not a number: positions are numbers from -1 to 1 "
                             "(nil or NaN: flat)", r + 1, strategy_typename(L, -1));
            }
        }
        lua_pop(L, 1);
    }
    if (field != NULL) {
        char shown[48];
        strategy_quote(field, shown, sizeof shown);
        snprintf(why, whylen, "the positions have a field '%s': a position strategy returns an array with one "
                 "number per df row (a signal strategy's instance? did you mean task backtest?)", shown);
    } else if (bad_key && bad_key_type == NULL) {
        char shown[NUMFMT_MAX];
        numfmt_shortest(bad_key_number, shown);
        snprintf(why, whylen, "the positions have a key %s, which is not a df row (1 to %zu)", shown, rows);
    } else if (bad_key) {
        snprintf(why, whylen, "the positions have a %s key, which is not a df row (1 to %zu)", bad_key_type, rows);
    } else if (bad_row != SIZE_MAX) {
        if (bad_type == LUA_TTABLE)
            snprintf(why, whylen, "position %zu is a table (an instance?): portfolio_backtest needs one number "
                     "per df row; did you mean task backtest?", bad_row + 1);
        else if (bad_type == LUA_TNUMBER)
            snprintf(why, whylen, "position %zu is %g; positions go from -1 (short) to 1 (long)", bad_row + 1,
                     bad_value);
        /* else: why was written when the row was seen */
    }
    if (field != NULL || bad_key || bad_row != SIZE_MAX) {
        free(p);
        return NULL;
    }
    return p;
}

/* The sorted distinct dates of every window from `from` on: the
 * portfolio's timeline. */
static int64_t *timeline(const strategy_task_t *t, int64_t from, size_t *n)
{
    int64_t *ts = malloc((t->frame.rows ? t->frame.rows : 1) * sizeof *ts);
    if (ts == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < t->set->n; i++)
        for (size_t b = t->lo[i]; b < t->hi[i]; b++)
            if (t->set->series[i].ts[b] >= from)
                ts[k++] = t->set->series[i].ts[b];
    qsort(ts, k, sizeof *ts, cmp_i64);
    size_t u = 0;
    for (size_t j = 0; j < k; j++)
        if (u == 0 || ts[u - 1] != ts[j])
            ts[u++] = ts[j];
    *n = u;
    return ts;
}

static json_t *curve_point(int daily, int64_t ts, double equity)
{
    char d[CLOCK_DATE_LEN];
    clock_format_bar(daily, ts, d);
    return json_pack("{s:s, s:o}", "date", d, "equity", json_number_or_null(equity));
}

static json_t *metrics_json(const series_stats_t *m, double exposure, const trade_log_t *log)
{
    json_t *o = json_object();
    json_object_set_new(o, "total_return", json_number_or_null(m->total_return));
    json_object_set_new(o, "cagr", json_number_or_null(m->cagr));
    json_object_set_new(o, "annual_volatility", json_number_or_null(m->annual_volatility));
    json_object_set_new(o, "sharpe", json_number_or_null(m->sharpe));
    json_object_set_new(o, "sortino", json_number_or_null(m->sortino));
    json_object_set_new(o, "max_drawdown", json_number_or_null(m->max_drawdown));
    json_object_set_new(o, "calmar", json_number_or_null(m->calmar));
    json_object_set_new(o, "exposure", json_number_or_null(exposure));
    json_object_set_new(o, "trades", json_integer((json_int_t)log->count));
    json_object_set_new(o, "win_rate", log->count ? json_real((double)log->wins / (double)log->count) : json_null());
    return o;
}

typedef struct {
    const task_ctx_t *ctx;
    strategy_task_t *t;
    double capital, rate;        /* rate: commission + slippage, per side */
    int64_t score_from;          /* the first bar time traded and scored (score_from; start_date by default) */
    size_t processed;
    int write_positions;         /* also write the positions as raw text (for the look-ahead check) */
    int metrics_only;            /* a sweep's run: no trades list, no curve (only the metrics are read) */
    int64_t *dates;              /* the timeline, kept from run to run when metrics_only (the windows do not
                                  * change within a sweep); NULL until the first */
    size_t periods;
} portfolio_t;

/* In the sandbox: reads the positions and simulates the portfolio. */
static json_t *portfolio_finish(lua_State *L, int ret, void *ctx, json_writer_t *raw, char *why, size_t whylen)
{
    portfolio_t *pf = ctx;
    const strategy_task_t *t = pf->t;
    size_t rows = t->frame.rows, periods = 0, nseries = t->set->n;
    double *pos = positions_array(L, ret, rows, why, whylen);
    if (pos == NULL)
        return NULL;
    if (pf->write_positions) { /* exact: the check compares them with == */
        jw_char(raw, '[');
        for (size_t r = 0; r < rows; r++) {
            char num[32];
            int len = snprintf(num, sizeof num, "%s%.17g", r ? "," : "", pos[r]);
            jw_raw(raw, num, (size_t)len);
        }
        jw_char(raw, ']');
    }
    trade_log_t log = { t, t->frame.daily, pf->metrics_only ? NULL : json_array(), 0, 0, 0 };
    int64_t *dates = pf->dates;
    if (dates != NULL)
        periods = pf->periods;
    else
        dates = timeline(t, pf->score_from, &periods);
    if (pf->metrics_only && pf->dates == NULL) {
        pf->dates = dates;
        pf->periods = periods;
    }
    sleeve_t *sleeves = calloc(nseries ? nseries : 1, sizeof *sleeves);
    double *value = malloc((periods ? periods : 1) * sizeof *value);
    double *returns = malloc((periods ? periods : 1) * sizeof *returns);
    json_t *data = NULL;
    if (dates == NULL || sleeves == NULL || value == NULL || returns == NULL) {
        snprintf(why, whylen, "out of memory simulating %zu rows", rows);
        goto done;
    }
    /* Every requested symbol has a sleeve (all have bars: unknown symbols
     * were refused), even one with no bar in the window: it stays cash. */
    double rate = pf->rate, sleeve_capital = pf->capital / (double)t->nsymbols;
    size_t row = 0;
    double exposure_sum = 0;
    for (size_t i = 0; i < nseries; i++) {
        const bar_series_t *bs = &t->set->series[i];
        sleeves[i].row = row;
        sleeves[i].first = strategy_lower_bound(bs->ts + t->lo[i], t->hi[i] - t->lo[i], pf->score_from);
        sleeves[i].next = sleeves[i].first;
        sleeves[i].equity = sleeve_capital;
        row += t->hi[i] - t->lo[i];
    }
    double previous = pf->capital;
    for (size_t d = 0; d < periods; d++) {
        double total = 0, gross = 0;
        for (size_t i = 0; i < nseries; i++) {
            sleeve_t *s = &sleeves[i];
            const bar_series_t *bs = &t->set->series[i];
            size_t b = s->next, n = t->hi[i] - t->lo[i];
            if (b < n && bs->ts[t->lo[i] + b] == dates[d] && s->bust) {
                s->next = b + 1; /* bust: nothing left to take a fraction of */
            } else if (b < n && bs->ts[t->lo[i] + b] == dates[d]) {
                size_t at = t->lo[i] + b;
                if (b > s->first)
                    s->equity *= 1.0 + s->position * (bs->close[at] / bs->close[at - 1] - 1.0);
                if (!(s->equity > 0)) {
                    /* A short through a rise of 100% or more in one bar (a
                     * position of -p through one of 1/p): the sleeve's
                     * equity is gone, and a fraction of a negative equity
                     * would be a position of the other sign. The trade ends
                     * here at this value (what the short owes is a loss,
                     * not rounded to 0) and the sleeve trades no more. */
                    if (s->position != 0)
                        close_trade(&log, i, s, b, s->equity, 0);
                    s->position = 0;
                    s->bust = 1;
                    s->next = b + 1;
                    total += s->equity;
                    continue;
                }
                double target = pos[s->row + b], before = s->equity;
                double cost = fabs(target - s->position) * before * rate;
                int exits = s->position != 0 && (target == 0 || (target > 0) != (s->position > 0));
                int enters = target != 0 && (s->position == 0 || (target > 0) != (s->position > 0));
                if (exits)
                    close_trade(&log, i, s, b, before - fabs(s->position) * before * rate, 0);
                if (enters) {
                    s->trade_start = exits ? before - fabs(s->position) * before * rate : before;
                    s->trade_bar = b;
                    s->trade_size = target;
                }
                s->equity = before - cost;
                s->position = target;
                s->next = b + 1;
                if (s->next == n && s->position != 0)
                    close_trade(&log, i, s, b, s->equity, 1);
            }
            gross += fabs(s->position) * s->equity;
            total += s->equity;
        }
        if (!(total > 0) && !(previous > 0)) {
            /* The account was bust at an earlier close: nothing moves. */
            total = previous;
        } else if (!(total > 0)) {
            /* The sleeves' losses took the whole account: every sleeve is
             * liquidated at this close (its open trade ends here at its
             * value) and the account stays at what it owes. Returns on a
             * negative equity would have the wrong sign. */
            for (size_t i = 0; i < nseries; i++) {
                sleeve_t *s = &sleeves[i];
                /* (one whose last bar is behind it was logged as open at the end) */
                if (!s->bust && s->position != 0 && s->next < t->hi[i] - t->lo[i])
                    close_trade(&log, i, s, s->next - 1, s->equity, 0);
                s->position = 0;
                s->bust = 1;
            }
            gross = 0;
        }
        exposure_sum += total > 0 ? gross / total : 0;
        value[d] = total;
        returns[d] = previous > 0 ? total / previous - 1.0 : 0.0;
        previous = total;
    }
    series_stats_t m;
    performance_series(returns, periods, performance_periods_per_year(t->interval), &m);
    double exposure = periods ? exposure_sum / (double)periods : NAN;

    json_t *curve = json_array();
    size_t points = pf->metrics_only ? 0 : periods < CURVE_MAX_POINTS ? periods : CURVE_MAX_POINTS;
    for (size_t j = 0; j < points; j++) {
        size_t d = points > 1 ? (size_t)llround((double)j * (double)(periods - 1) / (double)(points - 1)) : 0;
        json_array_append_new(curve, curve_point(log.daily, dates[d], value[d]));
    }
    const json_t *args = pf->ctx->args;
    json_t *summary = json_pack("{s:[s,s], s:I, s:[I,I], s:f, s:f, s:I}",
                                "date_range", json_string_value(json_object_get(args, "start_date")),
                                json_string_value(json_object_get(args, "end_date")),
                                "symbols_processed", (json_int_t)pf->processed, "data_shape", (json_int_t)rows,
                                (json_int_t)strategy_offered_columns(L), "initial_capital", pf->capital,
                                "final_equity", periods ? value[periods - 1] : pf->capital,
                                "periods", (json_int_t)periods);
    if (log.truncated || (log.list == NULL && log.count > TRADES_MAX_LISTED)) /* a sweep's run says it too */
        json_object_set_new(summary, "trades_listed", json_integer(TRADES_MAX_LISTED));
    if (log.list == NULL)
        log.list = json_array();
    data = json_pack("{s:b, s:s, s:o, s:o, s:O, s:o}", "success", 1, "execution_mode", "portfolio_backtest",
                     "summary", summary, "performance_metrics", metrics_json(&m, exposure, &log),
                     "trades", log.list, "equity_curve", curve);
    if (data == NULL)
        snprintf(why, whylen, "out of memory building the result");
done:
    json_decref(log.list);
    free(pos);
    free(value);
    free(returns);
    if (dates != pf->dates)
        free(dates);
    free(sleeves);
    return data;
}

task_status_t task_portfolio_backtest(const task_ctx_t *ctx, task_out_t *out)
{
    int64_t t0 = clock_mono_us();
    strategy_task_t t;
    portfolio_t pf = { ctx, &t, 100000, 0, 0, 0, 0, 0, NULL, 0 };
    int64_t start, end;
    task_status_t st = strategy_task_args(ctx, &t, out);
    t.job.positions = 1;
    if (st == TASK_OK)
        st = strategy_task_symbols(ctx, "symbols", &t, out);
    pf.capital = task_arg_number(ctx, "initial_capital");
    pf.rate = strategy_task_bps(ctx, "commission_bps") + strategy_task_bps(ctx, "slippage_bps");
    if (st == TASK_OK)
        st = strategy_task_range(ctx, &t, &start, &end, &pf.processed, out);
    if (st == TASK_OK)
        pf.score_from = strategy_task_time(ctx, "score_from", 0, start);
    pf.write_positions = task_arg_bool(ctx, "check_lookahead");
    json_t *data = NULL;
    if (st == TASK_OK)
        st = strategy_task_run(ctx, &t, portfolio_finish, &pf, NULL, &data, out);
    if (st == TASK_OK && pf.write_positions) {
        /* The positions (raw text, never part of the result) against those
         * of runs on cut data. */
        json_t *report;
        st = strategy_lookahead(ctx, &t, LOOKAHEAD_POSITIONS, portfolio_finish, &pf, out->raw ? out->raw : "[]",
                                out->raw_len, &report, out);
        if (st == TASK_OK)
            json_object_set_new(data, "lookahead", report);
    }
    free(out->raw);
    out->raw = NULL;
    out->raw_len = 0;
    return strategy_task_done(&t, st, data, t0, out);
}

task_status_t task_portfolio_sweep(const task_ctx_t *ctx, const json_t *params, json_t **datas,
                                   strategy_split_t *splits, task_out_t *out)
{
    strategy_task_t t;
    portfolio_t pf = { ctx, &t, 100000, 0, 0, 0, 0, 1, NULL, 0 };
    int64_t start, end;
    size_t n = json_array_size(params);
    for (size_t i = 0; i < n; i++)
        datas[i] = NULL;
    task_status_t st = strategy_task_args(ctx, &t, out);
    t.job.positions = 1;
    if (st == TASK_OK && (t.job.python || task_arg_bool(ctx, "check_lookahead") ||
                          json_object_get(ctx->args, "params") != NULL))
        st = task_error(out, TASK_PERMANENT, "a sweep runs Lua strategies without check_lookahead or params");
    if (st == TASK_OK)
        st = strategy_task_symbols(ctx, "symbols", &t, out);
    pf.capital = task_arg_number(ctx, "initial_capital");
    pf.rate = strategy_task_bps(ctx, "commission_bps") + strategy_task_bps(ctx, "slippage_bps");
    if (st == TASK_OK)
        st = strategy_task_range(ctx, &t, &start, &end, &pf.processed, out);
    if (st == TASK_OK)
        pf.score_from = strategy_task_time(ctx, "score_from", 0, start);
    char err[sizeof out->error];
    if (st == TASK_OK && strategy_task_eval_batch(ctx, &t, portfolio_finish, &pf, params, datas, splits, err,
                                                  sizeof err) != 0)
        st = task_error(out, TASK_TRANSIENT, "%s", err);
    free(pf.dates); /* set in the sandbox child only: NULL here */
    strategy_task_free(&t);
    return st;
}

static const task_arg_t portfolio_args[] = {
    STRATEGY_CODE_ARG,
    { .name = "symbols", .type = TASK_ARG_LIST, .flags = TASK_ARG_REQUIRED, .min = 1, .max = STRATEGY_MAX_SYMBOLS,
      .type_doc = "symbols", .check = task_symbol_check,
      .doc = "the symbols whose bars df holds; each gets an equal sleeve of the capital" },
    STRATEGY_WINDOW_ARGS,
    { .name = "score_from", .type = TASK_ARG_TIME, .default_doc = "start_date",
      .doc = "the first bar traded and scored: the bars before it (from start_date) are warm-up, seen by the "
             "strategy (its kernels start there) with no position; the metrics, curve and trades start at it; "
             "from start_date to end_date" },
    { .name = "initial_capital", .type = TASK_ARG_NUMBER, .flags = TASK_ARG_ABOVE_MIN, .min = 0, .max = 1e15,
      .num = 100000, .doc = "the starting equity, split equally across the symbols" },
    { .name = "commission_bps", .type = TASK_ARG_NUMBER, .min = 0, .max = 10000, .num = 0,
      .doc = "cost per side, in basis points of the traded notional" },
    { .name = "slippage_bps", .type = TASK_ARG_NUMBER, .min = 0, .max = 10000, .num = 0,
      .doc = "slippage per side, in basis points of the traded notional" },
    { .name = "check_lookahead", .type = TASK_ARG_BOOL, .num = 0,
      .doc = "re-run the strategy on data cut at up to 20 dates (where a position changes, and others) and "
             "report the positions that change (lookahead in the result)" },
    STRATEGY_OPTION_ARGS,
    { .name = NULL }
};

/* The window's check, and score_from inside it. */
static int portfolio_check(const json_t *args, task_check_where_t where, char *err, size_t errlen)
{
    if (strategy_window_check(args, where, err, errlen) != 0)
        return -1;
    /* Costs of half the sleeve a side or more are a unit slip (percent for
     * basis points): a reversal from 1 to -1, two sides, would cost the
     * whole sleeve or more, leaving an equity of which no position can be
     * a fraction. The table has checked each number. */
    double commission = json_number_value(json_object_get(args, "commission_bps"));
    double slippage = json_number_value(json_object_get(args, "slippage_bps"));
    if (commission + slippage >= PORTFOLIO_MAX_COST_BPS) {
        snprintf(err, errlen, "commission_bps + slippage_bps must be below %g (%g%% a side: a reversal from 1 "
                 "to -1 pays two sides and would cost the whole sleeve), got %g + %g; 10 bps is 0.1%%",
                 PORTFOLIO_MAX_COST_BPS, PORTFOLIO_MAX_COST_BPS / 100, commission, slippage);
        return -1;
    }
    const char *from = json_string_value(json_object_get(args, "score_from"));
    int64_t s, start, end;
    int date_only;
    if (from == NULL)
        return 0;
    if (clock_parse_iso8601(from, &s, &date_only) != 0 ||
        clock_parse_iso8601(json_string_value(json_object_get(args, "start_date")), &start, &date_only) != 0 ||
        clock_parse_iso8601(json_string_value(json_object_get(args, "end_date")), &end, &date_only) != 0)
        return -1; /* the table refuses it first */
    if (date_only)
        end += 86399;
    if (s < start || s > end) {
        snprintf(err, errlen, "score_from %s is outside the window %s .. %s", from,
                 json_string_value(json_object_get(args, "start_date")),
                 json_string_value(json_object_get(args, "end_date")));
        return -1;
    }
    return 0;
}

const task_def_t task_def_portfolio_backtest = {
    .name = "portfolio_backtest",
    .run = task_portfolio_backtest,
    .summary = "position backtest of a strategy (Lua or Python): equity curve, trades, metrics",
    .args = portfolio_args,
    .check = portfolio_check,
};
