/* csv_import.c — parse and validate bars from CSV, and import CSV files.
 *
 * csv_parse() validates CSV text in one pass and hands each good row to a
 * callback: `tickq data import` (csv_import_file) batches them into the
 * database inside a single transaction, rolled back when a row is bad
 * (unless --skip-bad), so a file is imported whole or not at all;
 * update_stock_data collects them in memory. Every bad row is counted and
 * the first CSV_MAX_PROBLEMS are reported with their line numbers and
 * messages; csv_import_file also keeps every bad line number (as runs of
 * consecutive lines), so that a user can find all of them. Dates must
 * increase within a symbol; symbols may interleave.
 *
 * The header line sets the file's layout once (read_header: a symbol
 * column or not, an adj close column or not; csv_import.h lists what is
 * accepted); each row is then split into fields and read by position, so
 * the variants cost nothing per row. A header that is not understood stops
 * the parse: no row of the file is read, whatever --skip-bad says. */
#include "data/csv_import.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/numfmt.h"

#define BATCH_ROWS 8192

/* One symbol seen in the file: its last date and the line it was on. */
typedef struct {
    char name[BAR_SYMBOL_MAX + 1];
    int64_t last_ts;
    size_t last_line;
} symbol_t;

/* Open-addressing map of symbols; entries are allocated one by one so
 * that rows can point at their names while the map grows. */
typedef struct {
    symbol_t **slots;
    size_t cap, n;
} symbols_t;

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static void symbols_free(symbols_t *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i]);
    free(m->slots);
}

static int symbols_grow(symbols_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    symbol_t **slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        symbol_t *e = m->slots[i];
        if (e == NULL)
            continue;
        size_t j = hash(e->name, strlen(e->name)) & (cap - 1);
        while (slots[j] != NULL)
            j = (j + 1) & (cap - 1);
        slots[j] = e;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

/* The entry of name[0..n), created when new; NULL when out of memory. */
static symbol_t *symbols_get(symbols_t *m, const char *name, size_t n)
{
    if ((m->n + 1) * 2 > m->cap && symbols_grow(m) != 0)
        return NULL;
    size_t j = hash(name, n) & (m->cap - 1);
    for (;;) {
        symbol_t *e = m->slots[j];
        if (e == NULL)
            break;
        if (strncmp(e->name, name, n) == 0 && e->name[n] == '\0')
            return e;
        j = (j + 1) & (m->cap - 1);
    }
    symbol_t *e = calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    memcpy(e->name, name, n);
    e->last_ts = INT64_MIN;
    m->slots[j] = e;
    m->n++;
    return e;
}

/* One csv_parse() call. `one` is the symbol of a one-symbol file (NULL
 * for the import format); the header sets the layout: whether rows start
 * with a symbol (symcol), whether an adj close column sits before volume
 * (adj), the column count and their canonical names for messages. */
typedef struct {
    csv_import_report_t *rep;
    int daily;
    const char *one;
    size_t onelen;
    int symcol, adj, ncols;
    char columns[64];            /* e.g. "date,open,high,low,close,adj close,volume" */
    symbols_t symbols;
    csv_row_fn fn;
    void *ctx;
    char *err;
    size_t errlen;
    int keep_lines;              /* record every bad line in rep->bad_runs */
    int oom;                     /* recording one failed: the parse fails */
} parser_t;

/* Adds `line` to the runs; lines come in ascending order. -1 when out of
 * memory. */
static int add_bad_line(csv_import_report_t *r, size_t line)
{
    if (r->nbad_runs > 0 && r->bad_runs[r->nbad_runs - 1].last + 1 == line) {
        r->bad_runs[r->nbad_runs - 1].last = line;
        return 0;
    }
    if (r->nbad_runs == r->cap_bad_runs) {
        size_t cap = r->cap_bad_runs ? r->cap_bad_runs * 2 : 64;
        struct csv_line_run *runs = realloc(r->bad_runs, cap * sizeof *runs);
        if (runs == NULL)
            return -1;
        r->bad_runs = runs;
        r->cap_bad_runs = cap;
    }
    r->bad_runs[r->nbad_runs].first = r->bad_runs[r->nbad_runs].last = line;
    r->nbad_runs++;
    return 0;
}

void csv_import_report_release(csv_import_report_t *report)
{
    if (report == NULL)
        return;
    free(report->bad_runs);
    report->bad_runs = NULL;
    report->nbad_runs = report->cap_bad_runs = 0;
}

static void problem(parser_t *ps, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(parser_t *ps, size_t line, const char *fmt, ...)
{
    csv_import_report_t *r = ps->rep;
    r->bad++;
    if (ps->keep_lines && add_bad_line(r, line) != 0)
        ps->oom = 1;
    if (r->nproblems == CSV_MAX_PROBLEMS)
        return;
    r->problems[r->nproblems].line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->problems[r->nproblems].msg, sizeof r->problems[0].msg, fmt, ap);
    va_end(ap);
    r->nproblems++;
}

/* The common case, plain decimals like 123.45 or 1500000: the digits as an
 * integer divided by a power of ten. Both are exact doubles (at most 15
 * digits, at most 10^15), so the division is correctly rounded, the same
 * value strtod gives. Returns 0, or -1 to let strtod decide. */
static int plain_decimal(const char *s, size_t n, double *out)
{
    static const double pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
                                    1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    uint64_t m = 0;
    int digits = 0, frac = -1;
    for (; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (++digits > 15)
                return -1;
            m = m * 10 + (uint64_t)(c - '0');
            if (frac >= 0)
                frac++;
        } else if (c == '.' && frac < 0) {
            frac = 0;
        } else {
            return -1;
        }
    }
    if (digits == 0)
        return -1;
    double v = (double)m / pow10[frac > 0 ? frac : 0];
    *out = neg ? -v : v;
    return 0;
}

int csv_number(const char *s, size_t n, double *out)
{
    if (plain_decimal(s, n, out) == 0)
        return 0;
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (strpbrk(buf, "xXpP") != NULL)
        return -1; /* strtod also reads hex (0x10, 0x1p3): no price is written so */
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end != buf + n || (errno == ERANGE && isinf(v)))
        return isinf(v) ? -2 : -1;
    if (!isfinite(v))
        return -2;
    *out = v;
    return 0;
}

static const char *const value_names[5] = { "open", "high", "low", "close", "volume" };

#define MAX_FIELDS 8             /* symbol, date, open, high, low, close, adj close, volume */

/* Splits the line [p, end) at commas into f/fl (at most MAX_FIELDS + 1 kept;
 * a field in double quotes, "AAPL", without them: headers and rows alike).
 * Returns how many fields the line has, kept or not. */
static int split_fields(const char *p, const char *end, const char **f, size_t *fl)
{
    int nf = 0;
    for (const char *q = p;;) {
        const char *c = memchr(q, ',', (size_t)(end - q));
        const char *fe = c ? c : end;
        if (nf <= MAX_FIELDS) {
            f[nf] = q;
            fl[nf] = (size_t)(fe - q);
            if (fl[nf] >= 2 && q[0] == '"' && fe[-1] == '"') {
                f[nf]++;
                fl[nf] -= 2;
            }
        }
        nf++;
        if (c == NULL)
            return nf;
        q = c + 1;
    }
}

/* Validates one data line and hands it to the callback; problems are
 * recorded. Returns -1 only when the callback fails or memory runs out. */
static int row(parser_t *ps, size_t line, const char *p, const char *end)
{
    const char *f[MAX_FIELDS + 1];
    size_t fl[MAX_FIELDS + 1];
    int nf = split_fields(p, end, f, fl);
    ps->rep->rows++;
    if (nf != ps->ncols) {
        problem(ps, line, "expected %d columns (%s), found %d", ps->ncols, ps->columns, nf);
        return 0;
    }
    const char *sym = ps->one;
    size_t symlen = ps->onelen;
    int k = 0; /* the date's column */
    if (ps->symcol) {
        sym = f[0];
        symlen = fl[0];
        k = 1;
    }
    if (bar_symbol_check(sym, symlen) != 0) {
        problem(ps, line, "invalid symbol '%.*s' (" BAR_SYMBOL_RULE ")",
                (int)(symlen > 40 ? 40 : symlen), sym);
        return 0;
    }
    if (ps->symcol && ps->one != NULL && (ps->onelen != symlen || memcmp(ps->one, sym, symlen) != 0)) {
        problem(ps, line, "symbol '%.*s' in a file of %s's bars", (int)symlen, sym, ps->one);
        return 0;
    }
    int64_t ts;
    int date_ok = ps->daily ? clock_parse_date(f[k], fl[k], &ts) : clock_parse_datetime(f[k], fl[k], &ts);
    if (date_ok != 0) {
        problem(ps, line, "invalid date '%.*s' (expected %s)", (int)(fl[k] > 40 ? 40 : fl[k]), f[k],
                ps->daily ? "YYYY-MM-DD" : "YYYY-MM-DDTHH:MM:SS, UTC");
        return 0;
    }
    double v[5];
    for (int i = 0; i < 5; i++) {
        int c = k + 1 + i + (i == 4 ? ps->adj : 0); /* adj close is skipped: not read, not checked */
        int st = csv_number(f[c], fl[c], &v[i]);
        if (st == -1) {
            problem(ps, line, "%s is not a number: '%.*s'", value_names[i], (int)(fl[c] > 40 ? 40 : fl[c]), f[c]);
            return 0;
        }
        if (st == -2) {
            problem(ps, line, "%s is NaN or infinite", value_names[i]);
            return 0;
        }
    }
    double open = v[0], high = v[1], low = v[2], close = v[3], volume = v[4];
    char a[NUMFMT_MAX], b[NUMFMT_MAX]; /* every digit: 100 vs 100.0000000005 must not read "100 < 100" */
    for (int i = 0; i < 4; i++) {
        if (v[i] <= 0) {
            numfmt_shortest(v[i], a);
            problem(ps, line, "%s must be positive, got %s", value_names[i], a);
            return 0;
        }
    }
    if (volume < 0) {
        numfmt_shortest(volume, a);
        problem(ps, line, "volume must not be negative, got %s", a);
        return 0;
    }
    if (high < fmax(open, close)) {
        numfmt_shortest(high, a);
        numfmt_shortest(fmax(open, close), b);
        problem(ps, line, "high %s is below max(open, close) = %s", a, b);
        return 0;
    }
    if (low > fmin(open, close)) {
        numfmt_shortest(low, a);
        numfmt_shortest(fmin(open, close), b);
        problem(ps, line, "low %s is above min(open, close) = %s", a, b);
        return 0;
    }
    symbol_t *s = symbols_get(&ps->symbols, sym, symlen);
    if (s == NULL) {
        snprintf(ps->err, ps->errlen, "out of memory");
        return -1;
    }
    if (ts <= s->last_ts) {
        char d[CLOCK_DATE_LEN];
        clock_format_bar(ps->daily, ts, d);
        problem(ps, line, "%s of %s is %s the row on line %zu; dates must increase within a symbol", d,
                s->name, ts == s->last_ts ? "the same date as" : "before", s->last_line);
        return 0;
    }
    s->last_ts = ts;
    s->last_line = line;
    bar_row_t r = { s->name, ts, open, high, low, close, volume };
    return ps->fn(ps->ctx, &r, ps->err, ps->errlen);
}

/* Is the header field p[0..n) the column name `name` (any case)? */
static int is_name(const char *p, size_t n, const char *name)
{
    return n == strlen(name) && strncasecmp(p, name, n) == 0;
}

/* Reads the header line p[0..n) into the parser's layout. Returns 0, or
 * -1 with why[] saying which column differs from what. */
static int read_header(parser_t *ps, const char *p, size_t n, char *why, size_t whylen)
{
    static const char *const prices[5] = { "date", "open", "high", "low", "close" };
    const char *f[MAX_FIELDS + 1];
    size_t fl[MAX_FIELDS + 1];
    int nf = split_fields(p, p + n, f, fl);
    if (nf > MAX_FIELDS + 1)
        nf = MAX_FIELDS + 1; /* the first ones tell what is wrong */
    int k = 0;
    ps->symcol = nf > 0 && (is_name(f[0], fl[0], "symbol") || is_name(f[0], fl[0], "ticker"));
    k += ps->symcol;
    for (int i = 0; i < 5; i++, k++) {
        if (k == nf) {
            snprintf(why, whylen, "it ends after column %d, where '%s' was expected", k, prices[i]);
            return -1;
        }
        if (!is_name(f[k], fl[k], prices[i])) {
            snprintf(why, whylen, "column %d is '%.*s' where '%s' was expected%s", k + 1,
                     (int)(fl[k] > 30 ? 30 : fl[k]), f[k], prices[i],
                     k == 0 ? " (or 'symbol' or 'ticker' before it)" : "");
            return -1;
        }
    }
    ps->adj = k < nf && is_name(f[k], fl[k], "adj close");
    k += ps->adj;
    if (k == nf || !is_name(f[k], fl[k], "volume")) {
        if (k == nf)
            snprintf(why, whylen, "it ends after column %d, where 'volume' was expected", k);
        else
            snprintf(why, whylen, "column %d is '%.*s' where 'volume'%s was expected", k + 1,
                     (int)(fl[k] > 30 ? 30 : fl[k]), f[k], ps->adj ? "" : " (or 'adj close')");
        return -1;
    }
    if (++k < nf) {
        snprintf(why, whylen, "column %d ('%.*s') comes after volume, the last column", k + 1,
                 (int)(fl[k] > 30 ? 30 : fl[k]), f[k]);
        return -1;
    }
    ps->ncols = k;
    snprintf(ps->columns, sizeof ps->columns, "%sdate,open,high,low,close,%svolume", ps->symcol ? "symbol," : "",
             ps->adj ? "adj close," : "");
    if (!ps->symcol && ps->one == NULL) {
        snprintf(why, whylen, "the file has no symbol column, so it holds one symbol's bars: give the symbol "
                 "(tickq data import --symbol SYM)");
        return -1;
    }
    return 0;
}

/* csv_parse, and with keep_lines every bad line in report->bad_runs (the
 * caller releases them, even when this fails). */
static int parse(const char *data, size_t size, const csv_parse_opts_t *opts, csv_row_fn fn, void *ctx,
                 int keep_lines, csv_import_report_t *report, char *err, size_t errlen)
{
    memset(report, 0, sizeof *report);
    parser_t ps;
    memset(&ps, 0, sizeof ps);
    ps.rep = report;
    ps.daily = bar_interval_is_daily(opts->interval);
    ps.one = opts->symbol;
    ps.onelen = opts->symbol ? strlen(opts->symbol) : 0;
    ps.fn = fn;
    ps.ctx = ctx;
    ps.err = err;
    ps.errlen = errlen;
    ps.keep_lines = keep_lines;
    const char *p = data, *end = data + size;
    if (size >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) /* UTF-8 byte order mark */
        p += 3;
    size_t line = 0;
    int header = 1, rc = 0;
    while (p < end) {
        line++;
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            eol = end;
        const char *le = eol;
        if (le > p && le[-1] == '\r')
            le--;
        if (header) {
            size_t n = (size_t)(le - p);
            char why[160];
            if (memchr(p, '\r', n) != NULL) { /* the whole file is one line: its CRs shown raw would garble it */
                report->header_bad = 1;
                problem(&ps, line, "the lines end in a carriage return alone (CR, as old Mac files do): tickq reads "
                        "LF or CRLF line ends; convert the file, e.g. tr '\\r' '\\n' < in.csv > out.csv");
                break;
            }
            if (read_header(&ps, p, n, why, sizeof why) != 0) {
                report->header_bad = 1;
                problem(&ps, line, "expected the header line %s, found '%.*s%s': %s",
                        ps.one != NULL ? CSV_SYMBOL_HEADER : CSV_HEADER, (int)(n > 80 ? 80 : n), p,
                        n > 80 ? "..." : "", why);
                break;
            }
            report->adj_close = ps.adj;
            header = 0;
        } else if (le > p && row(&ps, line, p, le) != 0) {
            rc = -1;
            goto done;
        }
        if (ps.oom)
            goto oom;
        p = eol + 1;
    }
    if (header && line == 0) {
        report->header_bad = 1;
        problem(&ps, 1, "the file is empty; expected the header line %s",
                ps.one != NULL ? CSV_SYMBOL_HEADER : CSV_HEADER);
    }
    if (ps.oom)
        goto oom;
    rc = fn(ctx, NULL, err, errlen); /* the end: row symbols are about to go */
    goto done;
oom:
    snprintf(err, errlen, "out of memory (listing the bad lines)");
    rc = -1;
done:
    report->symbols = ps.symbols.n;
    symbols_free(&ps.symbols);
    return rc;
}

int csv_parse(const char *data, size_t size, const csv_parse_opts_t *opts, csv_row_fn fn, void *ctx,
              csv_import_report_t *report, char *err, size_t errlen)
{
    return parse(data, size, opts, fn, ctx, 0, report, err, errlen);
}

/* csv_import_file's state: rows go to the database in batches. */
typedef struct {
    db_t *db;
    const char *interval;
    csv_import_report_t *rep;
    bar_row_t batch[BATCH_ROWS];
    size_t nbatch;
} import_t;

static int flush(import_t *im, char *err, size_t errlen)
{
    if (im->nbatch == 0)
        return 0;
    if (db_bars_put(im->db, im->interval, im->batch, im->nbatch, err, errlen) != 0)
        return -1;
    im->rep->imported += im->nbatch;
    im->nbatch = 0;
    return 0;
}

/* A row's symbol lives as long as the parse: the batch is flushed at the
 * end (r == NULL), before csv_parse returns. */
static int import_row(void *ctx, const bar_row_t *r, char *err, size_t errlen)
{
    import_t *im = ctx;
    if (r == NULL)
        return flush(im, err, errlen);
    im->batch[im->nbatch++] = *r;
    return im->nbatch == BATCH_ROWS ? flush(im, err, errlen) : 0;
}

csv_import_status_t csv_import_file(db_t *db, const char *path, const csv_import_opts_t *opts,
                                    csv_import_report_t *report, char *err, size_t errlen)
{
    memset(report, 0, sizeof *report);
    if (bar_interval_seconds(opts->interval) < 0) {
        snprintf(err, errlen, "invalid interval '%s' (e.g. 1d, 1h, 15m, 1m, 1wk)", opts->interval);
        return CSV_FAILED;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return CSV_FAILED;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        close(fd);
        return CSV_FAILED;
    }
    size_t size = (size_t)st.st_size;
    const char *data = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : "";
    close(fd);
    if (data == MAP_FAILED) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return CSV_FAILED;
    }
    import_t *im = calloc(1, sizeof *im);
    if (im == NULL) {
        if (size)
            munmap((void *)data, size);
        snprintf(err, errlen, "out of memory");
        return CSV_FAILED;
    }
    im->db = db;
    im->interval = opts->interval;
    im->rep = report;

    csv_import_status_t result = CSV_FAILED;
    csv_parse_opts_t po = { opts->interval, opts->symbol };
    if (size)
        (void)madvise((void *)data, size, MADV_SEQUENTIAL); /* a hint only */
    if (db_begin(db, err, errlen) != 0)
        goto done;
    if (parse(data, size, &po, import_row, im, 1, report, err, errlen) != 0) {
        db_rollback(db);
        goto done;
    }
    if (report->header_bad || (report->bad > 0 && !opts->skip_bad)) {
        db_rollback(db);
        report->imported = 0;
        result = CSV_REJECTED;
        goto done;
    }
    if (report->imported == 0) { /* no rows, or --skip-bad skipped them all */
        db_rollback(db);
        result = CSV_NOTHING;
        goto done;
    }
    if (db_commit(db, err, errlen) != 0) {
        db_rollback(db);
        report->imported = 0;
        goto done;
    }
    result = CSV_IMPORTED;
done:
    free(im);
    if (size)
        munmap((void *)data, size);
    return result;
}
