/* bars.h — market data in memory: OHLCV bars of one symbol as columns (one
 * contiguous array per field, in time order), and sets of such series. */
#ifndef TICKQ_BARS_H
#define TICKQ_BARS_H

#include <stddef.h>
#include <stdint.h>

#define BAR_SYMBOL_MAX 32
#define BAR_INTERVAL_MAX 8

/* A symbol as a fixed-size string. */
typedef char bar_symbol_t[BAR_SYMBOL_MAX + 1];

typedef struct {
    char symbol[BAR_SYMBOL_MAX + 1];
    size_t n, cap;
    int64_t *ts;            /* epoch seconds, UTC; strictly increasing */
    double *open, *high, *low, *close, *volume;
} bar_series_t;

typedef struct {
    char interval[BAR_INTERVAL_MAX + 1];
    size_t n, cap;
    bar_series_t *series;   /* sorted by symbol */
} bar_set_t;

/* Appends one bar; 0, or -1 when out of memory. */
int bar_series_push(bar_series_t *s, int64_t ts, double open, double high, double low,
                    double close, double volume);
void bar_series_free(bar_series_t *s);

/* Adds an empty series for `symbol` at the end (callers add in symbol
 * order); returns it, or NULL when out of memory. */
bar_series_t *bar_set_add(bar_set_t *set, const char *symbol);
/* The series of `symbol`, or NULL (binary search: the set is sorted). */
bar_series_t *bar_set_find(bar_set_t *set, const char *symbol);
/* Frees every series; the set may be reused. Accepts a zeroed set. */
void bar_set_free(bar_set_t *set);
/* Total bars over all series. */
size_t bar_set_rows(const bar_set_t *set);

/* 0 when `s` is a valid symbol: 1-32 printable characters, no space or
 * comma, quote, backslash or brace, and no "." or ".." between slashes
 * (BRK.B, BRK/B, ^GSPC, EURUSD=X are fine; "..", "../x", "A/./B" are not:
 * a provider puts the symbol into a path or URL). The rule of imports, task
 * args and every provider. */
int bar_symbol_check(const char *s, size_t len);
/* The rule in words, for messages: "... (BAR_SYMBOL_RULE)". */
#define BAR_SYMBOL_RULE "1-32 characters, no spaces, commas, quotes, backslashes or braces, no . or .. between slashes"

/* Intervals: a count and a unit, m (minutes), h, d, wk. Returns the bar
 * length in seconds, or -1 for anything else. Daily and longer intervals
 * take dates (YYYY-MM-DD); shorter ones take times. */
int64_t bar_interval_seconds(const char *interval);
/* The same interval in parts: its count (1-1000) and its unit's seconds
 * (60, 3600, 86400, or 604800 for wk); -1 when it is not an interval.
 * "7d" and "1wk" are as long but not the same bars (seven trading days). */
int bar_interval_parts(const char *interval, long *count, int64_t *unit_seconds);
int bar_interval_is_daily(const char *interval);

#endif
