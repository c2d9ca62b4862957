/* feature.h — technical features of bar series, computed in C.
 *
 * Kernels take one symbol's arrays (in date order) and write n values;
 * undefined values are NaN. Leading NaNs of the input are skipped (so an
 * EMA of the MACD line starts where that line does). Definitions are the
 * ones in docs/strategies.md.
 *
 * A feature frame holds a set of series (one per symbol, concatenated in
 * symbol order) and computes a named column the first time it is asked for,
 * series by series, so no value ever mixes two symbols and a strategy pays
 * only for the columns it uses. */
#ifndef TICKQ_FEATURE_H
#define TICKQ_FEATURE_H

#include <stddef.h>
#include <stdint.h>

#include "data/bars.h"

#define FEATURE_N_MIN 2
#define FEATURE_N_MAX 1000
#define FEATURE_NAME_MAX 32
#define FEATURE_KEEP_COLUMNS 1024

/* Kernels: x, high, low, close are inputs of length n; out has length n. */
void feature_prev(const double *x, size_t n, double *out);
void feature_gap_pct(const double *open, const double *close, size_t n, double *out);
void feature_return_pct(const double *close, size_t n, double *out);
void feature_volume_ratio(const double *volume, size_t n, double *out);
void feature_sma(const double *x, size_t n, int N, double *out);
void feature_ema(const double *x, size_t n, int N, double *out);
void feature_rsi(const double *close, size_t n, int N, double *out);
void feature_atr(const double *high, const double *low, const double *close, size_t n, int N, double *out);
/* bb_mid_N is sma_N bit for bit, bb_upper_N and bb_lower_N add and
 * subtract twice feature_stdev's value. */
void feature_bbands(const double *close, size_t n, int N, double *upper, double *mid, double *lower);
/* Population standard deviation of the last N values (the strategies'
 * stdev kernel), exact to a few ulps, 0 on a flat window; NaN for a window
 * holding a value that is not finite. */
void feature_stdev(const double *x, size_t n, int N, double *out);
void feature_rolling_max(const double *x, size_t n, int N, double *out);
void feature_rolling_min(const double *x, size_t n, int N, double *out);
/* sqrt(252) x the sample standard deviation of the last N log returns
 * (N + 1 closes), exact to a few ulps: TTR's volatility(n = N + 1,
 * calc = "close", N = 252). */
void feature_hv(const double *close, size_t n, int N, double *out);
/* feature_hv at the last of n closes only; NaN with fewer than N + 1
 * closes (or N past FEATURE_N_MAX). */
double feature_hv_last(const double *close, size_t n, int N);
void feature_macd(const double *close, size_t n, double *macd, double *signal, double *hist);

/* 0 when `name` is a column a frame can give: open, high, low, close,
 * volume, prev_close, gap_pct, volume_ratio, return_pct, sma_N, ema_N,
 * rsi_N, atr_N, bb_upper_N, bb_mid_N, bb_lower_N, high_N, low_N, hv_N
 * (2 <= N <= 1000), macd, macd_signal, macd_hist. Else -1 with a message. */
int feature_name_check(const char *name, char *err, size_t errlen);

typedef struct {
    char name[FEATURE_NAME_MAX + 1];
    double *values;
    uint64_t last_use;           /* the frame's clock when last asked for */
    uint64_t group;              /* shared by the columns computed together (bb_*_N, macd*) */
} feature_column_t;

/* A frame can be bounded (feature_frame_bound): then the columns it
 * computes (all but open, high, low, close and volume, which are copies of
 * the bars and stay) take at most `bound` bytes, 8 a row each, and are at
 * most FEATURE_KEEP_COLUMNS (lookups are linear in them). A column
 * that would pass the bound is made room for first, by evicting the least
 * recently used computed columns (with the columns computed along with
 * them); an evicted column is computed again when asked for, to the same
 * values. Invariants: (1) held <= bound (and the computed columns are at
 * most FEATURE_KEEP_COLUMNS), or the frame holds one group of
 * computed columns, larger than the bound on its own, computed by the last
 * feature_frame_column; (2) base columns are never evicted. */
typedef struct {
    const bar_set_t *set;        /* borrowed */
    size_t n;                    /* rows over all series */
    size_t ncols, cap;
    feature_column_t *cols;      /* computed (or copied) so far */
    size_t bound;                /* 0: unbounded */
    size_t held;                 /* bytes of the computed columns */
    uint64_t clock;              /* ticks at each use of a column */
} feature_frame_t;

void feature_frame_init(feature_frame_t *f, const bar_set_t *set);
void feature_frame_free(feature_frame_t *f);

/* The column `name` over all rows (series after series), computed on first
 * use and kept; owned by the frame. In a bounded frame, valid until the
 * next call on the frame (which may evict it). NULL with err for an
 * unknown name or when out of memory. */
const double *feature_frame_column(feature_frame_t *f, const char *name, char *err, size_t errlen);

/* Bounds the bytes of computed columns (0: unbounded), evicting the least
 * recently used down to it now. */
void feature_frame_bound(feature_frame_t *f, size_t bound);

/* Evicts least recently used computed columns until they take at most
 * `bytes` (the bound stays as it is). */
void feature_frame_shrink(feature_frame_t *f, size_t bytes);

/* 1 when the frame holds column `name`, or could compute it within its
 * bound (with the columns computed along with it; always, unbounded or a
 * base column); 0 when those alone would pass the bound, or for a name
 * that is no column. */
int feature_frame_fits(feature_frame_t *f, const char *name);

/* Keeps `names` (n names; those that are no column, such as ticker, are
 * skipped) ready for later use: marks the ones held as just used, then
 * computes those not held, in order, at most `max_new` of them, each only
 * when it fits within the bound by evicting columns not among `names`.
 * Returns how many it computed. */
size_t feature_frame_warm(feature_frame_t *f, const char *const *names, size_t n, size_t max_new);

#endif
