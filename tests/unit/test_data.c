/* test_data.c — CSV number parsing, calendar dates, symbols and intervals,
 * synthetic data determinism. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "data/bars.h"
#include "core/clock.h"
#include "data/csv_import.h"
#include "data/synth.h"
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
    CHECK(csv_number("0x10", 4, &v) == -1);              /* strtod's hex: no price is written so */
    CHECK(csv_number("0x1p3", 5, &v) == -1);
    CHECK(csv_number("-0X1A", 5, &v) == -1);
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
    /* no "." or ".." between slashes: a provider puts the symbol into a
     * path or URL */
    CHECK(bar_symbol_check("BRK/B", 5) == 0);
    CHECK(bar_symbol_check(".DJI", 4) == 0);
    CHECK(bar_symbol_check("...", 3) == 0);
    CHECK(bar_symbol_check("A/..B", 5) == 0);
    CHECK(bar_symbol_check("..", 2) == -1);
    CHECK(bar_symbol_check(".", 1) == -1);
    CHECK(bar_symbol_check("../secret/x", 11) == -1);
    CHECK(bar_symbol_check("A/./B", 5) == -1);
    CHECK(bar_symbol_check("A/..", 4) == -1);
    CHECK(bar_symbol_check("A/../B", 6) == -1);
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

/* csv_parse's header line: the variants it accepts and what it says about
 * the ones it does not. */
typedef struct {
    size_t rows, ends;
    double close, volume;
    char symbol[BAR_SYMBOL_MAX + 1];
} header_sink_t;

static int header_sink(void *ctx, const bar_row_t *row, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    header_sink_t *s = ctx;
    if (row == NULL) {
        s->ends++;
        return 0;
    }
    s->rows++;
    s->close = row->close;
    s->volume = row->volume;
    snprintf(s->symbol, sizeof s->symbol, "%s", row->symbol);
    return 0;
}

static int parse_csv(const char *text, const char *symbol, header_sink_t *s, csv_import_report_t *rep)
{
    memset(s, 0, sizeof *s);
    csv_parse_opts_t opts = { "1d", symbol };
    char err[256];
    return csv_parse(text, strlen(text), &opts, header_sink, s, rep, err, sizeof err);
}

TEST(csv_header_variants)
{
    static csv_import_report_t rep;
    header_sink_t s;
    static const char *const multi[] = {
        "symbol,date,open,high,low,close,volume\n", "Symbol,Date,Open,High,Low,Close,Volume\n",
        "SYMBOL,DATE,OPEN,HIGH,LOW,CLOSE,VOLUME\n", "ticker,date,open,high,low,close,volume\n",
        "Ticker,Date,Open,High,Low,Close,Volume\r\n", "\xEF\xBB\xBFSymbol,Date,Open,High,Low,Close,Volume\n",
        "\"symbol\",\"date\",\"open\",\"high\",\"low\",\"close\",\"volume\"\n", /* quoted, as rows may be */
    };
    for (size_t i = 0; i < sizeof multi / sizeof multi[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "%sAAA,2024-01-02,10,11,9,10.5,100\n", multi[i]);
        CHECK(parse_csv(text, NULL, &s, &rep) == 0);
        if (rep.bad != 0 || s.rows != 1)
            unit_fail(__FILE__, __LINE__, "header %zu refused: %s", i, rep.nproblems ? rep.problems[0].msg : "");
        CHECK_STR(s.symbol, "AAA");
        CHECK(!rep.adj_close && !rep.header_bad);
    }
    /* Yahoo's one-symbol file: close is Close, Adj Close is skipped (even
     * when it is not a number). */
    CHECK(parse_csv("Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,10,11,9,10.5,9.87,100\n"
                    "2024-01-03,10,11,9,10.7,n/a,200\n", "AAA", &s, &rep) == 0);
    CHECK_INT(rep.bad, 0);
    CHECK_INT(s.rows, 2);
    CHECK(s.close == 10.7 && s.volume == 200);
    CHECK_STR(s.symbol, "AAA");
    CHECK(rep.adj_close);
    /* adj close with a symbol column too */
    CHECK(parse_csv("symbol,date,open,high,low,close,adj close,volume\nBBB,2024-01-02,10,11,9,10.5,9.87,100\n",
                    NULL, &s, &rep) == 0);
    CHECK_INT(rep.bad, 0);
    CHECK(s.close == 10.5 && s.volume == 100 && rep.adj_close);
    CHECK_STR(s.symbol, "BBB");
    /* a row that lost a column names the file's layout */
    CHECK(parse_csv("Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,10,11,9,10.5,100\n", "AAA", &s,
                    &rep) == 0);
    CHECK_INT(rep.bad, 1);
    CHECK_STR(rep.problems[0].msg, "expected 7 columns (date,open,high,low,close,adj close,volume), found 6");
}

TEST(csv_header_refusals_name_the_expected_and_the_found_header)
{
    static csv_import_report_t rep;
    header_sink_t s;
    static const struct {
        const char *header, *symbol, *msg;
    } cases[] = {
        { "ticker,date,o,h,l,c,v", NULL,
          "expected the header line symbol,date,open,high,low,close,volume, found 'ticker,date,o,h,l,c,v': "
          "column 3 is 'o' where 'open' was expected" },
        { "Date,Open,High,Low,Close,Adj Close,Volume", NULL,
          "expected the header line symbol,date,open,high,low,close,volume, found "
          "'Date,Open,High,Low,Close,Adj Close,Volume': the file has no symbol column, so it holds one "
          "symbol's bars: give the symbol (tickq data import --symbol SYM)" },
        { "sym,date,open,high,low,close,volume", NULL,
          "expected the header line symbol,date,open,high,low,close,volume, found "
          "'sym,date,open,high,low,close,volume': column 1 is 'sym' where 'date' was expected (or 'symbol' or "
          "'ticker' before it)" },
        { "symbol,date,open,high", NULL,
          "expected the header line symbol,date,open,high,low,close,volume, found 'symbol,date,open,high': "
          "it ends after column 4, where 'low' was expected" },
        { "symbol,date,open,high,low,close", NULL,
          "expected the header line symbol,date,open,high,low,close,volume, found "
          "'symbol,date,open,high,low,close': it ends after column 6, where 'volume' was expected" },
        { "date,open,high,low,close,vol", "AAA",
          "expected the header line date,open,high,low,close,volume, found 'date,open,high,low,close,vol': "
          "column 6 is 'vol' where 'volume' (or 'adj close') was expected" },
        { "date,open,high,low,close,volume,dividends", "AAA",
          "expected the header line date,open,high,low,close,volume, found "
          "'date,open,high,low,close,volume,dividends': column 7 ('dividends') comes after volume, the last "
          "column" },
        { "\"symbol\",\"date\",\"open\",\"high\",\"low\",\"close\",\"vol\"", NULL,
          "expected the header line symbol,date,open,high,low,close,volume, found "
          "'\"symbol\",\"date\",\"open\",\"high\",\"low\",\"close\",\"vol\"': column 7 is 'vol' where "
          "'volume' (or 'adj close') was expected" },
        { "symbol, date,open,high,low,close,volume", NULL,
          "expected the header line symbol,date,open,high,low,close,volume, found "
          "'symbol, date,open,high,low,close,volume': column 2 is ' date' where 'date' was expected" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "%s\n2024-01-02,10,11,9,10.5,100\n", cases[i].header);
        CHECK(parse_csv(text, cases[i].symbol, &s, &rep) == 0);
        CHECK_INT(rep.bad, 1);
        CHECK_INT(rep.rows, 0); /* nothing after a bad header is read */
        CHECK_INT(s.rows, 0);
        CHECK_INT(s.ends, 1);
        CHECK(rep.header_bad);
        CHECK_INT(rep.problems[0].line, 1);
        CHECK_STR(rep.problems[0].msg, cases[i].msg);
    }
}
