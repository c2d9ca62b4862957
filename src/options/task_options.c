/* task_options.c — update_options_data (task_options.h, docs/options.md),
 * and the helpers the options task files share (task_options_internal.h):
 * argument readers, the database handle, bar loading, JSON values.
 *
 * Like the other data tasks, each job computes everything first, with no
 * transaction open, and writes in one transaction at the end: a job that
 * fails leaves the database as it was. Failures that may pass (database or
 * server unavailable, timeouts) are TASK_TRANSIENT for the queue to retry;
 * bad arguments and bad data are TASK_PERMANENT. */
#include "options/task_options.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "data/db.h"
#include "data/task_env_data.h"
#include "options/option_provider.h"
#include "options/option_synth.h"
#include "options/task_options_internal.h"

#define OPTIONS_MAX_ROWS 2000000      /* quotes held before the write: about 200 MB */
#define OPTIONS_MAX_FAILURES 10       /* symbols that failed before giving up */
#define SYNTH_MIN_BARS 21             /* hv_20 and the 20-day average volume of a synthetic chain */

/* --- shared helpers (task_options_internal.h) ----------------------- */

int64_t task_options_day_arg(const task_ctx_t *ctx, const char *field)
{
    const char *v = task_arg_string(ctx, field);
    int64_t ts;
    if (v == NULL || clock_parse_date(v, strlen(v), &ts) != 0)
        return -1;
    return ts / 86400;
}

task_status_t task_options_open_db(const task_ctx_t *ctx, db_t **db, task_out_t *o)
{
    char err[1024];
    *db = task_env_db(ctx->env, err, sizeof err);
    return *db != NULL ? TASK_OK : task_error(o, TASK_TRANSIENT, "database unavailable: %s", err);
}

json_t *task_options_date_json(int64_t day)
{
    if (day <= 0)
        return json_null();
    char buf[CLOCK_DATE_LEN];
    clock_format_date(day * 86400, buf);
    return json_string(buf);
}

/* The daily bars of one symbol with from_day <= date <= to_day (an empty
 * series when it has none) into *set. */
int task_options_load_bars(db_t *db, const char *symbol, int64_t from_day, int64_t to_day, bar_set_t *set, char *err,
                           size_t errlen)
{
    const char *syms[1] = { symbol };
    memset(set, 0, sizeof *set);
    return db_bars_get(db, "1d", syms, 1, from_day * 86400, to_day * 86400 + 86399, set, err, errlen);
}

int task_options_load_last_bars(db_t *db, const char *symbol, int64_t to_day, size_t min_bars, bar_set_t *set,
                                char *err, size_t errlen)
{
    if (task_options_load_bars(db, symbol, to_day - OPTIONS_HISTORY_LOOKBACK_DAYS, to_day, set, err, errlen) != 0)
        return -1;
    if (bar_set_rows(set) >= min_bars)
        return 0;
    bar_set_free(set);
    return task_options_load_bars(db, symbol, OPTIONS_EARLIEST_DAY, to_day, set, err, errlen);
}

/* Ends a write that failed: rolls back, a transient error. */
task_status_t task_options_write_failed(db_t *db, task_out_t *o, const char *what, const char *err)
{
    db_rollback(db);
    return task_error(o, TASK_TRANSIENT, "cannot write %s: %s; nothing written", what, err);
}
/* --- update_options_data -------------------------------------------- */

typedef struct {
    option_provider_t provider;
    int64_t as_of;               /* -1: none */
    bar_symbol_t *symbols;
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
        if (db_bars_symbols(db, "1d", &u->symbols, &u->nsymbols, err, sizeof err) != 0)
            return task_error(o, TASK_TRANSIENT, "cannot list the stored symbols: %s", err);
    }
    u->nsymbols = task_symbols_sort_unique(u->symbols, u->nsymbols);
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
    if ((u->as_of >= 0 ? task_options_load_last_bars(db, u->symbols[i], to, SYNTH_MIN_BARS, &set, err, errlen)
                       : task_options_load_bars(db, u->symbols[i], OPTIONS_EARLIEST_DAY, to, &set, err, errlen)) != 0)
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
    errmsg_t m = { "", 0 };
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
        if (st == OPTION_FETCH_STOPPED)
            return task_error(o, TASK_TRANSIENT, "the worker is stopping; nothing written");
        if (st != OPTION_FETCH_OK) {
            u->chain.n = u->first[i];
            errmsg_add(&m, "%s%s: %s", failed ? "; " : "", u->symbols[i], err);
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
        errmsg_add(&m, " (stopped after %zu of %zu symbols)", i, u->nsymbols);
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
                          "quote_date", task_options_date_json(last_date), "quote_days", (json_int_t)days,
                          "expiries", (json_int_t)expiries);
    if (u->provider.kind == OPTION_SYNTHETIC) {
        json_object_set_new(s, "spot", json_number_or_null(u->info[i].spot));
        json_object_set_new(s, "hv_20", json_number_or_null(u->info[i].hv_20));
        json_object_set_new(s, "base_vol", json_number_or_null(u->info[i].base_vol));
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
    if (option_provider_from_json(&u.provider, json_object_get(ctx->args, "provider"), err, sizeof err) != 0)
        st = task_error(out, TASK_PERMANENT, "%s", err);
    /* A fetch stuck on a slow server ends when the worker is told to stop. */
    u.provider.http.stop = ctx->stopping;
    u.as_of = task_options_day_arg(ctx, "as_of");
    if (st == TASK_OK)
        st = task_symbols_arg(ctx, "symbols", &u.symbols, &u.nsymbols, &all, out);
    if (st == TASK_OK)
        st = task_options_open_db(ctx, &db, out);
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
        st = task_options_write_failed(db, out, "option quotes", err);
        goto done;
    }
    json_t *syms = json_array();
    for (size_t i = 0; i < u.nsymbols; i++)
        json_array_append_new(syms, update_summary(&u, i));
    out->data = json_pack("{s:s, s:o, s:I, s:o}", "provider", option_provider_name(&u.provider), "as_of",
                          u.as_of >= 0 ? task_options_date_json(u.as_of) : json_null(), "rows_written",
                          (json_int_t)u.chain.n, "symbols", syms);
done:
    update_free(&u);
    return st;
}

/* Table check of args.provider. */
static int provider_check(const char *what, const json_t *v, char *err, size_t errlen)
{
    (void)what;
    option_provider_t p;
    return option_provider_from_json(&p, v, err, errlen);
}

static const task_arg_t update_args[] = {
    TASK_SYMBOLS_OR_ALL_ARG(TASK_ARG_REQUIRED, OPTIONS_MAX_SYMBOLS, NULL,
                            "the symbols to update; \"all\": the folder's <SYMBOL>_options.csv files (csv_dir), "
                            "else every symbol with daily bars"),
    { .name = "provider", .type = TASK_ARG_OBJECT, .flags = TASK_ARG_REQUIRED, .check = provider_check,
      .doc = "where chains come from: {\"type\": \"synthetic\"}, {\"type\": \"csv_dir\", \"path\": DIR} or "
             "{\"type\": \"http_csv\", \"url\": TEMPLATE} (docs/options.md)" },
    { .name = "as_of", .type = TASK_ARG_DATE, OPTIONS_DATE_RANGE, .default_doc = "every quote date the provider gives",
      .doc = "keep only the chains quoted on this day (synthetic: quote on the last bar up to it)" },
    { .name = NULL }
};

const task_def_t task_def_update_options_data = {
    .name = "update_options_data",
    .run = task_update_options_data,
    .summary =
        "fetches option chains from a provider (csv_dir, http_csv, synthetic) and upserts them, all symbols or none",
    .args = update_args,
};

static const task_def_t *const options_tasks[] = {
    &task_def_update_options_data,
    &task_def_calculate_iv_analysis,
    &task_def_scan_opportunities,
};

const task_family_t task_family_options = TASK_FAMILY(options_tasks);
