/* csv_import.h — bars from CSV: parse and validate CSV text (csv_parse),
 * and import a CSV file into the database: validated, upserted, one
 * transaction per file (csv_import_file). */
#ifndef TICKQ_CSV_IMPORT_H
#define TICKQ_CSV_IMPORT_H

#include <stddef.h>

#include "data/db.h"

/* The header line, compared column by column in any case. Accepted too:
 * `ticker` for `symbol`; an `adj close` column between close and volume
 * (Yahoo's files), skipped: close is the file's close column; and for a
 * file of one symbol's bars, given its symbol, no symbol column
 * (CSV_SYMBOL_HEADER). So Yahoo's Date,Open,High,Low,Close,Adj Close,Volume
 * is a one-symbol file. Columns come in this order. */
#define CSV_HEADER "symbol,date,open,high,low,close,volume"
#define CSV_SYMBOL_HEADER "date,open,high,low,close,volume" /* one symbol's file */
#define CSV_MAX_PROBLEMS 20

typedef struct {
    const char *interval;        /* "1d" unless told otherwise */
    int skip_bad;                /* import the good rows when some are bad */
    const char *symbol;          /* NULL, or the symbol of a one-symbol file (csv_parse_opts_t) */
} csv_import_opts_t;

typedef struct {
    size_t rows;                 /* data rows read */
    size_t imported;             /* rows written */
    size_t bad;                  /* rows refused, and a bad header line (header_bad) */
    size_t symbols;
    int header_bad;              /* no usable header line (or an empty file): no row was read */
    int adj_close;               /* the file has an adj close column, which was skipped */
    size_t nproblems;            /* the first CSV_MAX_PROBLEMS bad rows */
    struct {
        size_t line;
        char msg[320];
    } problems[CSV_MAX_PROBLEMS];
    /* Every bad line, as ascending runs of consecutive line numbers (lines
     * 7, 8, 9 are one run): filled by csv_import_file only, owned by the
     * report, released by csv_import_report_release. At most one run per
     * bad row, so 16 bytes per bad row in the worst case. */
    struct csv_line_run {
        size_t first, last;
    } *bad_runs;
    size_t nbad_runs, cap_bad_runs;
} csv_import_report_t;

typedef enum {
    CSV_IMPORTED = 0,            /* written (with --skip-bad, maybe some rows skipped) */
    CSV_REJECTED = 1,            /* a bad header, or bad rows and no --skip-bad: nothing written */
    CSV_NOTHING = 2,             /* no row to write: none after the header, or (--skip-bad) all bad */
    CSV_FAILED = -1              /* could not read the file or write the database: err */
} csv_import_status_t;

/* Parses a CSV number field of n characters; 0 ok, -1 not a number, -2 NaN
 * or infinite. Plain decimals take a fast path that gives strtod's value. */
int csv_number(const char *s, size_t n, double *out);

/* Receives each good row of csv_parse, in file order, then NULL once at
 * the end. row->symbol lives until csv_parse returns: copy it to keep it.
 * Returns 0, or -1 with a message in err to stop the parse. */
typedef int (*csv_row_fn)(void *ctx, const bar_row_t *row, char *err, size_t errlen);

typedef struct {
    const char *interval;        /* daily intervals take dates, others times */
    /* NULL: a symbol column (CSV_HEADER), any symbols; a file without one
     * is refused (its header needs the symbol). A symbol: a file of that
     * symbol's bars, without a symbol column (CSV_SYMBOL_HEADER), or with
     * one holding that symbol on every row (another symbol is a bad row). */
    const char *symbol;
} csv_parse_opts_t;

/* Parses and validates data[0..size) with the rules of `tickq data import`
 * (columns, numbers, no NaN or infinity, positive prices, volume >= 0,
 * high >= max(open, close), low <= min(open, close), dates increasing within
 * a symbol). Good rows go to fn; bad ones are counted and listed with their
 * line numbers in *report (rows, bad, symbols, problems; imported is left
 * to the caller). Returns 0 when the text was read through (look at
 * report->bad), or -1 with err when fn failed or memory ran out. */
int csv_parse(const char *data, size_t size, const csv_parse_opts_t *opts, csv_row_fn fn, void *ctx,
              csv_import_report_t *report, char *err, size_t errlen);

/* Imports `path` (a one-symbol file when opts->symbol is set, as in
 * csv_parse). Bad rows are listed with their line numbers in *report:
 * the first CSV_MAX_PROBLEMS with their messages, all of them in bad_runs.
 * *report is overwritten: release it (csv_import_report_release) after
 * each call, whatever the result. */
csv_import_status_t csv_import_file(db_t *db, const char *path, const csv_import_opts_t *opts,
                                    csv_import_report_t *report, char *err, size_t errlen);

/* Frees the bad line runs of a csv_import_file report and empties them;
 * accepts NULL. */
void csv_import_report_release(csv_import_report_t *report);

#endif
