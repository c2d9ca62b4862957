/* option_chain.h — option chains in memory: quote rows, their validation
 * and the chain CSV format. The providers that update_options_data reads
 * chains from are in option_provider.h.
 *
 * A quote is valid when its strike is positive, 0 <= bid <= ask, last (if
 * any) >= 0, volume and open interest are non-negative integers, the type
 * is call or put and the expiry is after the quote date (docs/options.md,
 * "Option chains"). */
#ifndef TICKQ_OPTION_CHAIN_H
#define TICKQ_OPTION_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "data/db.h"

#define OPTION_CHAIN_MAX_PROBLEMS 10

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

#endif
