/* csv_import.h — import daily or intraday bars from a CSV file into the
 * database: validated, upserted, one transaction per file. */
#ifndef TICKQ_CSV_IMPORT_H
#define TICKQ_CSV_IMPORT_H

#include <stddef.h>

#include "db.h"

#define CSV_HEADER "symbol,date,open,high,low,close,volume"
#define CSV_MAX_PROBLEMS 20

typedef struct {
    const char *interval;        /* "1d" unless told otherwise */
    int skip_bad;                /* import the good rows when some are bad */
} csv_import_opts_t;

typedef struct {
    size_t rows;                 /* data rows read */
    size_t imported;             /* rows written */
    size_t bad;                  /* rows refused */
    size_t symbols;
    size_t nproblems;            /* the first CSV_MAX_PROBLEMS bad rows */
    struct {
        size_t line;
        char msg[200];
    } problems[CSV_MAX_PROBLEMS];
} csv_import_report_t;

typedef enum {
    CSV_IMPORTED = 0,            /* written (with --skip-bad, maybe some rows skipped) */
    CSV_REJECTED = 1,            /* bad rows and no --skip-bad: nothing written */
    CSV_FAILED = -1              /* could not read the file or write the database: err */
} csv_import_status_t;

/* Parses a CSV number field of n characters; 0 ok, -1 not a number, -2 NaN
 * or infinite. Plain decimals take a fast path that gives strtod's value. */
int csv_number(const char *s, size_t n, double *out);

/* Imports `path`. Bad rows are listed with their line numbers in *report. */
csv_import_status_t csv_import_file(db_t *db, const char *path, const csv_import_opts_t *opts,
                                    csv_import_report_t *report, char *err, size_t errlen);

#endif
