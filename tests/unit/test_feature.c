/* test_feature.c — every feature against values worked out by hand on tiny
 * inputs, and against a second, naive implementation (each window computed
 * from scratch) on long random inputs, to 1e-9 relative. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "data/feature.h"
#include "unit.h"

#define LONG_N 6000

static int close_enough(double got, double want)
{
    if (isnan(want))
        return isnan(got);
    if (isnan(got))
        return 0;
    if (got == want) /* also equal infinities, whose difference is NaN */
        return 1;
    double scale = fabs(want) > 1e-6 ? fabs(want) : 1e-6;
    return fabs(got - want) <= 1e-9 * scale;
}

static void check_series(const char *what, const double *got, const double *want, size_t n, int line)
{
    for (size_t i = 0; i < n; i++) {
        if (!close_enough(got[i], want[i])) {
            unit_fail(__FILE__, line, "%s[%zu] = %.17g, want %.17g", what, i, got[i], want[i]);
            return;
        }
    }
}

#define CHECK_SERIES(what, got, want, n) check_series(what, got, want, n, __LINE__)

/* --- tiny inputs, by hand -------------------------------------------- */

TEST(feature_sma_ema_by_hand)
{
    const double x[] = { 1, 2, 3, 4, 5, 6 };
    double out[6];
    feature_sma(x, 6, 3, out);
    const double sma[] = { NAN, NAN, 2, 3, 4, 5 };
    CHECK_SERIES("sma_3", out, sma, 6);
    feature_ema(x, 6, 3, out); /* alpha 0.5, seed mean(1,2,3) = 2 */
    const double ema[] = { NAN, NAN, 2, 3, 4, 5 };
    CHECK_SERIES("ema_3", out, ema, 6);
    const double y[] = { 2, 4, 6, 2 };
    feature_ema(y, 4, 2, out); /* alpha 2/3, seed 3, then 2/3*6 + 1/3*3 = 5, then 2/3*2 + 5/3 = 3 */
    const double ema2[] = { NAN, 3, 5, 3 };
    CHECK_SERIES("ema_2", out, ema2, 4);
    feature_sma(x, 2, 3, out); /* fewer values than the window */
    CHECK(isnan(out[0]) && isnan(out[1]));
}

TEST(feature_rsi_by_hand)
{
    const double c[] = { 10, 11, 10, 12, 12, 11 };
    double out[6];
    feature_rsi(c, 6, 2, out);
    /* changes +1 -1 +2 0 -1; seed over the first two: gain .5 loss .5 -> 50
     * t=3: gain (.5+2)/2 = 1.25, loss .25 -> 100 - 100/6
     * t=4: gain .625, loss .125 -> 100 - 100/6
     * t=5: gain .3125, loss (.125+1)/2 = .5625 -> 100 - 100/(1 + .3125/.5625) */
    const double want[] = { NAN, NAN, 50, 100 - 100.0 / 6, 100 - 100.0 / 6, 100 - 100 / (1 + 0.3125 / 0.5625) };
    CHECK_SERIES("rsi_2", out, want, 6);
    const double up[] = { 1, 2, 3, 4 }, flat[] = { 5, 5, 5, 5 };
    feature_rsi(up, 4, 2, out);
    CHECK(out[2] == 100 && out[3] == 100);
    feature_rsi(flat, 4, 2, out);
    CHECK(out[2] == 50 && out[3] == 50);
}

TEST(feature_atr_by_hand)
{
    const double h[] = { 10, 12, 11, 15 }, l[] = { 9, 10, 8, 12 }, c[] = { 9.5, 11, 9, 14 };
    double out[4];
    feature_atr(h, l, c, 4, 2, out);
    /* TR: t1 max(12,9.5)-min(10,9.5) = 2.5; t2 max(11,11)-min(8,11) = 3;
     * t3 max(15,9)-min(12,9) = 6. ATR_2 at t2 = 2.75, t3 = (2.75 + 6) / 2. */
    const double want[] = { NAN, NAN, 2.75, 4.375 };
    CHECK_SERIES("atr_2", out, want, 4);
}

TEST(feature_bands_extremes_hv_by_hand)
{
    const double c[] = { 1, 3, 5, 7 };
    double up[4], mid[4], lo[4];
    feature_bbands(c, 4, 2, up, mid, lo); /* population std of two values 2 apart = 1 */
    const double wm[] = { NAN, 2, 4, 6 }, wu[] = { NAN, 4, 6, 8 }, wl[] = { NAN, 0, 2, 4 };
    CHECK_SERIES("bb_mid_2", mid, wm, 4);
    CHECK_SERIES("bb_upper_2", up, wu, 4);
    CHECK_SERIES("bb_lower_2", lo, wl, 4);
    const double x[] = { 3, 1, 4, 1, 5, 9, 2 };
    double mx[7], mn[7];
    feature_rolling_max(x, 7, 3, mx);
    feature_rolling_min(x, 7, 3, mn);
    const double wmx[] = { NAN, NAN, 4, 4, 5, 9, 9 }, wmn[] = { NAN, NAN, 1, 1, 1, 1, 2 };
    CHECK_SERIES("high_3", mx, wmx, 7);
    CHECK_SERIES("low_3", mn, wmn, 7);
    const double p[] = { 100, 110, 99, 108.9 };
    double hv[4];
    feature_hv(p, 4, 2, hv);
    double r1 = log(1.1), r2 = log(0.9), r3 = log(1.1);
    double sd12 = fabs(r1 - r2) / sqrt(2.0), sd23 = fabs(r2 - r3) / sqrt(2.0); /* sample std of two */
    const double whv[] = { NAN, NAN, sqrt(252.0) * sd12, sqrt(252.0) * sd23 };
    CHECK_SERIES("hv_2", hv, whv, 4);
}

TEST(feature_gap_return_volume_by_hand)
{
    const double o[] = { 10, 10.5, 9 }, c[] = { 10, 10, 9.9 };
    double out[3];
    feature_gap_pct(o, c, 3, out);
    const double gap[] = { NAN, 5, -10 };
    CHECK_SERIES("gap_pct", out, gap, 3);
    feature_return_pct(c, 3, out);
    const double ret[] = { NAN, 0, -1 };
    CHECK_SERIES("return_pct", out, ret, 3);
    feature_prev(c, 3, out);
    const double prev[] = { NAN, 10, 10 };
    CHECK_SERIES("prev_close", out, prev, 3);
    double v[22], vr[22];
    for (int i = 0; i < 22; i++)
        v[i] = i < 20 ? 100 : (i == 20 ? 300 : 50);
    feature_volume_ratio(v, 22, vr);
    CHECK(isnan(vr[19]));
    CHECK(close_enough(vr[20], 3.0));
    CHECK(close_enough(vr[21], 50.0 / (19 * 100 + 300) * 20));
}

TEST(feature_macd_starts_where_defined)
{
    double c[60], m[60], s[60], h[60];
    for (int i = 0; i < 60; i++)
        c[i] = 100 + i * 0.5 + (i % 3);
    feature_macd(c, 60, m, s, h);
    CHECK(isnan(m[24]) && !isnan(m[25]));
    CHECK(isnan(s[32]) && !isnan(s[33]));
    double e12[60], e26[60];
    feature_ema(c, 60, 12, e12);
    feature_ema(c, 60, 26, e26);
    CHECK(close_enough(m[40], e12[40] - e26[40]));
    double seed = 0;
    for (int t = 25; t < 34; t++)
        seed += m[t];
    CHECK(close_enough(s[33], seed / 9));
    CHECK(close_enough(h[50], m[50] - s[50]));
}

/* --- long random inputs against naive versions ------------------------- */

static double lcg_state = 1;
static double rnd(void)
{
    lcg_state = fmod(lcg_state * 16807.0, 2147483647.0);
    return lcg_state / 2147483647.0;
}

typedef struct { double o[LONG_N], h[LONG_N], l[LONG_N], c[LONG_N], v[LONG_N]; } market_t;

static void make_market(market_t *m)
{
    lcg_state = 12345;
    double p = 150;
    for (int t = 0; t < LONG_N; t++) {
        double open = p * exp(0.01 * (rnd() - 0.5));
        double close = open * exp(0.03 * (rnd() - 0.5));
        m->o[t] = open;
        m->c[t] = close;
        m->h[t] = fmax(open, close) * (1 + 0.01 * rnd());
        m->l[t] = fmin(open, close) * (1 - 0.01 * rnd());
        m->v[t] = 1e6 * (0.2 + rnd()) * (t % 97 == 0 ? 5 : 1);
        p = close;
    }
}

static void naive_sma(const double *x, size_t n, int N, double *out)
{
    for (size_t t = 0; t < n; t++) {
        if (t + 1 < (size_t)N) {
            out[t] = NAN;
            continue;
        }
        double s = 0;
        for (size_t k = t + 1 - (size_t)N; k <= t; k++)
            s += x[k];
        out[t] = s / N;
    }
}

static void naive_std(const double *x, size_t n, int N, int ddof, double *out)
{
    for (size_t t = 0; t < n; t++) {
        if (t + 1 < (size_t)N) {
            out[t] = NAN;
            continue;
        }
        double m = 0, q = 0;
        for (size_t k = t + 1 - (size_t)N; k <= t; k++)
            m += x[k];
        m /= N;
        for (size_t k = t + 1 - (size_t)N; k <= t; k++)
            q += (x[k] - m) * (x[k] - m);
        out[t] = sqrt(q / (N - ddof));
    }
}

static void naive_extreme(const double *x, size_t n, int N, int max, double *out)
{
    for (size_t t = 0; t < n; t++) {
        if (t + 1 < (size_t)N) {
            out[t] = NAN;
            continue;
        }
        double e = x[t];
        for (size_t k = t + 1 - (size_t)N; k <= t; k++)
            e = max ? fmax(e, x[k]) : fmin(e, x[k]);
        out[t] = e;
    }
}

static void naive_ema(const double *x, size_t n, int N, double *out)
{
    double a = 2.0 / (N + 1), e = 0;
    for (size_t t = 0; t < n; t++) {
        if (t + 1 < (size_t)N)
            out[t] = NAN;
        else if (t + 1 == (size_t)N) {
            double s = 0;
            for (int k = 0; k < N; k++)
                s += x[k];
            out[t] = e = s / N;
        } else
            out[t] = e = a * x[t] + (1 - a) * e;
    }
}

static void naive_rsi(const double *c, size_t n, int N, double *out)
{
    double g = 0, l = 0;
    for (size_t t = 0; t < n; t++) {
        if (t < (size_t)N) {
            out[t] = NAN;
            continue;
        }
        if (t == (size_t)N) {
            g = l = 0;
            for (int k = 1; k <= N; k++) {
                double d = c[k] - c[k - 1];
                g += fmax(d, 0);
                l += fmax(-d, 0);
            }
            g /= N;
            l /= N;
        } else {
            double d = c[t] - c[t - 1];
            g = (g * (N - 1) + fmax(d, 0)) / N;
            l = (l * (N - 1) + fmax(-d, 0)) / N;
        }
        out[t] = l == 0 ? (g == 0 ? 50 : 100) : 100 - 100 / (1 + g / l);
    }
}

static market_t market;
static double got[LONG_N], want[LONG_N], g2[LONG_N], g3[LONG_N], w2[LONG_N];

TEST(feature_rolling_kernels_match_naive_on_long_series)
{
    make_market(&market);
    const int windows[] = { 2, 5, 14, 20, 50, 200, 1000 };
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        int N = windows[i];
        char what[64];
        feature_sma(market.c, LONG_N, N, got);
        naive_sma(market.c, LONG_N, N, want);
        snprintf(what, sizeof what, "sma_%d", N);
        CHECK_SERIES(what, got, want, LONG_N);
        feature_ema(market.c, LONG_N, N, got);
        naive_ema(market.c, LONG_N, N, want);
        snprintf(what, sizeof what, "ema_%d", N);
        CHECK_SERIES(what, got, want, LONG_N);
        feature_rsi(market.c, LONG_N, N, got);
        naive_rsi(market.c, LONG_N, N, want);
        snprintf(what, sizeof what, "rsi_%d", N);
        CHECK_SERIES(what, got, want, LONG_N);
        feature_bbands(market.c, LONG_N, N, got, g2, g3);
        naive_sma(market.c, LONG_N, N, want);
        naive_std(market.c, LONG_N, N, 0, w2);
        snprintf(what, sizeof what, "bb_mid_%d", N);
        CHECK_SERIES(what, g2, want, LONG_N);
        for (size_t t = 0; t < LONG_N; t++)
            want[t] += 2 * w2[t];
        snprintf(what, sizeof what, "bb_upper_%d", N);
        CHECK_SERIES(what, got, want, LONG_N);
        naive_sma(market.c, LONG_N, N, want);
        for (size_t t = 0; t < LONG_N; t++)
            want[t] -= 2 * w2[t];
        snprintf(what, sizeof what, "bb_lower_%d", N);
        CHECK_SERIES(what, g3, want, LONG_N);
        feature_stdev(market.c, LONG_N, N, got);
        snprintf(what, sizeof what, "stdev_%d", N);
        CHECK_SERIES(what, got, w2, LONG_N);
        feature_rolling_max(market.h, LONG_N, N, got);
        naive_extreme(market.h, LONG_N, N, 1, want);
        snprintf(what, sizeof what, "high_%d", N);
        CHECK_SERIES(what, got, want, LONG_N);
        feature_rolling_min(market.l, LONG_N, N, got);
        naive_extreme(market.l, LONG_N, N, 0, want);
        snprintf(what, sizeof what, "low_%d", N);
        CHECK_SERIES(what, got, want, LONG_N);
        /* hv: sample std of the N log returns ending at t */
        double *r = w2;
        r[0] = NAN;
        for (size_t t = 1; t < LONG_N; t++)
            r[t] = log(market.c[t] / market.c[t - 1]);
        naive_std(r + 1, LONG_N - 1, N, 1, want + 1);
        want[0] = NAN;
        for (size_t t = 0; t < LONG_N; t++)
            want[t] *= sqrt(252.0);
        feature_hv(market.c, LONG_N, N, got);
        snprintf(what, sizeof what, "hv_%d", N);
        CHECK_SERIES(what, got, want, LONG_N);
    }
}

TEST(feature_atr_and_volume_ratio_match_naive)
{
    make_market(&market);
    for (int N = 2; N <= 300; N += 149) {
        feature_atr(market.h, market.l, market.c, LONG_N, N, got);
        double a = 0;
        for (size_t t = 0; t < LONG_N; t++) {
            double tr = t ? fmax(market.h[t], market.c[t - 1]) - fmin(market.l[t], market.c[t - 1]) : NAN;
            if (t < (size_t)N)
                want[t] = NAN;
            else if (t == (size_t)N) {
                a = 0;
                for (int k = 1; k <= N; k++)
                    a += fmax(market.h[k], market.c[k - 1]) - fmin(market.l[k], market.c[k - 1]);
                want[t] = a /= N;
            } else
                want[t] = a = (a * (N - 1) + tr) / N;
        }
        CHECK_SERIES("atr", got, want, LONG_N);
    }
    feature_volume_ratio(market.v, LONG_N, got);
    for (size_t t = 0; t < LONG_N; t++) {
        if (t < 20) {
            want[t] = NAN;
            continue;
        }
        double s = 0;
        for (size_t k = t - 20; k < t; k++)
            s += market.v[k];
        want[t] = market.v[t] / (s / 20);
    }
    CHECK_SERIES("volume_ratio", got, want, LONG_N);
}

TEST(feature_frame_never_mixes_symbols)
{
    bar_set_t set = { 0 };
    bar_series_t *a = bar_set_add(&set, "AAA"), *b = bar_set_add(&set, "BBB");
    for (int t = 0; t < 5; t++) {
        bar_series_push(a, t * 86400, 10 + t, 11 + t, 9 + t, 10 + t, 100);
        bar_series_push(b, t * 86400, 50 - t, 51 - t, 49 - t, 50 - t, 200);
    }
    feature_frame_t f;
    feature_frame_init(&f, &set);
    char err[512];
    const double *sma = feature_frame_column(&f, "sma_3", err, sizeof err);
    CHECK(sma != NULL);
    const double expect[] = { NAN, NAN, 11, 12, 13, NAN, NAN, 49, 48, 47 };
    CHECK_SERIES("frame sma_3", sma, expect, 10);
    const double *gap = feature_frame_column(&f, "gap_pct", err, sizeof err);
    CHECK(gap != NULL && isnan(gap[5]) && close_enough(gap[1], 10.0));
    const double *close = feature_frame_column(&f, "close", err, sizeof err);
    CHECK(close != NULL && close[5] == 50);
    CHECK(feature_frame_column(&f, "sma_3", err, sizeof err) == sma); /* cached */
    const double *mid = feature_frame_column(&f, "bb_mid_3", err, sizeof err);
    CHECK(mid != NULL && close_enough(mid[2], 11));
    CHECK_INT(f.ncols, 6); /* sma_3, gap_pct, close, and the three bands together */
    CHECK(feature_frame_column(&f, "sma_1", err, sizeof err) == NULL);
    CHECK(strstr(err, "unknown column 'sma_1'") != NULL);
    CHECK(feature_frame_column(&f, "vwap", err, sizeof err) == NULL);
    CHECK(feature_frame_column(&f, "sma_1001", err, sizeof err) == NULL);
    CHECK(feature_frame_column(&f, "sma_020", err, sizeof err) == NULL);
    CHECK(feature_name_check("hv_1000", err, sizeof err) == 0);
    feature_frame_free(&f);
    bar_set_free(&set);
}

/* Whether the frame holds a column named `name`. */
static int frame_holds(const feature_frame_t *f, const char *name)
{
    for (size_t i = 0; i < f->ncols; i++)
        if (strcmp(f->cols[i].name, name) == 0)
            return 1;
    return 0;
}

TEST(feature_frame_bound_evicts_least_recently_used)
{
    bar_set_t set = { 0 };
    bar_series_t *a = bar_set_add(&set, "AAA");
    for (int t = 0; t < 100; t++)
        bar_series_push(a, t * 86400, 10 + t % 7, 11 + t % 5, 9 + t % 3, 10 + t % 11, 100 + t);
    const size_t col = 100 * sizeof(double);
    feature_frame_t f, fresh;
    feature_frame_init(&f, &set);
    feature_frame_init(&fresh, &set);
    char err[512];
    feature_frame_bound(&f, 3 * col);
    const double *s2 = feature_frame_column(&f, "sma_2", err, sizeof err);
    CHECK(feature_frame_column(&f, "sma_3", err, sizeof err) != NULL);
    CHECK(feature_frame_column(&f, "sma_4", err, sizeof err) != NULL);
    CHECK_INT(f.held, 3 * col);
    CHECK(feature_frame_column(&f, "sma_2", err, sizeof err) == s2); /* held, and now the most recent */
    CHECK(feature_frame_column(&f, "sma_5", err, sizeof err) != NULL);
    CHECK_INT(f.held, 3 * col);
    CHECK(!frame_holds(&f, "sma_3") && frame_holds(&f, "sma_2") && frame_holds(&f, "sma_4"));
    /* base columns are copies of the bars: not counted, never evicted */
    CHECK(feature_frame_column(&f, "close", err, sizeof err) != NULL);
    CHECK_INT(f.held, 3 * col);
    /* the three bands come and go together */
    CHECK(feature_frame_column(&f, "bb_mid_5", err, sizeof err) != NULL);
    CHECK_INT(f.held, 3 * col);
    CHECK(frame_holds(&f, "bb_upper_5") && frame_holds(&f, "bb_lower_5") && frame_holds(&f, "close"));
    CHECK(!frame_holds(&f, "sma_2") && !frame_holds(&f, "sma_4") && !frame_holds(&f, "sma_5"));
    CHECK(feature_frame_column(&f, "sma_9", err, sizeof err) != NULL); /* the group goes whole */
    CHECK_INT(f.held, col);
    CHECK(!frame_holds(&f, "bb_upper_5") && !frame_holds(&f, "bb_mid_5") && !frame_holds(&f, "bb_lower_5"));
    /* an evicted column comes back with the same values */
    const double *again = feature_frame_column(&f, "sma_3", err, sizeof err);
    const double *ref = feature_frame_column(&fresh, "sma_3", err, sizeof err);
    CHECK(again != NULL && ref != NULL && memcmp(again, ref, col) == 0);

    /* A group larger than the bound on its own is computed (the caller
     * needs it) and goes at the next column computed. */
    feature_frame_bound(&f, col);
    CHECK_INT(f.held, col);
    CHECK(feature_frame_fits(&f, "sma_3") && feature_frame_fits(&f, "rsi_8") && feature_frame_fits(&f, "open"));
    CHECK(!feature_frame_fits(&f, "bb_upper_7") && !feature_frame_fits(&f, "sma_1"));
    const double *up = feature_frame_column(&f, "bb_upper_7", err, sizeof err);
    CHECK(up != NULL && memcmp(up, feature_frame_column(&fresh, "bb_upper_7", err, sizeof err), col) == 0);
    CHECK_INT(f.held, 3 * col);
    CHECK(feature_frame_column(&f, "ema_3", err, sizeof err) != NULL);
    CHECK_INT(f.held, col);

    /* Warming: held names are marked used, at most max_new are computed,
     * and only by evicting columns that are not among the names. */
    feature_frame_bound(&f, 3 * col);
    CHECK(feature_frame_column(&f, "sma_2", err, sizeof err) != NULL);
    CHECK(feature_frame_column(&f, "sma_3", err, sizeof err) != NULL); /* held: ema_3, sma_2, sma_3 */
    const char *names[] = { "ema_3", "ticker", "sma_6", "sma_7", "sma_8" };
    CHECK_INT(feature_frame_warm(&f, names, 5, 2), 2);
    CHECK(frame_holds(&f, "ema_3") && frame_holds(&f, "sma_6") && frame_holds(&f, "sma_7"));
    CHECK(!frame_holds(&f, "sma_8") && !frame_holds(&f, "sma_2") && !frame_holds(&f, "sma_3"));
    const char *full[] = { "ema_3", "sma_6", "sma_7", "rsi_5" };
    CHECK_INT(feature_frame_warm(&f, full, 4, 32), 0); /* no room but the names' own */
    CHECK(!frame_holds(&f, "rsi_5") && frame_holds(&f, "ema_3"));
    const char *bands[] = { "sma_6", "sma_7", "bb_mid_9" }; /* three columns: no room even without ema_3 */
    CHECK_INT(feature_frame_warm(&f, bands, 3, 32), 0);
    CHECK(frame_holds(&f, "ema_3") && !frame_holds(&f, "bb_mid_9")); /* nothing evicted in vain */

    /* However large the bound, at most FEATURE_KEEP_COLUMNS are kept. */
    feature_frame_bound(&f, (size_t)1 << 30);
    char name[FEATURE_NAME_MAX + 1];
    for (int n = 2; n <= 1000; n++) {
        snprintf(name, sizeof name, "sma_%d", n);
        CHECK(feature_frame_column(&f, name, err, sizeof err) != NULL);
        snprintf(name, sizeof name, "ema_%d", n);
        CHECK(feature_frame_column(&f, name, err, sizeof err) != NULL);
    }
    CHECK_INT(f.held, FEATURE_KEEP_COLUMNS * col);
    CHECK(frame_holds(&f, "ema_1000") && !frame_holds(&f, "sma_2"));
    feature_frame_shrink(&f, 0);
    CHECK_INT(f.held, 0);
    CHECK_INT(f.ncols, 1); /* close */
    feature_frame_free(&f);
    feature_frame_free(&fresh);
    bar_set_free(&set);
}

TEST(feature_flat_windows_have_zero_spread)
{
    double x[400], up[400], mid[400], lo[400], hv[400];
    for (int i = 0; i < 400; i++)
        x[i] = 101.37 + (i / 50) * 0.01; /* flat runs of 50 bars */
    feature_bbands(x, 400, 20, up, mid, lo);
    feature_hv(x, 400, 20, hv);
    for (int t = 70; t < 99; t++) { /* windows inside one flat run (bars 50..99) */
        CHECK(up[t] == mid[t] && lo[t] == mid[t]);
        CHECK(hv[t] == 0);
    }
    CHECK(hv[60] > 0); /* its returns include the step at bar 50 */
}

/* --- the rolling variance, exact to the ulp ---------------------------- */

/* Real-looking closes of REAL_N bars, in segments: a random walk near
 * 258 in cents (two equal closes are common), a flat run at 258.3752, a
 * nearly flat run (a 1e-9 relative wiggle), a level shift to three times
 * the level, prices near 1e6 in cents, and prices near 0.5 in 1e-4. */
#define REAL_N 3000

static void make_real_closes(double *c)
{
    lcg_state = 4242;
    double p = 258.3752;
    for (int t = 0; t < REAL_N; t++) {
        if (t < 1000)
            p = round(p * exp(0.004 * (rnd() - 0.5)) * 100) / 100;
        else if (t < 1200)
            p = 258.3752;
        else if (t < 1400)
            p = 258.3752 * (1 + 1e-9 * (2 * rnd() - 1));
        else if (t < 2000)
            p = round((t == 1400 ? 3 * 258.3752 : p * exp(0.01 * (rnd() - 0.5))) * 100) / 100;
        else if (t < 2600)
            p = round((t == 2000 ? 1e6 : p * exp(0.002 * (rnd() - 0.5))) * 100) / 100;
        else
            p = round((t == 2600 ? 0.5 : p * exp(0.02 * (rnd() - 0.5))) * 1e4) / 1e4;
        c[t] = p;
    }
}

/* sqrt(M2 / div) of x[from .. from + w - 1] in binary128, two passes;
 * NaN when the window holds a value that is not finite. */
static _Float128 quad_spread(const _Float128 *x, size_t from, size_t w, _Float128 div)
{
    _Float128 sum = 0, m2 = 0;
    for (size_t k = from; k < from + w; k++) {
        if (!(x[k] == x[k]) || x[k] - x[k] != 0)
            return NAN;
        sum += x[k];
    }
    _Float128 mean = sum / w;
    for (size_t k = from; k < from + w; k++)
        m2 += (x[k] - mean) * (x[k] - mean);
    return sqrtf128(m2 / div);
}

/* value within ulps units in the last place of exact (binary128); 0
 * exactly where exact is 0, NaN where exact is NaN. The worst seen, in
 * ulps, into *worst. */
static int within_ulps(double value, _Float128 exact, double ulps, double *worst)
{
    if (exact != exact)
        return isnan(value);
    if (exact == 0)
        return value == 0;
    double e = fabs((double)exact), ulp = nextafter(e, INFINITY) - e;
    double err = (double)fabsf128((_Float128)value - exact) / ulp;
    if (err > *worst)
        *worst = err;
    return err <= ulps;
}

static const int spread_windows[] = { 2, 3, 5, 20, 64, 200, 1000 };

/* docs/strategies.md, "Accuracy": stdev and the bands' spread are within 2
 * ulps of sqrt(M2 / N) computed in binary128 (113 bits), 0 on a flat
 * window, where the bands are exactly the mid; the bands are the mid +- 2
 * stdev, bit for bit. The running long-double sums this replaces put
 * bb_upper_2 of two equal closes of 258.3752 at 258.3752001, and a 5-bar
 * flat window's spread at 1e-7. */
TEST(feature_stdev_and_bands_exact_to_the_ulp)
{
    static double c[REAL_N], sd[REAL_N], up[REAL_N], mid[REAL_N], lo[REAL_N], sma[REAL_N];
    static _Float128 q[REAL_N];
    make_real_closes(c);
    for (int t = 0; t < REAL_N; t++)
        q[t] = c[t];
    double worst = 0;
    int flat = 0;
    for (size_t i = 0; i < sizeof spread_windows / sizeof spread_windows[0]; i++) {
        size_t w = (size_t)spread_windows[i];
        feature_stdev(c, REAL_N, (int)w, sd);
        feature_bbands(c, REAL_N, (int)w, up, mid, lo);
        feature_sma(c, REAL_N, (int)w, sma);
        CHECK(memcmp(mid, sma, sizeof mid) == 0);
        for (size_t t = 0; t < REAL_N; t++) {
            _Float128 ref = t + 1 < w ? (_Float128)NAN : quad_spread(q, t + 1 - w, w, (_Float128)w);
            if (!within_ulps(sd[t], ref, 2, &worst)) {
                unit_fail(__FILE__, __LINE__, "stdev_%zu[%zu] = %.17g, ref %.17g", w, t, sd[t], (double)ref);
                break;
            }
            if (t + 1 < w)
                continue;
            flat += ref == 0;
            if (up[t] != mid[t] + 2.0 * sd[t] || lo[t] != mid[t] - 2.0 * sd[t]) {
                unit_fail(__FILE__, __LINE__, "bb_%zu[%zu]: %.17g %.17g %.17g is not mid +- 2 stdev (%.17g)", w, t,
                          up[t], mid[t], lo[t], sd[t]);
                break;
            }
        }
    }
    CHECK(worst <= 2);
    CHECK(flat > 400); /* flat windows were met: the run at 258.3752 and equal closes in cents */
    /* the report's case: two equal closes */
    const double two[] = { 250, 258.3752, 258.3752 };
    double u2[3], m2[3], l2[3];
    feature_bbands(two, 3, 2, u2, m2, l2);
    CHECK(u2[2] == 258.3752 && m2[2] == 258.3752 && l2[2] == 258.3752);
}

/* hv_N against sqrt(252 M2 / (N - 1)) of the exact log returns
 * (binary128): within 3 ulps, plus what the returns' own rounding (an ulp
 * or two each: log1p of the exact difference of two closes) can move it,
 * 2 eps sum |r_k| |r_k - mean| / M2 relative, which is large only where
 * the returns are nearly equal. The old log of the ratio and running sums
 * had hv_2 off by 1e-9. */
TEST(feature_hv_exact_to_the_ulp)
{
    static double c[REAL_N], hv[REAL_N];
    static _Float128 r[REAL_N];
    make_real_closes(c);
    for (int t = 1; t < REAL_N; t++)
        r[t - 1] = logf128((_Float128)c[t] / c[t - 1]);
    double worst = 0;
    for (size_t i = 0; i < sizeof spread_windows / sizeof spread_windows[0]; i++) {
        size_t w = (size_t)spread_windows[i];
        feature_hv(c, REAL_N, (int)w, hv);
        for (size_t t = 0; t < REAL_N; t++) {
            _Float128 ref = t < w ? (_Float128)NAN : quad_spread(r, t - w, w, (_Float128)(w - 1) / 252);
            double allowance = 0;
            if (t >= w && ref > 0) {
                _Float128 mean = 0, m2 = 0, lever = 0;
                for (size_t k = t - w; k < t; k++)
                    mean += r[k] / w;
                for (size_t k = t - w; k < t; k++) {
                    m2 += (r[k] - mean) * (r[k] - mean);
                    lever += fabsf128(r[k]) * fabsf128(r[k] - mean);
                }
                allowance = (double)(2 * DBL_EPSILON * lever / m2);
            }
            double ulps = 3 + allowance / DBL_EPSILON * 2; /* relative allowance in ulps (ulp >= eps / 2 relative) */
            if (!within_ulps(hv[t], ref, ulps, &worst)) {
                unit_fail(__FILE__, __LINE__, "hv_%zu[%zu] = %.17g, ref %.17g (allowed %.1f ulps)", w, t, hv[t],
                          (double)ref, ulps);
                break;
            }
        }
    }
}

/* A value that is not finite inside a series (a Lua array) makes NaN of
 * the windows that hold it, and only those: the running sums used to stay
 * NaN until their next resync, 4,096 bars on. */
TEST(feature_nan_inside_spoils_only_its_windows)
{
    enum { n = 600 };
    static double c[REAL_N], sd[n], up[n], mid[n], lo[n], sma[n], hv[n];
    static _Float128 q[n];
    make_real_closes(c); /* the first 600 of them: the random walk in cents */
    c[100] = NAN;
    c[300] = INFINITY;
    c[301] = -INFINITY;
    for (int t = 0; t < n; t++)
        q[t] = c[t];
    const int windows[] = { 2, 5, 20 };
    for (size_t i = 0; i < 3; i++) {
        size_t w = (size_t)windows[i];
        feature_stdev(c, n, (int)w, sd);
        feature_bbands(c, n, (int)w, up, mid, lo);
        feature_sma(c, n, (int)w, sma);
        feature_hv(c, n, (int)w, hv);
        double worst = 0;
        for (size_t t = w - 1; t < n; t++) {
            int holds = (t >= 100 && t < 100 + w) || (t >= 300 && t < 301 + w);
            _Float128 ref = quad_spread(q, t + 1 - w, w, (_Float128)w);
            if (!within_ulps(sd[t], ref, 2, &worst) || holds != isnan(sd[t]) || holds != isnan(up[t]) ||
                holds != isnan(lo[t]) || holds != !isfinite(sma[t])) {
                unit_fail(__FILE__, __LINE__, "N=%zu t=%zu: stdev %.17g (ref %.17g), bands %g %g %g, sma %g", w, t,
                          sd[t], (double)ref, up[t], mid[t], lo[t], sma[t]);
                break;
            }
            double s = 0;
            for (size_t k = t + 1 - w; k <= t && !holds; k++)
                s += c[k];
            if (!holds && !close_enough(sma[t], s / (double)w)) {
                unit_fail(__FILE__, __LINE__, "sma_%zu[%zu] = %.17g, ref %.17g", w, t, sma[t], s / (double)w);
                break;
            }
            /* hv's returns: ln(c[k+1] / c[k]) for k = t - w .. t - 1 */
            int hv_holds = t >= w && ((t > 99 && t <= 100 + w) || (t > 299 && t <= 301 + w));
            if (t >= w && hv_holds != isnan(hv[t])) {
                unit_fail(__FILE__, __LINE__, "hv_%zu[%zu] = %g", w, t, hv[t]);
                break;
            }
        }
    }
}

/* docs/strategies.md: bb_mid_N is sma_N, bit for bit, from the kernels and
 * through a frame's columns. */
TEST(feature_bb_mid_is_sma_bit_for_bit)
{
    make_market(&market);
    const int windows[] = { 2, 5, 20, 50, 200, 1000 };
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        feature_bbands(market.c, LONG_N, windows[i], got, g2, g3);
        feature_sma(market.c, LONG_N, windows[i], want);
        if (memcmp(g2, want, sizeof want) != 0)
            unit_fail(__FILE__, __LINE__, "bb_mid_%d differs from sma_%d", windows[i], windows[i]);
    }
    bar_set_t set = { 0 };
    bar_series_t *s = bar_set_add(&set, "AAA");
    for (size_t t = 0; t < 2000; t++)
        bar_series_push(s, (int64_t)t * 86400, market.o[t], market.h[t], market.l[t], market.c[t], market.v[t]);
    feature_frame_t f;
    feature_frame_init(&f, &set);
    char err[256];
    const double *m = feature_frame_column(&f, "bb_mid_20", err, sizeof err);
    const double *a = feature_frame_column(&f, "sma_20", err, sizeof err);
    CHECK(m != NULL && a != NULL && memcmp(m, a, 2000 * sizeof *m) == 0);
    feature_frame_free(&f);
    bar_set_free(&set);
}

/* docs/strategies.md: hv_N uses N returns, TTR's volatility(n) n - 1, so
 * hv_N is volatility(close, n = N + 1, calc = "close", N = 252), written
 * out here as TTR computes it: sqrt(N) * runSD(ROC(close), n - 1), ROC
 * the log return (type "continuous"), runSD the sample standard deviation;
 * its first value is at bar n - 1 = N. (This pins the documentation: the
 * kernel always used N returns.) */
TEST(feature_hv_is_ttr_volatility_of_n_plus_1)
{
    make_market(&market);
    const int windows[] = { 2, 10, 20, 60 };
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        int N = windows[i], n = N + 1; /* TTR's n */
        feature_hv(market.c, 500, N, got);
        for (int t = 0; t < 500; t++) {
            double ttr = NAN;
            if (t >= n - 1) { /* runSD over the n - 1 returns ending at t */
                double m = 0, q = 0;
                for (int k = t - (n - 1) + 1; k <= t; k++)
                    m += log(market.c[k] / market.c[k - 1]);
                m /= n - 1;
                for (int k = t - (n - 1) + 1; k <= t; k++)
                    q += (log(market.c[k] / market.c[k - 1]) - m) * (log(market.c[k] / market.c[k - 1]) - m);
                ttr = sqrt(252.0) * sqrt(q / (n - 2));
            }
            if (!close_enough(got[t], ttr)) {
                unit_fail(__FILE__, __LINE__, "hv_%d[%d] = %.17g, TTR volatility(n = %d) %.17g", N, t, got[t], n, ttr);
                break;
            }
        }
    }
}

/* Arrays from shift() or pct_change() start with NaN: rsi, atr and the
 * Bollinger moments skip the leading NaNs like sma and ema, so the values
 * equal those of the finite suffix. */
TEST(feature_leading_nan_is_skipped)
{
    enum { n = 40, lead = 3 };
    double c[n], h[n], l[n], a[n], b[n], up[n], mid[n], lo[n], up2[n], mid2[n], lo2[n];
    for (int i = 0; i < n; i++) {
        c[i] = i < lead ? NAN : 100 + 5 * sin(i * 0.7) + i * 0.1;
        h[i] = i < lead ? NAN : c[i] + 1 + (i % 3);
        l[i] = i < lead ? NAN : c[i] - 1 - (i % 2);
    }
    feature_rsi(c, n, 5, a);
    feature_rsi(c + lead, n - lead, 5, b);
    for (int i = 0; i < lead + 5; i++)
        CHECK(isnan(a[i]));
    for (int i = lead; i < n; i++)
        CHECK((isnan(a[i]) && isnan(b[i - lead])) || a[i] == b[i - lead]);
    CHECK(isfinite(a[n - 1]));
    feature_atr(h, l, c, n, 4, a);
    feature_atr(h + lead, l + lead, c + lead, n - lead, 4, b);
    for (int i = lead; i < n; i++)
        CHECK((isnan(a[i]) && isnan(b[i - lead])) || a[i] == b[i - lead]);
    CHECK(isfinite(a[n - 1]));
    feature_bbands(c, n, 6, up, mid, lo);
    feature_bbands(c + lead, n - lead, 6, up2, mid2, lo2);
    for (int i = 0; i < lead + 5; i++)
        CHECK(isnan(mid[i]) && isnan(up[i]) && isnan(lo[i]));
    for (int i = lead + 5; i < n; i++)
        CHECK(mid[i] == mid2[i - lead] && up[i] == up2[i - lead] && lo[i] == lo2[i - lead]);
}

/* high_N / low_N are NaN for every window holding a NaN: leading NaNs (from
 * shift()) until they leave the window, and NaNs inside the series too. */
TEST(feature_extremes_nan_in_window_is_nan)
{
    const double x[] = { NAN, NAN, 3, 4, 1, NAN, 5, 0, 2, 7 };
    double mx[10], mn[10];
    feature_rolling_max(x, 10, 3, mx);
    feature_rolling_min(x, 10, 3, mn);
    const double wmx[] = { NAN, NAN, NAN, NAN, 4, NAN, NAN, NAN, 5, 7 };
    const double wmn[] = { NAN, NAN, NAN, NAN, 1, NAN, NAN, NAN, 0, 0 };
    CHECK_SERIES("high_3", mx, wmx, 10);
    CHECK_SERIES("low_3", mn, wmn, 10);

    /* Long series with scattered NaNs and infinities, windows that do and
     * do not divide its length, and one longer than the series. */
    enum { n = 997 };
    static double y[n];
    lcg_state = 777;
    for (int t = 0; t < n; t++) {
        double u = rnd();
        y[t] = u < 0.004 ? NAN : u < 0.006 ? INFINITY : u < 0.008 ? -INFINITY : 100 * rnd();
    }
    const int windows[] = { 2, 3, 7, 20, 64, 500, 1000 };
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        int N = windows[i];
        for (int max = 0; max < 2; max++) {
            for (size_t t = 0; t < n; t++) {
                double e = NAN;
                if (t + 1 >= (size_t)N) {
                    e = y[t];
                    for (size_t k = t + 1 - (size_t)N; k < t && !isnan(e); k++)
                        e = isnan(y[k]) ? NAN : max ? fmax(e, y[k]) : fmin(e, y[k]);
                }
                want[t] = e;
            }
            (max ? feature_rolling_max : feature_rolling_min)(y, n, N, got);
            char what[32];
            snprintf(what, sizeof what, "%s_%d", max ? "high" : "low", N);
            CHECK_SERIES(what, got, want, n);
        }
    }
}

/* MACD by hand: closes flat at 100 for bars 0..33, then a step to 100 + D.
 * Both EMAs are exactly 100 until the step (their seeds are means of equal
 * values), so macd is 0 on bars 25..33 and the signal's seed (mean of the
 * nine macd values on bars 25..33) is 0. After the step, with k = t - 34,
 *   ema_N[t] = 100 + D * (1 - (1 - alpha_N)^(k+1)),
 *   macd[t]  = D * ((25/27)^(k+1) - (11/13)^(k+1)),
 * and the signal (alpha 2/10) is 0.2 * macd[t] + 0.8 * signal[t-1].
 * D = 35.1 makes macd[34] = 35.1 * 28/351 = 2.8, signal[34] = 0.56 (an
 * SMA9 signal would give 2.8/9), hist[34] = 2.24. */
TEST(feature_macd_by_hand)
{
    enum { n = 40 };
    const double D = 35.1;
    double c[n], m[n], s[n], h[n], wm[n], ws[n], wh[n];
    for (int t = 0; t < n; t++)
        c[t] = t < 34 ? 100 : 100 + D;
    feature_macd(c, n, m, s, h);
    for (int t = 0; t < n; t++) {
        if (t < 25)
            wm[t] = NAN;
        else if (t < 34)
            wm[t] = 0;
        else
            wm[t] = D * (pow(25.0 / 27, t - 33) - pow(11.0 / 13, t - 33));
        if (t < 33)
            ws[t] = NAN;
        else if (t == 33)
            ws[t] = 0;
        else
            ws[t] = 0.2 * wm[t] + 0.8 * ws[t - 1];
        wh[t] = wm[t] - ws[t];
    }
    CHECK(close_enough(wm[34], 2.8) && close_enough(ws[34], 0.56) && close_enough(wh[34], 2.24));
    CHECK(m[33] == 0 && s[33] == 0 && h[33] == 0);
    CHECK_SERIES("macd", m, wm, n);
    CHECK_SERIES("macd_signal", s, ws, n);
    CHECK_SERIES("macd_hist", h, wh, n);
}

/* MACD on a 40-bar wiggle, from the definition written out here: each EMA
 * seeded with the mean of its first N inputs. */
TEST(feature_macd_40_bars_from_definition)
{
    enum { n = 40 };
    double c[n], m[n], s[n], h[n], wm[n], ws[n];
    for (int t = 0; t < n; t++)
        c[t] = 50 + 3 * sin(t * 0.9) + 0.25 * t + (t % 4 == 0 ? 1.5 : 0);
    feature_macd(c, n, m, s, h);
    double e12 = 0, e26 = 0;
    for (int t = 0; t < 12; t++)
        e12 += c[t] / 12;
    for (int t = 0; t < 26; t++)
        e26 += c[t] / 26;
    for (int t = 0; t < n; t++) {
        if (t > 11)
            e12 = (2.0 / 13) * c[t] + (11.0 / 13) * e12;
        if (t > 25)
            e26 = (2.0 / 27) * c[t] + (25.0 / 27) * e26;
        wm[t] = t < 25 ? NAN : e12 - e26;
    }
    double sig = 0;
    for (int t = 0; t < n; t++) {
        if (t < 33)
            ws[t] = NAN;
        else if (t == 33) {
            for (int k = 25; k <= 33; k++)
                sig += wm[k] / 9;
            ws[t] = sig;
        } else
            ws[t] = sig = 0.2 * wm[t] + 0.8 * sig;
    }
    CHECK_SERIES("macd", m, wm, n);
    CHECK_SERIES("macd_signal", s, ws, n);
    for (int t = 33; t < n; t++)
        CHECK(close_enough(h[t], wm[t] - ws[t]));
    for (int t = 0; t < 33; t++)
        CHECK(isnan(h[t]));
}

TEST(feature_macd_matches_naive_on_long_series)
{
    make_market(&market);
    double *e26 = w2, *sig = g2;
    naive_ema(market.c, LONG_N, 12, want);
    naive_ema(market.c, LONG_N, 26, e26);
    for (size_t t = 0; t < LONG_N; t++)
        want[t] -= e26[t]; /* NaN before bar 25 */
    /* the signal: an EMA9 of the macd values from bar 25 on */
    for (size_t t = 0; t < 25; t++)
        sig[t] = NAN;
    naive_ema(want + 25, LONG_N - 25, 9, sig + 25);
    feature_macd(market.c, LONG_N, got, g3, w2);
    CHECK_SERIES("macd", got, want, LONG_N);
    CHECK_SERIES("macd_signal", g3, sig, LONG_N);
    for (size_t t = 0; t < LONG_N; t++)
        want[t] -= sig[t];
    CHECK_SERIES("macd_hist", w2, want, LONG_N);
}

TEST(feature_prev_gap_return_match_naive)
{
    make_market(&market);
    feature_prev(market.c, LONG_N, got);
    want[0] = NAN;
    for (size_t t = 1; t < LONG_N; t++)
        want[t] = market.c[t - 1];
    CHECK_SERIES("prev_close", got, want, LONG_N);
    feature_gap_pct(market.o, market.c, LONG_N, got);
    for (size_t t = 1; t < LONG_N; t++)
        want[t] = 100 * (market.o[t] - market.c[t - 1]) / market.c[t - 1];
    CHECK_SERIES("gap_pct", got, want, LONG_N);
    feature_return_pct(market.c, LONG_N, got);
    for (size_t t = 1; t < LONG_N; t++)
        want[t] = 100 * (market.c[t] - market.c[t - 1]) / market.c[t - 1];
    CHECK_SERIES("return_pct", got, want, LONG_N);
}

/* docs/strategies.md: volume_ratio is NaN when the mean of the 20 prior
 * volumes is 0 (a halted symbol), and defined again as soon as one of
 * them is not 0, also after fractional volumes left the running sum. */
TEST(feature_volume_ratio_zero_mean_is_nan)
{
    enum { n = 90 };
    double v[n], out[n];
    for (int t = 0; t < n; t++)
        v[t] = 0;
    v[25] = 700;
    feature_volume_ratio(v, n, out);
    for (int t = 20; t <= 25; t++)
        CHECK(isnan(out[t])); /* zero mean, also at t = 25 where v[t] > 0 */
    CHECK(close_enough(out[26], 0)); /* 0 / (700 / 20) */
    CHECK(close_enough(out[45], 0));
    CHECK(isnan(out[46])); /* bar 25 left the window */
    /* fractional volumes, then a halt of more than 20 bars */
    for (int t = 0; t < n; t++)
        v[t] = t < 40 ? 1234.567 * (t + 1) / 3.0 + 0.1 * (t % 3) : (t < 70 ? 0 : 3.3);
    feature_volume_ratio(v, n, out);
    for (int t = 60; t <= 70; t++)
        if (!isnan(out[t]))
            unit_fail(__FILE__, __LINE__, "volume_ratio[%d] = %.17g after 20 zero volumes, want NaN", t, out[t]);
    CHECK(close_enough(out[71], 3.3 / (3.3 / 20)));
    CHECK(close_enough(out[72], 3.3 / (6.6 / 20)));
}

/* docs/strategies.md: volume_ratio is volume[t] over the mean of the 20
 * volumes before t, to 1e-9 relative. Volumes span orders of magnitude
 * (fractional token volumes: a spike of 1e13, then 1 to 3 a bar): the
 * spike's rounding must not stay in the running sum once it has left the
 * window (it did, until the resync 4,096 bars on: ratios 23% off). */
TEST(feature_volume_ratio_no_residue_after_a_spike)
{
    enum { n = 400 };
    double v[n], out[n];
    for (int t = 0; t < n; t++)
        v[t] = t >= 30 && t < 40 ? 1e13 + 0.37 * t : 1.0 + (double)((t * 7) % 5) * 0.45 + 0.013 * (t % 3);
    feature_volume_ratio(v, n, out);
    for (int t = 60; t < n; t++) { /* the spike left the window at t = 60 */
        long double s = 0;
        for (int k = t - 20; k < t; k++)
            s += v[k];
        double expect = v[t] / (double)(s / 20);
        if (!(fabs(out[t] - expect) <= 1e-9 * fabs(expect))) {
            unit_fail(__FILE__, __LINE__, "volume_ratio[%d] = %.17g, want %.17g (a spike's residue)", t, out[t],
                      expect);
            break;
        }
    }
}

/* Every column family fetched by name through a frame (two series of
 * different lengths) equals its kernel called directly on each series'
 * own input arrays, so a name mapped to the wrong kernel, input, window
 * or output of a group is caught. Each name is asked of a fresh frame and
 * of one shared frame (groups come from its cache). */
TEST(feature_frame_names_map_to_their_kernels)
{
    make_market(&market);
    bar_set_t set = { 0 };
    const size_t len[2] = { 700, 450 }, from[2] = { 0, 1500 };
    for (int i = 0; i < 2; i++) {
        bar_series_t *s = bar_set_add(&set, i ? "BBB" : "AAA");
        for (size_t t = from[i]; t < from[i] + len[i]; t++)
            bar_series_push(s, (int64_t)t * 86400, market.o[t], market.h[t], market.l[t], market.c[t], market.v[t]);
    }
    static const char *const names[] = {
        "open", "high", "low", "close", "volume", "sma_7", "ema_9", "rsi_14", "atr_10", "bb_lower_20",
        "bb_upper_20", "bb_mid_20", "high_15", "low_15", "hv_21", "macd_hist", "macd_signal", "macd",
        "prev_close", "gap_pct", "volume_ratio", "return_pct",
    };
    static double direct[1150], a[1150], b[1150], c[1150];
    feature_frame_t shared;
    feature_frame_init(&shared, &set);
    char err[512];
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        const char *name = names[k];
        size_t off = 0;
        for (size_t i = 0; i < set.n; i++) {
            const bar_series_t *s = &set.series[i];
            size_t n = s->n;
            double *o = direct + off;
            if (strcmp(name, "open") == 0) memcpy(o, s->open, n * sizeof *o);
            else if (strcmp(name, "high") == 0) memcpy(o, s->high, n * sizeof *o);
            else if (strcmp(name, "low") == 0) memcpy(o, s->low, n * sizeof *o);
            else if (strcmp(name, "close") == 0) memcpy(o, s->close, n * sizeof *o);
            else if (strcmp(name, "volume") == 0) memcpy(o, s->volume, n * sizeof *o);
            else if (strcmp(name, "sma_7") == 0) feature_sma(s->close, n, 7, o);
            else if (strcmp(name, "ema_9") == 0) feature_ema(s->close, n, 9, o);
            else if (strcmp(name, "rsi_14") == 0) feature_rsi(s->close, n, 14, o);
            else if (strcmp(name, "atr_10") == 0) feature_atr(s->high, s->low, s->close, n, 10, o);
            else if (strncmp(name, "bb_", 3) == 0) {
                feature_bbands(s->close, n, 20, a, b, c);
                memcpy(o, name[3] == 'u' ? a : name[3] == 'm' ? b : c, n * sizeof *o);
            }
            else if (strcmp(name, "high_15") == 0) feature_rolling_max(s->high, n, 15, o);
            else if (strcmp(name, "low_15") == 0) feature_rolling_min(s->low, n, 15, o);
            else if (strcmp(name, "hv_21") == 0) feature_hv(s->close, n, 21, o);
            else if (strncmp(name, "macd", 4) == 0) {
                feature_macd(s->close, n, a, b, c);
                memcpy(o, name[4] == '\0' ? a : name[5] == 's' ? b : c, n * sizeof *o);
            }
            else if (strcmp(name, "prev_close") == 0) feature_prev(s->close, n, o);
            else if (strcmp(name, "gap_pct") == 0) feature_gap_pct(s->open, s->close, n, o);
            else if (strcmp(name, "volume_ratio") == 0) feature_volume_ratio(s->volume, n, o);
            else if (strcmp(name, "return_pct") == 0) feature_return_pct(s->close, n, o);
            else unit_fail(__FILE__, __LINE__, "no direct kernel for %s", name);
            off += n;
        }
        feature_frame_t fresh;
        feature_frame_init(&fresh, &set);
        const double *g = feature_frame_column(&fresh, name, err, sizeof err);
        const double *h = feature_frame_column(&shared, name, err, sizeof err);
        if (g == NULL || h == NULL) {
            unit_fail(__FILE__, __LINE__, "%s: %s", name, err);
        } else {
            CHECK_SERIES(name, g, direct, off);
            CHECK_SERIES(name, h, direct, off);
        }
        feature_frame_free(&fresh);
    }
    CHECK_INT(shared.ncols, sizeof names / sizeof names[0]);
    feature_frame_free(&shared);
    bar_set_free(&set);
}


/* rsi carries its past forward (Wilder's smoothing): a change that is not
 * finite makes every later value NaN, as for ema, instead of counting as no
 * change. */
TEST(feature_rsi_stays_nan_after_a_value_that_is_not_finite)
{
    enum { n = 80 };
    double c[n], out[n], clean[n];
    for (int t = 0; t < n; t++)
        c[t] = 100 + 5 * sin(t * 0.3) + t * 0.1;
    feature_rsi(c, n, 14, clean);
    for (int bad = 0; bad < 2; bad++) {
        double x[n];
        memcpy(x, c, sizeof x);
        x[40] = bad ? INFINITY : NAN;
        feature_rsi(x, n, 14, out);
        for (int t = 14; t < 40; t++)
            CHECK(out[t] == clean[t]);
        for (int t = 40; t < n; t++)
            if (!isnan(out[t])) {
                unit_fail(__FILE__, __LINE__, "rsi[%d] = %g after a %s at 40", t, out[t], bad ? "inf" : "NaN");
                break;
            }
    }
    /* Inside the first window too. */
    double x[n];
    memcpy(x, c, sizeof x);
    x[5] = NAN;
    feature_rsi(x, n, 14, out);
    for (int t = 0; t < n; t++)
        CHECK(isnan(out[t]));
}

/* sma_N (and so bb_mid_N and, on flat windows, both bands): within an ulp
 * or so of the exact mean (binary128) on the real-looking closes, whose
 * level drops from 1e6 to 0.5 (a plain running sum kept 3e-9 relative of
 * the 1e6 bars behind); a window of N equal closes is that close exactly,
 * whatever came before it. */
TEST(feature_sma_exact_and_flat_windows_are_the_close)
{
    static double c[REAL_N], sma[REAL_N], up[REAL_N], mid[REAL_N], lo[REAL_N];
    make_real_closes(c);
    for (size_t i = 0; i < sizeof spread_windows / sizeof spread_windows[0]; i++) {
        size_t w = (size_t)spread_windows[i];
        feature_sma(c, REAL_N, (int)w, sma);
        double worst = 0;
        for (size_t t = w - 1; t < REAL_N; t++) {
            _Float128 sum = 0;
            int flat = 1;
            for (size_t k = t + 1 - w; k <= t; k++) {
                sum += c[k];
                flat &= c[k] == c[t];
            }
            /* The exact mean rounded to a double is what 0.5 ulp allows;
             * the running sum may add one more. */
            if (flat ? sma[t] != c[t] : !within_ulps(sma[t], sum / w, 1.5, &worst)) {
                unit_fail(__FILE__, __LINE__, "sma_%zu[%zu] = %.17g, exact %.17g%s", w, t, sma[t],
                          (double)(sum / w), flat ? " (a flat window)" : "");
                break;
            }
        }
    }
    /* Flat windows after other values, every prefix and window: both bands
     * and the mid are the close itself. */
    const double tail[] = { 262.01, 258.3752, 258.3752, 258.3752, 258.3752, 258.3752 };
    for (size_t prefix = 0; prefix < 40; prefix++) {
        double x[64];
        for (size_t k = 0; k < prefix; k++)
            x[k] = 100 + 0.37 * (double)k + 0.01 * (double)(k % 7);
        memcpy(x + prefix, tail, sizeof tail);
        size_t n = prefix + sizeof tail / sizeof tail[0];
        for (int w = 2; w <= 5; w++) {
            feature_bbands(x, n, w, up, mid, lo);
            if (up[n - 1] != 258.3752 || mid[n - 1] != 258.3752 || lo[n - 1] != 258.3752)
                unit_fail(__FILE__, __LINE__, "prefix %zu, N=%d: bands %.17g %.17g %.17g, not 258.3752", prefix, w,
                          up[n - 1], mid[n - 1], lo[n - 1]);
        }
    }
}
