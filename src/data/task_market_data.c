/* task_market_data.c — update_stock_data: fetch bars from a provider and
 * upsert them, all symbols or none.
 *
 * Every requested symbol is fetched and validated first, with no database
 * transaction open (fetches may take seconds; SQLite would hold its write
 * lock all along). Only when every symbol is good are the bars written, in
 * one transaction, so a failure anywhere leaves the database as it was. The
 * price is memory: all the bars are held until the write, hence
 * UPDATE_MAX_BARS. A failure that may pass (server down, timeouts, 5xx,
 * database busy) is TASK_TRANSIENT, for the queue to retry; one that will
 * not (bad args, no such file or URL, bad CSV) is TASK_PERMANENT. */
#include "data/task_market_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "data/db.h"
#include "core/errmsg.h"
#include "data/market_data_provider.h"
#include "data/task_args.h"
#include "data/task_env_data.h"

#define UPDATE_MAX_SYMBOLS 5000
#define UPDATE_MAX_BARS 20000000     /* held in memory before the write: about 1.1 GB */
#define UPDATE_MAX_FAILURES 10       /* stop fetching after this many bad symbols */
#define UPDATE_PER_SYMBOL_MAX 100    /* entries of the result's per_symbol */

typedef struct {
    market_data_provider_t provider;
    char interval[BAR_INTERVAL_MAX + 1];
    int all;                     /* symbols was "all" */
    bar_symbol_t *symbols;       /* sorted, distinct */
    size_t nsymbols;
    md_bars_t *bars;             /* one per symbol, once fetched */
    size_t total_bars;
} update_t;

/* The provider: args.provider, or the worker's environment. */
static int read_provider(const json_t *args, market_data_provider_t *p, char *err, size_t errlen)
{
    char why[512];
    const json_t *v = json_object_get(args, "provider");
    if (v != NULL && !json_is_null(v))
        return market_data_provider_from_json(p, v, err, errlen);
    int rc = market_data_provider_from_env(p, why, sizeof why);
    if (rc < 0)
        snprintf(err, errlen, "the worker's market-data provider is misconfigured: %s", why);
    else if (rc > 0)
        snprintf(err, errlen, "no market-data provider: give args.provider, e.g. "
                 "{\"type\": \"csv_dir\", \"path\": \"/data/bars\"}, or set "
                 "TICKQ_MARKET_DATA_PROVIDER (csv_dir or http_csv) and TICKQ_MARKET_DATA_PATH or "
                 "TICKQ_MARKET_DATA_URL on the worker");
    return rc == 0 ? 0 : -1;
}

/* Table check of args.provider. */
static int provider_check(const char *what, const json_t *v, char *err, size_t errlen)
{
    (void)what;
    market_data_provider_t p;
    return market_data_provider_from_json(&p, v, err, errlen);
}

/* Task check: without args.provider, the worker's environment must name
 * one (known only on the worker's side). */
static int update_check(const json_t *args, task_check_where_t where, char *err, size_t errlen)
{
    market_data_provider_t p;
    struct stat st;
    if (where == TASK_CHECK_CLIENT && !task_schema_given(args, "provider"))
        return 0;
    if (read_provider(args, &p, err, errlen) != 0)
        return -1;
    /* The folder is the worker's: a missing one fails every run (as the
     * fetch would, permanently). A client may not see the same disk. */
    if (where == TASK_CHECK_WORKER && p.kind == MD_CSV_DIR && (stat(p.path, &st) != 0 || !S_ISDIR(st.st_mode))) {
        snprintf(err, errlen, "the csv_dir folder %s does not exist", p.path);
        return -1;
    }
    return 0;
}

/* "all": the symbols stored at the interval, and for csv_dir the folder's
 * files too. */
static task_status_t resolve_all(update_t *u, db_t *db, task_out_t *out)
{
    char err[512];
    if (db_bars_symbols(db, u->interval, &u->symbols, &u->nsymbols, err, sizeof err) != 0)
        return task_error(out, TASK_TRANSIENT, "cannot list the stored symbols: %s", err);
    if (market_data_provider_list(&u->provider, &u->symbols, &u->nsymbols, err, sizeof err) != 0)
        return task_error(out, TASK_PERMANENT, "%s", err);
    u->nsymbols = task_symbols_sort_unique(u->symbols, u->nsymbols);
    if (u->nsymbols == 0) {
        if (u->provider.kind == MD_CSV_DIR)
            return task_error(out, TASK_PERMANENT, "symbols is \"all\" but there is nothing to update: the "
                              "database has no %s bars and %s has no <SYMBOL>.csv files; give a list of symbols",
                              u->interval, u->provider.path);
        return task_error(out, TASK_PERMANENT, "symbols is \"all\" but there is nothing to update: the database "
                          "has no %s bars; give a list of symbols", u->interval);
    }
    if (u->nsymbols > UPDATE_MAX_SYMBOLS)
        return task_error(out, TASK_PERMANENT, "symbols is \"all\": %zu symbols, over %d per job; give lists of "
                          "symbols in several jobs", u->nsymbols, UPDATE_MAX_SYMBOLS);
    return TASK_OK;
}

/* Fetches every symbol, stopping at the first retryable failure (the job
 * will run again anyway) or after UPDATE_MAX_FAILURES bad ones. Once a
 * symbol failed nothing will be written, so later bars are dropped as they
 * are validated. */
static task_status_t fetch_all(const task_ctx_t *ctx, update_t *u, task_out_t *out)
{
    u->bars = calloc(u->nsymbols, sizeof *u->bars);
    if (u->bars == NULL)
        return task_error(out, TASK_TRANSIENT, "out of memory");
    errmsg_t m = { "", 0 };
    size_t failed = 0, done = 0;
    int permanent = 0, retryable = 0;
    for (; done < u->nsymbols && !retryable && failed < UPDATE_MAX_FAILURES; done++) {
        if (ctx->stopping != NULL && *ctx->stopping)
            return task_error(out, TASK_TRANSIENT, "the worker is stopping; nothing written");
        char err[1024];
        md_bars_t *b = &u->bars[done];
        md_status_t st = market_data_provider_fetch(&u->provider, u->symbols[done], u->interval, b, err, sizeof err);
        if (st == MD_STOPPED)
            return task_error(out, TASK_TRANSIENT, "the worker is stopping; nothing written");
        if (st == MD_OK && failed == 0 && u->total_bars + b->n > UPDATE_MAX_BARS) {
            md_bars_free(b);
            return task_error(out, TASK_PERMANENT, "over %d bars to hold before writing (at %s); split the "
                              "symbols over several jobs", UPDATE_MAX_BARS, u->symbols[done]);
        }
        if (st == MD_OK) {
            u->total_bars += b->n;
            if (failed > 0)
                md_bars_free(b);
            continue;
        }
        if (failed++ == 0)
            for (size_t i = 0; i < done; i++)
                md_bars_free(&u->bars[i]);
        permanent |= st == MD_BAD;
        retryable |= st == MD_RETRYABLE;
        errmsg_add(&m, "; %s: %s", u->symbols[done], err);
    }
    if (failed == 0)
        return TASK_OK;
    errmsg_t head = { "", 0 };
    errmsg_add(&head, "nothing written: %zu of %zu symbols failed", failed, u->nsymbols);
    if (done < u->nsymbols)
        errmsg_add(&head, " (%zu not fetched: %s)", u->nsymbols - done,
                retryable ? "stopped at a retryable failure" : "too many failures");
    return task_error(out, permanent ? TASK_PERMANENT : TASK_TRANSIENT, "%s%s", head.text, m.text);
}

/* All the bars in one transaction. Any failure here (the database busy
 * past its timeout, gone, full) is worth another try: the bars are good. */
static task_status_t write_all(update_t *u, db_t *db, task_out_t *out)
{
    char err[512];
    if (db_begin(db, err, sizeof err) != 0)
        return task_error(out, TASK_TRANSIENT, "nothing written: cannot start a transaction: %s", err);
    for (size_t i = 0; i < u->nsymbols; i++) {
        if (db_bars_put(db, u->interval, u->bars[i].rows, u->bars[i].n, err, sizeof err) != 0) {
            db_rollback(db);
            return task_error(out, TASK_TRANSIENT, "nothing written: writing %s's bars failed: %s", u->symbols[i],
                              err);
        }
    }
    if (db_commit(db, err, sizeof err) != 0) {
        db_rollback(db);
        return task_error(out, TASK_TRANSIENT, "nothing written: commit failed: %s", err);
    }
    return TASK_OK;
}

static json_t *result(const update_t *u)
{
    int daily = bar_interval_is_daily(u->interval);
    json_t *per = json_object();
    for (size_t i = 0; i < u->nsymbols && i < UPDATE_PER_SYMBOL_MAX; i++) {
        const md_bars_t *b = &u->bars[i];
        char first[CLOCK_DATE_LEN], last[CLOCK_DATE_LEN];
        clock_format_bar(daily, b->rows[0].ts, first);
        clock_format_bar(daily, b->rows[b->n - 1].ts, last);
        json_object_set_new(per, u->symbols[i],
                            json_pack("{s:I, s:s, s:s}", "bars", (json_int_t)b->n, "first", first, "last", last));
    }
    json_t *data = json_pack("{s:I, s:I, s:s, s:s, s:o}", "symbols_updated", (json_int_t)u->nsymbols,
                             "bars_written", (json_int_t)u->total_bars, "provider",
                             market_data_provider_name(&u->provider), "interval", u->interval, "per_symbol", per);
    if (data != NULL && u->nsymbols > UPDATE_PER_SYMBOL_MAX)
        json_object_set_new(data, "per_symbol_omitted", json_integer((json_int_t)(u->nsymbols - UPDATE_PER_SYMBOL_MAX)));
    return data;
}

task_status_t task_update_stock_data(const task_ctx_t *ctx, task_out_t *out)
{
    update_t u;
    memset(&u, 0, sizeof u);
    char err[512];
    snprintf(u.interval, sizeof u.interval, "%s", task_arg_string(ctx, "interval"));
    task_status_t st = TASK_OK;
    if (read_provider(ctx->args, &u.provider, err, sizeof err) != 0)
        st = task_error(out, TASK_PERMANENT, "%s", err);
    /* A fetch stuck on a slow server ends when the worker is told to stop,
     * instead of holding the shutdown up for its timeouts and retries. */
    u.provider.http.stop = ctx->stopping;
    if (st == TASK_OK)
        st = task_symbols_arg(ctx, "symbols", &u.symbols, &u.nsymbols, &u.all, out);
    if (st != TASK_OK)
        goto cleanup;
    /* Opened before fetching: no point fetching what cannot be written. */
    db_t *db = task_env_db(ctx->env, err, sizeof err);
    if (db == NULL) {
        st = task_error(out, TASK_TRANSIENT, "database unavailable: %s", err);
        goto cleanup;
    }
    if (u.all && (st = resolve_all(&u, db, out)) != TASK_OK)
        goto cleanup;
    if ((st = fetch_all(ctx, &u, out)) != TASK_OK)
        goto cleanup;
    if ((st = write_all(&u, db, out)) != TASK_OK)
        goto cleanup;
    out->data = result(&u);
    if (out->data == NULL)
        st = task_error(out, TASK_TRANSIENT, "out of memory building the result (the bars were written)");
cleanup:
    if (u.bars != NULL)
        for (size_t i = 0; i < u.nsymbols; i++)
            md_bars_free(&u.bars[i]);
    free(u.bars);
    free(u.symbols);
    return st;
}

static const task_arg_t update_args[] = {
    TASK_SYMBOLS_OR_ALL_ARG(TASK_ARG_REQUIRED, UPDATE_MAX_SYMBOLS, NULL,
                            "the symbols to update; \"all\": those stored at the interval (and, for csv_dir, "
                            "the folder's files)"),
    { .name = "provider", .type = TASK_ARG_OBJECT, .check = provider_check,
      .default_doc = "the worker's TICKQ_MARKET_DATA_* environment",
      .doc = "where bars come from: {\"type\": \"csv_dir\", \"path\": DIR} or {\"type\": \"http_csv\", "
             "\"url\": TEMPLATE, ...} (docs/market_data.md)" },
    { .name = "interval", .type = TASK_ARG_STRING, .str = "1d", .type_doc = "bar interval",
      .check = task_interval_check, .doc = "the bars' interval: 1d, 1wk, 1h, 15m, ..." },
    { .name = NULL }
};

const task_def_t task_def_update_stock_data = {
    .name = "update_stock_data",
    .run = task_update_stock_data,
    .summary = "fetches bars from a provider (csv_dir, http_csv) and upserts them, all symbols or none",
    .args = update_args,
    .check = update_check,
};

static const task_def_t *const market_data_tasks[] = { &task_def_update_stock_data };

const task_family_t task_family_market_data = TASK_FAMILY(market_data_tasks);
