/* csv_import.c — fuzz target: the CSV bar importer (src/csv_import.c), as
 * `tickq data import` and the csv_dir/http_csv providers reach it.
 *
 * Input: one options byte, then the CSV text. Options: bit 0 a one-symbol
 * file (symbol "AAPL"), bits 1-2 the interval (1d, 1h, 15m, 1wk), bit 3
 * also import the text as a file (csv_import_file into a SQLite database
 * in a temp folder, fuzz_temp_folder, one per run), bit 4 --skip-bad.
 *
 * Properties of csv_parse (from memory): it reads the text through; every
 * row it hands on is valid (a symbol, the file's one when given, positive
 * finite prices, low <= min(open, close) <= max(open, close) <= high, a
 * finite volume >= 0, dates increasing within a symbol); rows handed on
 * plus bad rows are the rows read; the problems listed are the first bad
 * lines, in order, each with a message; the end is signalled once, last.
 * Of csv_import_file: the same report as csv_parse, every bad line in
 * ascending runs, the status and count of imported rows the documented
 * ones. And of csv_number on the text's first field: the value strtod
 * gives. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "data/bars.h"
#include "data/csv_import.h"
#include "data/db.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *const intervals[4] = { "1d", "1h", "15m", "1wk" };

static char folder[64];
static char csv_path[128];
static db_t *db;

typedef struct {
    const char *one;             /* the file's symbol, or NULL */
    size_t good;
    int ended;
    struct {
        bar_symbol_t name;
        int64_t last;
    } seen[64];
    size_t nseen;
} rows_t;

static int on_row(void *ctx, const bar_row_t *r, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    rows_t *st = ctx;
    if (st->ended)
        fuzz_fail("a row after the end");
    if (r == NULL) {
        st->ended = 1;
        return 0;
    }
    size_t len = strlen(r->symbol);
    if (bar_symbol_check(r->symbol, len) != 0)
        fuzz_fail("row with an invalid symbol '%s'", r->symbol);
    if (st->one != NULL && strcmp(st->one, r->symbol) != 0)
        fuzz_fail("row of '%s' in a file of %s's bars", r->symbol, st->one);
    double o = r->open, h = r->high, l = r->low, c = r->close, v = r->volume;
    if (!(o > 0 && h > 0 && l > 0 && c > 0) || !isfinite(o) || !isfinite(h) || !isfinite(l) || !isfinite(c) ||
        !isfinite(v) || !(v >= 0) || !(l <= fmin(o, c)) || !(fmax(o, c) <= h))
        fuzz_fail("row of %s accepted with o=%.17g h=%.17g l=%.17g c=%.17g v=%.17g", r->symbol, o, h, l, c, v);
    size_t i = 0;
    while (i < st->nseen && strcmp(st->seen[i].name, r->symbol) != 0)
        i++;
    if (i < st->nseen && r->ts <= st->seen[i].last)
        fuzz_fail("row of %s at %lld after one at %lld", r->symbol, (long long)r->ts, (long long)st->seen[i].last);
    if (i == st->nseen && i < sizeof st->seen / sizeof st->seen[0]) {
        snprintf(st->seen[i].name, sizeof st->seen[i].name, "%s", r->symbol);
        st->nseen++;
    }
    if (i < st->nseen)
        st->seen[i].last = r->ts;
    st->good++;
    return 0;
}

/* csv_number of the text up to its first comma or line end, against strtod. */
static void check_number(const uint8_t *data, size_t size)
{
    size_t n = 0;
    while (n < size && n < 80 && data[n] != ',' && data[n] != '\n' && data[n] != '\0')
        n++;
    double v;
    if (csv_number((const char *)data, n, &v) != 0)
        return;
    char buf[96];
    memcpy(buf, data, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    double want = strtod(buf, &end);
    if (end != buf + n || !isfinite(v) || memcmp(&v, &want, sizeof v) != 0)
        fuzz_fail("csv_number('%s') is %.17g, strtod reads %.17g", buf, v, want);
}

static void check_report(const csv_import_report_t *r, const rows_t *st)
{
    if (st->good + (r->bad - (size_t)r->header_bad) != r->rows)
        fuzz_fail("%zu rows read, %zu good and %zu bad (header bad: %d)", r->rows, st->good, r->bad, r->header_bad);
    if (r->header_bad && r->rows != 0)
        fuzz_fail("rows read after a bad header");
    size_t want = r->bad < CSV_MAX_PROBLEMS ? r->bad : CSV_MAX_PROBLEMS;
    if (r->nproblems != want)
        fuzz_fail("%zu problems listed for %zu bad rows", r->nproblems, r->bad);
    for (size_t i = 0; i < r->nproblems; i++) {
        if (r->problems[i].msg[0] == '\0' || r->problems[i].line == 0 ||
            (i > 0 && r->problems[i].line <= r->problems[i - 1].line))
            fuzz_fail("problem %zu (line %zu) is empty or out of order", i, r->problems[i].line);
    }
}

/* csv_import_file of the same text: the same report, all bad lines kept. */
static void check_import(const uint8_t *text, size_t len, const csv_parse_opts_t *po, int skip_bad,
                         const csv_import_report_t *want, size_t good)
{
    FILE *f = fopen(csv_path, "wb");
    if (f == NULL || (len > 0 && fwrite(text, 1, len, f) != len) || fclose(f) != 0)
        fuzz_fail("cannot write %s", csv_path);
    csv_import_opts_t opts = { po->interval, skip_bad, po->symbol };
    csv_import_report_t r;
    char err[1024] = "";
    csv_import_status_t st = csv_import_file(db, csv_path, &opts, &r, err, sizeof err);
    if (st == CSV_FAILED)
        fuzz_fail("import failed: %s", err);
    if (r.rows != want->rows || r.bad != want->bad || r.symbols != want->symbols ||
        r.header_bad != want->header_bad || r.adj_close != want->adj_close || r.nproblems != want->nproblems)
        fuzz_fail("the file's report differs from the text's");
    for (size_t i = 0; i < r.nproblems; i++)
        if (r.problems[i].line != want->problems[i].line || strcmp(r.problems[i].msg, want->problems[i].msg) != 0)
            fuzz_fail("problem %zu differs: '%s' vs '%s'", i, r.problems[i].msg, want->problems[i].msg);
    size_t lines = 0;
    for (size_t i = 0; i < r.nbad_runs; i++) {
        if (r.bad_runs[i].first > r.bad_runs[i].last || r.bad_runs[i].first == 0 ||
            (i > 0 && r.bad_runs[i].first <= r.bad_runs[i - 1].last + 1))
            fuzz_fail("bad line run %zu (%zu-%zu) out of order or not merged", i, r.bad_runs[i].first,
                      r.bad_runs[i].last);
        lines += r.bad_runs[i].last - r.bad_runs[i].first + 1;
    }
    if (lines != r.bad)
        fuzz_fail("%zu bad lines in runs for %zu bad rows", lines, r.bad);
    csv_import_status_t expect = r.header_bad || (r.bad > 0 && !skip_bad) ? CSV_REJECTED
                                 : good == 0                               ? CSV_NOTHING
                                                                           : CSV_IMPORTED;
    if (st != expect || r.imported != (st == CSV_IMPORTED ? good : 0))
        fuzz_fail("import status %d with %zu imported, expected %d with %zu", (int)st, r.imported, (int)expect,
                  expect == CSV_IMPORTED ? good : 0);
    csv_import_report_release(&r);
}

static void cleanup(void)
{
    db_close(db);
    fuzz_remove_temp_folder(folder);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_temp_folder(folder, "csv");
    snprintf(csv_path, sizeof csv_path, "%s/bars.csv", folder);
    char path[128], err[1024];
    snprintf(path, sizeof path, "%s/tickq.db", folder);
    if (db_open(NULL, path, &db, NULL, err, sizeof err) != 0)
        fuzz_fail("cannot open %s: %s", path, err);
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t o = data[0];
    const uint8_t *text = data + 1;
    size_t len = size - 1;
    csv_parse_opts_t po = { intervals[(o >> 1) & 3], (o & 1) ? "AAPL" : NULL };
    rows_t st;
    memset(&st, 0, sizeof st);
    st.one = po.symbol;
    csv_import_report_t r;
    char err[1024] = "";
    if (csv_parse((const char *)text, len, &po, on_row, &st, &r, err, sizeof err) != 0)
        fuzz_fail("csv_parse failed: %s", err);
    if (!st.ended)
        fuzz_fail("the end was not signalled");
    check_report(&r, &st);
    check_number(text, len);
    if (o & 8)
        check_import(text, len, &po, (o & 16) != 0, &r, st.good);
    return 0;
}
