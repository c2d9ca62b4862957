/* test_iv_analysis.c — the options analysis: ATM IV per expiry, the 30-day
 * ATM IV interpolated in total variance (and its one-sided cases), IV rank
 * and percentile at their edges (short history, flat range, windows),
 * historical volatility, the opportunity rules, synthetic chains
 * (determinism, validity, IV round trip) and chain CSV validation. */
#include <math.h>
#include <stdlib.h>

#include "core/clock.h"
#include "data/feature.h"
#include "options/iv_analysis.h"
#include "options/option_chain.h"
#include "options/option_pricing.h"
#include "options/option_synth.h"
#include "unit.h"

static void check_close(const char *what, double got, double want, double tol, int line)
{
    if (!(fabs(got - want) <= tol))
        unit_fail(__FILE__, line, "%s = %.15g, want %.15g (tolerance %.3g)", what, got, want, tol);
}

#define CHECK_CLOSE(what, got, want, tol) check_close(what, got, want, tol, __LINE__)

static int64_t day(const char *s)
{
    int64_t ts;
    return clock_parse_date(s, 10, &ts) == 0 ? ts / 86400 : -1;
}

static iv_expiry_atm_t pt(int days, double iv)
{
    iv_expiry_atm_t p = { 0, days, 100, iv, 0, 0 };
    p.expiry = 19000 + days;
    return p;
}

TEST(iv_atm_30d_interpolates_total_variance)
{
    iv_expiry_atm_t pts[] = { pt(7, 0.40), pt(20, 0.30), pt(50, 0.20), pt(90, 0.25) };
    iv_atm_30d_t a;
    iv_atm_interpolate(pts, 4, 30, &a);
    CHECK_INT(a.method, IV_ATM_INTERPOLATED);
    CHECK_INT(a.near, 1);
    CHECK_INT(a.far, 2);
    /* w = iv^2 T: 0.09 * 20/365 and 0.04 * 50/365; a third of the way. */
    double w1 = 0.09 * 20 / 365, w2 = 0.04 * 50 / 365, w = w1 + (w2 - w1) * (10.0 / 30.0);
    CHECK_CLOSE("atm_iv_30d", a.iv, sqrt(w / (30.0 / 365)), 1e-15);
    CHECK_CLOSE("atm_iv_30d by hand", a.iv, sqrt((1.8 + 0.2 / 3) / 30), 1e-15);
    /* Not linear in vol: the vol midpoint would be 0.2667. */
    CHECK(fabs(a.iv - (0.30 + (0.20 - 0.30) / 3)) > 1e-3);
    CHECK_STR(iv_atm_method_name(a.method), "interpolated");

    /* A flat term structure stays flat. */
    iv_expiry_atm_t flat[] = { pt(10, 0.25), pt(45, 0.25) };
    iv_atm_interpolate(flat, 2, 30, &a);
    CHECK_CLOSE("flat", a.iv, 0.25, 1e-15);

    /* At a bracketing expiry's own maturity, its IV. */
    iv_expiry_atm_t at[] = { pt(23, 0.31), pt(30, 0.27), pt(58, 0.22) };
    iv_atm_interpolate(at, 3, 30, &a);
    CHECK_INT(a.method, IV_ATM_EXACT);
    CHECK_CLOSE("exact", a.iv, 0.27, 0);
    CHECK_INT(a.near, 1);
    CHECK_INT(a.far, 1);
    CHECK_CLOSE("at the near end", (iv_atm_interpolate(at, 3, 23, &a), a.iv), 0.31, 1e-15);
}

TEST(iv_atm_30d_one_sided_and_empty)
{
    iv_atm_30d_t a;
    iv_expiry_atm_t shorts[] = { pt(3, 0.50), pt(17, 0.35) };
    iv_atm_interpolate(shorts, 2, 30, &a);
    CHECK_INT(a.method, IV_ATM_NEAREST_SHORT);
    CHECK_CLOSE("nearest short: the longest", a.iv, 0.35, 0);
    CHECK_INT(a.near, 1);
    CHECK_STR(iv_atm_method_name(a.method), "nearest_short");

    iv_expiry_atm_t longs[] = { pt(34, 0.22), pt(62, 0.21) };
    iv_atm_interpolate(longs, 2, 30, &a);
    CHECK_INT(a.method, IV_ATM_NEAREST_LONG);
    CHECK_CLOSE("nearest long: the shortest", a.iv, 0.22, 0);
    CHECK_INT(a.far, 0);
    CHECK_STR(iv_atm_method_name(a.method), "nearest_long");

    iv_atm_interpolate(NULL, 0, 30, &a);
    CHECK_INT(a.method, IV_ATM_NONE);
    CHECK(isnan(a.iv));
    CHECK_INT(a.near, -1);
    CHECK_STR(iv_atm_method_name(a.method), "none");
}

TEST(iv_expiry_atm_picks_the_solved_strike_nearest_the_forward)
{
    iv_contract_t c[] = {
        { 95, OPTION_CALL, 0.24, 10, 1 },  { 95, OPTION_PUT, 0.26, 20, 2 },
        { 100, OPTION_CALL, NAN, 30, 3 },  { 100, OPTION_PUT, NAN, 40, 4 },  /* nearest, but unsolved */
        { 105, OPTION_CALL, 0.21, 50, 5 }, { 105, OPTION_PUT, NAN, 60, 6 },
    };
    iv_expiry_atm_t a;
    CHECK_INT(iv_expiry_atm(c, 6, 101, &a), 0);
    CHECK_CLOSE("strike", a.strike, 105, 0);
    CHECK_CLOSE("the one solved IV", a.iv, 0.21, 0);
    CHECK_INT(a.open_interest, 110);
    CHECK_INT(a.volume, 11);
    CHECK_INT(iv_expiry_atm(c, 6, 97, &a), 0);
    CHECK_CLOSE("strike 95", a.strike, 95, 0);
    CHECK_CLOSE("mean of call and put", a.iv, 0.25, 1e-15);
    CHECK_INT(a.open_interest, 30);
    CHECK_INT(iv_expiry_atm(c + 2, 2, 100, &a), -1); /* nothing solved */
}

/* n daily dates ending the day before `today`. */
static void history(int64_t today, size_t n, int64_t *dates)
{
    for (size_t i = 0; i < n; i++)
        dates[i] = today - (int64_t)(n - i);
}

TEST(iv_rank_percentile_need_20_days)
{
    int64_t t = day("2024-06-03"), dates[300];
    double ivs[300];
    iv_rank_t r;
    history(t, 18, dates);
    for (int i = 0; i < 18; i++)
        ivs[i] = 0.10 + 0.01 * i;
    iv_rank_percentile(t, 0.2, dates, ivs, 18, &r); /* 18 + today = 19 days */
    CHECK_INT(r.history, 19);
    CHECK(isnan(r.rank));
    CHECK(isnan(r.percentile));
    history(t, 19, dates);
    for (int i = 0; i < 19; i++)
        ivs[i] = 0.10 + 0.01 * i; /* 0.10 ... 0.28 */
    iv_rank_percentile(t, 0.2, dates, ivs, 19, &r);
    CHECK_INT(r.history, 20);
    CHECK_CLOSE("rank", r.rank, 100 * (0.2 - 0.10) / (0.28 - 0.10), 1e-12);
    CHECK_CLOSE("percentile", r.percentile, 100.0 * 10 / 19, 1e-12); /* 0.10 ... 0.19 below */
    CHECK_CLOSE("low", r.low, 0.10, 1e-15);
    CHECK_CLOSE("high", r.high, 0.28, 1e-15);
    /* Today is the high or the low: 100 or 0. */
    iv_rank_percentile(t, 0.5, dates, ivs, 19, &r);
    CHECK_CLOSE("rank at the high", r.rank, 100, 1e-12);
    CHECK_CLOSE("percentile at the high", r.percentile, 100, 1e-12);
    iv_rank_percentile(t, 0.05, dates, ivs, 19, &r);
    CHECK_CLOSE("rank at the low", r.rank, 0, 1e-12);
    CHECK_CLOSE("percentile at the low", r.percentile, 0, 1e-12);
    /* No IV today: nothing. */
    iv_rank_percentile(t, NAN, dates, ivs, 19, &r);
    CHECK(isnan(r.rank));
    CHECK(isnan(r.percentile));
}

TEST(iv_rank_null_when_high_equals_low)
{
    int64_t t = day("2024-06-03"), dates[40];
    double ivs[40];
    history(t, 40, dates);
    for (int i = 0; i < 40; i++)
        ivs[i] = 0.25;
    iv_rank_t r;
    iv_rank_percentile(t, 0.25, dates, ivs, 40, &r);
    CHECK(isnan(r.rank));
    CHECK_CLOSE("percentile: none below", r.percentile, 0, 0);
    iv_rank_percentile(t, 0.26, dates, ivs, 40, &r);
    CHECK_CLOSE("a new high ranks 100", r.rank, 100, 1e-12);
}

/* docs/options.md: rank is null only when high = low, every IV of the 52
 * weeks the same number. However close they are otherwise, rank is the
 * formula on the stored IVs (their difference is exact): high and low 4
 * ulps apart (9e-16 relative) with today's IV half way rank exactly 50, and
 * 1e-13 apart with today's at the high, 100. (The code used to return null
 * whenever high - low <= 1e-12 high, which the docs did not say.) */
TEST(iv_rank_exact_however_close_high_and_low)
{
    int64_t t = day("2024-06-03"), dates[40];
    double ivs[40];
    history(t, 40, dates);
    const double ulp = ldexp(1, -54); /* of 0.25 */
    for (int i = 0; i < 40; i++)
        ivs[i] = 0.25;
    ivs[30] = 0.25 + 4 * ulp;
    iv_rank_t r;
    iv_rank_percentile(t, 0.25 + 2 * ulp, dates, ivs, 40, &r);
    CHECK(r.rank == 50);
    CHECK(r.low == 0.25 && r.high == 0.25 + 4 * ulp);
    CHECK_CLOSE("percentile: 39 of 40 below", r.percentile, 100.0 * 39 / 40, 0);
    ivs[30] = 0.25;
    iv_rank_percentile(t, 0.25 * (1 + 1e-13), dates, ivs, 40, &r);
    CHECK(r.rank == 100);
    iv_rank_percentile(t, 0.25 * (1 - 1e-13), dates, ivs, 40, &r);
    CHECK(r.rank == 0);
}

/* The previous 252 observations however sparse: 300 weekly rows over
 * almost six years, of which the last 252 hold 77 below today's IV (27 of
 * them in the last 800 days, the 114 rows a calendar window would see) and
 * the 48 older ones are all below. 77/252, not 27/114 nor 125/300. The
 * task reads the history by this count (task_iv_analysis.c; the
 * integration test checks it end to end). */
TEST(iv_percentile_counts_observations_not_days)
{
    enum { N = 300 };
    int64_t t = day("2024-06-03"), dates[N];
    double ivs[N];
    for (int k = 1; k <= N; k++) { /* row N - k is k weeks ago */
        dates[N - k] = t - 7 * k;
        int below = k > 252 || (k <= 114 ? k <= 27 : k <= 114 + 50);
        ivs[N - k] = below ? 0.10 : 0.90;
    }
    iv_rank_t r;
    iv_rank_percentile(t, 0.30, dates, ivs, N, &r);
    CHECK(r.percentile == 100.0 * 77 / 252);
    CHECK_INT(r.history, 53); /* 52 weeks of weekly rows, and today */
    CHECK(r.rank == 100.0 * (0.30 - 0.10) / (0.90 - 0.10));
}

TEST(iv_rank_percentile_windows)
{
    /* 400 daily rows: the 52-week window keeps dates after today - 365,
     * the percentile the previous 252 rows. NaN rows and rows dated today
     * or later are ignored. */
    enum { N = 400 };
    int64_t t = day("2024-06-03"), dates[N + 2];
    double ivs[N + 2];
    history(t, N, dates);
    for (int i = 0; i < N; i++)
        ivs[i] = 0.30;
    ivs[0] = 0.90;            /* 400 days ago: out of both windows */
    ivs[N - 300] = 0.05;      /* 300 days ago: in the 52 weeks, not in the last 252 rows */
    ivs[N - 10] = NAN;        /* ignored */
    dates[N] = t;             /* today's own row (a recalculation): ignored */
    ivs[N] = 0.99;
    dates[N + 1] = t + 1;
    ivs[N + 1] = 0.01;
    iv_rank_t r;
    iv_rank_percentile(t, 0.30, dates, ivs, N + 2, &r);
    CHECK_INT(r.history, 364 - 1 + 1); /* D-364 ... D-1 minus the NaN, plus today */
    CHECK_CLOSE("low", r.low, 0.05, 0);
    CHECK_CLOSE("high", r.high, 0.30, 0);
    CHECK_CLOSE("rank", r.rank, 100, 1e-12);
    CHECK_CLOSE("percentile", r.percentile, 0, 0); /* 0.05 is beyond the last 252 rows */
    ivs[N - 100] = 0.10;      /* inside both */
    iv_rank_percentile(t, 0.30, dates, ivs, N + 2, &r);
    CHECK_CLOSE("percentile", r.percentile, 100.0 / 252, 1e-12);
    /* Sparse history: 30 rows over two years, 18 within the 52 weeks. */
    int64_t sd[30];
    double sv[30];
    for (int i = 0; i < 30; i++) {
        sd[i] = t - 700 + 24 * i;
        sv[i] = 0.2 + 0.001 * i;
    }
    int in52 = 0;
    for (int i = 0; i < 30; i++)
        in52 += sd[i] > t - 365;
    iv_rank_percentile(t, 0.25, sd, sv, 30, &r);
    CHECK_INT(r.history, in52 + 1);
    CHECK(in52 + 1 < 20 ? isnan(r.rank) : !isnan(r.rank));
    CHECK_CLOSE("percentile over all 30 earlier rows", r.percentile, 100, 0);
}

TEST(iv_hv_matches_the_features_engine)
{
    double close[80], hv[80];
    double p = 100;
    for (int i = 0; i < 80; i++) {
        p *= exp(0.01 * sin(i * 1.7) + 0.004 * cos(i * 0.3));
        close[i] = p;
    }
    feature_hv(close, 80, 20, hv);
    CHECK_CLOSE("hv_20", feature_hv_last(close, 80, 20), hv[79], 1e-12);
    feature_hv(close, 80, 60, hv);
    CHECK_CLOSE("hv_60", feature_hv_last(close, 80, 60), hv[79], 1e-12);
    /* By definition: sqrt(252) x the sample std of the last 20 log returns. */
    double m = 0, s = 0, r[20];
    for (int i = 0; i < 20; i++) {
        r[i] = log(close[60 + i] / close[59 + i]);
        m += r[i] / 20;
    }
    for (int i = 0; i < 20; i++)
        s += (r[i] - m) * (r[i] - m) / 19;
    CHECK_CLOSE("hv_20 by hand", feature_hv_last(close, 80, 20), sqrt(252 * s), 1e-12);
    CHECK(isnan(feature_hv_last(close, 20, 20)));
    CHECK(!isnan(feature_hv_last(close, 21, 20)));
}

static iv_history_row_t hrow(double iv, double rank, double hv, long long oi, long long vol)
{
    iv_history_row_t h;
    memset(&h, 0, sizeof h);
    snprintf(h.symbol, sizeof h.symbol, "X");
    h.atm_iv_30d = iv;
    h.iv_rank = rank;
    h.hv_20 = hv;
    h.atm_open_interest = oi;
    h.atm_volume = vol;
    return h;
}

/* The rules at their defaults (IV_SCAN_*), as the scan task's arguments
 * give them when none is set. */
static void iv_scan_default_rules(iv_scan_rules_t *r)
{
    r->sell_min_rank = IV_SCAN_SELL_MIN_RANK;
    r->buy_max_rank = IV_SCAN_BUY_MAX_RANK;
    r->min_open_interest = IV_SCAN_MIN_OPEN_INTEREST;
    r->min_volume = IV_SCAN_MIN_VOLUME;
}

TEST(iv_scan_rules)
{
    iv_scan_rules_t r;
    iv_scan_default_rules(&r);
    double score;
    iv_history_row_t h = hrow(0.40, 80, 0.30, 1000, 100);
    CHECK_INT(iv_scan_classify(&h, &r, &score), IV_SCAN_SELL);
    CHECK_CLOSE("sell score", score, 80 + 100 * (0.40 / 0.30 - 1), 1e-12);
    h = hrow(0.40, 50, 0.30, 1000, 100);
    CHECK_INT(iv_scan_classify(&h, &r, &score), IV_SCAN_SELL); /* >= 50 */
    h = hrow(0.25, 80, 0.30, 1000, 100);
    CHECK_INT(iv_scan_classify(&h, &r, &score), IV_SCAN_NEITHER); /* high rank but IV under HV */
    h = hrow(0.20, 10, 0.30, 1000, 100);
    CHECK_INT(iv_scan_classify(&h, &r, &score), IV_SCAN_BUY);
    CHECK_CLOSE("buy score", score, 90 + 100 * (1 - 0.20 / 0.30), 1e-12);
    h = hrow(0.20, 20, 0.30, 1000, 100);
    CHECK_INT(iv_scan_classify(&h, &r, &score), IV_SCAN_BUY); /* <= 20 */
    h = hrow(0.20, 21, 0.30, 1000, 100);
    CHECK_INT(iv_scan_classify(&h, &r, &score), IV_SCAN_NEITHER);
    h = hrow(0.40, 80, 0.30, 99, 100);
    CHECK_INT(iv_scan_classify(&h, &r, &score), IV_SCAN_ILLIQUID);
    CHECK(isnan(score));
    h = hrow(0.20, 10, 0.30, 1000, 9);
    CHECK_INT(iv_scan_classify(&h, &r, &score), IV_SCAN_ILLIQUID);
    h = hrow(0.40, NAN, 0.30, 1000, 100);
    CHECK_INT(iv_scan_classify(&h, &r, &score), IV_SCAN_NO_DATA);
    h = hrow(NAN, 80, 0.30, 1000, 100);
    CHECK_INT(iv_scan_classify(&h, &r, &score), IV_SCAN_NO_DATA);
    h = hrow(0.40, 80, NAN, 1000, 100);
    CHECK_INT(iv_scan_classify(&h, &r, &score), IV_SCAN_NO_DATA);
}

TEST(option_third_fridays)
{
    CHECK_INT(option_third_friday(2024, 1), day("2024-01-19"));
    CHECK_INT(option_third_friday(2024, 3), day("2024-03-15"));
    CHECK_INT(option_third_friday(2023, 9), day("2023-09-15"));
    CHECK_INT(option_third_friday(2024, 11), day("2024-11-15"));
    CHECK_INT(option_third_friday(2021, 10), day("2021-10-15")); /* the 1st is a Friday */
    CHECK_INT(option_third_friday(2021, 1), day("2021-01-15"));
}

/* 60 weekday-ish bars of a made-up symbol ending on 2024-03-01. */
static void bars(int64_t *ts, double *close, double *volume, int n, double drift)
{
    double p = 100;
    for (int i = 0; i < n; i++) {
        ts[i] = (day("2024-03-01") - (n - 1 - i)) * 86400;
        p *= exp(drift + 0.015 * sin(i * 2.3));
        close[i] = p;
        volume[i] = 1e6;
    }
}

static int same_quote(const option_quote_t *x, const option_quote_t *y)
{
    return strcmp(x->symbol, y->symbol) == 0 && x->quote_date == y->quote_date && x->expiry == y->expiry &&
           x->strike == y->strike && x->kind == y->kind && x->bid == y->bid && x->ask == y->ask &&
           x->last == y->last && x->volume == y->volume && x->open_interest == y->open_interest &&
           x->underlying == y->underlying;
}

TEST(option_synth_chain_is_deterministic_and_valid)
{
    enum { N = 60 };
    int64_t ts[N];
    double close[N], volume[N];
    bars(ts, close, volume, N, 0.001);
    option_synth_opts_t o;
    option_synth_defaults(&o);
    option_chain_t a = { 0 }, b = { 0 }, c = { 0 };
    option_synth_info_t ia, ib, ic;
    char err[256];
    CHECK_INT(option_synth_chain("SYNA", ts, close, volume, N, &o, &a, &ia, err, sizeof err), 0);
    CHECK_INT(option_synth_chain("SYNA", ts, close, volume, N, &o, &b, &ib, err, sizeof err), 0);
    CHECK_INT(a.n, 4 * 21 * 2);
    CHECK_INT(b.n, a.n);
    for (size_t i = 0; i < a.n && i < b.n; i++)
        CHECK(same_quote(&a.rows[i], &b.rows[i]));
    CHECK_CLOSE("same base vol", ia.base_vol, ib.base_vol, 0);
    CHECK_INT(ia.quote_date, day("2024-03-01"));
    CHECK_CLOSE("spot", ia.spot, close[N - 1], 0);
    /* Base vol: hv_20 x 1.1 within the +-15% noise. */
    CHECK(ia.base_vol >= ia.hv_20 * 1.1 * 0.85 - 1e-12 && ia.base_vol <= ia.hv_20 * 1.1 * 1.15 + 1e-12);
    /* Another symbol or seed: another day's noise. */
    CHECK_INT(option_synth_chain("SYNB", ts, close, volume, N, &o, &c, &ic, err, sizeof err), 0);
    CHECK(ic.base_vol != ia.base_vol);
    o.seed = 2;
    option_chain_free(&c);
    CHECK_INT(option_synth_chain("SYNA", ts, close, volume, N, &o, &c, &ic, err, sizeof err), 0);
    CHECK(ic.base_vol != ia.base_vol);
    /* Expiries: the next four third Fridays (2024-03-15 is after 03-01). */
    int64_t want[4] = { day("2024-03-15"), day("2024-04-19"), day("2024-05-17"), day("2024-06-21") };
    for (size_t i = 0; i < a.n; i++) {
        CHECK(option_quote_check(&a.rows[i], err, sizeof err) == 0);
        CHECK_INT(a.rows[i].expiry, want[i / 42]);
        CHECK(fabs(a.rows[i].bid * 100 - round(a.rows[i].bid * 100)) < 1e-9); /* cents */
    }
    option_chain_free(&a);
    option_chain_free(&b);
    option_chain_free(&c);
}

TEST(option_synth_chain_prices_at_the_smile)
{
    /* Without rounding, the mid is the BSM price at the smile's vol, so the
     * implied volatility gives the smile back. */
    enum { N = 30 };
    int64_t ts[N];
    double close[N], volume[N];
    bars(ts, close, volume, N, 0);
    option_synth_opts_t o;
    option_synth_defaults(&o);
    o.vol = 0.3;
    o.noise = 0;
    o.round_cents = 0;
    o.div = 0.01;
    option_chain_t a = { 0 };
    option_synth_info_t info;
    char err[256];
    CHECK_INT(option_synth_chain("SYNA", ts, close, volume, N, &o, &a, &info, err, sizeof err), 0);
    CHECK_CLOSE("base vol as given", info.base_vol, 0.3, 0);
    size_t checked = 0;
    for (size_t i = 0; i < a.n; i++) {
        const option_quote_t *q = &a.rows[i];
        double years = (double)(q->expiry - q->quote_date) / 365;
        double fwd = q->underlying * exp((o.rate - o.div) * years);
        double want = option_synth_vol(0.3, years, q->strike, fwd);
        option_t c = { q->kind, q->underlying, q->strike, years, o.rate, o.div };
        double vol;
        if (fabs(log(q->strike / fwd)) > 0.1)
            continue;
        CHECK_INT(option_implied_vol(&c, (q->bid + q->ask) / 2, &vol, NULL, 0), OPTION_IV_OK);
        CHECK_CLOSE("implied = smile", vol, want, 1e-9);
        checked++;
    }
    CHECK(checked > 20);
    /* The smile: base at the forward 30 days out, skewed up to the left. */
    CHECK_CLOSE("at the money, 30 days", option_synth_vol(0.3, 30.0 / 365, 100, 100), 0.3, 1e-15);
    CHECK(option_synth_vol(0.3, 30.0 / 365, 90, 100) > option_synth_vol(0.3, 30.0 / 365, 110, 100));
    option_chain_free(&a);
}

static int parse(const char *text, option_chain_t *c, option_csv_report_t *rep, char *err, size_t errlen)
{
    option_csv_opts_t o = { "AAA", "AAA_options.csv", day("2024-03-01"), -1 };
    return option_chain_parse_csv(text, strlen(text), &o, c, rep, err, errlen);
}

TEST(option_chain_csv_validation)
{
    option_chain_t c = { 0 };
    option_csv_report_t rep;
    char err[512];
    const char *good = "symbol,quote_date,expiry,strike,type,bid,ask,last,volume,open_interest\r\n"
                       "AAA,2024-03-01,2024-03-15,100,call,2.5,2.6,2.55,10,100\r\n"
                       "AAA,2024-03-01,2024-03-15,100,P,1.5,1.6,,0,0\r\n"
                       "\n"
                       "AAA,,2024-04-19,\"105\",Put,3,3,3,5,7\r\n";
    CHECK_INT(parse(good, &c, &rep, err, sizeof err), 0);
    CHECK_INT(c.n, 3);
    CHECK_INT(rep.rows, 3);
    CHECK_INT(c.rows[1].kind, OPTION_PUT);
    CHECK(isnan(c.rows[1].last));
    CHECK(isnan(c.rows[0].underlying));
    CHECK_INT(c.rows[2].quote_date, day("2024-03-01")); /* no quote date: the default */
    CHECK_CLOSE("quoted strike", c.rows[2].strike, 105, 0);
    option_chain_free(&c);

    /* Columns in another order, an unknown one, no symbol column. */
    const char *other = "type,strike,expiry,bid,ask,volume,open_interest,greeks,underlying_price\n"
                        "call,50,2024-06-21,1,1.2,3,4,x,49.5\n";
    CHECK_INT(parse(other, &c, &rep, err, sizeof err), 0);
    CHECK_INT(c.n, 1);
    CHECK_CLOSE("underlying", c.rows[0].underlying, 49.5, 0);
    option_chain_free(&c);

    const char *bad = "symbol,quote_date,expiry,strike,type,bid,ask,last,volume,open_interest\n"
                      "AAA,2024-03-01,2024-03-15,100,call,2.5,2.6,2.55,10,100\n"
                      "AAA,2024-03-01,2024-03-15,100,call,2.7,2.6,2.65,10,100\n"   /* 3: bid > ask */
                      "AAA,2024-03-01,2024-03-15,-5,put,1,2,1.5,10,100\n"          /* 4: strike */
                      "AAA,2024-03-01,2024-03-15,100,straddle,1,2,1.5,10,100\n"    /* 5: type */
                      "AAA,2024-03-01,2024-03-01,100,put,1,2,1.5,10,100\n"         /* 6: expiry */
                      "AAA,2024-03-01,2024-03-15,110,put,-1,2,1.5,10,100\n"        /* 7: bid */
                      "AAA,2024-03-01,2024-03-15,110,put,1,2,1.5,-3,100\n"         /* 8: volume */
                      "AAA,2024-03-01,2024-03-15,110,put,1,2,1.5,3,1.5\n"          /* 9: open interest */
                      "BBB,2024-03-01,2024-03-15,110,put,1,2,1.5,3,1\n"            /* 10: symbol */
                      "AAA,2024-03-01,2024-03-15,110,put,1,2\n"                    /* 11: fields */
                      "AAA,2024-03-01,2024-03-15,100,call,2.5,2.6,2.55,10,100\n";  /* 12: repeats 2 */
    CHECK_INT(parse(bad, &c, &rep, err, sizeof err), 1);
    CHECK_INT(c.n, 0); /* nothing kept */
    CHECK_INT(rep.rows, 11);
    CHECK_INT(rep.bad, 10);
    CHECK_INT(rep.nproblems, 10);
    CHECK(strstr(rep.problems[0], "AAA_options.csv:3: bid 2.7 is above ask 2.6") != NULL);
    CHECK(strstr(rep.problems[1], ":4: strike -5 must be a positive number") != NULL);
    CHECK(strstr(rep.problems[2], ":5: type 'straddle' is not call or put") != NULL);
    CHECK(strstr(rep.problems[3], ":6: expiry 2024-03-01 is not after the quote date 2024-03-01") != NULL);
    CHECK(strstr(rep.problems[4], ":7: bid -1 must be a non-negative number") != NULL);
    CHECK(strstr(rep.problems[5], ":8: volume -3 must not be negative") != NULL);
    CHECK(strstr(rep.problems[6], ":9: open_interest '1.5' is not a whole number") != NULL);
    CHECK(strstr(rep.problems[7], ":10: symbol BBB is not AAA") != NULL);
    CHECK(strstr(rep.problems[8], ":11: 7 fields, the header has 10") != NULL);
    CHECK(strstr(rep.problems[9], ":12: repeats the contract of line 2") != NULL);

    /* strtod's hex and infinities are no prices a chain file writes. */
    const char *hex = "symbol,expiry,strike,type,bid,ask,volume,open_interest\n"
                      "AAA,2024-03-15,0x64,call,1,1.2,1,1\n"
                      "AAA,2024-03-15,100,call,inf,1.2,1,1\n";
    CHECK_INT(parse(hex, &c, &rep, err, sizeof err), 1);
    CHECK_INT(rep.bad, 2);
    CHECK(strstr(rep.problems[0], ":2: strike") != NULL && strstr(rep.problems[0], "0x64") != NULL);
    CHECK(strstr(rep.problems[1], ":3: bid") != NULL && strstr(rep.problems[1], "inf") != NULL);
    option_chain_free(&c);

    CHECK_INT(parse("symbol,expiry,strike,type,bid,ask,volume\nAAA,2024-03-15,1,call,1,1,1\n", &c, &rep, err,
                    sizeof err), -1);
    CHECK(strstr(err, "AAA_options.csv:1: the header has no open_interest column") != NULL);
    CHECK_INT(parse("", &c, &rep, err, sizeof err), -1);
    CHECK(strstr(err, "the file is empty") != NULL);

    /* Values no contract has: the pricing's domain (spot and strike from
     * 1e-100 to 1e100, at most 100 years of 365 days to expiry) is refused here, naming
     * the field, rather than stored and counted "unsolved" by the analysis. */
    const char *domain = "symbol,quote_date,expiry,strike,type,bid,ask,volume,open_interest,underlying_price\n"
                         "AAA,2024-03-01,2024-03-15,1e-200,call,1,2,1,1,100\n"   /* 2: strike */
                         "AAA,2024-03-01,2024-03-15,1e101,call,1,2,1,1,100\n"    /* 3: strike */
                         "AAA,2024-03-01,2024-03-15,100,call,1,2,1,1,1e200\n"    /* 4: underlying_price */
                         "AAA,2024-03-01,2124-02-07,100,call,1,2,1,1,100\n"      /* 5: 36,501 days */
                         "AAA,2024-03-01,2124-02-06,100,put,1,2,1,1,1e100\n"     /* 6: the limits: fine */
                         "AAA,2024-03-01,2024-03-15,1e-100,call,1,2,1,1,1e-100\n" /* 7: fine */
                         "AAA,1969-12-31,1970-01-16,100,call,1,2,1,1,100\n"      /* 8: before 1970 */
                         "AAA,1970-01-01,1970-01-16,100,call,1,2,1,1,100\n";     /* 9: fine */
    CHECK_INT(parse(domain, &c, &rep, err, sizeof err), 1);
    CHECK_INT(rep.rows, 8);
    CHECK_INT(rep.bad, 5);
    CHECK(strstr(rep.problems[0], ":2: strike 1e-200 must be a positive number from 1e-100 to 1e100") != NULL);
    CHECK(strstr(rep.problems[1], ":3: strike 1e+101 must be a positive number from 1e-100 to 1e100") != NULL);
    CHECK(strstr(rep.problems[2], ":4: underlying_price 1e+200 must be a positive number from 1e-100 to 1e100")
          != NULL);
    CHECK(strstr(rep.problems[3], ":5: expiry 2124-02-07 is more than 100 years (36500 days) after the quote date 2024-03-01")
          != NULL);
    /* The tasks' dates run from 1970-01-01 (their results show an earlier
     * day as null), so a chain quoted before it is refused. */
    CHECK(strstr(rep.problems[4], ":8: quote_date 1969-12-31 is before 1970-01-01") != NULL);
    option_chain_free(&c);

    /* Only the rows of one quote date. */
    option_csv_opts_t o = { "AAA", "f", day("2024-03-01"), day("2024-03-04") };
    const char *two = "quote_date,expiry,strike,type,bid,ask,volume,open_interest\n"
                      "2024-03-01,2024-03-15,100,call,1,2,3,4\n"
                      "2024-03-04,2024-03-15,100,call,1,2,3,4\n";
    CHECK_INT(option_chain_parse_csv(two, strlen(two), &o, &c, &rep, err, sizeof err), 0);
    CHECK_INT(c.n, 1);
    CHECK_INT(rep.other_dates, 1);
    CHECK_INT(c.rows[0].quote_date, day("2024-03-04"));
    option_chain_free(&c);
}
