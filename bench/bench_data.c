/* bench_data.c — the data benchmark (`make bench-data`): CSV import speed,
 * bar loading time for 100 symbols x 504 days and 500 x 2,520 days on both
 * drivers, and feature kernel speed (feature_values_per_s over the ten
 * frame kernels; stdev_20, the strategies' kernel, apart). Prints one JSON
 * line.
 *
 * SQLite runs in a temp file; PostgreSQL needs DATABASE_URL (scripts/
 * with-postgres provides a private server). Loads are timed as the median
 * of five, after one warm-up load (a worker loads from a warm database). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/bars.h"
#include "core/clock.h"
#include "data/csv_import.h"
#include "data/db.h"
#include "data/feature.h"
#include "data/synth.h"

#define SYMBOLS 500
#define DAYS 2520

static void die(const char *what, const char *err)
{
    fprintf(stderr, "bench_data: %s: %s\n", what, err);
    exit(1);
}

static int write_csv(const bar_row_t *rows, size_t n, void *ctx)
{
    FILE *f = ctx;
    for (size_t i = 0; i < n; i++) {
        char d[CLOCK_DATE_LEN];
        clock_format_date(rows[i].ts, d);
        fprintf(f, "%s,%s,%.2f,%.2f,%.2f,%.2f,%.0f\n", rows[i].symbol, d, rows[i].open, rows[i].high,
                rows[i].low, rows[i].close, rows[i].volume);
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median milliseconds to load `nsym` symbols over their first `days` days. */
static double load_ms(db_t *db, int nsym, int days, size_t *rows_out)
{
    static char names[SYMBOLS][BAR_SYMBOL_MAX + 1];
    static const char *syms[SYMBOLS];
    for (int i = 0; i < nsym; i++) {
        synth_symbol(i, SYMBOLS, names[i]);
        syms[i] = names[i];
    }
    int64_t from = clock_days_from_civil(2020, 1, 2) * 86400;
    int64_t to = from + (int64_t)((days - 1) * 7 / 5 + 3) * 86400; /* weekdays: D days span ~1.4 D */
    double runs[6];
    char err[1024];
    for (int r = 0; r < 6; r++) {
        bar_set_t set = { 0 };
        int64_t t0 = clock_mono_us();
        if (db_bars_get(db, "1d", syms, (size_t)nsym, from, to, &set, err, sizeof err) != 0)
            die("load", err);
        runs[r] = (double)(clock_mono_us() - t0) / 1000.0;
        *rows_out = bar_set_rows(&set);
        bar_set_free(&set);
    }
    qsort(runs + 1, 5, sizeof runs[0], cmp_double);
    return runs[3];
}

typedef struct {
    double import_rows_per_s, load_small_ms, load_large_ms;
    size_t small_rows, large_rows;
} driver_result_t;

static void bench_driver(const char *url, const char *path, const char *csv, driver_result_t *r)
{
    db_t *db;
    char err[1024];
    if (db_open(url, path, &db, NULL, err, sizeof err) != 0)
        die("open", err);
    csv_import_opts_t opts = { "1d", 0, NULL };
    static csv_import_report_t rep;
    int64_t t0 = clock_mono_us();
    if (csv_import_file(db, csv, &opts, &rep, err, sizeof err) != CSV_IMPORTED)
        die("import", rep.nproblems ? rep.problems[0].msg : err);
    r->import_rows_per_s = (double)rep.imported / ((double)(clock_mono_us() - t0) / 1e6);
    r->load_small_ms = load_ms(db, 100, 504, &r->small_rows);
    r->load_large_ms = load_ms(db, SYMBOLS, DAYS, &r->large_rows);
    db_close(db);
}

/* Values per second of one kernel over every series of the set. */
typedef enum { K_SMA, K_EMA, K_RSI, K_ATR, K_BB, K_HIGH, K_HV, K_MACD, K_GAP, K_VOLRATIO, K_STDEV } kernel_t;

static double kernel_rate(const bar_set_t *set, kernel_t k, double *out1, double *out2, double *out3)
{
    size_t values = 0;
    int64_t t0 = clock_mono_us();
    for (int rep = 0; rep < 3; rep++) {
        for (size_t i = 0; i < set->n; i++) {
            const bar_series_t *s = &set->series[i];
            size_t n = s->n;
            switch (k) {
            case K_SMA: feature_sma(s->close, n, 20, out1); values += n; break;
            case K_EMA: feature_ema(s->close, n, 20, out1); values += n; break;
            case K_RSI: feature_rsi(s->close, n, 14, out1); values += n; break;
            case K_ATR: feature_atr(s->high, s->low, s->close, n, 14, out1); values += n; break;
            case K_BB: feature_bbands(s->close, n, 20, out1, out2, out3); values += 3 * n; break;
            case K_HIGH: feature_rolling_max(s->high, n, 20, out1); values += n; break;
            case K_HV: feature_hv(s->close, n, 20, out1); values += n; break;
            case K_MACD: feature_macd(s->close, n, out1, out2, out3); values += 3 * n; break;
            case K_GAP: feature_gap_pct(s->open, s->close, n, out1); values += n; break;
            case K_VOLRATIO: feature_volume_ratio(s->volume, n, out1); values += n; break;
            case K_STDEV: feature_stdev(s->close, n, 20, out1); values += n; break;
            }
        }
    }
    return (double)values / ((double)(clock_mono_us() - t0) / 1e6);
}

int main(void)
{
    char dir[] = "/tmp/tickq-bench-data.XXXXXX";
    if (mkdtemp(dir) == NULL)
        die("mkdtemp", "failed");
    char csv[256], sqlite_path[256];
    snprintf(csv, sizeof csv, "%s/bars.csv", dir);
    snprintf(sqlite_path, sizeof sqlite_path, "%s/bench.db", dir);
    FILE *f = fopen(csv, "w");
    if (f == NULL)
        die("csv", "cannot write");
    fputs(CSV_HEADER "\n", f);
    synth_opts_t o = { SYMBOLS, DAYS, 42, clock_days_from_civil(2020, 1, 2) * 86400 };
    synth_generate(&o, write_csv, f);
    fclose(f);

    driver_result_t lite, pg;
    memset(&pg, 0, sizeof pg);
    bench_driver(NULL, sqlite_path, csv, &lite);
    const char *url = getenv("DATABASE_URL");
    if (url != NULL && *url)
        bench_driver(url, NULL, csv, &pg);

    /* Features over the large set, loaded from SQLite. */
    db_t *db;
    char err[1024];
    if (db_open(NULL, sqlite_path, &db, NULL, err, sizeof err) != 0)
        die("open", err);
    static char names[SYMBOLS][BAR_SYMBOL_MAX + 1];
    static const char *syms[SYMBOLS];
    for (int i = 0; i < SYMBOLS; i++) {
        synth_symbol(i, SYMBOLS, names[i]);
        syms[i] = names[i];
    }
    bar_set_t set = { 0 };
    if (db_bars_get(db, "1d", syms, SYMBOLS, INT64_MIN, INT64_MAX, &set, err, sizeof err) != 0)
        die("load", err);
    db_close(db);
    double *o1 = malloc(DAYS * sizeof *o1), *o2 = malloc(DAYS * sizeof *o2), *o3 = malloc(DAYS * sizeof *o3);
    static const char *const kname[] = { "sma_20", "ema_20", "rsi_14", "atr_14", "bb_20", "high_20",
                                         "hv_20", "macd", "gap_pct", "volume_ratio" };
    double rates[10], total_values = 0, total_seconds = 0;
    for (int k = 0; k < 10; k++) {
        rates[k] = kernel_rate(&set, (kernel_t)k, o1, o2, o3);
        double values = (double)bar_set_rows(&set) * 3 * (k == K_BB || k == K_MACD ? 3 : 1);
        total_values += values;
        total_seconds += values / rates[k];
    }
    printf("{\"bench\":\"data\",\"rows\":%d,\"import_rows_per_s_sqlite\":%.0f,\"load_100x504_ms_sqlite\":%.2f,"
           "\"load_500x2520_ms_sqlite\":%.1f,",
           SYMBOLS * DAYS, lite.import_rows_per_s, lite.load_small_ms, lite.load_large_ms);
    if (url != NULL && *url)
        printf("\"import_rows_per_s_postgres\":%.0f,\"load_100x504_ms_postgres\":%.2f,"
               "\"load_500x2520_ms_postgres\":%.1f,", pg.import_rows_per_s, pg.load_small_ms, pg.load_large_ms);
    printf("\"feature_values_per_s\":%.0f", total_values / total_seconds);
    for (int k = 0; k < 10; k++)
        printf(",\"%s_per_s\":%.0f", kname[k], rates[k]);
    /* the strategies' stdev kernel (the bands' spread alone), outside the total */
    printf(",\"stdev_20_per_s\":%.0f", kernel_rate(&set, K_STDEV, o1, o2, o3));
    printf(",\"loaded_rows_check\":[%zu,%zu]}\n", lite.small_rows, lite.large_rows);
    free(o1);
    free(o2);
    free(o3);
    bar_set_free(&set);
    unlink(csv);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_data: could not remove %s\n", dir);
    return 0;
}
