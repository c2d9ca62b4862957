/* option_chain.h — option chains in memory: quote rows, their validation,
 * the chain CSV format, and the providers update_options_data reads chains
 * from: a folder of CSV files (csv_dir), a URL template (http_csv), or
 * chains generated from the stored daily bars (synthetic, option_synth.h).
 *
 * A quote is valid when its strike is positive, 0 <= bid <= ask, last (if
 * any) >= 0, volume and open interest are non-negative integers, the type
 * is call or put and the expiry is after the quote date (docs/options.md,
 * "Option chains"). */
#ifndef TICKQ_OPTION_CHAIN_H
#define TICKQ_OPTION_CHAIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "http_fetch.h"
#include "option_synth.h"

#define OPTION_CHAIN_MAX_PROBLEMS 10
#define OPTION_PATH_MAX 1024
#define OPTION_URL_MAX 2048

typedef struct option_chain {
    option_quote_t *rows;
    size_t n, cap;
} option_chain_t;

/* Appends a copy of *q; 0, or -1 when out of memory. */
int option_chain_push(option_chain_t *c, const option_quote_t *q);
/* Frees the rows; the chain may be reused. Accepts a zeroed chain. */
void option_chain_free(option_chain_t *c);

/* 0 when the quote is valid, else -1 with a message naming the field. */
int option_quote_check(const option_quote_t *q, char *err, size_t errlen);

/* The first bad rows of a parse, with their line numbers. */
typedef struct {
    size_t rows;                 /* data rows read */
    size_t other_dates;          /* rows left out for being of another quote date */
    size_t bad;
    size_t nproblems;
    char problems[OPTION_CHAIN_MAX_PROBLEMS][240];
} option_csv_report_t;

typedef struct {
    const char *symbol;          /* the underlying every row must be of */
    const char *source;          /* file or URL, for messages */
    int64_t default_date;        /* quote date of rows that carry none */
    int64_t only_date;           /* keep only rows of this quote date; -1: keep all */
} option_csv_opts_t;

/* Parses chain CSV text (docs/options.md: a header naming the columns
 * expiry, strike, type, bid, ask, volume, open_interest and optionally
 * symbol, quote_date, last, underlying_price, in any order; other columns
 * are ignored). Returns 0 when every row is valid (the rows are appended
 * to *out), 1 when some are bad (listed in *rep; nothing is appended), or
 * -1 with err when the text is not a chain at all (empty, no header, a
 * required column missing). A repeated contract is a bad row. */
int option_chain_parse_csv(const char *text, size_t len, const option_csv_opts_t *o, option_chain_t *out,
                           option_csv_report_t *rep, char *err, size_t errlen);

typedef enum { OPTION_CSV_DIR, OPTION_HTTP_CSV, OPTION_SYNTHETIC } option_provider_kind_t;

typedef struct {
    option_provider_kind_t kind;
    char path[OPTION_PATH_MAX];  /* csv_dir: the folder of <SYMBOL>_options.csv */
    char url[OPTION_URL_MAX];    /* http_csv: template with {symbol} and maybe {date} */
    http_fetch_opts_t http;      /* http_csv; stop: NULL until a task sets it */
    option_synth_opts_t synth;
} option_provider_t;

/* Reads {"type": "csv_dir", "path": DIR}, {"type": "http_csv", "url": T,
 * "timeout_seconds": S, "retries": N} or {"type": "synthetic", ...knobs}.
 * 0, or -1 with err (unknown type or key, bad value). */
int option_provider_from_json(option_provider_t *p, const json_t *obj, char *err, size_t errlen);

/* "csv_dir", "http_csv" or "synthetic". */
const char *option_provider_name(const option_provider_t *p);

typedef enum {
    OPTION_FETCH_OK = 0,
    OPTION_FETCH_RETRYABLE,      /* may work later: server down, timeouts, 429, 5xx, I/O errors */
    OPTION_FETCH_BAD,            /* will not: no such file, 404, bad rows */
    OPTION_FETCH_STOPPED         /* http_csv cut short: http.stop was set (the worker is stopping) */
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
