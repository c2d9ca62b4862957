/* task_iv_analysis.c — the calculate_iv_analysis task (task_options.h,
 * docs/options.md): each contract's implied volatility and Greeks at its
 * mid price (option_iv), and per symbol and day the 30-day ATM IV, IV rank,
 * IV percentile, hv_20 and hv_60 (iv_history). The math is iv_analysis.c's;
 * this file reads the stored chains, bars and IV history and writes the
 * results.
 *
 * Every symbol is analysed first, with no transaction open, and the results
 * are written in one transaction at the end: a job that fails leaves the
 * database as it was. A symbol that cannot be analysed (no chain, no price)
 * is skipped and listed; database failures are TASK_TRANSIENT. */
#include "options/task_options.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "data/db.h"
#include "data/feature.h"
#include "options/iv_analysis.h"
#include "options/option_pricing.h"
#include "options/task_options_internal.h"

#define SPOT_MAX_AGE_DAYS 7           /* a bar close this old may still price a chain without underlying_price */
#define HV_SHORT 20                   /* hv_20 */
#define HV_LONG 60                    /* hv_60: its N + 1 closes are the bars read */

typedef struct {
    double rate, div;
} iv_params_t;

/* One symbol's analysis on one day. */
typedef struct {
    iv_history_row_t h;
    option_iv_row_t *iv;         /* solved contracts */
    size_t niv;
    size_t zero_bid, no_arbitrage, unsolved;
    size_t nexpiries;
    iv_rank_t rank;
} analysis_t;

/* The underlying's close on `day`, or on the last bar within
 * SPOT_MAX_AGE_DAYS before; NaN when there is none. Also hv_20 and hv_60
 * at that bar into h, NaN without it: a volatility of bars that ended
 * months ago is no measure of the day's, which the scan compares with the
 * day's implied volatility. */
static double spot_and_hv(const bar_set_t *set, int64_t day, iv_history_row_t *h)
{
    h->hv_20 = h->hv_60 = NAN;
    if (set->n == 0 || set->series[0].n == 0)
        return NAN;
    const bar_series_t *s = &set->series[0];
    if (s->ts[s->n - 1] / 86400 < day - SPOT_MAX_AGE_DAYS)
        return NAN;
    h->hv_20 = feature_hv_last(s->close, s->n, HV_SHORT);
    h->hv_60 = feature_hv_last(s->close, s->n, HV_LONG);
    return s->close[s->n - 1];
}

/* Solves one expiry's contracts [a, b) of q: appends solved rows to an->iv,
 * the contracts to c (for the ATM point) and counts the skipped ones. */
static void solve_expiry(const option_quote_t *q, size_t a, size_t b, double fallback_spot, const iv_params_t *p,
                         analysis_t *an, iv_contract_t *c)
{
    for (size_t k = a; k < b; k++) {
        double spot = isfinite(q[k].underlying) ? q[k].underlying : fallback_spot;
        double years = (double)(q[k].expiry - q[k].quote_date) / 365.0;
        double mid = (q[k].bid + q[k].ask) / 2;
        c[k - a] = (iv_contract_t){ q[k].strike, q[k].kind, NAN, q[k].open_interest, q[k].volume };
        if (!(q[k].bid > 0)) {
            an->zero_bid++;
            continue;
        }
        option_t o = { q[k].kind, spot, q[k].strike, years, p->rate, p->div };
        option_greeks_t g;
        double vol;
        option_iv_status_t st = option_implied_vol_greeks(&o, mid, &vol, &g, NULL, 0);
        if (st == OPTION_IV_BELOW_LOWER || st == OPTION_IV_ABOVE_UPPER) {
            an->no_arbitrage++;
            continue;
        }
        if (st != OPTION_IV_OK) {
            an->unsolved++;
            continue;
        }
        /* Deep in the money, a mid a few ulps above its intrinsic value has
         * the price's rounding for its time value: a wide range of vols
         * prices it to the last bit, and the one solved is noise. Its IV is
         * what the mid's last bit moves it by over vega; beyond
         * IV_MAX_MID_ROUNDING it is not reported (docs/options.md). */
        if (!(DBL_EPSILON * mid <= IV_MAX_MID_ROUNDING * g.vega)) {
            an->no_arbitrage++;
            continue;
        }
        c[k - a].iv = vol;
        an->iv[an->niv++] = (option_iv_row_t){ q[k].expiry, q[k].strike, q[k].kind, spot, mid, vol, g.delta, g.gamma,
                                               g.theta / 365.0, g.vega / 100.0, g.rho / 100.0 };
    }
}

/* The IV history of `symbol` before `day` (by date) that rank and
 * percentile need: the 52 weeks before it, and the previous
 * IV_PERCENTILE_WINDOW observations (rows with an IV) however sparse:
 * when the first OPTIONS_HISTORY_LOOKBACK_DAYS hold fewer, the older rows
 * are read too. 0, or -1 with err. */
static int load_iv_history(db_t *db, const char *symbol, int64_t day, iv_history_row_t **out, size_t *n, char *err,
                           size_t errlen)
{
    int64_t from = day - OPTIONS_HISTORY_LOOKBACK_DAYS;
    if (db_iv_history_get(db, symbol, from, day - 1, out, n, err, errlen) != 0)
        return -1;
    size_t observations = 0;
    for (size_t k = 0; k < *n; k++)
        observations += isfinite((*out)[k].atm_iv_30d) != 0;
    if (observations >= IV_PERCENTILE_WINDOW)
        return 0;
    iv_history_row_t *older = NULL, *all;
    size_t nolder = 0;
    if (db_iv_history_get(db, symbol, OPTIONS_EARLIEST_DAY, from - 1, &older, &nolder, err, errlen) != 0)
        return -1;
    if (nolder == 0) {
        free(older);
        return 0;
    }
    if ((all = realloc(older, (nolder + *n) * sizeof *all)) == NULL) {
        free(older);
        snprintf(err, errlen, "out of memory reading the IV history of %s", symbol);
        return -1;
    }
    if (*n > 0)
        memcpy(all + nolder, *out, *n * sizeof *all);
    free(*out);
    *out = all;
    *n += nolder;
    return 0;
}

/* Analyses `symbol` on `day`. TASK_OK; TASK_PERMANENT with *why when the
 * symbol cannot be analysed (no chain, no price); TASK_TRANSIENT with
 * out->error on a database failure. */
static task_status_t analyse(db_t *db, const char *symbol, int64_t day, const iv_params_t *p, analysis_t *an,
                             char *why, size_t whylen, task_out_t *o)
{
    char err[1024];
    option_quote_t *q = NULL;
    size_t n = 0;
    bar_set_t set;
    memset(&set, 0, sizeof set);
    iv_history_row_t *past = NULL;
    size_t npast = 0;
    iv_contract_t *c = NULL;
    iv_expiry_atm_t *pts = NULL;
    int64_t *dates = NULL;
    double *ivs = NULL;
    task_status_t st = TASK_OK;
    char dstr[CLOCK_DATE_LEN];
    clock_format_date(day * 86400, dstr);

    if (db_option_quotes_get(db, symbol, day, &q, &n, err, sizeof err) != 0 ||
        task_options_load_last_bars(db, symbol, day, HV_LONG + 1, &set, err, sizeof err) != 0 ||
        load_iv_history(db, symbol, day, &past, &npast, err, sizeof err) != 0) {
        st = task_error(o, TASK_TRANSIENT, "cannot read the data of %s: %s", symbol, err);
        goto done;
    }
    if (n == 0) {
        snprintf(why, whylen, "no option quotes on %s", dstr);
        st = TASK_PERMANENT;
        goto done;
    }
    iv_history_row_t *h = &an->h;
    memset(h, 0, sizeof *h);
    snprintf(h->symbol, sizeof h->symbol, "%s", symbol);
    h->date = day;
    double spot = spot_and_hv(&set, day, h);
    h->underlying = isfinite(q[0].underlying) ? q[0].underlying : spot;
    for (size_t k = 0; k < n; k++)
        if (!isfinite(q[k].underlying) && !isfinite(spot)) {
            snprintf(why, whylen, "no underlying price on %s: the chain has no underlying_price and there is no "
                     "daily bar of %s within %d days before", dstr, symbol, SPOT_MAX_AGE_DAYS);
            st = TASK_PERMANENT;
            goto done;
        }
    an->iv = malloc(n * sizeof *an->iv);
    c = malloc(n * sizeof *c);
    pts = malloc(n * sizeof *pts);
    dates = malloc((npast ? npast : 1) * sizeof *dates);
    ivs = malloc((npast ? npast : 1) * sizeof *ivs);
    if (an->iv == NULL || c == NULL || pts == NULL || dates == NULL || ivs == NULL) {
        st = task_error(o, TASK_TRANSIENT, "out of memory analysing %s", symbol);
        goto done;
    }
    /* Rows come by expiry: one group per expiry. */
    size_t npts = 0;
    for (size_t a = 0, b; a < n; a = b) {
        for (b = a; b < n && q[b].expiry == q[a].expiry; b++)
            ;
        an->nexpiries++;
        solve_expiry(q, a, b, spot, p, an, c);
        double s = isfinite(q[a].underlying) ? q[a].underlying : spot;
        double years = (double)(q[a].expiry - day) / 365.0;
        iv_expiry_atm_t *pt = &pts[npts];
        if (iv_expiry_atm(c, b - a, s * exp((p->rate - p->div) * years), pt) == 0) {
            pt->expiry = q[a].expiry;
            pt->days = (int)(q[a].expiry - day);
            npts++;
        }
    }
    iv_atm_30d_t atm;
    iv_atm_interpolate(pts, npts, IV_TARGET_DAYS, &atm);
    h->atm_iv_30d = atm.iv;
    snprintf(h->atm_method, sizeof h->atm_method, "%s", iv_atm_method_name(atm.method));
    h->near_iv = h->far_iv = NAN;
    if (atm.near >= 0) {
        h->near_expiry = pts[atm.near].expiry;
        h->near_iv = pts[atm.near].iv;
        h->atm_open_interest += pts[atm.near].open_interest;
        h->atm_volume += pts[atm.near].volume;
    }
    if (atm.far >= 0 && atm.far != atm.near) {
        h->far_expiry = pts[atm.far].expiry;
        h->far_iv = pts[atm.far].iv;
        h->atm_open_interest += pts[atm.far].open_interest;
        h->atm_volume += pts[atm.far].volume;
    }
    for (size_t k = 0; k < npast; k++) {
        dates[k] = past[k].date;
        ivs[k] = past[k].atm_iv_30d;
    }
    iv_rank_percentile(day, atm.iv, dates, ivs, npast, &an->rank);
    h->iv_rank = an->rank.rank;
    h->iv_percentile = an->rank.percentile;
    h->contracts = (long long)n;
    h->solved = (long long)an->niv;
    h->skipped = (long long)(n - an->niv);
done:
    free(ivs);
    free(dates);
    free(pts);
    free(c);
    free(past);
    bar_set_free(&set);
    free(q);
    return st;
}

static json_t *analysis_json(const analysis_t *an)
{
    const iv_history_row_t *h = &an->h;
    json_t *j = json_pack("{s:s, s:o, s:o, s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:I}", "symbol", h->symbol, "date",
                          task_options_date_json(h->date), "underlying_price", json_number_or_null(h->underlying),
                          "contracts", (json_int_t)h->contracts, "solved", (json_int_t)h->solved, "skipped",
                          (json_int_t)h->skipped, "skipped_reasons", "zero_bid", (json_int_t)an->zero_bid,
                          "no_arbitrage", (json_int_t)an->no_arbitrage, "unsolved", (json_int_t)an->unsolved,
                          "expiries", (json_int_t)an->nexpiries);
    json_object_set_new(j, "atm_iv_30d", json_number_or_null(h->atm_iv_30d));
    json_object_set_new(j, "atm_method", json_string(h->atm_method));
    json_object_set_new(j, "near_expiry", task_options_date_json(h->near_expiry));
    json_object_set_new(j, "near_iv", json_number_or_null(h->near_iv));
    json_object_set_new(j, "far_expiry", task_options_date_json(h->far_expiry));
    json_object_set_new(j, "far_iv", json_number_or_null(h->far_iv));
    json_object_set_new(j, "iv_rank", json_number_or_null(h->iv_rank));
    json_object_set_new(j, "iv_percentile", json_number_or_null(h->iv_percentile));
    json_object_set_new(j, "history_days", json_integer((json_int_t)an->rank.history));
    json_object_set_new(j, "hv_20", json_number_or_null(h->hv_20));
    json_object_set_new(j, "hv_60", json_number_or_null(h->hv_60));
    json_object_set_new(j, "atm_open_interest", json_integer((json_int_t)h->atm_open_interest));
    json_object_set_new(j, "atm_volume", json_integer((json_int_t)h->atm_volume));
    return j;
}

static const option_summary_t *find_summary(const option_summary_t *s, size_t n, const char *symbol)
{
    for (size_t lo = 0, hi = n; lo < hi;) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s[mid].symbol, symbol);
        if (c == 0)
            return &s[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

task_status_t task_calculate_iv_analysis(const task_ctx_t *ctx, task_out_t *out)
{
    bar_symbol_t *symbols = NULL;
    size_t nsymbols = 0, nsum = 0, done_n = 0;
    option_summary_t *sum = NULL;
    analysis_t *an = NULL;
    iv_history_row_t *rows = NULL;
    db_t *db = NULL;
    json_t *skipped = json_array();
    int all = 0;
    iv_params_t p;
    char err[1024];
    int64_t as_of = task_options_day_arg(ctx, "as_of");
    p.rate = task_arg_number(ctx, "rate");
    p.div = task_arg_number(ctx, "dividend_yield");
    task_status_t st = task_symbols_arg(ctx, "symbols", &symbols, &nsymbols, &all, out);
    if (st == TASK_OK)
        st = task_options_open_db(ctx, &db, out);
    if (st == TASK_OK && db_option_summary(db, &sum, &nsum, err, sizeof err) != 0)
        st = task_error(out, TASK_TRANSIENT, "cannot list the stored option quotes: %s", err);
    if (st != TASK_OK)
        goto done;
    if (all) {
        symbols = malloc((nsum ? nsum : 1) * sizeof *symbols);
        if (symbols == NULL) {
            st = task_error(out, TASK_TRANSIENT, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < nsum; i++)
            memcpy(symbols[i], sum[i].symbol, sizeof symbols[i]);
        nsymbols = nsum;
        if (nsymbols == 0) {
            st = task_error(out, TASK_PERMANENT, "symbols is \"all\" but no option quotes are stored: run "
                            "update_options_data first");
            goto done;
        }
    }
    an = calloc(nsymbols, sizeof *an);
    rows = calloc(nsymbols, sizeof *rows);
    if (an == NULL || rows == NULL) {
        st = task_error(out, TASK_TRANSIENT, "out of memory");
        goto done;
    }
    errmsg_t why_all = { "", 0 };
    for (size_t i = 0; i < nsymbols; i++) {
        if (ctx->stopping != NULL && *ctx->stopping) {
            st = task_error(out, TASK_TRANSIENT, "the worker is stopping; nothing written");
            goto done;
        }
        const option_summary_t *s = find_summary(sum, nsum, symbols[i]);
        char why[400] = "no option quotes stored: run update_options_data first";
        task_status_t r = TASK_PERMANENT;
        if (s != NULL)
            r = analyse(db, symbols[i], as_of >= 0 ? as_of : s->last_date, &p, &an[done_n], why, sizeof why, out);
        if (r == TASK_TRANSIENT) {
            st = r;
            goto done;
        }
        if (r == TASK_OK) {
            rows[done_n] = an[done_n].h;
            done_n++;
        } else {
            free(an[done_n].iv);
            memset(&an[done_n], 0, sizeof an[done_n]);
            json_array_append_new(skipped, json_pack("{s:s, s:s}", "symbol", symbols[i], "reason", why));
            errmsg_add(&why_all, "%s%s: %s", why_all.len ? "; " : "", symbols[i], why);
        }
    }
    if (done_n == 0) {
        st = task_error(out, TASK_PERMANENT, "nothing to analyse: %s", why_all.text);
        goto done;
    }
    if (db_begin(db, err, sizeof err) != 0) {
        st = task_error(out, TASK_TRANSIENT, "cannot write the IV analysis: %s; nothing written", err);
        goto done;
    }
    for (size_t i = 0; i < done_n; i++)
        if (db_option_iv_put(db, an[i].h.symbol, an[i].h.date, an[i].iv, an[i].niv, err, sizeof err) != 0) {
            st = task_options_write_failed(db, out, "implied volatilities", err);
            goto done;
        }
    if (db_iv_history_put(db, rows, done_n, err, sizeof err) != 0 || db_commit(db, err, sizeof err) != 0) {
        st = task_options_write_failed(db, out, "IV history", err);
        goto done;
    }
    json_t *results = json_array();
    for (size_t i = 0; i < done_n; i++)
        json_array_append_new(results, analysis_json(&an[i]));
    out->data = json_pack("{s:o, s:f, s:f, s:o, s:O}", "as_of",
                          as_of >= 0 ? task_options_date_json(as_of) : json_null(), "rate", p.rate, "dividend_yield",
                          p.div, "results", results, "skipped_symbols", skipped);
done:
    for (size_t i = 0; an != NULL && i < nsymbols; i++)
        free(an[i].iv);
    free(an);
    free(rows);
    free(sum);
    free(symbols);
    json_decref(skipped);
    return st;
}

static const task_arg_t iv_args[] = {
    TASK_SYMBOLS_OR_ALL_ARG(TASK_ARG_REQUIRED, OPTIONS_MAX_SYMBOLS, NULL,
                            "the symbols to analyse; \"all\": every symbol with stored option quotes"),
    { .name = "as_of", .type = TASK_ARG_DATE, OPTIONS_DATE_RANGE, .default_doc = "each symbol's latest quote date",
      .doc = "the quote date whose chain is analysed" },
    { .name = "rate", .type = TASK_ARG_NUMBER, .min = -0.5, .max = 1, .num = 0.04,
      .doc = "the risk-free rate, continuously compounded (0.04 = 4 %)" },
    { .name = "dividend_yield", .type = TASK_ARG_NUMBER, .min = -0.5, .max = 1, .num = 0,
      .doc = "the continuous dividend yield" },
    { .name = NULL }
};

const task_def_t task_def_calculate_iv_analysis = {
    .name = "calculate_iv_analysis",
    .run = task_calculate_iv_analysis,
    .summary =
        "implied volatility and Greeks of each contract; 30-day ATM IV, IV rank/percentile, hv_20/hv_60 "
        "per symbol and day",
    .args = iv_args,
};
