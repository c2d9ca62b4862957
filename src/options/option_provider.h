/* option_provider.h — where update_options_data gets option chains: a
 * folder of <SYMBOL>_options.csv files (csv_dir), a URL template fetched
 * over HTTP (http_csv), or chains generated from the stored daily bars
 * (synthetic, option_synth.h).
 *
 * csv_dir and http_csv give one symbol's chain as CSV text (provider_source.h),
 * parsed by option_chain_parse_csv. A failure says whether trying again
 * later may help (OPTION_FETCH_RETRYABLE) or not (OPTION_FETCH_BAD), so
 * that the task can tell the queue. The synthetic provider only carries its
 * knobs here; the task generates its chains. */
#ifndef TICKQ_OPTION_PROVIDER_H
#define TICKQ_OPTION_PROVIDER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "data/db.h"
#include "data/http_fetch.h"
#include "options/option_chain.h"
#include "options/option_synth.h"
#include "data/provider_source.h"

typedef enum { OPTION_CSV_DIR, OPTION_HTTP_CSV, OPTION_SYNTHETIC } option_provider_kind_t;

typedef struct {
    option_provider_kind_t kind;
    char path[PROVIDER_PATH_MAX]; /* csv_dir: the folder of <SYMBOL>_options.csv */
    char url[PROVIDER_URL_MAX];   /* http_csv: template with {symbol} and maybe {date} */
    http_fetch_opts_t http;       /* http_csv; stop: NULL until a task sets it */
    option_synth_opts_t synth;
} option_provider_t;

/* Reads {"type": "csv_dir", "path": DIR}, {"type": "http_csv", "url": T,
 * "timeout_seconds": S, "retries": N} or {"type": "synthetic", ...knobs}.
 * 0, or -1 with err (unknown type or key, bad value). */
int option_provider_from_json(option_provider_t *p, const json_t *obj, char *err, size_t errlen);

/* "csv_dir", "http_csv" or "synthetic". */
const char *option_provider_name(const option_provider_t *p);

/* The values of provider_status_t, which the fetch passes on. */
typedef enum {
    OPTION_FETCH_OK = PROVIDER_OK,
    OPTION_FETCH_RETRYABLE = PROVIDER_RETRYABLE, /* may work later: server down, timeouts, 429, 5xx, I/O errors */
    OPTION_FETCH_BAD = PROVIDER_BAD,             /* will not: no such file, 404, bad rows */
    OPTION_FETCH_STOPPED = PROVIDER_STOPPED      /* http_csv cut short: http.stop was set (the worker is stopping) */
} option_fetch_status_t;

/* csv_dir and http_csv: fetches and parses `symbol`'s chain, appending it
 * to *out. as_of (-1: none) fills {date} in URLs, dates rows that carry no
 * quote date (else today, UTC) and, when given, keeps only its rows. A
 * chain with no rows is bad. err names the file or URL and the lines. */
option_fetch_status_t option_provider_fetch(const option_provider_t *p, const char *symbol, int64_t as_of,
                                            option_chain_t *out, option_csv_report_t *rep, char *err, size_t errlen);

/* csv_dir: appends the symbols of the folder's <SYMBOL>_options.csv files
 * to *names (malloc'd, grown). Others: nothing. 0, or -1 with err. */
int option_provider_list(const option_provider_t *p, bar_symbol_t **names, size_t *n, char *err,
                         size_t errlen);

#endif
