/* feature.c — technical features of bar series.
 *
 * Rolling sums are updated in O(1) per value and recomputed exactly from
 * their window every `RESYNC` steps, which bounds the drift of the running
 * update (tests hold every feature to 1e-9 relative of a naive
 * computation); sma's and volume_ratio's sums are compensated (within an ulp
 * or so of exact) and a window of equal values is that value exactly.
 * Rolling variances (bands, stdev, hv) are exact to the last few ulps: see
 * "rolling variance" below. Rolling max/min use van Herk /
 * Gil-Werman blocks (three comparisons per value, branch-free). */
#include "data/feature.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESYNC 4096

static void fill_nan(double *out, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        out[i] = NAN;
}

/* Index of the first finite value, or n. */
static size_t first_finite(const double *x, size_t n)
{
    size_t s = 0;
    while (s < n && !isfinite(x[s]))
        s++;
    return s;
}

void feature_prev(const double *x, size_t n, double *out)
{
    if (n == 0)
        return;
    out[0] = NAN;
    for (size_t t = 1; t < n; t++)
        out[t] = x[t - 1];
}

/* Adds v to the compensated sum s + c (Neumaier): c keeps what rounding
 * each addition lost, so s + c stays within an ulp or so of the exact sum
 * however many values came and went (a level drop from 1e6 to 0.5 leaves
 * no residue behind). */
static inline void csum_add(double *s, double *c, double v)
{
    double t = *s + v;
    *c += fabs(*s) >= fabs(v) ? (*s - t) + v : (v - t) + *s;
    *s = t;
}

/* The 20 prior volumes' sum is compensated (Neumaier, csum_add): volumes
 * span many orders of magnitude (a spike of 1e13 fractional units, then a
 * quiet 1 to 3), and a plain running sum keeps the spike's rounding residue
 * until the next resync, up to 4,096 bars of wrong ratios. A window of
 * zeros (a halt) makes the sum exactly 0 (the window's non-zero volumes
 * are counted), and the value NaN as documented. */
void feature_volume_ratio(const double *volume, size_t n, double *out)
{
    const size_t W = 20;
    fill_nan(out, 0, n < W ? n : W);
    double sum = 0, comp = 0;
    size_t nonzero = 0;
    for (size_t t = 0; t < n && t < W; t++) {
        csum_add(&sum, &comp, volume[t]);
        nonzero += volume[t] != 0;
    }
    for (size_t t = W; t < n; t++) {
        if ((t - W) % RESYNC == 0 && t > W) {
            sum = comp = 0;
            for (size_t k = t - W; k < t; k++)
                csum_add(&sum, &comp, volume[k]);
        }
        double mean = (sum + comp) / (double)W;
        out[t] = nonzero > 0 && mean > 0 ? volume[t] / mean : NAN;
        csum_add(&sum, &comp, volume[t]);
        csum_add(&sum, &comp, -volume[t - W]);
        nonzero += volume[t] != 0;
        nonzero -= volume[t - W] != 0;
        if (nonzero == 0)
            sum = comp = 0;
    }
}

void feature_gap_pct(const double *open, const double *close, size_t n, double *out)
{
    if (n == 0)
        return;
    out[0] = NAN;
    for (size_t t = 1; t < n; t++)
        out[t] = 100.0 * (open[t] / close[t - 1] - 1.0);
}

void feature_return_pct(const double *close, size_t n, double *out)
{
    if (n == 0)
        return;
    out[0] = NAN;
    for (size_t t = 1; t < n; t++)
        out[t] = 100.0 * (close[t] / close[t - 1] - 1.0);
}

/* The start shared by SMA and EMA: skips leading NaNs, fills the bars
 * before the first full window with NaN and returns the first window's
 * start in *s and its compensated sum in *sum, *comp; -1 (all NaN) when no
 * window fits. */
static int first_window(const double *x, size_t n, size_t w, double *out, size_t *s, double *sum, double *comp)
{
    *s = first_finite(x, n);
    if (*s + w > n) {
        fill_nan(out, 0, n);
        return -1;
    }
    fill_nan(out, 0, *s + w - 1);
    *sum = 0;
    *comp = 0;
    for (size_t k = *s; k < *s + w; k++)
        csum_add(sum, comp, x[k]);
    return 0;
}

/* The mean of each window from a compensated running sum, summed afresh
 * every RESYNC bars. A window of N equal values is that value exactly (a
 * flat market: the mean of N equal closes, however its sum rounds). A
 * value that is not finite (a NaN inside a Lua array) spoils the running
 * sum for good, so the first window after it left is summed afresh: it
 * only spoils the windows that hold it. */
void feature_sma(const double *x, size_t n, int N, double *out)
{
    size_t s, w = (size_t)N, bad_until = 0; /* windows ending before bad_until hold a value that is not finite */
    double sum, comp;
    if (first_window(x, n, w, out, &s, &sum, &comp) != 0)
        return;
    size_t equal = 1; /* values up to t equal to x[t], in a row */
    for (size_t k = s + 1; k < s + w; k++)
        equal = x[k] == x[k - 1] ? equal + 1 : 1;
    if (!isfinite(sum))
        for (size_t k = s; k < s + w; k++)
            if (!isfinite(x[k]))
                bad_until = k + w;
    out[s + w - 1] = equal >= w ? x[s + w - 1] : (sum + comp) / (double)w;
    for (size_t t = s + w; t < n; t++) {
        if (!isfinite(x[t]))
            bad_until = t + w;
        equal = x[t] == x[t - 1] ? equal + 1 : 1;
        if ((t - s - w) % RESYNC == RESYNC - 1 || t == bad_until) {
            sum = comp = 0;
            for (size_t k = t + 1 - w; k <= t; k++)
                csum_add(&sum, &comp, x[k]);
        } else {
            csum_add(&sum, &comp, x[t]);
            csum_add(&sum, &comp, -x[t - w]);
        }
        out[t] = equal >= w ? x[t] : (sum + comp) / (double)w;
    }
}

void feature_ema(const double *x, size_t n, int N, double *out)
{
    size_t s, w = (size_t)N;
    double sum, comp;
    if (first_window(x, n, w, out, &s, &sum, &comp) != 0)
        return;
    double alpha = 2.0 / (N + 1.0), ema = (sum + comp) / (double)w;
    out[s + w - 1] = ema;
    for (size_t t = s + w; t < n; t++) {
        ema = alpha * x[t] + (1.0 - alpha) * ema;
        out[t] = ema;
    }
}

static double rsi_value(double gain, double loss)
{
    if (loss == 0)
        return gain == 0 ? 50.0 : 100.0;
    return 100.0 - 100.0 / (1.0 + gain / loss);
}

static void rsi_from_start(const double *close, size_t n, int N, double *out)
{
    size_t w = (size_t)N;
    if (n <= w) {
        fill_nan(out, 0, n);
        return;
    }
    fill_nan(out, 0, w);
    double gain = 0, loss = 0;
    /* A change that is not finite (a NaN inside a Lua array) makes both
     * averages NaN: Wilder's smoothing carries it forward, as ema does,
     * rather than counting the change as 0. */
    for (size_t t = 1; t <= w; t++) {
        double d = close[t] - close[t - 1];
        if (!isfinite(d))
            gain = loss = NAN;
        else if (d > 0)
            gain += d;
        else
            loss -= d;
    }
    gain /= (double)w;
    loss /= (double)w;
    out[w] = rsi_value(gain, loss);
    for (size_t t = w + 1; t < n; t++) {
        double d = close[t] - close[t - 1];
        double up = d > 0 ? d : 0, down = d < 0 ? -d : 0;
        if (!isfinite(d))
            up = down = NAN;
        gain = (gain * (N - 1) + up) / N;
        loss = (loss * (N - 1) + down) / N;
        out[t] = rsi_value(gain, loss);
    }
}

/* Leading NaNs (an array from shift() or pct_change()) are skipped: the
 * first window starts at the first finite value, as for sma and ema. */
void feature_rsi(const double *close, size_t n, int N, double *out)
{
    size_t s = first_finite(close, n);
    fill_nan(out, 0, s);
    rsi_from_start(close + s, n - s, N, out + s);
}

static double true_range(const double *high, const double *low, const double *close, size_t t)
{
    double hi = high[t] > close[t - 1] ? high[t] : close[t - 1];
    double lo = low[t] < close[t - 1] ? low[t] : close[t - 1];
    return hi - lo;
}

static void atr_from_start(const double *high, const double *low, const double *close, size_t n, int N,
                           double *out)
{
    size_t w = (size_t)N;
    if (n <= w) {
        fill_nan(out, 0, n);
        return;
    }
    fill_nan(out, 0, w);
    double sum = 0;
    for (size_t t = 1; t <= w; t++)
        sum += true_range(high, low, close, t);
    double atr = sum / (double)w;
    out[w] = atr;
    for (size_t t = w + 1; t < n; t++) {
        atr = (atr * (N - 1) + true_range(high, low, close, t)) / N;
        out[t] = atr;
    }
}

void feature_atr(const double *high, const double *low, const double *close, size_t n, int N, double *out)
{
    size_t s = first_finite(high, n), sl = first_finite(low, n), sc = first_finite(close, n);
    if (sl > s)
        s = sl;
    if (sc > s)
        s = sc;
    fill_nan(out, 0, s);
    atr_from_start(high + s, low + s, close + s, n - s, N, out + s);
}

/* --- rolling variance -------------------------------------------------
 *
 * bb_*_N, stdev and hv_N need M2, the sum of squared deviations of each
 * window from its mean, to the last few ulps, also where it is tiny next
 * to the window's level (a flat or nearly flat window, or one after a jump).
 *
 * (1) An exact window is computed in two passes: its mean c, then the sums
 *     s1 of d = x - c and s2 of d^2 in long double (64-bit mantissa, eps_ld
 *     = 5.4e-20); w M2 = w s2 - s1^2, where s1 (about 0) only corrects the
 *     rounding of c. A flat window is taken about its value: d = 0, M2 = 0.
 * (2) From there s1 and s2 are updated in O(1) per value, the value in
 *     minus the value out, both still about c. An update rounds by at most
 *     about 3 eps_ld times s2 before or after it, so M2 drifts by at most
 *     about 9 eps_ld D, where D, `drift`, is the sum of s2 at (1) and
 *     after each update since.
 * (3) When D exceeds M2_BUDGET M2 the window is recomputed (1). So M2 is
 *     always within about (9 M2_BUDGET + w) eps_ld ~ 5e-16 relative, a
 *     standard deviation within 2 ulps (its product and square root add
 *     one). D grows by about M2 per value while the level stays near c,
 *     and faster when it moves away (s2 = M2 + (mean - c)^2 w) or when a
 *     jump leaves the window (M2 falls): the window is recomputed every
 *     few hundred values in calm series, at once after a jump, at a cost
 *     of 2 w values each time.
 * (4) Runs of finite values are taken one by one: a window holding a value
 *     that is not finite gives NaN, and only those windows do. */

#define M2_BUDGET 1024

/* (1): the mean of x[from .. from + w - 1], rounded, and the sums about it. */
static long double window_exact(const double *x, size_t from, size_t w, long double *s1, long double *s2)
{
    long double sum = 0, a = 0, b = 0;
    int flat = 1;
    for (size_t k = from; k < from + w; k++) {
        sum += x[k];
        flat &= x[k] == x[from];
    }
    if (flat) {
        *s1 = *s2 = 0;
        return x[from];
    }
    long double c = (double)(sum / (long double)w);
    for (size_t k = from; k < from + w; k++) {
        long double d = x[k] - c;
        a += d;
        b += d * d;
    }
    *s1 = a;
    *s2 = b;
    return c;
}

/* What rolling_spread writes for each window: the population standard
 * deviation sqrt(M2 / w); the Bollinger bands mid +- 2 of it; or hv's
 * annualised sample standard deviation sqrt(252 M2 / (w - 1)). */
typedef enum { SPREAD_STD, SPREAD_BANDS, SPREAD_HV } spread_t;

/* (2)-(3) over a run of n >= w finite values: the kind's value of each
 * window ending at t = w - 1 .. n - 1 into out[t] (bands: upper in out[t],
 * lower[t], around mid[t]). */
static inline void spread_run(const double *x, size_t n, size_t w, spread_t kind, double *out, const double *mid,
                              double *lower)
{
    /* value = sqrt(w M2 scale): w M2 = w s2 - s1^2 and a product spare two
     * divisions per value, for half an ulp */
    double scale = kind == SPREAD_HV ? 252.0 / ((double)w * (double)(w - 1)) : 1.0 / ((double)w * (double)w);
    long double lw = (long double)w, s1, s2;
    long double c = window_exact(x, 0, w, &s1, &s2), drift = s2;
    for (size_t t = w - 1;;) {
        long double wm2 = lw * s2 - s1 * s1;
        if (wm2 * M2_BUDGET < lw * drift) {
            c = window_exact(x, t + 1 - w, w, &s1, &s2);
            drift = s2;
            wm2 = lw * s2 - s1 * s1;
        }
        double m = (double)wm2, v = sqrt((m > 0 ? m : 0.0) * scale);
        if (kind == SPREAD_BANDS) {
            out[t] = mid[t] + 2.0 * v;
            lower[t] = mid[t] - 2.0 * v;
        } else {
            out[t] = v;
        }
        if (++t >= n)
            break;
        long double in = x[t] - c, gone = x[t - w] - c;
        s1 += in - gone;
        s2 += in * in - gone * gone;
        drift += s2;
    }
}

/* For each window of w values of x ending at t = w - 1 .. n - 1, the kind's
 * value into out[t] (and lower[t] for the bands), NaN before and for a
 * window holding a value that is not finite (4). Inlined into each caller
 * with its kind. */
static inline void rolling_spread(const double *x, size_t n, size_t w, spread_t kind, double *out,
                                  const double *mid, double *lower)
{
    size_t done = 0; /* out[0 .. done) is written */
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && isfinite(x[b]))
            b++;
        if (b - a >= w) {
            fill_nan(out, done, a + w - 1);
            if (kind == SPREAD_BANDS)
                fill_nan(lower, done, a + w - 1);
            spread_run(x + a, b - a, w, kind, out + a, kind == SPREAD_BANDS ? mid + a : NULL,
                       kind == SPREAD_BANDS ? lower + a : NULL);
            done = b;
        }
        a = b + 1;
    }
    fill_nan(out, done, n);
    if (kind == SPREAD_BANDS)
        fill_nan(lower, done, n);
}

/* The bands are bb_mid_N (sma_N, bit for bit) +- 2 standard deviations:
 * exactly the mid where the window is flat. */
void feature_bbands(const double *close, size_t n, int N, double *upper, double *mid, double *lower)
{
    size_t s = first_finite(close, n);
    feature_sma(close, n, N, mid);
    fill_nan(upper, 0, s);
    fill_nan(lower, 0, s);
    rolling_spread(close + s, n - s, (size_t)N, SPREAD_BANDS, upper + s, mid + s, lower + s);
}

void feature_stdev(const double *x, size_t n, int N, double *out)
{
    size_t s = first_finite(x, n);
    fill_nan(out, 0, s);
    rolling_spread(x + s, n - s, (size_t)N, SPREAD_STD, out + s, NULL, NULL);
}

/* The larger of a and b for a maximum, else the smaller. */
static inline double pick(double a, double b, int max)
{
    return max ? (a > b ? a : b) : (a < b ? a : b);
}

/* Sliding-window maximum (max = 1) or minimum (max = 0), van Herk /
 * Gil-Werman: cut x into blocks of w. A window ending at b + i inside the
 * block starting at b (i < w - 1) is the tail of the previous block from
 * b - w + i + 1 plus the head of this one up to b + i: its extreme is that
 * of a suffix extreme of the previous block and a prefix extreme of this
 * one. The backward pass over a block leaves its suffix extremes in out[]
 * at the next block's positions, where the forward pass combines them.
 * Three comparisons per value and no data-dependent branch, whatever the
 * data (a monotonic deque pops unpredictably).
 *
 * A window holding a NaN gives NaN (a NaN-free window only ever sees its
 * own values, so the passes are exact there; the last loop marks the
 * rest). Leading NaNs, from shift() or pct_change(), thus give NaN until
 * they leave the window. */
static inline void rolling_extreme(const double *x, size_t n, int N, int max, double *out)
{
    if (N < 1) {
        fill_nan(out, 0, n);
        return;
    }
    size_t w = (size_t)N;
    for (size_t b = 0; b < n; b += w) {
        size_t len = n - b < w ? n - b : w;
        if (b > 0) {
            double p = x[b];
            for (size_t i = 0; i < len && i + 1 < w; i++) {
                p = pick(x[b + i], p, max);
                out[b + i] = pick(out[b + i], p, max);
            }
        }
        if (len < w)
            break;
        /* s = extreme of x[b + j .. b + w - 1], the part of the window ending
         * at b + w - 1 + j that lies in this block (j = 0: the block itself). */
        size_t j = w, room = n - (b + w - 1);
        double s = x[b + w - 1];
        for (; j > room; j--)
            s = pick(x[b + j - 1], s, max);
        for (; j > 0; j--) {
            s = pick(x[b + j - 1], s, max);
            out[b + w - 2 + j] = s;
        }
    }
    fill_nan(out, 0, n < w - 1 ? n : w - 1);
    size_t nan_until = 0; /* windows ending before this index hold a NaN */
    for (size_t t = 0; t < n; t++) {
        if (isnan(x[t]))
            nan_until = t + w;
        if (t < nan_until)
            out[t] = NAN;
    }
}

void feature_rolling_max(const double *x, size_t n, int N, double *out) { rolling_extreme(x, n, N, 1, out); }
void feature_rolling_min(const double *x, size_t n, int N, double *out) { rolling_extreme(x, n, N, 0, out); }

/* Log returns to an ulp or two: a move below 50% as log1p of the relative
 * change, where the difference of two nearby closes is exact (log of the
 * ratio would carry the ratio's rounding, 1e-16, into a return of 1e-4,
 * 1e-12 relative); a larger one as log of the ratio (where 1 + the change
 * would cancel). The window of returns ending at r[t-1] gives the value at
 * bar t, hence out + 1. */
void feature_hv(const double *close, size_t n, int N, double *out)
{
    if (N < 2) { /* a sample std needs two returns */
        fill_nan(out, 0, n);
        return;
    }
    size_t w = (size_t)N;
    fill_nan(out, 0, n < w ? n : w);
    if (n <= w)
        return;
    double *r = malloc((n - 1) * sizeof *r);
    if (r == NULL) {
        fill_nan(out, 0, n);
        return;
    }
    for (size_t k = 0; k + 1 < n; k++) {
        double change = (close[k + 1] - close[k]) / close[k];
        r[k] = fabs(change) < 0.5 ? log1p(change) : log(close[k + 1] / close[k]);
    }
    rolling_spread(r, n - 1, w, SPREAD_HV, out + 1, NULL, NULL);
    free(r);
}

double feature_hv_last(const double *close, size_t n, int N)
{
    if (n <= (size_t)N)
        return NAN;
    /* Only the last N + 1 closes matter. */
    const double *tail = close + (n - (size_t)N - 1);
    double out[FEATURE_N_MAX + 1];
    if (N > FEATURE_N_MAX)
        return NAN;
    feature_hv(tail, (size_t)N + 1, N, out);
    return out[N];
}

void feature_macd(const double *close, size_t n, double *macd, double *signal, double *hist)
{
    double *slow = malloc((n ? n : 1) * sizeof *slow);
    if (slow == NULL) {
        fill_nan(macd, 0, n);
        fill_nan(signal, 0, n);
        fill_nan(hist, 0, n);
        return;
    }
    feature_ema(close, n, 12, macd);
    feature_ema(close, n, 26, slow);
    for (size_t t = 0; t < n; t++)
        macd[t] -= slow[t]; /* NaN where EMA26 is undefined */
    free(slow);
    feature_ema(macd, n, 9, signal);
    for (size_t t = 0; t < n; t++)
        hist[t] = macd[t] - signal[t];
}

/* --- names ------------------------------------------------------------ */

typedef enum {
    F_BASE, F_PREV_CLOSE, F_GAP, F_VOLRATIO, F_RETURN, F_SMA, F_EMA, F_RSI, F_ATR,
    F_BB_UPPER, F_BB_MID, F_BB_LOWER, F_HIGH, F_LOW, F_HV, F_MACD, F_MACD_SIGNAL, F_MACD_HIST
} kind_t;

static const struct { const char *prefix; kind_t kind; } parametric[] = {
    { "sma_", F_SMA }, { "ema_", F_EMA }, { "rsi_", F_RSI }, { "atr_", F_ATR },
    { "bb_upper_", F_BB_UPPER }, { "bb_mid_", F_BB_MID }, { "bb_lower_", F_BB_LOWER },
    { "high_", F_HIGH }, { "low_", F_LOW }, { "hv_", F_HV },
};

static const struct { const char *name; kind_t kind; } fixed[] = {
    { "open", F_BASE }, { "high", F_BASE }, { "low", F_BASE }, { "close", F_BASE }, { "volume", F_BASE },
    { "prev_close", F_PREV_CLOSE }, { "gap_pct", F_GAP }, { "volume_ratio", F_VOLRATIO },
    { "return_pct", F_RETURN }, { "macd", F_MACD }, { "macd_signal", F_MACD_SIGNAL },
    { "macd_hist", F_MACD_HIST },
};

/* Parses a column name into its kind and window; 0 or -1. */
static int parse_name(const char *name, kind_t *kind, int *N)
{
    *N = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (strcmp(name, fixed[i].name) == 0) {
            *kind = fixed[i].kind;
            return 0;
        }
    }
    for (size_t i = 0; i < sizeof parametric / sizeof parametric[0]; i++) {
        size_t len = strlen(parametric[i].prefix);
        if (strncmp(name, parametric[i].prefix, len) != 0)
            continue;
        const char *d = name + len;
        if (*d < '1' || *d > '9' || strlen(d) > 4)
            return -1;
        long v = 0;
        for (; *d; d++) {
            if (*d < '0' || *d > '9')
                return -1;
            v = v * 10 + (*d - '0');
        }
        if (v < FEATURE_N_MIN || v > FEATURE_N_MAX)
            return -1;
        *kind = parametric[i].kind;
        *N = (int)v;
        return 0;
    }
    return -1;
}

int feature_name_check(const char *name, char *err, size_t errlen)
{
    kind_t kind;
    int N;
    if (strlen(name) <= FEATURE_NAME_MAX && parse_name(name, &kind, &N) == 0)
        return 0;
    snprintf(err, errlen, "unknown column '%s': use open, high, low, close, volume, prev_close, gap_pct, "
             "volume_ratio, return_pct, macd, macd_signal, macd_hist, or sma_N, ema_N, rsi_N, atr_N, "
             "bb_upper_N, bb_mid_N, bb_lower_N, high_N, low_N, hv_N with N from %d to %d",
             name, FEATURE_N_MIN, FEATURE_N_MAX);
    return -1;
}

/* --- frames -----------------------------------------------------------
 * Columns computed together (a group: the three bands of one N, the three
 * MACD columns) are registered together, adjacent, and evicted together;
 * the group id is the clock at their computation, 0 for base columns. */

void feature_frame_init(feature_frame_t *f, const bar_set_t *set)
{
    memset(f, 0, sizeof *f);
    f->set = set;
    f->n = bar_set_rows(set);
}

void feature_frame_free(feature_frame_t *f)
{
    for (size_t i = 0; i < f->ncols; i++)
        free(f->cols[i].values);
    free(f->cols);
    f->cols = NULL;
    f->ncols = f->cap = 0;
    f->held = 0;
}

static size_t column_bytes(const feature_frame_t *f)
{
    return (f->n ? f->n : 1) * sizeof(double);
}

static feature_column_t *find(feature_frame_t *f, const char *name)
{
    for (size_t i = 0; i < f->ncols; i++)
        if (strcmp(f->cols[i].name, name) == 0)
            return &f->cols[i];
    return NULL;
}

/* Marks column i, and the rest of its group, as just used. */
static void touch(feature_frame_t *f, size_t i)
{
    uint64_t now = ++f->clock, g = f->cols[i].group;
    f->cols[i].last_use = now;
    for (size_t k = i; g != 0 && k > 0 && f->cols[k - 1].group == g; k--)
        f->cols[k - 1].last_use = now;
    for (size_t k = i + 1; g != 0 && k < f->ncols && f->cols[k].group == g; k++)
        f->cols[k].last_use = now;
}

/* Frees the columns of group g; the others keep their order. */
static void drop_group(feature_frame_t *f, uint64_t g)
{
    size_t k = 0;
    for (size_t i = 0; i < f->ncols; i++) {
        if (f->cols[i].group == g) {
            free(f->cols[i].values);
            f->held -= column_bytes(f);
        } else {
            f->cols[k++] = f->cols[i];
        }
    }
    f->ncols = k;
}

/* Evicts the least recently used groups of computed columns, of those not
 * used since `since`, until `k` more columns fit within `limit` bytes and
 * FEATURE_KEEP_COLUMNS; 0 when they do, -1 when they cannot: then, unless
 * `anyway`, nothing was evicted. O(columns) per eviction. */
static int make_room(feature_frame_t *f, size_t k, size_t limit, uint64_t since, int anyway)
{
    size_t cb = column_bytes(f), free_bytes = 0, free_cols = 0;
    for (size_t i = 0; !anyway && i < f->ncols; i++) {
        if (f->cols[i].group != 0 && f->cols[i].last_use < since) {
            free_bytes += cb;
            free_cols++;
        }
    }
    if (!anyway && (f->held - free_bytes + k * cb > limit || f->held / cb - free_cols + k > FEATURE_KEEP_COLUMNS))
        return -1;
    while (f->held + k * cb > limit || f->held / cb + k > FEATURE_KEEP_COLUMNS) {
        const feature_column_t *old = NULL;
        for (size_t i = 0; i < f->ncols; i++) {
            const feature_column_t *c = &f->cols[i];
            if (c->group != 0 && c->last_use < since && (old == NULL || c->last_use < old->last_use))
                old = c;
        }
        if (old == NULL)
            return -1;
        drop_group(f, old->group);
    }
    return 0;
}

/* A new column named `name` in `group`, registered with the frame; NULL
 * when OOM. */
static double *add(feature_frame_t *f, const char *name, uint64_t group)
{
    if (f->ncols == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        feature_column_t *p = realloc(f->cols, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        f->cols = p;
        f->cap = cap;
    }
    double *v = malloc(column_bytes(f));
    if (v == NULL)
        return NULL;
    feature_column_t *c = &f->cols[f->ncols++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->values = v;
    c->last_use = f->clock;
    c->group = group;
    if (group != 0)
        f->held += column_bytes(f);
    return v;
}

static const double *base_of(const bar_series_t *s, const char *name)
{
    if (strcmp(name, "open") == 0) return s->open;
    if (strcmp(name, "high") == 0) return s->high;
    if (strcmp(name, "low") == 0) return s->low;
    if (strcmp(name, "volume") == 0) return s->volume;
    return s->close;
}

/* The names of the columns computed along with `name` (itself among them)
 * into n1, n2, n3 (n2, n3 empty when alone); returns how many. */
static size_t group_names(const char *name, kind_t kind, int N, char n1[FEATURE_NAME_MAX + 1],
                          char n2[FEATURE_NAME_MAX + 1], char n3[FEATURE_NAME_MAX + 1])
{
    if (kind >= F_BB_UPPER && kind <= F_BB_LOWER) {
        snprintf(n1, FEATURE_NAME_MAX + 1, "bb_upper_%d", N);
        snprintf(n2, FEATURE_NAME_MAX + 1, "bb_mid_%d", N);
        snprintf(n3, FEATURE_NAME_MAX + 1, "bb_lower_%d", N);
        return 3;
    }
    if (kind >= F_MACD && kind <= F_MACD_HIST) {
        snprintf(n1, FEATURE_NAME_MAX + 1, "macd");
        snprintf(n2, FEATURE_NAME_MAX + 1, "macd_signal");
        snprintf(n3, FEATURE_NAME_MAX + 1, "macd_hist");
        return 3;
    }
    snprintf(n1, FEATURE_NAME_MAX + 1, "%s", name);
    n2[0] = n3[0] = '\0';
    return 1;
}

const double *feature_frame_column(feature_frame_t *f, const char *name, char *err, size_t errlen)
{
    feature_column_t *have = find(f, name);
    if (have != NULL) {
        touch(f, (size_t)(have - f->cols));
        return have->values;
    }
    kind_t kind;
    int N;
    if (strlen(name) > FEATURE_NAME_MAX || parse_name(name, &kind, &N) != 0) {
        feature_name_check(name, err, errlen);
        return NULL;
    }
    char n1[FEATURE_NAME_MAX + 1], n2[FEATURE_NAME_MAX + 1], n3[FEATURE_NAME_MAX + 1];
    size_t k = group_names(name, kind, N, n1, n2, n3);
    uint64_t group = kind == F_BASE ? 0 : ++f->clock;
    /* Room first, so the frame never holds the new columns and the ones
     * they replace at once; computed even when they alone pass the bound
     * (invariant 1): the caller needs them. */
    if (group != 0 && f->bound > 0)
        make_room(f, k, f->bound, UINT64_MAX, 1);
    double *a, *b = NULL, *c = NULL;
    if ((a = add(f, n1, group)) == NULL || (n2[0] && (b = add(f, n2, group)) == NULL) ||
        (n3[0] && (c = add(f, n3, group)) == NULL)) {
        if (group != 0)
            drop_group(f, group); /* no column without its values */
        snprintf(err, errlen, "out of memory computing %s", name);
        return NULL;
    }
    size_t off = 0;
    for (size_t i = 0; i < f->set->n; i++) {
        const bar_series_t *s = &f->set->series[i];
        size_t n = s->n;
        double *o1 = a + off, *o2 = b ? b + off : NULL, *o3 = c ? c + off : NULL;
        switch (kind) {
        case F_BASE: memcpy(o1, base_of(s, name), n * sizeof *o1); break;
        case F_PREV_CLOSE: feature_prev(s->close, n, o1); break;
        case F_GAP: feature_gap_pct(s->open, s->close, n, o1); break;
        case F_VOLRATIO: feature_volume_ratio(s->volume, n, o1); break;
        case F_RETURN: feature_return_pct(s->close, n, o1); break;
        case F_SMA: feature_sma(s->close, n, N, o1); break;
        case F_EMA: feature_ema(s->close, n, N, o1); break;
        case F_RSI: feature_rsi(s->close, n, N, o1); break;
        case F_ATR: feature_atr(s->high, s->low, s->close, n, N, o1); break;
        case F_BB_UPPER: case F_BB_MID: case F_BB_LOWER: feature_bbands(s->close, n, N, o1, o2, o3); break;
        case F_HIGH: feature_rolling_max(s->high, n, N, o1); break;
        case F_LOW: feature_rolling_min(s->low, n, N, o1); break;
        case F_HV: feature_hv(s->close, n, N, o1); break;
        case F_MACD: case F_MACD_SIGNAL: case F_MACD_HIST: feature_macd(s->close, n, o1, o2, o3); break;
        }
        off += n;
    }
    return find(f, name)->values;
}

void feature_frame_shrink(feature_frame_t *f, size_t bytes)
{
    make_room(f, 0, bytes, UINT64_MAX, 1);
}

void feature_frame_bound(feature_frame_t *f, size_t bound)
{
    f->bound = bound;
    if (bound > 0)
        feature_frame_shrink(f, bound);
}

int feature_frame_fits(feature_frame_t *f, const char *name)
{
    kind_t kind;
    int N;
    if (find(f, name) != NULL)
        return 1;
    if (strlen(name) > FEATURE_NAME_MAX || parse_name(name, &kind, &N) != 0)
        return 0;
    char n1[FEATURE_NAME_MAX + 1], n2[FEATURE_NAME_MAX + 1], n3[FEATURE_NAME_MAX + 1];
    return kind == F_BASE || f->bound == 0 || group_names(name, kind, N, n1, n2, n3) * column_bytes(f) <= f->bound;
}

size_t feature_frame_warm(feature_frame_t *f, const char *const *names, size_t n, size_t max_new)
{
    uint64_t since = f->clock + 1; /* what is used from here on is among names */
    for (size_t i = 0; i < n; i++) {
        feature_column_t *c = find(f, names[i]);
        if (c != NULL)
            touch(f, (size_t)(c - f->cols));
    }
    size_t added = 0;
    for (size_t i = 0; i < n && added < max_new; i++) {
        kind_t kind;
        int N;
        if (find(f, names[i]) != NULL || strlen(names[i]) > FEATURE_NAME_MAX || parse_name(names[i], &kind, &N) != 0)
            continue;
        char n1[FEATURE_NAME_MAX + 1], n2[FEATURE_NAME_MAX + 1], n3[FEATURE_NAME_MAX + 1];
        size_t k = group_names(names[i], kind, N, n1, n2, n3);
        if (kind != F_BASE && f->bound > 0 && make_room(f, k, f->bound, since, 0) != 0)
            continue;
        char err[600];
        if (feature_frame_column(f, names[i], err, sizeof err) != NULL)
            added++;
    }
    return added;
}
