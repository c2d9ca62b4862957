/* task_screening.c — the `screening` task: run a strategy over a universe
 * and rank today's opportunities.
 *
 * The frame holds each ticker's last `lookback_bars` bars up to `as_of`
 * (features computed from all stored history, as in a backtest). Instances
 * dated on a ticker's last bar are its current opportunities; they are ranked
 * by `score` (descending; unscored ones after the scored, then by ticker)
 * and the top `limit` are returned. An instance without a well-formed
 * ticker and date is an error, as in a backtest. Symbols without bars are skipped and
 * listed in `missing_symbols`, so one delisted ticker does not sink a
 * screen of 500. */
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "strategy/strategy_result.h"
#include "strategy/strategy_task.h"
#include "strategy/task_strategy.h"

typedef struct {
    int index;                   /* of the instance in the strategy's list */
    const char *ticker;
    double score;                /* NaN: unscored */
} ranked_t;

typedef struct {
    const task_ctx_t *ctx;
    strategy_task_t *t;
    long limit;
    size_t screened;
} screening_t;

static int cmp_ranked(const void *x, const void *y)
{
    const ranked_t *a = x, *b = y;
    int sa = !isnan(a->score), sb = !isnan(b->score);
    if (sa != sb)
        return sb - sa;          /* scored first */
    if (sa && a->score != b->score)
        return a->score > b->score ? -1 : 1;
    int c = strcmp(a->ticker, b->ticker);
    return c != 0 ? c : a->index - b->index;
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

/* A current opportunity: a well-formed instance (ticker, time) whose
 * ticker is in the frame and whose time is that ticker's last bar in the
 * frame. Anything else (an earlier bar, a ticker not screened) is a past
 * signal, not an opportunity now. *last remembers the previous instance's
 * series (they come in runs, as in a backtest). */
static int is_current(const strategy_task_t *t, const char *ticker, int64_t ts, bar_series_t **last)
{
    bar_series_t *s = *last != NULL && strcmp((*last)->symbol, ticker) == 0 ? *last : bar_set_find(t->set, ticker);
    if (s == NULL)
        return 0;
    *last = s;
    size_t i = (size_t)(s - t->set->series);
    return t->hi[i] > t->lo[i] && s->ts[t->hi[i] - 1] == ts;
}

/* Writes field `key` of the table at inst, or `dflt` (JSON text) when it is
 * absent (or, with numbers_only, not a number). */
static int write_field_or(lua_State *L, int inst, const char *key, int numbers_only, const char *dflt,
                          json_writer_t *w, char *why, size_t whylen)
{
    jw_key(w, key, 0);
    lua_pushstring(L, key);
    int type = lua_rawget(L, inst);
    int rc = 0;
    if (type == LUA_TNIL || (numbers_only && type != LUA_TNUMBER))
        jw_raw(w, dflt, strlen(dflt));
    else
        rc = strategy_write_value(L, -1, w, 1, why, whylen);
    lua_pop(L, 1);
    if (rc != 0) { /* placed as strategy_write_fields places it */
        char place[80];
        snprintf(place, sizeof place, "key '%s'", key);
        strategy_failed_at(place, why, whylen);
    }
    return rc;
}

/* One ranked result: ticker, score, signal, message first, then the
 * instance's other fields, and its rank. */
static int write_row(lua_State *L, int inst, const char *ticker, size_t rank, json_writer_t *w, char *why,
                     size_t whylen)
{
    static const char *const named[] = { "ticker", "score", "signal", "message", "rank", NULL };
    jw_char(w, '{');
    jw_key(w, "ticker", 1);
    jw_string(w, ticker, strlen(ticker));
    if (write_field_or(L, inst, "score", 1, "null", w, why, whylen) != 0 ||
        write_field_or(L, inst, "signal", 0, "true", w, why, whylen) != 0 ||
        write_field_or(L, inst, "message", 0, "null", w, why, whylen) != 0 ||
        strategy_write_fields(L, inst, w, named, 0, 1, why, whylen) < 0)
        return -1;
    jw_key(w, "rank", 0);
    jw_integer(w, (int64_t)rank);
    jw_char(w, '}');
    return 0;
}

/* The score of instance k (the table at the top of the stack): its number,
 * NaN when it has none (absent, nil or None) or one that is not finite.
 * 0; -1 with why for a score of another type (a string "7" ranked as
 * unscored would hide the strategy's slip). */
static int score_of(lua_State *L, size_t k, const char *ticker, double *score, char *why, size_t whylen)
{
    lua_pushstring(L, "score");
    int type = lua_rawget(L, -2);
    *score = type == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
    int ok = type == LUA_TNUMBER || type == LUA_TNIL || strategy_is_null(L, -1);
    if (!ok)
        snprintf(why, whylen, "instance %zu (%s): 'score' is a %s, not a number (leave it out, or nil/None, for "
                 "no score)", k, ticker, strategy_typename(L, -1));
    lua_pop(L, 1);
    return ok ? 0 : -1;
}

/* In the sandbox: keeps the instances on each ticker's last bar, ranks
 * them, writes the top `limit` (raw text) and the counts. */
static json_t *screening_finish(lua_State *L, int ret, void *ctx, json_writer_t *raw, char *why, size_t whylen)
{
    screening_t *sc = ctx;
    const strategy_task_t *t = sc->t;
    size_t n, current = 0;
    bar_series_t *last = NULL;
    if (strategy_instances(L, ret, &n, why, whylen) != 0)
        return NULL;
    ranked_t *ranked = malloc((n ? n : 1) * sizeof *ranked);
    if (ranked == NULL) {
        snprintf(why, whylen, "out of memory ranking %zu instances", n);
        return NULL;
    }
    for (size_t k = 1; k <= n; k++) {
        if (strategy_instance(L, ret, k, why, whylen) != 0) {
            free(ranked);
            return NULL;
        }
        const char *ticker;
        int64_t ts;
        if (strategy_instance_where(L, -1, k, &ticker, &ts, why, whylen) != 0) {
            lua_pop(L, 1); /* malformed: an error, as in a backtest */
            free(ranked);
            return NULL;
        }
        if (is_current(t, ticker, ts, &last)) {
            /* NaN and infinities rank as no score: JSON has no such number,
             * and a null at the top would look unscored while leading. */
            double score;
            if (score_of(L, k, ticker, &score, why, whylen) != 0) {
                lua_pop(L, 1);
                free(ranked);
                return NULL;
            }
            ranked[current++] = (ranked_t){ (int)k, ticker, isfinite(score) ? score : NAN };
        }
        lua_pop(L, 1);           /* a past signal is not an opportunity now */
    }
    qsort(ranked, current, sizeof *ranked, cmp_ranked);
    size_t take = current < (size_t)sc->limit ? current : (size_t)sc->limit;
    jw_char(raw, '[');
    for (size_t k = 0; k < take; k++) {
        if (k > 0)
            jw_char(raw, ',');
        lua_rawgeti(L, ret, ranked[k].index);
        int rc = write_row(L, lua_gettop(L), ranked[k].ticker, k + 1, raw, why, whylen);
        lua_pop(L, 1);
        if (rc != 0) {
            char inner[400];
            snprintf(inner, sizeof inner, "%s", why);
            snprintf(why, whylen, "instance %d %s", ranked[k].index, inner);
            free(ranked);
            return NULL;
        }
    }
    jw_char(raw, ']');
    free(ranked);
    return json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:o, s:[I,I]}", "success", 1, "execution_mode", "screening",
                     "universe_size", (json_int_t)t->nsymbols, "results_returned", (json_int_t)take,
                     "opportunities", (json_int_t)current, "symbols_screened", (json_int_t)sc->screened,
                     "missing_symbols", missing_json(t), "data_shape", (json_int_t)t->frame.rows,
                     (json_int_t)strategy_offered_columns(L));
}

task_status_t task_screening(const task_ctx_t *ctx, task_out_t *out)
{
    int64_t t0 = clock_mono_us();
    strategy_task_t t;
    json_t *data = NULL;
    screening_t sc = { ctx, &t, 0, 0 };
    task_status_t st = strategy_task_args(ctx, &t, out);
    if (st == TASK_OK)
        st = strategy_task_symbols(ctx, "universe", &t, out);
    sc.limit = (long)task_arg_int(ctx, "limit");
    long lookback = (long)task_arg_int(ctx, "lookback_bars");
    int64_t as_of = strategy_task_time(ctx, "as_of", 1, INT64_MAX);
    if (st == TASK_OK)
        st = strategy_task_load(ctx, &t, out);
    if (st != TASK_OK)
        goto done;
    size_t rows = 0;
    for (size_t i = 0; i < t.set->n; i++) {
        const bar_series_t *s = &t.set->series[i];
        t.hi[i] = strategy_upper_bound(s->ts, s->n, as_of);
        t.lo[i] = t.hi[i] > (size_t)lookback ? t.hi[i] - (size_t)lookback : 0;
        rows += t.hi[i] - t.lo[i];
        sc.screened += t.hi[i] > t.lo[i];
    }
    if (rows == 0) {
        char missing[600];
        strategy_task_missing(&t, missing, sizeof missing);
        if (t.set->n == 0)
            st = task_error(out, TASK_PERMANENT, "unknown symbols: %s (no %s bars stored; import them with "
                            "tickq data import)", missing, t.interval);
        else
            st = task_error(out, TASK_PERMANENT, "no %s bars on or before as_of %s for these symbols", t.interval,
                            as_of == INT64_MAX ? "(latest)" : json_string_value(json_object_get(ctx->args, "as_of")));
        goto done;
    }
    if ((st = strategy_task_run(ctx, &t, screening_finish, &sc, "ranked_results", &data, out)) != TASK_OK)
        goto done;
    json_t *as_of_arg = json_object_get(ctx->args, "as_of");
    if (json_is_string(as_of_arg))
        json_object_set(data, "as_of", as_of_arg);
done:
    return strategy_task_done(&t, st, data, t0, out);
}

static const task_arg_t screening_args[] = {
    STRATEGY_CODE_ARG,
    { .name = "universe", .type = TASK_ARG_LIST, .flags = TASK_ARG_REQUIRED, .min = 1, .max = STRATEGY_MAX_SYMBOLS,
      .type_doc = "symbols", .check = task_symbol_check,
      .doc = "the symbols to screen; those without bars are listed in missing_symbols" },
    { .name = "limit", .type = TASK_ARG_INT, .min = 1, .max = 100000, .num = 50,
      .doc = "how many ranked results to return" },
    { .name = "as_of", .type = TASK_ARG_TIME, .default_doc = "each ticker's latest bar",
      .doc = "screen as of this time: each ticker's last bar on or before it (a date alone: its whole day)" },
    { .name = "lookback_bars", .type = TASK_ARG_INT, .min = 1, .max = 100000, .num = 252,
      .doc = "bars of each ticker in df, up to as_of" },
    STRATEGY_OPTION_ARGS,
    { .name = NULL }
};

const task_def_t task_def_screening = {
    .name = "screening",
    .run = task_screening,
    .summary = "ranks a universe's current opportunities by a strategy's score (Lua or Python)",
    .args = screening_args,
};
