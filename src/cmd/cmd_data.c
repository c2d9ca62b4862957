/* cmd_data.c — `tickq data`: import CSV bars, generate synthetic bars, list
 * what the database holds, and show bars with computed features. */
#include "cmd/commands.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "cmd/db_exit.h"
#include "core/clock.h"
#include "core/close_match.h"
#include "data/csv_import.h"
#include "data/db.h"
#include "data/feature.h"
#include "core/numfmt.h"
#include "data/synth.h"

static const char usage[] =
    "usage: tickq data import FILE.csv... [--interval 1d] [--skip-bad] [--symbol SYM]\n"
    "       tickq data synth --symbols N --days D [--seed S] [--start DATE] [--out FILE.csv]\n"
    "       tickq data list [--json]\n"
    "       tickq data show SYMBOL[,SYMBOL...] [--interval 1d] [--from DATE] [--to DATE]\n"
    "                       [--columns open,close,gap_pct,sma_20,...] [--format csv|json|table]\n"
    "\n"
    "import  upserts bars from CSV files with the header\n"
    "        " CSV_HEADER "\n"
    "        (any case; ticker for symbol; an adj close column before volume is\n"
    "        skipped: close is the file's close). A file of one symbol's bars without\n"
    "        a symbol column, such as Yahoo's Date,Open,High,Low,Close,Adj Close,Volume,\n"
    "        needs --symbol SYM. Dates YYYY-MM-DD; intraday intervals take\n"
    "        YYYY-MM-DDTHH:MM:SS, UTC. One transaction per file. A file with bad rows is\n"
    "        rejected whole and its bad lines are listed, unless --skip-bad imports the\n"
    "        rest. The first 20 bad rows are explained; one line lists every bad line\n"
    "        (3, 5, 7-9). A file with no row to import (only a header, or every row\n"
    "        bad with --skip-bad) is an error.\n"
    "synth   makes deterministic synthetic daily bars (SYN0001, ...): imports them,\n"
    "        or writes them as CSV with --out.\n"
    "list    the database in use, then symbols, intervals, first and last date, bar count.\n"
    "show    prints bars and features; features use all the history before --from\n"
    "        (undefined values are empty, null in JSON). Numbers have the fewest digits\n"
    "        that read back as the same double. Symbols are case-sensitive: one with no\n"
    "        bars at the interval is an error naming close matches.\n"
    "\n"
    "  --db PATH            SQLite file (default: $TICKQ_DB, else\n"
    "                       $XDG_DATA_HOME/tickq/tickq.db or ~/.local/share/tickq/tickq.db);\n"
    "                       DATABASE_URL=postgresql://... selects PostgreSQL instead\n"
    "  --interval I         import, show: 1d (default), 1wk, 1h, 30m, 15m, 5m, 1m ...\n"
    "  --skip-bad           import: keep the good rows of a file with bad ones\n"
    "  --symbol SYM         import: the symbol of one-symbol files (no symbol column;\n"
    "                       a symbol column must then hold SYM on every row)\n"
    "  --symbols N          synth: how many symbols\n"
    "  --days D             synth: trading days per symbol (Monday to Friday)\n"
    "  --seed S             synth: random seed (default 1)\n"
    "  --start DATE         synth: first day (default 2020-01-02)\n"
    "  --out FILE           synth: write CSV instead of importing\n"
    "  --from/--to DATE     show: the rows to print\n"
    "  --columns LIST       show: columns (default open,high,low,close,volume)\n"
    "  --format F           show: csv (default), json (one object per line) or table\n"
    "  --json               list: one JSON object per line\n"
    CLI_CONFIG_HELP
    "  -h, --help           this help\n"
    "\n"
    "Exit status: 0 ok, 3 show: a symbol has no bars at the interval, 64 bad usage,\n"
    "65 a file was rejected or had nothing to import, 66 input file missing,\n"
    "69 database unavailable, 73 cannot create the SQLite file (or its folder does\n"
    "not exist: only the default's folders are created), 78 no place for the\n"
    "default database (HOME unset), DATABASE_URL not PostgreSQL, or a bad --config\n"
    "file.\n";

enum {
    OPT_DB = OPT_FIRST_COMMAND_OPTION, OPT_INTERVAL, OPT_SKIP_BAD, OPT_SYMBOLS, OPT_DAYS, OPT_SEED,
    OPT_START, OPT_OUT, OPT_FROM, OPT_TO, OPT_COLUMNS, OPT_SYMBOL, OPT_FORMAT
};

static const struct option options[] = {
    { "db", required_argument, 0, OPT_DB },
    { "interval", required_argument, 0, OPT_INTERVAL },
    { "skip-bad", no_argument, 0, OPT_SKIP_BAD },
    { "symbol", required_argument, 0, OPT_SYMBOL },
    { "symbols", required_argument, 0, OPT_SYMBOLS },
    { "days", required_argument, 0, OPT_DAYS },
    { "seed", required_argument, 0, OPT_SEED },
    { "start", required_argument, 0, OPT_START },
    { "out", required_argument, 0, OPT_OUT },
    { "from", required_argument, 0, OPT_FROM },
    { "to", required_argument, 0, OPT_TO },
    { "columns", required_argument, 0, OPT_COLUMNS },
    { "format", required_argument, 0, OPT_FORMAT },
    { "json", no_argument, 0, OPT_JSON },
    CLI_CONFIG_OPTION,
    { "help", no_argument, 0, 'h' },
    { 0, 0, 0, 0 }
};

/* The actions, as bits: which ones each flag means something to. */
enum { A_IMPORT = 1, A_SYNTH = 2, A_LIST = 4, A_SHOW = 8 };

static const struct {
    int opt;
    const char *name;
    int actions;
} flag_actions[] = {
    { OPT_INTERVAL, "--interval", A_IMPORT | A_SHOW }, { OPT_SKIP_BAD, "--skip-bad", A_IMPORT },
    { OPT_SYMBOL, "--symbol", A_IMPORT },              { OPT_SYMBOLS, "--symbols", A_SYNTH },
    { OPT_DAYS, "--days", A_SYNTH },                   { OPT_SEED, "--seed", A_SYNTH },
    { OPT_START, "--start", A_SYNTH },                 { OPT_OUT, "--out", A_SYNTH },
    { OPT_FROM, "--from", A_SHOW },                    { OPT_TO, "--to", A_SHOW },
    { OPT_COLUMNS, "--columns", A_SHOW },              { OPT_FORMAT, "--format", A_SHOW },
    { OPT_JSON, "--json", A_LIST },
};

#define N_FLAG_ACTIONS (sizeof flag_actions / sizeof flag_actions[0])

typedef enum { SHOW_CSV, SHOW_JSON, SHOW_TABLE } show_format_t;

typedef struct {
    config_t *cfg;
    const char *interval;
    int skip_bad, as_json;
    long long symbols, days;
    unsigned long long seed;
    const char *start, *out, *from, *to, *columns, *symbol;
    show_format_t format;
    unsigned given;              /* bit i: flag_actions[i] was given */
} data_flags_t;

static int on_flag(int opt, const char *arg, void *ctx)
{
    data_flags_t *f = ctx;
    for (size_t i = 0; i < N_FLAG_ACTIONS; i++)
        if (flag_actions[i].opt == opt)
            f->given |= 1u << i;
    switch (opt) {
    case OPT_DB: f->cfg->db_path = arg; return 0;
    case OPT_INTERVAL:
        if (bar_interval_seconds(arg) < 0)
            return cli_usage_error(usage, "--interval '%s' is not an interval (e.g. 1d, 1h, 15m, 1wk)", arg);
        f->interval = arg;
        return 0;
    case OPT_SKIP_BAD: f->skip_bad = 1; return 0;
    case OPT_SYMBOL:
        if (bar_symbol_check(arg, strlen(arg)) != 0)
            return cli_usage_error(usage, "--symbol '%s' is not a symbol (" BAR_SYMBOL_RULE ")", arg);
        f->symbol = arg;
        return 0;
    case OPT_SYMBOLS:
        if (cli_parse_int(arg, 1, 100000, &f->symbols) != 0)
            return cli_usage_error(usage, "--symbols '%s' is not a number from 1 to 100000", arg);
        return 0;
    case OPT_DAYS:
        if (cli_parse_int(arg, 1, 100000, &f->days) != 0)
            return cli_usage_error(usage, "--days '%s' is not a number from 1 to 100000", arg);
        return 0;
    case OPT_SEED: {
        char *end;
        errno = 0;
        f->seed = strtoull(arg, &end, 10);
        if (errno != 0 || *end != '\0' || *arg == '-' || *arg == '\0')
            return cli_usage_error(usage, "--seed '%s' is not a non-negative integer", arg);
        return 0;
    }
    case OPT_START: f->start = arg; return 0;
    case OPT_OUT: f->out = arg; return 0;
    case OPT_FROM: f->from = arg; return 0;
    case OPT_TO: f->to = arg; return 0;
    case OPT_COLUMNS: f->columns = arg; return 0;
    case OPT_FORMAT:
        if (strcmp(arg, "csv") == 0)
            f->format = SHOW_CSV;
        else if (strcmp(arg, "json") == 0)
            f->format = SHOW_JSON;
        else if (strcmp(arg, "table") == 0)
            f->format = SHOW_TABLE;
        else
            return cli_usage_error(usage, "--format '%s' is unknown: use csv, json or table", arg);
        return 0;
    case OPT_JSON: f->as_json = 1; return 0;
    default: return cli_unhandled_option(opt);
    }
}

/* A flag given to an action it means nothing to is refused, not ignored. */
static int check_flags(const data_flags_t *f, const char *action, int bit)
{
    for (size_t i = 0; i < N_FLAG_ACTIONS; i++) {
        if (!(f->given & (1u << i)) || (flag_actions[i].actions & bit))
            continue;
        char where[64] = "";
        static const char *const names[] = { "import", "synth", "list", "show" };
        for (int a = 0; a < 4; a++)
            if (flag_actions[i].actions & (1 << a))
                snprintf(where + strlen(where), sizeof where - strlen(where), "%s%s", where[0] ? ", " : "",
                         names[a]);
        return cli_usage_error(usage, "%s is for %s, not %s", flag_actions[i].name, where, action);
    }
    return 0;
}

/* Opens the database and says where it is: on stderr, so that stdout
 * stays data, unless `quiet` (the caller prints it itself). */
static int open_db(const config_t *cfg, db_t **db, int quiet)
{
    char err[1024];
    db_failure_t failure;
    if (db_open(cfg->database_url, cfg->db_path, db, &failure, err, sizeof err) != 0)
        return cli_fail(db_exit_status(failure), "%s", err);
    if (!quiet)
        fprintf(stderr, "tickq: database: %s %s\n", db_kind_name(*db), db_where(*db));
    char old[DB_WHERE_MAX];
    if (db_old_default(cfg->database_url, cfg->db_path, old, sizeof old))
        fprintf(stderr, "tickq: warning: %s is not the default database any more (it is %s): to use that "
                "file, set TICKQ_DB=%s, or move it\n", old, db_where(*db), old);
    return 0;
}

static int parse_day(const char *flag, const char *s, int64_t *ts)
{
    if (clock_parse_date(s, strlen(s), ts) == 0 || clock_parse_datetime(s, strlen(s), ts) == 0)
        return 0;
    return cli_usage_error(usage, "%s '%s' is not a date (YYYY-MM-DD)", flag, s);
}

/* Every bad line of an import on one line of stderr, consecutive ones as
 * ranges: "tickq: FILE: skipped lines: 3, 5, 7-9, 120-4000". The messages
 * stop at CSV_MAX_PROBLEMS; this list does not, so that all can be fixed. */
static void print_bad_lines(const char *path, const char *what, const csv_import_report_t *rep)
{
    if (rep->nbad_runs == 0)
        return;
    fprintf(stderr, "tickq: %s: %s lines: ", path, what);
    for (size_t k = 0; k < rep->nbad_runs; k++) {
        const struct csv_line_run *run = &rep->bad_runs[k];
        fprintf(stderr, k ? ", %zu" : "%zu", run->first);
        if (run->last != run->first)
            fprintf(stderr, "-%zu", run->last);
    }
    fputc('\n', stderr);
}

/* Why a file gave nothing to import (CSV_NOTHING), on stderr. */
static void print_nothing(const char *path, const csv_import_report_t *rep)
{
    if (rep->rows == 0)
        fprintf(stderr, "tickq: %s: nothing imported: the file has a header line but no rows\n", path);
    else
        fprintf(stderr, "tickq: %s: nothing imported: every row is bad (%zu of %zu, listed above), so "
                "--skip-bad skipped them all\n", path, rep->bad, rep->rows);
}

static int do_import(data_flags_t *f, int argc, char **argv)
{
    if (optind + 1 >= argc)
        return cli_usage_error(usage, "import needs at least one CSV file");
    db_t *db;
    int st = open_db(f->cfg, &db, 0);
    if (st != 0)
        return st;
    csv_import_opts_t opts = { f->interval, f->skip_bad, f->symbol };
    csv_import_report_t rep;
    memset(&rep, 0, sizeof rep);
    char err[1024];
    int status = 0;
    for (int i = optind + 1; i < argc; i++) {
        int64_t t0 = clock_mono_us();
        csv_import_status_t r = csv_import_file(db, argv[i], &opts, &rep, err, sizeof err);
        double secs = (double)(clock_mono_us() - t0) / 1e6;
        if (r == CSV_FAILED) {
            status = cli_fail(errno == ENOENT ? EX_NOINPUT : EX_UNAVAILABLE, "%s", err);
            break;
        }
        for (size_t k = 0; k < rep.nproblems; k++)
            fprintf(stderr, "%s:%zu: %s\n", argv[i], rep.problems[k].line, rep.problems[k].msg);
        if (rep.bad > rep.nproblems)
            fprintf(stderr, "%s: ... and %zu more bad rows\n", argv[i], rep.bad - rep.nproblems);
        print_bad_lines(argv[i], r == CSV_IMPORTED || r == CSV_NOTHING ? "skipped" : "bad", &rep);
        csv_import_report_release(&rep);
        if (r == CSV_REJECTED) {
            if (rep.header_bad)
                fprintf(stderr, "tickq: %s rejected: no usable header line; nothing imported\n", argv[i]);
            else
                fprintf(stderr, "tickq: %s rejected: %zu bad of %zu rows; nothing imported "
                        "(fix the rows, or pass --skip-bad to import the others)\n", argv[i], rep.bad, rep.rows);
            status = EX_DATAERR;
            continue;
        }
        if (r == CSV_NOTHING) {
            print_nothing(argv[i], &rep);
            status = EX_DATAERR;
            continue;
        }
        printf("imported %zu rows (%zu symbols, interval %s) from %s in %.2f s (%.0f rows/s)%s\n",
               rep.imported, rep.symbols, f->interval, argv[i], secs,
               secs > 0 ? (double)rep.imported / secs : 0.0, rep.bad ? "; bad rows skipped" : "");
        if (rep.adj_close)
            printf("note: %s: its adj close column was not imported; close is the file's close column "
                   "(not adjusted for splits or dividends)\n", argv[i]);
    }
    csv_import_report_release(&rep);
    db_close(db);
    return status;
}

typedef struct {
    FILE *out;
    db_t *db;
    const char *interval;
    size_t rows;
    char err[1024];
} synth_sink_t;

static int synth_to_csv(const bar_row_t *rows, size_t n, void *ctx)
{
    synth_sink_t *s = ctx;
    for (size_t i = 0; i < n; i++) {
        char d[CLOCK_DATE_LEN];
        clock_format_date(rows[i].ts, d);
        if (fprintf(s->out, "%s,%s,%.2f,%.2f,%.2f,%.2f,%.0f\n", rows[i].symbol, d, rows[i].open, rows[i].high,
                    rows[i].low, rows[i].close, rows[i].volume) < 0)
            return -1;
    }
    s->rows += n;
    return 0;
}

static int synth_to_db(const bar_row_t *rows, size_t n, void *ctx)
{
    synth_sink_t *s = ctx;
    if (db_bars_put(s->db, s->interval, rows, n, s->err, sizeof s->err) != 0)
        return -1;
    s->rows += n;
    return 0;
}

static int do_synth(data_flags_t *f, int argc)
{
    if (optind + 1 != argc)
        return cli_usage_error(usage, "synth takes no file argument (use --out FILE)");
    if (f->symbols <= 0 || f->days <= 0)
        return cli_usage_error(usage, "synth needs --symbols N and --days D");
    synth_opts_t o = { (int)f->symbols, (int)f->days, f->seed, 0 };
    int st = parse_day("--start", f->start ? f->start : "2020-01-02", &o.start_ts);
    if (st != 0)
        return st;
    synth_sink_t sink = { 0 };
    sink.interval = "1d";
    int64_t t0 = clock_mono_us();
    if (f->out != NULL) {
        sink.out = fopen(f->out, "w");
        if (sink.out == NULL)
            return cli_fail(EX_CANTCREAT, "cannot write %s: %s", f->out, strerror(errno));
        fputs(CSV_HEADER "\n", sink.out);
        int bad = synth_generate(&o, synth_to_csv, &sink) != 0;
        if (fclose(sink.out) != 0 || bad)
            return cli_fail(EX_IOERR, "cannot write %s: %s", f->out, strerror(errno));
        printf("wrote %zu rows (%d symbols x %d days) to %s\n", sink.rows, o.symbols, o.days, f->out);
        return 0;
    }
    if ((st = open_db(f->cfg, &sink.db, 0)) != 0)
        return st;
    if (db_begin(sink.db, sink.err, sizeof sink.err) != 0 || synth_generate(&o, synth_to_db, &sink) != 0 ||
        db_commit(sink.db, sink.err, sizeof sink.err) != 0) {
        db_rollback(sink.db);
        db_close(sink.db);
        return cli_fail(EX_UNAVAILABLE, "cannot import synthetic bars: %s", sink.err);
    }
    double secs = (double)(clock_mono_us() - t0) / 1e6;
    printf("imported %zu synthetic rows (%d symbols x %d days, seed %llu) in %.2f s\n", sink.rows, o.symbols,
           o.days, (unsigned long long)o.seed, secs);
    db_close(sink.db);
    return 0;
}


static int digits(long long v)
{
    int n = 1;
    for (; v >= 10; v /= 10)
        n++;
    return n;
}

/* The database in use, then one row per symbol and interval; the table's
 * columns are as wide as their widest value. With --json, one object per
 * line on stdout and the database on stderr. */
static int do_list(data_flags_t *f, int argc)
{
    if (optind + 1 != argc)
        return cli_usage_error(usage, "list takes no arguments");
    db_t *db;
    int st = open_db(f->cfg, &db, !f->as_json);
    if (st != 0)
        return st;
    bar_summary_t *rows;
    size_t n;
    char err[1024];
    if (db_bars_summary(db, &rows, &n, err, sizeof err) != 0) {
        db_close(db);
        return cli_fail(EX_UNAVAILABLE, "%s", err);
    }
    int wsym = 6, wint = 8, wdate = 5, wbars = 4;
    for (size_t i = 0; !f->as_json && i < n; i++) {
        char d[CLOCK_DATE_LEN];
        /* first and last have the same width */
        clock_format_bar(bar_interval_is_daily(rows[i].interval), rows[i].last_ts, d);
        int ls = (int)strlen(rows[i].symbol), li = (int)strlen(rows[i].interval), lb = digits(rows[i].count);
        int ld = (int)strlen(d);
        wsym = ls > wsym ? ls : wsym;
        wint = li > wint ? li : wint;
        wdate = ld > wdate ? ld : wdate;
        wbars = lb > wbars ? lb : wbars;
    }
    if (!f->as_json) {
        printf("database: %s %s\n", db_kind_name(db), db_where(db));
        if (n == 0)
            printf("no bars yet: tickq data import FILE.csv (or tickq data synth) adds some\n");
        else
            printf("%-*s  %-*s  %-*s  %-*s  %*s\n", wsym, "SYMBOL", wint, "INTERVAL", wdate, "FIRST", wdate, "LAST",
                   wbars, "BARS");
    }
    for (size_t i = 0; i < n; i++) {
        char a[CLOCK_DATE_LEN], b[CLOCK_DATE_LEN];
        clock_format_bar(bar_interval_is_daily(rows[i].interval), rows[i].first_ts, a);
        clock_format_bar(bar_interval_is_daily(rows[i].interval), rows[i].last_ts, b);
        if (f->as_json)
            printf("{\"symbol\":\"%s\",\"interval\":\"%s\",\"first\":\"%s\",\"last\":\"%s\",\"bars\":%lld}\n",
                   rows[i].symbol, rows[i].interval, a, b, rows[i].count);
        else
            printf("%-*s  %-*s  %-*s  %-*s  %*lld\n", wsym, rows[i].symbol, wint, rows[i].interval, wdate, a, wdate,
                   b, wbars, rows[i].count);
    }
    free(rows);
    db_close(db);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Splits a comma list in place into out[]; returns the count, -1 if too many. */
static int split(char *s, char **out, int max)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (n == max)
            return -1;
        out[n++] = tok;
    }
    return n;
}

/* Says, on stderr, for each requested symbol without bars at `interval`,
 * what the database has instead: the symbol at other intervals, or the
 * close matches among its symbols (case first: symbols are
 * case-sensitive). Returns how many were missing. */
static int report_missing(const data_flags_t *f, const db_t *db, char **symbols, int ns, const bar_summary_t *sum,
                          size_t nsum)
{
    const char **names = malloc((nsum ? nsum : 1) * sizeof *names);
    size_t nnames = 0;
    for (size_t i = 0; names != NULL && i < nsum; i++) /* distinct: the summary is sorted by symbol */
        if (nnames == 0 || strcmp(names[nnames - 1], sum[i].symbol) != 0)
            names[nnames++] = sum[i].symbol;
    int missing = 0;
    for (int k = 0; k < ns; k++) {
        char others[256] = "";
        const char *first = NULL;
        int have = 0;
        for (size_t i = 0; i < nsum && !have; i++) {
            if (strcmp(sum[i].symbol, symbols[k]) != 0)
                continue;
            if (strcmp(sum[i].interval, f->interval) == 0)
                have = 1;
            else
                snprintf(others + strlen(others), sizeof others - strlen(others), "%s%s", others[0] ? ", " : "",
                         first = first ? first : sum[i].interval);
        }
        if (have)
            continue;
        missing++;
        if (first != NULL) {
            fprintf(stderr, "tickq: no %s bars of %s in the database; it has bars at %s (pass --interval %s)\n",
                    f->interval, symbols[k], others, first);
            continue;
        }
        size_t idx[5];
        size_t nm = names ? close_match_find(symbols[k], names, nnames, idx, 5) : 0;
        fprintf(stderr, "tickq: unknown symbol '%s': the database (%s %s) has no bars of it; ", symbols[k],
                db_kind_name(db), db_where(db));
        if (nm == 0) {
            fprintf(stderr, "no symbol is close to it (tickq data list shows them all)\n");
            continue;
        }
        fprintf(stderr, "symbols are case-sensitive: did you mean ");
        for (size_t m = 0; m < nm; m++)
            fprintf(stderr, "%s%s", m == 0 ? "" : m + 1 == nm ? " or " : ", ", names[idx[m]]);
        fprintf(stderr, "?\n");
    }
    free(names);
    return missing;
}

/* What show prints: the loaded bars, their feature columns, the rows from
 * `from` on. */
typedef struct {
    const bar_set_t *set;
    const char *interval;
    int64_t from;
    int nc;
    char **names;
    const double *const *cols;
} show_rows_t;

/* One value as show prints it: the shortest text that reads back exactly,
 * or "" when undefined. */
static int format_value(double v, char out[NUMFMT_MAX])
{
    if (!isfinite(v)) {
        out[0] = '\0';
        return 0;
    }
    return numfmt_shortest(v, out);
}

/* Prints the rows (a pass with print 0 only measures the table's widths
 * into w: symbol, date, then each column). */
static void show_pass(const show_rows_t *r, show_format_t format, int print, int *w)
{
    size_t row = 0;
    for (size_t s = 0; s < r->set->n; s++) {
        const bar_series_t *series = &r->set->series[s];
        for (size_t t = 0; t < series->n; t++, row++) {
            if (series->ts[t] < r->from)
                continue;
            char d[CLOCK_DATE_LEN], num[NUMFMT_MAX];
            clock_format_bar(bar_interval_is_daily(r->interval), series->ts[t], d);
            if (!print) {
                int ls = (int)strlen(series->symbol), ld = (int)strlen(d);
                w[0] = ls > w[0] ? ls : w[0];
                w[1] = ld > w[1] ? ld : w[1];
                for (int i = 0; i < r->nc; i++) {
                    int n = format_value(r->cols[i][row], num);
                    w[2 + i] = n > w[2 + i] ? n : w[2 + i];
                }
                continue;
            }
            if (format == SHOW_JSON)
                printf("{\"symbol\":\"%s\",\"date\":\"%s\"", series->symbol, d);
            else if (format == SHOW_TABLE)
                printf("%-*s  %-*s", w[0], series->symbol, w[1], d);
            else
                printf("%s,%s", series->symbol, d);
            for (int i = 0; i < r->nc; i++) {
                int n = format_value(r->cols[i][row], num);
                if (format == SHOW_JSON)
                    printf(",\"%s\":%s", r->names[i], n ? num : "null");
                else if (format == SHOW_TABLE)
                    printf("  %*s", w[2 + i], num);
                else
                    printf(",%s", num);
            }
            fputs(format == SHOW_JSON ? "}\n" : "\n", stdout);
        }
    }
}

static int show_print(const show_rows_t *r, show_format_t format)
{
    int *w = calloc((size_t)r->nc + 2, sizeof *w);
    if (w == NULL)
        return cli_fail(EX_OSERR, "out of memory");
    if (format == SHOW_TABLE) {
        w[0] = (int)strlen("symbol");
        w[1] = (int)strlen("date");
        for (int i = 0; i < r->nc; i++)
            w[2 + i] = (int)strlen(r->names[i]);
        show_pass(r, format, 0, w);
        printf("%-*s  %-*s", w[0], "symbol", w[1], "date");
        for (int i = 0; i < r->nc; i++)
            printf("  %*s", w[2 + i], r->names[i]);
        printf("\n");
    } else if (format == SHOW_CSV) {
        printf("symbol,date");
        for (int i = 0; i < r->nc; i++)
            printf(",%s", r->names[i]);
        printf("\n");
    }
    show_pass(r, format, 1, w);
    free(w);
    return 0;
}

static int do_show(data_flags_t *f, int argc, char **argv)
{
    if (optind + 2 != argc)
        return cli_usage_error(usage, "show needs one SYMBOL (or a comma list)");
    char symbuf[8192], colbuf[4096];
    char *symbols[512], *columns[128];
    snprintf(symbuf, sizeof symbuf, "%s", argv[optind + 1]);
    snprintf(colbuf, sizeof colbuf, "%s", f->columns ? f->columns : "open,high,low,close,volume");
    int ns = split(symbuf, symbols, 512), nc = split(colbuf, columns, 128);
    if (ns <= 0 || nc <= 0)
        return cli_usage_error(usage, "give 1-512 symbols and 1-128 columns");
    char err[1024];
    for (int i = 0; i < ns; i++)
        if (bar_symbol_check(symbols[i], strlen(symbols[i])) != 0)
            return cli_usage_error(usage, "invalid symbol '%s' (" BAR_SYMBOL_RULE ")", symbols[i]);
    for (int i = 0; i < nc; i++)
        if (feature_name_check(columns[i], err, sizeof err) != 0)
            return cli_usage_error(usage, "%s", err);
    qsort(symbols, (size_t)ns, sizeof symbols[0], cmp_str);
    int distinct = 0; /* db_bars_get takes each symbol once */
    for (int i = 0; i < ns; i++)
        if (distinct == 0 || strcmp(symbols[distinct - 1], symbols[i]) != 0)
            symbols[distinct++] = symbols[i];
    ns = distinct;
    int64_t from = INT64_MIN, to = INT64_MAX;
    int st;
    if (f->from && (st = parse_day("--from", f->from, &from)) != 0)
        return st;
    if (f->to && (st = parse_day("--to", f->to, &to)) != 0)
        return st;
    if (f->to && bar_interval_is_daily(f->interval) && strlen(f->to) == 10)
        to += 86399; /* a date alone covers that whole day */
    db_t *db;
    if ((st = open_db(f->cfg, &db, 0)) != 0)
        return st;
    bar_summary_t *sum;
    size_t nsum;
    if (db_bars_summary(db, &sum, &nsum, err, sizeof err) != 0) {
        db_close(db);
        return cli_fail(EX_UNAVAILABLE, "%s", err);
    }
    int missing = report_missing(f, db, symbols, ns, sum, nsum);
    free(sum);
    if (missing > 0) {
        db_close(db);
        return 3; /* not found, as `tickq result` and `tickq job` */
    }
    bar_set_t set = { 0 };
    /* Everything up to --to: the rows before --from warm up the features. */
    if (db_bars_get(db, f->interval, (const char *const *)symbols, (size_t)ns, INT64_MIN, to, &set, err,
                    sizeof err) != 0) {
        db_close(db);
        return cli_fail(EX_UNAVAILABLE, "%s", err);
    }
    db_close(db);
    feature_frame_t frame;
    feature_frame_init(&frame, &set);
    const double *cols[128];
    for (int i = 0; i < nc; i++) {
        if ((cols[i] = feature_frame_column(&frame, columns[i], err, sizeof err)) == NULL) {
            feature_frame_free(&frame);
            bar_set_free(&set);
            return cli_fail(EX_SOFTWARE, "%s", err);
        }
    }
    show_rows_t rows = { &set, f->interval, from, nc, columns, cols };
    st = show_print(&rows, f->format);
    feature_frame_free(&frame);
    bar_set_free(&set);
    return st;
}

int cmd_data(int argc, char **argv)
{
    config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    data_flags_t f;
    memset(&f, 0, sizeof f);
    f.cfg = &cfg;
    f.interval = "1d";
    f.seed = 1;
    int st = cli_parse(argc, argv, options, usage, &cfg, on_flag, &f);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    if (optind >= argc)
        return cli_usage_error(usage, "missing action: import, synth, list or show");
    const char *action = argv[optind];
    int bit = strcmp(action, "import") == 0 ? A_IMPORT : strcmp(action, "synth") == 0 ? A_SYNTH
            : strcmp(action, "list") == 0   ? A_LIST
            : strcmp(action, "show") == 0   ? A_SHOW
                                            : 0;
    if (bit == 0)
        return cli_usage_error(usage, "unknown action '%s': use import, synth, list or show", action);
    if ((st = check_flags(&f, action, bit)) != 0)
        return st;
    switch (bit) {
    case A_IMPORT: return do_import(&f, argc, argv);
    case A_SYNTH: return do_synth(&f, argc);
    case A_LIST: return do_list(&f, argc);
    default: return do_show(&f, argc, argv);
    }
}
