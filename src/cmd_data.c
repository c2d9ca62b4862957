/* cmd_data.c — `tickq data`: import CSV bars, generate synthetic bars, list
 * what the database holds, and show bars with computed features. */
#include "commands.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "clock.h"
#include "csv_import.h"
#include "db.h"
#include "feature.h"
#include "synth.h"

static const char usage[] =
    "usage: tickq data import FILE.csv... [--interval 1d] [--skip-bad]\n"
    "       tickq data synth --symbols N --days D [--seed S] [--start DATE] [--out FILE.csv]\n"
    "       tickq data list [--json]\n"
    "       tickq data show SYMBOL[,SYMBOL...] [--interval 1d] [--from DATE] [--to DATE]\n"
    "                       [--columns open,close,gap_pct,sma_20,...]\n"
    "\n"
    "import  upserts bars from CSV files with the header\n"
    "        " CSV_HEADER "\n"
    "        (dates YYYY-MM-DD; intraday intervals take YYYY-MM-DDTHH:MM:SS, UTC),\n"
    "        one transaction per file. A file with bad rows is rejected whole and its\n"
    "        bad lines are listed, unless --skip-bad imports the rest. The first 20\n"
    "        bad rows are explained; one line lists every bad line (3, 5, 7-9).\n"
    "synth   makes deterministic synthetic daily bars (SYN0001, ...): imports them,\n"
    "        or writes them as CSV with --out.\n"
    "list    symbols, intervals, first and last date, bar count.\n"
    "show    prints bars and features as CSV; features use all the history before\n"
    "        --from (undefined values are empty).\n"
    "\n"
    "  --db PATH            SQLite file (default: $TICKQ_DB, else var/tickq.db);\n"
    "                       DATABASE_URL=postgresql://... selects PostgreSQL instead\n"
    "  --interval I         1d (default), 1wk, 1h, 30m, 15m, 5m, 1m ...\n"
    "  --skip-bad           import: keep the good rows of a file with bad ones\n"
    "  --symbols N          synth: how many symbols\n"
    "  --days D             synth: trading days per symbol (Monday to Friday)\n"
    "  --seed S             synth: random seed (default 1)\n"
    "  --start DATE         synth: first day (default 2020-01-02)\n"
    "  --out FILE           synth: write CSV instead of importing\n"
    "  --from/--to DATE     show: the rows to print\n"
    "  --columns LIST       show: columns (default open,high,low,close,volume)\n"
    "  --json               list: one JSON object per line\n"
    "  -h, --help           this help\n"
    "\n"
    "Exit status: 0 ok, 64 bad usage, 65 a file with bad rows was rejected,\n"
    "66 input file missing, 69 database unavailable, 73 cannot create the SQLite file.\n";

enum {
    OPT_DB = OPT_FIRST_COMMAND_OPTION, OPT_INTERVAL, OPT_SKIP_BAD, OPT_SYMBOLS, OPT_DAYS, OPT_SEED,
    OPT_START, OPT_OUT, OPT_FROM, OPT_TO, OPT_COLUMNS
};

static const struct option options[] = {
    { "db", required_argument, 0, OPT_DB },
    { "interval", required_argument, 0, OPT_INTERVAL },
    { "skip-bad", no_argument, 0, OPT_SKIP_BAD },
    { "symbols", required_argument, 0, OPT_SYMBOLS },
    { "days", required_argument, 0, OPT_DAYS },
    { "seed", required_argument, 0, OPT_SEED },
    { "start", required_argument, 0, OPT_START },
    { "out", required_argument, 0, OPT_OUT },
    { "from", required_argument, 0, OPT_FROM },
    { "to", required_argument, 0, OPT_TO },
    { "columns", required_argument, 0, OPT_COLUMNS },
    { "json", no_argument, 0, OPT_JSON },
    { "help", no_argument, 0, 'h' },
    { 0, 0, 0, 0 }
};

typedef struct {
    config_t *cfg;
    const char *interval;
    int skip_bad, as_json;
    long long symbols, days;
    unsigned long long seed;
    const char *start, *out, *from, *to, *columns;
} data_flags_t;

static int on_flag(int opt, const char *arg, void *ctx)
{
    data_flags_t *f = ctx;
    switch (opt) {
    case OPT_DB: f->cfg->db_path = arg; return 0;
    case OPT_INTERVAL:
        if (bar_interval_seconds(arg) < 0)
            return cli_usage_error(usage, "--interval '%s' is not an interval (e.g. 1d, 1h, 15m, 1wk)", arg);
        f->interval = arg;
        return 0;
    case OPT_SKIP_BAD: f->skip_bad = 1; return 0;
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
    case OPT_JSON: f->as_json = 1; return 0;
    default: return cli_usage_error(usage, "see the options below");
    }
}

/* Opens the database and says where it is (stderr, so stdout stays data). */
static int open_db(const config_t *cfg, db_t **db)
{
    char err[1024];
    int st = db_open(cfg->database_url, cfg->db_path, db, err, sizeof err);
    if (st != 0)
        return cli_fail(st, "%s", err);
    fprintf(stderr, "tickq: database: %s %s\n", db_kind_name(*db), db_where(*db));
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

static int do_import(data_flags_t *f, int argc, char **argv)
{
    if (optind + 1 >= argc)
        return cli_usage_error(usage, "import needs at least one CSV file");
    db_t *db;
    int st = open_db(f->cfg, &db);
    if (st != 0)
        return st;
    csv_import_opts_t opts = { f->interval, f->skip_bad };
    static csv_import_report_t rep;
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
        print_bad_lines(argv[i], r == CSV_REJECTED ? "bad" : "skipped", &rep);
        csv_import_report_release(&rep);
        if (r == CSV_REJECTED) {
            fprintf(stderr, "tickq: %s rejected: %zu bad of %zu rows; nothing imported "
                    "(fix the rows, or pass --skip-bad to import the others)\n", argv[i], rep.bad, rep.rows);
            status = EX_DATAERR;
            continue;
        }
        printf("imported %zu rows (%zu symbols, interval %s) from %s in %.2f s (%.0f rows/s)%s\n",
               rep.imported, rep.symbols, f->interval, argv[i], secs,
               secs > 0 ? (double)rep.imported / secs : 0.0, rep.bad ? "; bad rows skipped" : "");
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
    if ((st = open_db(f->cfg, &sink.db)) != 0)
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

static void format_ts(const char *interval, int64_t ts, char out[CLOCK_DATE_LEN])
{
    if (bar_interval_is_daily(interval))
        clock_format_date(ts, out);
    else
        clock_format_datetime(ts, out);
}

static int do_list(data_flags_t *f, int argc)
{
    if (optind + 1 != argc)
        return cli_usage_error(usage, "list takes no arguments");
    db_t *db;
    int st = open_db(f->cfg, &db);
    if (st != 0)
        return st;
    bar_summary_t *rows;
    size_t n;
    char err[1024];
    if (db_bars_summary(db, &rows, &n, err, sizeof err) != 0) {
        db_close(db);
        return cli_fail(EX_UNAVAILABLE, "%s", err);
    }
    if (!f->as_json)
        printf("%-12s %-8s %-20s %-20s %10s\n", "SYMBOL", "INTERVAL", "FIRST", "LAST", "BARS");
    for (size_t i = 0; i < n; i++) {
        char a[CLOCK_DATE_LEN], b[CLOCK_DATE_LEN];
        format_ts(rows[i].interval, rows[i].first_ts, a);
        format_ts(rows[i].interval, rows[i].last_ts, b);
        if (f->as_json)
            printf("{\"symbol\":\"%s\",\"interval\":\"%s\",\"first\":\"%s\",\"last\":\"%s\",\"bars\":%lld}\n",
                   rows[i].symbol, rows[i].interval, a, b, rows[i].count);
        else
            printf("%-12s %-8s %-20s %-20s %10lld\n", rows[i].symbol, rows[i].interval, a, b, rows[i].count);
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

static int do_show(data_flags_t *f, int argc, char **argv)
{
    if (optind + 2 != argc)
        return cli_usage_error(usage, "show needs one SYMBOL (or a comma list)");
    static char symbuf[8192], colbuf[4096];
    static char *symbols[512], *columns[128];
    snprintf(symbuf, sizeof symbuf, "%s", argv[optind + 1]);
    snprintf(colbuf, sizeof colbuf, "%s", f->columns ? f->columns : "open,high,low,close,volume");
    int ns = split(symbuf, symbols, 512), nc = split(colbuf, columns, 128);
    if (ns <= 0 || nc <= 0)
        return cli_usage_error(usage, "give 1-512 symbols and 1-128 columns");
    char err[1024];
    for (int i = 0; i < ns; i++)
        if (bar_symbol_check(symbols[i], strlen(symbols[i])) != 0)
            return cli_usage_error(usage, "invalid symbol '%s'", symbols[i]);
    for (int i = 0; i < nc; i++)
        if (feature_name_check(columns[i], err, sizeof err) != 0)
            return cli_usage_error(usage, "%s", err);
    qsort(symbols, (size_t)ns, sizeof symbols[0], cmp_str);
    int64_t from = INT64_MIN, to = INT64_MAX;
    int st;
    if (f->from && (st = parse_day("--from", f->from, &from)) != 0)
        return st;
    if (f->to && (st = parse_day("--to", f->to, &to)) != 0)
        return st;
    if (f->to && bar_interval_is_daily(f->interval) && strlen(f->to) == 10)
        to += 86399; /* a date alone covers that whole day */
    db_t *db;
    if ((st = open_db(f->cfg, &db)) != 0)
        return st;
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
    printf("symbol,date");
    for (int i = 0; i < nc; i++)
        printf(",%s", columns[i]);
    printf("\n");
    size_t row = 0;
    for (size_t s = 0; s < set.n; s++) {
        const bar_series_t *series = &set.series[s];
        for (size_t t = 0; t < series->n; t++, row++) {
            if (series->ts[t] < from)
                continue;
            char d[CLOCK_DATE_LEN];
            format_ts(f->interval, series->ts[t], d);
            printf("%s,%s", series->symbol, d);
            for (int i = 0; i < nc; i++) {
                double v = cols[i][row];
                if (isfinite(v))
                    printf(",%.10g", v);
                else
                    printf(",");
            }
            printf("\n");
        }
    }
    for (int i = 0; i < ns; i++)
        if (bar_set_find(&set, symbols[i]) == NULL)
            fprintf(stderr, "tickq: no %s bars of %s in the database\n", f->interval, symbols[i]);
    feature_frame_free(&frame);
    bar_set_free(&set);
    return 0;
}

int cmd_data(int argc, char **argv)
{
    static config_t cfg;
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
    if (strcmp(action, "import") == 0)
        return do_import(&f, argc, argv);
    if (strcmp(action, "synth") == 0)
        return do_synth(&f, argc);
    if (strcmp(action, "list") == 0)
        return do_list(&f, argc);
    if (strcmp(action, "show") == 0)
        return do_show(&f, argc, argv);
    return cli_usage_error(usage, "unknown action '%s': use import, synth, list or show", action);
}
