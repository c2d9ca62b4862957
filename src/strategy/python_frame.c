/* python_frame.c — the frame a Python host holds (the bars the worker sent,
 * their window, their feature columns), for the `_tickq` module
 * (python_module.c): columns computed by the same C code as Lua's df, so
 * both languages see the same numbers, bit for bit. */
#include "strategy/python_frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/feature.h"

static struct {
    char *payload;               /* the BARS message: the arrays point into it */
    bar_set_t set;
    int daily;
    feature_frame_t features;
    size_t *offset;              /* first row of each series in the feature columns */
    size_t *lo, *hi;             /* the window of each series */
    size_t rows;                 /* sum of hi - lo */
} g_frame;

size_t python_bars_size(const bar_set_t *set)
{
    size_t n = sizeof(python_bars_head_t) + set->n * sizeof(python_bars_series_t);
    for (size_t i = 0; i < set->n; i++)
        n += set->series[i].n * 6 * 8;
    return n;
}

void python_bars_write(const bar_set_t *set, int daily, char *buf)
{
    python_bars_head_t head;
    memset(&head, 0, sizeof head);
    head.nseries = (uint32_t)set->n;
    head.daily = (uint32_t)daily;
    snprintf(head.interval, sizeof head.interval, "%s", set->interval);
    memcpy(buf, &head, sizeof head);
    char *at = buf + sizeof head;
    for (size_t i = 0; i < set->n; i++) {
        python_bars_series_t s;
        memset(&s, 0, sizeof s);
        snprintf(s.symbol, sizeof s.symbol, "%s", set->series[i].symbol);
        s.n = set->series[i].n;
        memcpy(at, &s, sizeof s);
        at += sizeof s;
    }
    for (size_t i = 0; i < set->n; i++) {
        const bar_series_t *s = &set->series[i];
        size_t bytes = s->n * 8;
        const void *arrays[6] = { s->ts, s->open, s->high, s->low, s->close, s->volume };
        for (int k = 0; k < 6; k++) {
            if (bytes > 0)
                memcpy(at, arrays[k], bytes);
            at += bytes;
        }
    }
}

static void frame_clear(void)
{
    feature_frame_free(&g_frame.features);
    free(g_frame.set.series); /* the arrays live in the payload */
    free(g_frame.payload);
    free(g_frame.offset);
    free(g_frame.lo);
    free(g_frame.hi);
    memset(&g_frame, 0, sizeof g_frame);
}

int python_frame_set_bars(char *payload, size_t len, char *err, size_t errlen)
{
    frame_clear();
    python_bars_head_t head;
    if (len < sizeof head) {
        free(payload);
        snprintf(err, errlen, "bars message too short");
        return -1;
    }
    memcpy(&head, payload, sizeof head);
    size_t n = head.nseries, need = sizeof head + n * sizeof(python_bars_series_t);
    if (n > len / sizeof(python_bars_series_t) || need > len) {
        free(payload);
        snprintf(err, errlen, "bars message too short for %zu series", n);
        return -1;
    }
    g_frame.payload = payload;
    g_frame.daily = head.daily != 0;
    snprintf(g_frame.set.interval, sizeof g_frame.set.interval, "%.*s", BAR_INTERVAL_MAX, head.interval);
    g_frame.set.series = calloc(n ? n : 1, sizeof *g_frame.set.series);
    g_frame.offset = calloc(n ? n : 1, sizeof *g_frame.offset);
    g_frame.lo = calloc(n ? n : 1, sizeof *g_frame.lo);
    g_frame.hi = calloc(n ? n : 1, sizeof *g_frame.hi);
    if (g_frame.set.series == NULL || g_frame.offset == NULL || g_frame.lo == NULL || g_frame.hi == NULL) {
        frame_clear();
        snprintf(err, errlen, "out of memory for %zu series", n);
        return -1;
    }
    g_frame.set.n = g_frame.set.cap = n;
    const char *table = payload + sizeof head, *at = payload + need;
    size_t left = len - need, rows = 0;
    for (size_t i = 0; i < n; i++) {
        python_bars_series_t s;
        memcpy(&s, table + i * sizeof s, sizeof s);
        if (s.n > left / 48) {
            frame_clear();
            snprintf(err, errlen, "bars message too short for series %zu", i);
            return -1;
        }
        bar_series_t *b = &g_frame.set.series[i];
        snprintf(b->symbol, sizeof b->symbol, "%.*s", BAR_SYMBOL_MAX, s.symbol);
        b->n = b->cap = s.n;
        size_t bytes = s.n * 8;
        b->ts = (int64_t *)(void *)at;
        b->open = (double *)(void *)(at + bytes);
        b->high = (double *)(void *)(at + 2 * bytes);
        b->low = (double *)(void *)(at + 3 * bytes);
        b->close = (double *)(void *)(at + 4 * bytes);
        b->volume = (double *)(void *)(at + 5 * bytes);
        at += 6 * bytes;
        left -= 6 * bytes;
        g_frame.offset[i] = rows;
        rows += s.n;
    }
    feature_frame_init(&g_frame.features, &g_frame.set);
    return 0;
}

int python_frame_set_window(const char *payload, size_t len, char *err, size_t errlen)
{
    size_t n = g_frame.set.n;
    if (len != 2 * n * sizeof(uint64_t)) {
        snprintf(err, errlen, "window message of %zu bytes for %zu series", len, n);
        return -1;
    }
    size_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t lo, hi;
        memcpy(&lo, payload + i * 8, 8);
        memcpy(&hi, payload + (n + i) * 8, 8);
        if (lo > hi || hi > g_frame.set.series[i].n) {
            snprintf(err, errlen, "window [%llu, %llu) outside series %zu", (unsigned long long)lo,
                     (unsigned long long)hi, i);
            return -1;
        }
        g_frame.lo[i] = (size_t)lo;
        g_frame.hi[i] = (size_t)hi;
        rows += (size_t)(hi - lo);
    }
    g_frame.rows = rows;
    return 0;
}

size_t python_frame_rows(void)
{
    return g_frame.rows;
}

/* --- what the _tickq module reads (python_module.c) ---------------- */

size_t python_frame_series_count(void)
{
    return g_frame.set.n;
}

void python_frame_series(size_t i, const char **symbol, const int64_t **ts, size_t *lo, size_t *hi)
{
    const bar_series_t *s = &g_frame.set.series[i];
    *symbol = s->symbol;
    *ts = s->ts;
    *lo = g_frame.lo[i];
    *hi = g_frame.hi[i];
}

int python_frame_daily(void)
{
    return g_frame.daily;
}

int python_frame_column(const char *name, double *out, char *err, size_t errlen)
{
    const double *values = feature_frame_column(&g_frame.features, name, err, errlen);
    if (values == NULL)
        return -1;
    for (size_t i = 0; i < g_frame.set.n; i++) {
        size_t k = g_frame.hi[i] - g_frame.lo[i];
        if (k > 0)
            memcpy(out, values + g_frame.offset[i] + g_frame.lo[i], k * sizeof(double));
        out += k;
    }
    return 0;
}
