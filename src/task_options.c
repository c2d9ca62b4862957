/* task_options.c — update_options_data, calculate_iv_analysis and
 * scan_opportunities (task_options.h, docs/options.md).
 *
 * Like the other data tasks, each job computes everything first, with no
 * transaction open, and writes in one transaction at the end: a job that
 * fails leaves the database as it was. Failures that may pass (database or
 * server unavailable, timeouts) are TASK_TRANSIENT for the queue to retry;
 * bad arguments and bad data are TASK_PERMANENT. */
#include "task_options.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "iv_analysis.h"
#include "option_chain.h"

#define OPTIONS_MAX_SYMBOLS 5000
#define OPTIONS_MAX_ROWS 2000000      /* quotes held before the write: about 200 MB */
#define OPTIONS_MAX_FAILURES 10       /* symbols that failed before giving up */
#define HISTORY_LOOKBACK_DAYS 800     /* of IV history and bars loaded: covers 252 observations and 52 weeks */
#define SPOT_MAX_AGE_DAYS 7           /* a bar close this old may still price a chain without underlying_price */
#define EARLIEST_DAY (-1000000)        /* about 770 BC: before any bar */
#define SCAN_DEFAULT_LIMIT 50
#define SCAN_DEFAULT_MAX_AGE 7

typedef char sym_t[BAR_SYMBOL_MAX + 1];

/* --- shared argument readers --------------------------------------- */

/* An error text built piece by piece, cut at out->error's size. */
typedef struct {
    char text[sizeof ((task_out_t *)0)->error];
    size_t len;
} msg_t;

static void msg_add(msg_t *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg_add(msg_t *m, const char *fmt, ...)
{
    if (m->len + 1 >= sizeof m->text)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(m->text + m->len, sizeof m->text - m->len, fmt, ap);
    va_end(ap);
    if (w > 0)
        m->len = m->len + (size_t)w < sizeof m->text ? m->len + (size_t)w : sizeof m->text - 1;
}

static int cmp_sym(const void *a, const void *b) { return strcmp(*(const sym_t *)a, *(const sym_t *)b); }

/* Sorts and drops repeats. */
static size_t sort_unique(sym_t *s, size_t n)
{
    if (n == 0)
        return 0;
    qsort(s, n, sizeof *s, cmp_sym);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (strcmp(s[k - 1], s[i]) != 0)
            memmove(s[k++], s[i], sizeof *s);
    return k;
}

/* args[field]: a non-empty list of symbols (sorted, distinct into *out) or
 * "all" (*all set, *out NULL). Absent: an error when required, else all. */
static task_status_t symbols_arg(const task_ctx_t *ctx, const char *field, int required, sym_t **out, size_t *n,
                                 int *all, task_out_t *o)
{
    static const char *const how = "give a list like [\"AAPL\", \"MSFT\"], or \"all\"";
    json_t *v = json_object_get(ctx->args, field);
    *out = NULL;
    *n = 0;
    *all = 0;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return task_error(o, TASK_PERMANENT, "missing %s: %s", field, how);
        *all = 1;
        return TASK_OK;
    }
    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), "all") != 0)
            return task_error(o, TASK_PERMANENT, "%s is the string '%.40s': %s", field, json_string_value(v), how);
        *all = 1;
        return TASK_OK;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return task_error(o, TASK_PERMANENT, "%s must be a non-empty list or \"all\": %s", field, how);
    size_t len = json_array_size(v);
    if (len > OPTIONS_MAX_SYMBOLS)
        return task_error(o, TASK_PERMANENT, "%s has %zu entries (at most %d per job)", field, len, OPTIONS_MAX_SYMBOLS);
    *out = malloc(len * sizeof **out);
    if (*out == NULL)
        return task_error(o, TASK_TRANSIENT, "out of memory");
    for (size_t i = 0; i < len; i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s) || bar_symbol_check(json_string_value(s), json_string_length(s)) != 0)
            return task_error(o, TASK_PERMANENT, "%s[%zu] is not a valid symbol (1-32 characters, no spaces, "
                              "commas, quotes, backslashes or braces)", field, i);
        memcpy((*out)[i], json_string_value(s), json_string_length(s) + 1);
    }
    *n = sort_unique(*out, len);
    return TASK_OK;
}

/* args[field] as a date (YYYY-MM-DD) in days; absent: *day = -1. */
static task_status_t date_arg(const task_ctx_t *ctx, const char *field, int64_t *day, task_out_t *o)
{
    json_t *v = json_object_get(ctx->args, field);
    int64_t ts;
    *day = -1;
    if (v == NULL || json_is_null(v))
        return TASK_OK;
    if (!json_is_string(v) || clock_parse_date(json_string_value(v), json_string_length(v), &ts) != 0)
        return task_error(o, TASK_PERMANENT, "%s must be a date like 2024-03-15, got %s", field,
                          json_is_string(v) ? json_string_value(v) : "a non-string");
    *day = ts / 86400;
    return TASK_OK;
}

static task_status_t number_arg(const task_ctx_t *ctx, const char *field, double dflt, double lo, double hi,
                                double *v, task_out_t *o)
{
    json_t *j = json_object_get(ctx->args, field);
    *v = dflt;
    if (j == NULL || json_is_null(j))
        return TASK_OK;
    if (!json_is_number(j) || !(json_number_value(j) >= lo && json_number_value(j) <= hi))
        return task_error(o, TASK_PERMANENT, "%s must be a number from %g to %g", field, lo, hi);
    *v = json_number_value(j);
    return TASK_OK;
}

static task_status_t open_db(const task_ctx_t *ctx, db_t **db, task_out_t *o)
{
    char err[1024];
    *db = task_env_db(ctx->env, err, sizeof err);
    return *db != NULL ? TASK_OK : task_error(o, TASK_TRANSIENT, "database unavailable: %s", err);
}

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *date_json(int64_t day)
{
    if (day <= 0)
        return json_null();
    char buf[CLOCK_DATE_LEN];
    clock_format_date(day * 86400, buf);
    return json_string(buf);
}

/* The daily bars of one symbol with from_day <= date <= to_day (an empty
 * series when it has none) into *set. */
static int load_bars(db_t *db, const char *symbol, int64_t from_day, int64_t to_day, bar_set_t *set, char *err,
                     size_t errlen)
{
    const char *syms[1] = { symbol };
    memset(set, 0, sizeof *set);
    return db_bars_get(db, "1d", syms, 1, from_day * 86400, to_day * 86400 + 86399, set, err, errlen);
}

/* Ends a write that failed: rolls back, a transient error. */
static task_status_t write_failed(db_t *db, task_out_t *o, const char *what, const char *err)
{
    db_rollback(db);
    return task_error(o, TASK_TRANSIENT, "cannot write %s: %s; nothing written", what, err);
}

/* --- update_options_data -------------------------------------------- */

typedef struct {
    option_provider_t provider;
    int64_t as_of;               /* -1: none */
    sym_t *symbols;
    size_t nsymbols;
    option_chain_t chain;        /* every symbol's rows */
    size_t *first;               /* index of each symbol's first row; first[nsymbols] = chain.n */
    option_synth_info_t *info;   /* synthetic: what each chain came from */
} update_t;

static void update_free(update_t *u)
{
    free(u->symbols);
    free(u->first);
    free(u->info);
    option_chain_free(&u->chain);
}

/* "all": csv_dir, the folder's <SYMBOL>_options.csv files; the others, the
 * symbols with stored daily bars. */
static task_status_t resolve_all(update_t *u, db_t *db, task_out_t *o)
{
    char err[512];
    if (u->provider.kind == OPTION_CSV_DIR) {
        if (option_provider_list(&u->provider, &u->symbols, &u->nsymbols, err, sizeof err) != 0)
            return task_error(o, TASK_PERMANENT, "%s", err);
    } else {
        bar_summary_t *rows = NULL;
        size_t n = 0;
        if (db_bars_summary(db, &rows, &n, err, sizeof err) != 0)
            return task_error(o, TASK_TRANSIENT, "cannot list the stored symbols: %s", err);
        u->symbols = malloc((n ? n : 1) * sizeof *u->symbols);
        if (u->symbols == NULL) {
            free(rows);
            return task_error(o, TASK_TRANSIENT, "out of memory");
        }
        for (size_t i = 0; i < n; i++)
            if (strcmp(rows[i].interval, "1d") == 0)
                memcpy(u->symbols[u->nsymbols++], rows[i].symbol, sizeof rows[i].symbol);
        free(rows);
    }
    u->nsymbols = sort_unique(u->symbols, u->nsymbols);
    if (u->nsymbols == 0)
        return task_error(o, TASK_PERMANENT, "symbols is \"all\" but there is nothing to update: %s; give a list "
                          "of symbols", u->provider.kind == OPTION_CSV_DIR ? "the folder has no <SYMBOL>_options.csv "
                          "files" : "the database has no daily bars");
    if (u->nsymbols > OPTIONS_MAX_SYMBOLS)
        return task_error(o, TASK_PERMANENT, "symbols is \"all\": %zu symbols, over %d per job; split them over "
                          "several jobs", u->nsymbols, OPTIONS_MAX_SYMBOLS);
    return TASK_OK;
}

/* One symbol's synthetic chain from its bars up to as_of. */
static option_fetch_status_t synth_one(update_t *u, db_t *db, size_t i, char *err, size_t errlen)
{
    bar_set_t set;
    int64_t to = u->as_of >= 0 ? u->as_of : clock_days_from_civil(9999, 12, 31);
    if (load_bars(db, u->symbols[i], u->as_of >= 0 ? to - HISTORY_LOOKBACK_DAYS : EARLIEST_DAY, to, &set, err,
                  errlen) != 0)
        return OPTION_FETCH_RETRYABLE;
    option_fetch_status_t st = OPTION_FETCH_OK;
    if (set.n == 0) {
        char day[CLOCK_DATE_LEN];
        clock_format_date(to * 86400, day);
        snprintf(err, errlen, "%s has no daily bars%s%s to quote synthetic options around: import them first "
                 "(tickq data import)", u->symbols[i], u->as_of >= 0 ? " on or before " : "", u->as_of >= 0 ? day : "");
        st = OPTION_FETCH_BAD;
    } else {
        bar_series_t *s = &set.series[0];
        if (option_synth_chain(u->symbols[i], s->ts, s->close, s->volume, s->n, &u->provider.synth, &u->chain,
                               &u->info[i], err, errlen) != 0)
            st = OPTION_FETCH_BAD;
    }
    bar_set_free(&set);
    return st;
}

/* Fetches every symbol's chain, stopping at the first retryable failure or
 * after OPTIONS_MAX_FAILURES bad ones. */
static task_status_t fetch_all(const task_ctx_t *ctx, update_t *u, db_t *db, task_out_t *o)
{
    u->first = calloc(u->nsymbols + 1, sizeof *u->first);
    u->info = calloc(u->nsymbols, sizeof *u->info);
    if (u->first == NULL || u->info == NULL)
        return task_error(o, TASK_TRANSIENT, "out of memory");
    msg_t m = { "", 0 };
    size_t failed = 0, i = 0;
    int retryable = 0;
    for (; i < u->nsymbols && !retryable && failed < OPTIONS_MAX_FAILURES; i++) {
        if (ctx->stopping != NULL && *ctx->stopping)
            return task_error(o, TASK_TRANSIENT, "the worker is stopping; nothing written");
        char err[900];
        option_csv_report_t rep;
        u->first[i] = u->chain.n;
        option_fetch_status_t st = u->provider.kind == OPTION_SYNTHETIC
                                       ? synth_one(u, db, i, err, sizeof err)
                                       : option_provider_fetch(&u->provider, u->symbols[i], u->as_of, &u->chain, &rep,
                                                               err, sizeof err);
        if (st != OPTION_FETCH_OK) {
            u->chain.n = u->first[i];
            msg_add(&m, "%s%s: %s", failed ? "; " : "", u->symbols[i], err);
            failed++;
            retryable = st == OPTION_FETCH_RETRYABLE;
        } else if (u->chain.n > OPTIONS_MAX_ROWS) {
            return task_error(o, TASK_PERMANENT, "over %d option quotes to hold before writing (at %s); split the "
                              "symbols over several jobs", OPTIONS_MAX_ROWS, u->symbols[i]);
        }
    }
    u->first[u->nsymbols] = u->chain.n;
    if (failed == 0)
        return TASK_OK;
    if (i < u->nsymbols)
        msg_add(&m, " (stopped after %zu of %zu symbols)", i, u->nsymbols);
    return task_error(o, retryable ? TASK_TRANSIENT : TASK_PERMANENT, "%zu symbol%s failed, nothing written: %s",
                      failed, failed == 1 ? "" : "s", m.text);
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

/* The number of distinct values (v is sorted in place). */
static size_t distinct(int64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_i64);
    size_t d = 0;
    for (size_t k = 0; k < n; k++)
        d += k == 0 || v[k] != v[k - 1];
    return d;
}

static json_t *update_summary(const update_t *u, size_t i)
{
    size_t a = u->first[i], b = u->first[i + 1];
    int64_t last_date = 0;
    size_t days = 0, expiries = 0;
    int64_t *v = malloc((b - a ? b - a : 1) * sizeof *v);
    if (v != NULL) {
        for (size_t k = a; k < b; k++)
            v[k - a] = u->chain.rows[k].quote_date;
        days = distinct(v, b - a);
        last_date = b > a ? v[b - a - 1] : 0;
        for (size_t k = a; k < b; k++)
            v[k - a] = u->chain.rows[k].expiry;
        expiries = distinct(v, b - a);
        free(v);
    }
    json_t *s = json_pack("{s:s, s:I, s:o, s:I, s:I}", "symbol", u->symbols[i], "rows", (json_int_t)(b - a),
                          "quote_date", date_json(last_date), "quote_days", (json_int_t)days, "expiries",
                          (json_int_t)expiries);
    if (u->provider.kind == OPTION_SYNTHETIC) {
        json_object_set_new(s, "spot", num(u->info[i].spot));
        json_object_set_new(s, "hv_20", num(u->info[i].hv_20));
        json_object_set_new(s, "base_vol", num(u->info[i].base_vol));
    }
    return s;
}

task_status_t task_update_options_data(const task_ctx_t *ctx, task_out_t *out)
{
    update_t u;
    memset(&u, 0, sizeof u);
    db_t *db = NULL;
    char err[1024];
    int all = 0;
    task_status_t st = TASK_OK;
    json_t *pv = json_object_get(ctx->args, "provider");
    if (pv == NULL || json_is_null(pv))
        st = task_error(out, TASK_PERMANENT, "missing provider: give e.g. {\"type\": \"synthetic\"}, "
                        "{\"type\": \"csv_dir\", \"path\": \"/data/options\"} or {\"type\": \"http_csv\", "
                        "\"url\": \"https://host/options/{symbol}.csv\"}");
    else if (option_provider_from_json(&u.provider, pv, err, sizeof err) != 0)
        st = task_error(out, TASK_PERMANENT, "%s", err);
    if (st == TASK_OK)
        st = symbols_arg(ctx, "symbols", 1, &u.symbols, &u.nsymbols, &all, out);
    if (st == TASK_OK)
        st = date_arg(ctx, "as_of", &u.as_of, out);
    if (st == TASK_OK)
        st = open_db(ctx, &db, out);
    if (st == TASK_OK && all)
        st = resolve_all(&u, db, out);
    if (st == TASK_OK)
        st = fetch_all(ctx, &u, db, out);
    if (st != TASK_OK)
        goto done;
    if (db_begin(db, err, sizeof err) != 0) {
        st = task_error(out, TASK_TRANSIENT, "cannot write option quotes: %s; nothing written", err);
        goto done;
    }
    if (db_option_quotes_put(db, u.chain.rows, u.chain.n, err, sizeof err) != 0 ||
        db_commit(db, err, sizeof err) != 0) {
        st = write_failed(db, out, "option quotes", err);
        goto done;
    }
    json_t *syms = json_array();
    for (size_t i = 0; i < u.nsymbols; i++)
        json_array_append_new(syms, update_summary(&u, i));
    out->data = json_pack("{s:s, s:o, s:I, s:o}", "provider", option_provider_name(&u.provider), "as_of",
                          u.as_of >= 0 ? date_json(u.as_of) : json_null(), "rows_written", (json_int_t)u.chain.n,
                          "symbols", syms);
done:
    update_free(&u);
    return st;
}

/* --- calculate_iv_analysis ------------------------------------------ */

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
 * at that bar into h. */
static double spot_and_hv(const bar_set_t *set, int64_t day, iv_history_row_t *h)
{
    h->hv_20 = h->hv_60 = NAN;
    if (set->n == 0 || set->series[0].n == 0)
        return NAN;
    const bar_series_t *s = &set->series[0];
    h->hv_20 = iv_hv_last(s->close, s->n, 20);
    h->hv_60 = iv_hv_last(s->close, s->n, 60);
    return s->ts[s->n - 1] / 86400 >= day - SPOT_MAX_AGE_DAYS ? s->close[s->n - 1] : NAN;
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
        c[k - a].iv = vol;
        an->iv[an->niv++] = (option_iv_row_t){ q[k].expiry, q[k].strike, q[k].kind, spot, mid, vol, g.delta, g.gamma,
                                               g.theta / 365.0, g.vega / 100.0, g.rho / 100.0 };
    }
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
        load_bars(db, symbol, day - HISTORY_LOOKBACK_DAYS, day, &set, err, sizeof err) != 0 ||
        db_iv_history_get(db, symbol, day - HISTORY_LOOKBACK_DAYS, day - 1, &past, &npast, err, sizeof err) != 0) {
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
                          date_json(h->date), "underlying_price", num(h->underlying), "contracts",
                          (json_int_t)h->contracts, "solved", (json_int_t)h->solved, "skipped", (json_int_t)h->skipped,
                          "skipped_reasons", "zero_bid", (json_int_t)an->zero_bid, "no_arbitrage",
                          (json_int_t)an->no_arbitrage, "unsolved", (json_int_t)an->unsolved, "expiries",
                          (json_int_t)an->nexpiries);
    json_object_set_new(j, "atm_iv_30d", num(h->atm_iv_30d));
    json_object_set_new(j, "atm_method", json_string(h->atm_method));
    json_object_set_new(j, "near_expiry", date_json(h->near_expiry));
    json_object_set_new(j, "near_iv", num(h->near_iv));
    json_object_set_new(j, "far_expiry", date_json(h->far_expiry));
    json_object_set_new(j, "far_iv", num(h->far_iv));
    json_object_set_new(j, "iv_rank", num(h->iv_rank));
    json_object_set_new(j, "iv_percentile", num(h->iv_percentile));
    json_object_set_new(j, "history_days", json_integer((json_int_t)an->rank.history));
    json_object_set_new(j, "hv_20", num(h->hv_20));
    json_object_set_new(j, "hv_60", num(h->hv_60));
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
    sym_t *symbols = NULL;
    size_t nsymbols = 0, nsum = 0, done_n = 0;
    option_summary_t *sum = NULL;
    analysis_t *an = NULL;
    iv_history_row_t *rows = NULL;
    db_t *db = NULL;
    json_t *skipped = json_array();
    int all = 0;
    int64_t as_of;
    iv_params_t p;
    char err[1024];
    task_status_t st = symbols_arg(ctx, "symbols", 1, &symbols, &nsymbols, &all, out);
    if (st == TASK_OK)
        st = date_arg(ctx, "as_of", &as_of, out);
    if (st == TASK_OK)
        st = number_arg(ctx, "rate", 0.04, -0.5, 1, &p.rate, out);
    if (st == TASK_OK)
        st = number_arg(ctx, "dividend_yield", 0, -0.5, 1, &p.div, out);
    if (st == TASK_OK)
        st = open_db(ctx, &db, out);
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
    msg_t why_all = { "", 0 };
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
            msg_add(&why_all, "%s%s: %s", why_all.len ? "; " : "", symbols[i], why);
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
            st = write_failed(db, out, "implied volatilities", err);
            goto done;
        }
    if (db_iv_history_put(db, rows, done_n, err, sizeof err) != 0 || db_commit(db, err, sizeof err) != 0) {
        st = write_failed(db, out, "IV history", err);
        goto done;
    }
    json_t *results = json_array();
    for (size_t i = 0; i < done_n; i++)
        json_array_append_new(results, analysis_json(&an[i]));
    out->data = json_pack("{s:o, s:f, s:f, s:o, s:O}", "as_of", as_of >= 0 ? date_json(as_of) : json_null(), "rate",
                          p.rate, "dividend_yield", p.div, "results", results, "skipped_symbols", skipped);
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

/* --- scan_opportunities --------------------------------------------- */

typedef struct {
    const iv_history_row_t *h;
    double score;
} candidate_t;

static int cmp_candidate(const void *x, const void *y)
{
    const candidate_t *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return strcmp(a->h->symbol, b->h->symbol);
}

static json_t *candidate_json(const candidate_t *c, int rank)
{
    const iv_history_row_t *h = c->h;
    json_t *j = json_pack("{s:i, s:s, s:f, s:o}", "rank", rank, "symbol", h->symbol, "score", c->score, "date",
                          date_json(h->date));
    json_object_set_new(j, "atm_iv_30d", num(h->atm_iv_30d));
    json_object_set_new(j, "iv_rank", num(h->iv_rank));
    json_object_set_new(j, "iv_percentile", num(h->iv_percentile));
    json_object_set_new(j, "hv_20", num(h->hv_20));
    json_object_set_new(j, "hv_60", num(h->hv_60));
    json_object_set_new(j, "iv_hv_ratio", num(h->atm_iv_30d / h->hv_20));
    json_object_set_new(j, "atm_open_interest", json_integer((json_int_t)h->atm_open_interest));
    json_object_set_new(j, "atm_volume", json_integer((json_int_t)h->atm_volume));
    return j;
}

static json_t *rules_json(const iv_scan_rules_t *r, double max_age, double limit)
{
    char sell[160], buy[160], liquid[160];
    snprintf(sell, sizeof sell, "iv_rank >= %g and atm_iv_30d > hv_20 and liquid", r->sell_min_rank);
    snprintf(buy, sizeof buy, "iv_rank <= %g and atm_iv_30d < hv_20 and liquid", r->buy_max_rank);
    snprintf(liquid, sizeof liquid, "atm_open_interest >= %lld and atm_volume >= %lld",
             (long long)r->min_open_interest, (long long)r->min_volume);
    return json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:f, s:f, s:I, s:I, s:I, s:I, s:s}", "sell_premium", sell,
                     "buy_premium", buy, "liquid", liquid, "score", "sell_premium",
                     "iv_rank + 100 * (atm_iv_30d / hv_20 - 1)", "buy_premium",
                     "(100 - iv_rank) + 100 * (1 - atm_iv_30d / hv_20)", "min_iv_rank_sell", r->sell_min_rank,
                     "max_iv_rank_buy", r->buy_max_rank, "min_open_interest", (json_int_t)r->min_open_interest,
                     "min_volume", (json_int_t)r->min_volume, "max_age_days", (json_int_t)max_age, "limit",
                     (json_int_t)limit, "source", "each symbol's latest iv_history row");
}

static int in_list(const sym_t *s, size_t n, const char *symbol)
{
    for (size_t lo = 0, hi = n; lo < hi;) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s[mid], symbol);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

task_status_t task_scan_opportunities(const task_ctx_t *ctx, task_out_t *out)
{
    sym_t *symbols = NULL;
    size_t nsymbols = 0, nrows = 0;
    iv_history_row_t *rows = NULL;
    candidate_t *side[2] = { NULL, NULL };
    opportunity_row_t *store = NULL;
    size_t nside[2] = { 0, 0 };
    db_t *db = NULL;
    int all = 0;
    int64_t as_of;
    double min_oi, min_vol, max_age, limit;
    iv_scan_rules_t rules;
    iv_scan_default_rules(&rules);
    char err[1024];
    task_status_t st = symbols_arg(ctx, "symbols", 0, &symbols, &nsymbols, &all, out);
    if (st == TASK_OK)
        st = date_arg(ctx, "as_of", &as_of, out);
    if (st == TASK_OK)
        st = number_arg(ctx, "min_iv_rank_sell", rules.sell_min_rank, 0, 100, &rules.sell_min_rank, out);
    if (st == TASK_OK)
        st = number_arg(ctx, "max_iv_rank_buy", rules.buy_max_rank, 0, 100, &rules.buy_max_rank, out);
    if (st == TASK_OK)
        st = number_arg(ctx, "min_open_interest", (double)rules.min_open_interest, 0, 1e15, &min_oi, out);
    if (st == TASK_OK)
        st = number_arg(ctx, "min_volume", (double)rules.min_volume, 0, 1e15, &min_vol, out);
    if (st == TASK_OK)
        st = number_arg(ctx, "max_age_days", SCAN_DEFAULT_MAX_AGE, 0, 100000, &max_age, out);
    if (st == TASK_OK)
        st = number_arg(ctx, "limit", SCAN_DEFAULT_LIMIT, 1, 100000, &limit, out);
    if (st == TASK_OK)
        st = open_db(ctx, &db, out);
    if (st != TASK_OK)
        goto done;
    rules.min_open_interest = (int64_t)ceil(min_oi);
    rules.min_volume = (int64_t)ceil(min_vol);
    max_age = floor(max_age);
    limit = floor(limit);
    int64_t to = as_of >= 0 ? as_of : clock_days_from_civil(9999, 12, 31);
    if (db_iv_history_latest(db, to, &rows, &nrows, err, sizeof err) != 0) {
        st = task_error(out, TASK_TRANSIENT, "cannot read the IV history: %s", err);
        goto done;
    }
    int64_t ref = as_of;
    for (size_t i = 0; ref < 0 && i < nrows; i++)
        ref = rows[i].date;
    for (size_t i = 0; i < nrows; i++)
        ref = as_of < 0 && rows[i].date > ref ? rows[i].date : ref;
    side[0] = malloc((nrows ? nrows : 1) * sizeof *side[0]);
    side[1] = malloc((nrows ? nrows : 1) * sizeof *side[1]);
    store = malloc((nrows ? nrows : 1) * sizeof *store);
    if (side[0] == NULL || side[1] == NULL || store == NULL) {
        st = task_error(out, TASK_TRANSIENT, "out of memory");
        goto done;
    }
    size_t scanned = 0, no_data = 0, illiquid = 0, stale = 0, neither = 0;
    for (size_t i = 0; i < nrows; i++) {
        const iv_history_row_t *h = &rows[i];
        if (!all && !in_list(symbols, nsymbols, h->symbol))
            continue;
        scanned++;
        if (h->date < ref - (int64_t)max_age) {
            stale++;
            continue;
        }
        double score;
        iv_scan_verdict_t v = iv_scan_classify(h, &rules, &score);
        if (v == IV_SCAN_SELL || v == IV_SCAN_BUY)
            side[v][nside[v]++] = (candidate_t){ h, score };
        else if (v == IV_SCAN_NO_DATA)
            no_data++;
        else if (v == IV_SCAN_ILLIQUID)
            illiquid++;
        else
            neither++;
    }
    static const char *const names[2] = { "sell_premium", "buy_premium" };
    json_t *lists[2];
    size_t nstore = 0;
    for (int s = 0; s < 2; s++) {
        qsort(side[s], nside[s], sizeof *side[s], cmp_candidate);
        nside[s] = nside[s] < (size_t)limit ? nside[s] : (size_t)limit;
        lists[s] = json_array();
        for (size_t k = 0; k < nside[s]; k++) {
            json_array_append_new(lists[s], candidate_json(&side[s][k], (int)k + 1));
            store[nstore++] = (opportunity_row_t){ names[s], (int)k + 1, side[s][k].score, side[s][k].h };
        }
    }
    int64_t now = clock_now_us();
    if (db_begin(db, err, sizeof err) != 0) {
        json_decref(lists[0]);
        json_decref(lists[1]);
        st = task_error(out, TASK_TRANSIENT, "cannot write the scan: %s; nothing written", err);
        goto done;
    }
    if (db_opportunities_put(db, now, store, nstore, err, sizeof err) != 0 || db_commit(db, err, sizeof err) != 0) {
        json_decref(lists[0]);
        json_decref(lists[1]);
        st = write_failed(db, out, "the scan", err);
        goto done;
    }
    char base[CLOCK_DATE_LEN], iso[CLOCK_DATE_LEN];
    clock_format_datetime(now / 1000000, base);
    snprintf(iso, sizeof iso, "%.19s.%06dZ", base, (int)(now % 1000000)); /* as stored */
    out->data = json_pack("{s:s, s:o, s:o, s:o, s:o, s:I, s:{s:I, s:I, s:I, s:I}}", "generated_at", iso, "as_of",
                          date_json(ref), "sell_premium", lists[0], "buy_premium", lists[1], "rules",
                          rules_json(&rules, max_age, limit), "symbols_scanned", (json_int_t)scanned, "excluded",
                          "no_data", (json_int_t)no_data, "illiquid", (json_int_t)illiquid, "stale",
                          (json_int_t)stale, "neither", (json_int_t)neither);
done:
    free(store);
    free(side[0]);
    free(side[1]);
    free(rows);
    free(symbols);
    return st;
}
