/* test_data.c — CSV number parsing, calendar dates, symbols and intervals,
 * synthetic data determinism. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bars.h"
#include "clock.h"
#include "csv_import.h"
#include "synth.h"
#include "unit.h"

TEST(csv_number_fast_path_matches_strtod)
{
    unsigned seed = 7;
    char buf[64];
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned long long mant = ((unsigned long long)seed << 20) ^ (unsigned long long)rand();
        mant %= 1000000000000000ULL; /* up to 15 digits */
        int frac = (int)(seed % 9);
        int len = snprintf(buf, sizeof buf, "%llu", mant);
        if (frac > 0 && frac < len) { /* put a decimal point inside */
            for (int k = len; k >= len - frac; k--)
                buf[k + 1] = buf[k];
            buf[len - frac] = '.';
            len++;
        }
        double got, want = strtod(buf, NULL);
        if (csv_number(buf, (size_t)len, &got) != 0 || got != want) {
            unit_fail(__FILE__, __LINE__, "'%s': got %.17g, strtod %.17g", buf, got, want);
            return;
        }
    }
}

TEST(csv_number_edge_cases)
{
    double v;
    CHECK(csv_number("12.50", 5, &v) == 0 && v == 12.5);
    CHECK(csv_number("-3", 2, &v) == 0 && v == -3);
    CHECK(csv_number("1e3", 3, &v) == 0 && v == 1000);
    CHECK(csv_number(".5", 2, &v) == 0 && v == 0.5);
    CHECK(csv_number("1234567890123456789", 19, &v) == 0 && v == 1234567890123456789.0);
    CHECK(csv_number("0.1000000000000000055511151231257827", 36, &v) == 0 && v == 0.1);
    CHECK(csv_number("nan", 3, &v) == -2);
    CHECK(csv_number("inf", 3, &v) == -2);
    CHECK(csv_number("1e999", 5, &v) == -2);
    CHECK(csv_number("", 0, &v) == -1);
    CHECK(csv_number("1.2.3", 5, &v) == -1);
    CHECK(csv_number("12a", 3, &v) == -1);
    CHECK(csv_number(" 1", 2, &v) == 0 && v == 1); /* strtod skips leading blanks */
}

TEST(dates_parse_and_format)
{
    int64_t ts;
    CHECK(clock_parse_date("2024-02-29", 10, &ts) == 0 && ts == 1709164800);
    CHECK(clock_parse_date("2023-02-29", 10, &ts) == -1);
    CHECK(clock_parse_date("2024-04-31", 10, &ts) == -1);
    CHECK(clock_parse_date("2024-1-05", 9, &ts) == -1);
    CHECK(clock_parse_date("2024/01/05", 10, &ts) == -1);
    CHECK(clock_parse_datetime("2024-03-01T14:30:00", 19, &ts) == 0 && ts == 1709303400);
    CHECK(clock_parse_datetime("2024-03-01 14:30:00Z", 20, &ts) == 0 && ts == 1709303400);
    CHECK(clock_parse_datetime("2024-03-01T24:00:00", 19, &ts) == -1);
    char out[CLOCK_DATE_LEN];
    clock_format_date(1709164800, out);
    CHECK_STR(out, "2024-02-29");
    clock_format_datetime(1709303400, out);
    CHECK_STR(out, "2024-03-01T14:30:00Z");
    for (int64_t d = -1000; d < 40000; d += 37) {
        int y, m, dd;
        clock_civil_from_days(d, &y, &m, &dd);
        CHECK_INT(clock_days_from_civil(y, m, dd), d);
    }
}

TEST(symbols_and_intervals)
{
    CHECK(bar_symbol_check("BRK.B", 5) == 0);
    CHECK(bar_symbol_check("^GSPC", 5) == 0);
    CHECK(bar_symbol_check("EURUSD=X", 8) == 0);
    CHECK(bar_symbol_check("A B", 3) == -1);
    CHECK(bar_symbol_check("A,B", 3) == -1);
    CHECK(bar_symbol_check("", 0) == -1);
    CHECK(bar_symbol_check("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", 33) == -1);
    CHECK_INT(bar_interval_seconds("1d"), 86400);
    CHECK_INT(bar_interval_seconds("15m"), 900);
    CHECK_INT(bar_interval_seconds("1wk"), 604800);
    CHECK_INT(bar_interval_seconds("4h"), 14400);
    CHECK_INT(bar_interval_seconds("0d"), -1);
    CHECK_INT(bar_interval_seconds("1y"), -1);
    CHECK_INT(bar_interval_seconds("d"), -1);
    CHECK(bar_interval_is_daily("1d") && !bar_interval_is_daily("1h"));
}

static int collect(const bar_row_t *rows, size_t n, void *ctx)
{
    double *sum = ctx;
    for (size_t i = 0; i < n; i++) {
        sum[0] += rows[i].close + rows[i].volume * 1e-6;
        if (!(rows[i].low <= fmin(rows[i].open, rows[i].close) && rows[i].high >= fmax(rows[i].open, rows[i].close) &&
              rows[i].low > 0))
            sum[1] += 1;
    }
    return 0;
}

TEST(synth_same_seed_same_bars)
{
    synth_opts_t o = { 5, 400, 11, clock_days_from_civil(2020, 1, 2) * 86400 };
    double a[2] = { 0, 0 }, b[2] = { 0, 0 }, c[2] = { 0, 0 };
    synth_generate(&o, collect, a);
    synth_generate(&o, collect, b);
    o.seed = 12;
    synth_generate(&o, collect, c);
    CHECK(a[0] == b[0]);
    CHECK(a[0] != c[0]);
    CHECK(a[1] == 0 && c[1] == 0); /* every bar is consistent */
    char name[BAR_SYMBOL_MAX + 1];
    synth_symbol(0, 5, name);
    CHECK_STR(name, "SYN0001");
    synth_symbol(41, 50000, name);
    CHECK_STR(name, "SYN00042");
}
