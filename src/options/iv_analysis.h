/* iv_analysis.h — the arithmetic of the options analysis, as pure
 * functions: the ATM implied volatility of an expiry, the 30-day ATM IV
 * interpolated in total variance, IV rank and IV percentile over a
 * symbol's IV history, historical volatility, and the opportunity rules.
 * Definitions are in docs/options.md ("IV analysis", "Opportunity scan").
 * Undefined values are NaN. */
#ifndef TICKQ_IV_ANALYSIS_H
#define TICKQ_IV_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "data/db.h"

#define IV_TARGET_DAYS 30        /* the constant maturity of atm_iv_30d */
#define IV_MIN_HISTORY 20        /* days of IV (today's included) before rank and percentile exist */
#define IV_RANK_WINDOW_DAYS 365  /* 52 weeks: dates D-364 ... D */
#define IV_PERCENTILE_WINDOW 252 /* previous observations compared with today's */
/* A contract's IV is stored only when its mid determines it: the mid's last
 * bit (DBL_EPSILON x mid) moves it by at most this much (in vol: 1e-5 is a
 * thousandth of a vol point, below any IV a screen shows). Beyond, deep in
 * the money, the time value is the price's rounding and the IV noise (a
 * model-priced 11-day call with a smile of 0.4915 solved to 0.4940); the
 * contract is counted in no_arbitrage. */
#define IV_MAX_MID_ROUNDING 1e-5

/* One contract of an expiry: iv is NaN when it was not solved. */
typedef struct {
    double strike;
    option_kind_t kind;
    double iv;
    int64_t open_interest, volume;
} iv_contract_t;

/* An expiry's at-the-money point. */
typedef struct {
    int64_t expiry;
    int days;                    /* calendar days from the quote date */
    double strike;               /* the strike nearest the forward with a solved contract */
    double iv;                   /* mean of the solved call and put IVs at that strike */
    int64_t open_interest, volume; /* calls and puts at that strike */
} iv_expiry_atm_t;

/* The ATM point of one expiry's contracts given its forward: 0, or -1 when
 * no contract was solved. */
int iv_expiry_atm(const iv_contract_t *c, size_t n, double forward, iv_expiry_atm_t *out);

typedef enum {
    IV_ATM_NONE = 0,             /* no expiry: the IV is NaN */
    IV_ATM_EXACT,                /* an expiry is exactly 30 days out */
    IV_ATM_INTERPOLATED,         /* between the two expiries bracketing 30 days */
    IV_ATM_NEAREST_SHORT,        /* every expiry is under 30 days: the longest one's IV */
    IV_ATM_NEAREST_LONG          /* every expiry is over 30 days: the shortest one's IV */
} iv_atm_method_t;

typedef struct {
    double iv;
    iv_atm_method_t method;
    int near, far;               /* indexes of the expiries used (-1: none); equal for one */
} iv_atm_30d_t;

/* The ATM IV at target_days from points sorted by days: at the two
 * expiries bracketing it, the total variances w = iv^2 T are interpolated
 * linearly in T and iv = sqrt(w(T)/T). With expiries on one side only, the
 * nearest one's IV (flat extrapolation), flagged by the method. */
void iv_atm_interpolate(const iv_expiry_atm_t *pts, size_t n, int target_days, iv_atm_30d_t *out);

/* "none", "exact", "interpolated", "nearest_short", "nearest_long". */
const char *iv_atm_method_name(iv_atm_method_t m);

typedef struct {
    double rank;                 /* 0-100, NaN: fewer than 20 days or high = low */
    double percentile;           /* 0-100, NaN: fewer than 20 days */
    double low, high;            /* of the 52-week window, today included */
    size_t history;              /* days with an IV in the 52-week window, today included */
} iv_rank_t;

/* IV rank and percentile of today's `iv` on day `today`, from the earlier
 * history (dates ascending; NaN IVs and dates not before today are
 * ignored):
 *   rank = 100 (iv - low) / (high - low) over the 52 weeks ending today;
 *   percentile = 100 x share of the previous 252 observations below iv. */
void iv_rank_percentile(int64_t today, double iv, const int64_t *dates, const double *ivs, size_t n, iv_rank_t *out);

/* The opportunity rules (docs/options.md, "Opportunity scan") and their
 * defaults. */
#define IV_SCAN_SELL_MIN_RANK 50
#define IV_SCAN_BUY_MAX_RANK 20
#define IV_SCAN_MIN_OPEN_INTEREST 100
#define IV_SCAN_MIN_VOLUME 10
typedef struct {
    double sell_min_rank;
    double buy_max_rank;
    int64_t min_open_interest;
    int64_t min_volume;
} iv_scan_rules_t;

typedef enum {
    IV_SCAN_SELL = 0,
    IV_SCAN_BUY,
    IV_SCAN_NEITHER,             /* defined, liquid, matches neither side */
    IV_SCAN_NO_DATA,             /* no 30-day IV, IV rank or hv_20 */
    IV_SCAN_ILLIQUID             /* a side's rule holds but the ATM strikes are too thin */
} iv_scan_verdict_t;

/* Which side a history row ranks on, and its score there:
 *   sell: iv_rank >= sell_min_rank and iv > hv_20; score = iv_rank + 100 (iv / hv_20 - 1)
 *   buy:  iv_rank <= buy_max_rank and iv < hv_20; score = (100 - iv_rank) + 100 (1 - iv / hv_20)
 * either side also needs atm_open_interest >= min_open_interest and
 * atm_volume >= min_volume. */
iv_scan_verdict_t iv_scan_classify(const iv_history_row_t *h, const iv_scan_rules_t *r, double *score);

#endif
