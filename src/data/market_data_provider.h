/* market_data_provider.h — where update_stock_data gets bars: a folder of
 * CSV files (csv_dir) or a URL template fetched over HTTP (http_csv).
 *
 * Either way a provider gives one symbol's bars as CSV text, header
 * date,open,high,low,close,volume (or the import format with a leading
 * symbol column holding that symbol), validated by csv_parse with the rules
 * of `tickq data import`. A failure says whether trying again later may
 * help (MD_RETRYABLE) or not (MD_BAD), so that the task can tell the queue.
 * An http_csv fetch also ends early (MD_STOPPED) once http.stop is set: the
 * task points it at the worker's shutdown flag. */
#ifndef TICKQ_MARKET_DATA_PROVIDER_H
#define TICKQ_MARKET_DATA_PROVIDER_H

#include <jansson.h>
#include <stddef.h>

#include "data/db.h"
#include "data/http_fetch.h"
#include "data/provider_source.h"

typedef enum { MD_CSV_DIR, MD_HTTP_CSV } md_kind_t;

/* The values of provider_status_t, which the fetch passes on. */
typedef enum {
    MD_OK = PROVIDER_OK,
    MD_RETRYABLE = PROVIDER_RETRYABLE, /* may work later: server down or slow (timeouts, 429, 5xx), I/O error */
    MD_BAD = PROVIDER_BAD,             /* will not work as it is: no such file, 404, bad CSV, bad config */
    MD_STOPPED = PROVIDER_STOPPED      /* cut short: http.stop was set (the worker is stopping); says
                                          nothing of the symbol */
} md_status_t;

typedef struct {
    md_kind_t kind;
    char path[PROVIDER_PATH_MAX]; /* csv_dir: the folder */
    char url[PROVIDER_URL_MAX];   /* http_csv: template with {symbol} (and maybe {interval}) */
    http_fetch_opts_t http;       /* http_csv: timeout and retries per request; stop: NULL until a task sets it */
} market_data_provider_t;

/* One symbol's bars, in date order; rows[i].symbol points at `symbol`. */
typedef struct {
    char symbol[BAR_SYMBOL_MAX + 1];
    bar_row_t *rows;
    size_t n, cap;
} md_bars_t;

void md_bars_free(md_bars_t *b);

/* Reads a provider from a JSON object: {"type": "csv_dir", "path": DIR} or
 * {"type": "http_csv", "url": TEMPLATE, "timeout_seconds": S, "retries": N}.
 * Returns 0, or -1 with err (unknown type or key, missing or bad value). */
int market_data_provider_from_json(market_data_provider_t *p, const json_t *obj, char *err, size_t errlen);

/* Reads the deployment's provider from the environment:
 * TICKQ_MARKET_DATA_PROVIDER (csv_dir or http_csv), TICKQ_MARKET_DATA_PATH,
 * TICKQ_MARKET_DATA_URL, and optionally TICKQ_MARKET_DATA_TIMEOUT_SECONDS
 * and TICKQ_MARKET_DATA_RETRIES. Returns 0, 1 when no provider is set, or
 * -1 with err naming the variable to fix. */
int market_data_provider_from_env(market_data_provider_t *p, char *err, size_t errlen);

/* "csv_dir" or "http_csv". */
const char *market_data_provider_name(const market_data_provider_t *p);

/* Where `symbol`'s bars come from: the file (csv_dir) or the URL with
 * {symbol} percent-encoded and {interval} filled in. Returns 0, or -1 with
 * err (a symbol that cannot name a file, a result too long). */
int market_data_provider_source(const market_data_provider_t *p, const char *symbol, const char *interval,
                                char *out, size_t outlen, char *err, size_t errlen);

/* Fetches and validates `symbol`'s bars into *out (emptied first; free it
 * with md_bars_free whatever the result). An empty file, a file with no
 * bars and any bad row are MD_BAD, with err giving the line numbers. */
md_status_t market_data_provider_fetch(const market_data_provider_t *p, const char *symbol, const char *interval,
                                       md_bars_t *out, char *err, size_t errlen);

/* csv_dir: the symbols of the folder's <SYMBOL>.csv files (hidden files and
 * names that are not valid symbols are left out), appended to *names
 * (malloc'd array of *n entries, grown as needed). http_csv: nothing.
 * Returns 0, or -1 with err when the folder cannot be read. */
int market_data_provider_list(const market_data_provider_t *p, bar_symbol_t **names, size_t *n,
                              char *err, size_t errlen);

#endif
