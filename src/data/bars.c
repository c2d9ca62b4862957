/* bars.c — market data in memory: columnar OHLCV series and sets of them.
 * Arrays grow by doubling; a loader that knows the row count up front can
 * reserve it with one push-free allocation later if it ever matters. */
#include "data/bars.h"

#include <stdlib.h>
#include <string.h>

static int grow(bar_series_t *s)
{
    size_t cap = s->cap ? s->cap * 2 : 256;
    int64_t *ts = realloc(s->ts, cap * sizeof *ts);
    if (ts == NULL)
        return -1;
    s->ts = ts;
    double **cols[5] = { &s->open, &s->high, &s->low, &s->close, &s->volume };
    for (int i = 0; i < 5; i++) {
        double *p = realloc(*cols[i], cap * sizeof **cols[i]);
        if (p == NULL)
            return -1;
        *cols[i] = p;
    }
    s->cap = cap;
    return 0;
}

int bar_series_push(bar_series_t *s, int64_t ts, double open, double high, double low,
                    double close, double volume)
{
    if (s->n == s->cap && grow(s) != 0)
        return -1;
    size_t i = s->n++;
    s->ts[i] = ts;
    s->open[i] = open;
    s->high[i] = high;
    s->low[i] = low;
    s->close[i] = close;
    s->volume[i] = volume;
    return 0;
}

void bar_series_free(bar_series_t *s)
{
    free(s->ts);
    free(s->open);
    free(s->high);
    free(s->low);
    free(s->close);
    free(s->volume);
    memset(s, 0, sizeof *s);
}

bar_series_t *bar_set_add(bar_set_t *set, const char *symbol)
{
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        bar_series_t *p = realloc(set->series, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        set->series = p;
        set->cap = cap;
    }
    bar_series_t *s = &set->series[set->n++];
    memset(s, 0, sizeof *s);
    size_t len = strlen(symbol);
    if (len > BAR_SYMBOL_MAX)
        len = BAR_SYMBOL_MAX;
    memcpy(s->symbol, symbol, len);
    s->symbol[len] = '\0';
    return s;
}

bar_series_t *bar_set_find(bar_set_t *set, const char *symbol)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(set->series[mid].symbol, symbol);
        if (c == 0)
            return &set->series[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void bar_set_free(bar_set_t *set)
{
    for (size_t i = 0; i < set->n; i++)
        bar_series_free(&set->series[i]);
    free(set->series);
    set->series = NULL;
    set->n = set->cap = 0;
}

size_t bar_set_rows(const bar_set_t *set)
{
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++)
        n += set->series[i].n;
    return n;
}

int bar_symbol_check(const char *s, size_t len)
{
    if (len == 0 || len > BAR_SYMBOL_MAX)
        return -1;
    size_t seg = 0; /* where the current '/'-separated part starts */
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '/') {
            /* "." or ".." between slashes would climb out of a provider's
             * folder or URL path once the symbol is put there. */
            size_t n = i - seg;
            if ((n == 1 || n == 2) && s[seg] == '.' && s[i - 1] == '.')
                return -1;
            seg = i + 1;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f || c == ',' || c == '"' || c == '\'' || c == '\\' || c == '{' || c == '}')
            return -1;
    }
    return 0;
}

int bar_interval_parts(const char *interval, long *count, int64_t *unit_seconds)
{
    if (interval == NULL || *interval < '1' || *interval > '9')
        return -1;
    char *end;
    long n = strtol(interval, &end, 10);
    if (n <= 0 || n > 1000)
        return -1;
    if (strcmp(end, "m") == 0)
        *unit_seconds = 60;
    else if (strcmp(end, "h") == 0)
        *unit_seconds = 3600;
    else if (strcmp(end, "d") == 0)
        *unit_seconds = 86400;
    else if (strcmp(end, "wk") == 0)
        *unit_seconds = 7 * 86400;
    else
        return -1;
    *count = n;
    return 0;
}

int64_t bar_interval_seconds(const char *interval)
{
    long n;
    int64_t unit;
    return bar_interval_parts(interval, &n, &unit) == 0 ? n * unit : -1;
}

int bar_interval_is_daily(const char *interval)
{
    return bar_interval_seconds(interval) >= 86400;
}
