/* iv_analysis.c — ATM implied volatility, IV rank and percentile,
 * historical volatility and the opportunity rules (iv_analysis.h). Pure
 * functions: no I/O, no globals. */
#include "options/iv_analysis.h"

#include <math.h>
#include <stdlib.h>

#include "data/feature.h"

int iv_expiry_atm(const iv_contract_t *c, size_t n, double forward, iv_expiry_atm_t *out)
{
    /* The strike nearest the forward among those with a solved contract
     * (ties: the lower strike, which comes first). */
    size_t best = n;
    for (size_t i = 0; i < n; i++) {
        if (isnan(c[i].iv))
            continue;
        if (best == n || fabs(c[i].strike - forward) < fabs(c[best].strike - forward))
            best = i;
    }
    if (best == n)
        return -1;
    double k = c[best].strike, sum = 0;
    int solved = 0;
    out->strike = k;
    out->open_interest = 0;
    out->volume = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i].strike != k)
            continue;
        out->open_interest += c[i].open_interest;
        out->volume += c[i].volume;
        if (!isnan(c[i].iv)) {
            sum += c[i].iv;
            solved++;
        }
    }
    out->iv = sum / solved;
    return 0;
}

void iv_atm_interpolate(const iv_expiry_atm_t *pts, size_t n, int target_days, iv_atm_30d_t *out)
{
    out->iv = NAN;
    out->method = IV_ATM_NONE;
    out->near = out->far = -1;
    if (n == 0)
        return;
    int near = -1, far = -1; /* last with days <= target, first with days > target */
    for (size_t i = 0; i < n; i++) {
        if (pts[i].days <= target_days)
            near = (int)i;
        else if (far < 0)
            far = (int)i;
    }
    if (near >= 0 && pts[near].days == target_days) {
        out->iv = pts[near].iv;
        out->method = IV_ATM_EXACT;
        out->near = out->far = near;
    } else if (near >= 0 && far >= 0) {
        double t1 = pts[near].days / 365.0, t2 = pts[far].days / 365.0, t = target_days / 365.0;
        double w1 = pts[near].iv * pts[near].iv * t1, w2 = pts[far].iv * pts[far].iv * t2;
        double w = w1 + (w2 - w1) * (t - t1) / (t2 - t1);
        out->iv = w > 0 ? sqrt(w / t) : NAN;
        out->method = IV_ATM_INTERPOLATED;
        out->near = near;
        out->far = far;
    } else if (near >= 0) {
        out->iv = pts[near].iv;
        out->method = IV_ATM_NEAREST_SHORT;
        out->near = out->far = near;
    } else {
        out->iv = pts[far].iv;
        out->method = IV_ATM_NEAREST_LONG;
        out->near = out->far = far;
    }
}

const char *iv_atm_method_name(iv_atm_method_t m)
{
    switch (m) {
    case IV_ATM_EXACT: return "exact";
    case IV_ATM_INTERPOLATED: return "interpolated";
    case IV_ATM_NEAREST_SHORT: return "nearest_short";
    case IV_ATM_NEAREST_LONG: return "nearest_long";
    case IV_ATM_NONE: break;
    }
    return "none";
}

void iv_rank_percentile(int64_t today, double iv, const int64_t *dates, const double *ivs, size_t n, iv_rank_t *out)
{
    out->rank = out->percentile = out->low = out->high = NAN;
    out->history = 0;
    if (!isfinite(iv))
        return;
    double lo = iv, hi = iv;
    size_t in_window = 1, past = 0, below = 0;
    /* Walk back from the latest earlier day: the 52-week window and the
     * previous IV_PERCENTILE_WINDOW observations both end there. */
    for (size_t k = n; k-- > 0;) {
        if (dates[k] >= today || !isfinite(ivs[k]))
            continue;
        int in_rank = dates[k] > today - IV_RANK_WINDOW_DAYS;
        int in_pct = past < IV_PERCENTILE_WINDOW;
        if (!in_rank && !in_pct)
            break;
        if (in_rank) {
            in_window++;
            lo = ivs[k] < lo ? ivs[k] : lo;
            hi = ivs[k] > hi ? ivs[k] : hi;
        }
        if (in_pct) {
            past++;
            below += ivs[k] < iv;
        }
    }
    out->history = in_window;
    out->low = lo;
    out->high = hi;
    /* Null only when every IV of the window is the same number: rank is
     * the formula on the stored IVs, however close high and low are (their
     * difference is exact), as a user recomputing it from iv_history gets. */
    if (in_window >= IV_MIN_HISTORY && hi > lo)
        out->rank = 100.0 * (iv - lo) / (hi - lo);
    if (past + 1 >= IV_MIN_HISTORY)
        out->percentile = 100.0 * (double)below / (double)past;
}

iv_scan_verdict_t iv_scan_classify(const iv_history_row_t *h, const iv_scan_rules_t *r, double *score)
{
    *score = NAN;
    double iv = h->atm_iv_30d, rank = h->iv_rank, hv = h->hv_20;
    if (!isfinite(iv) || !isfinite(rank) || !isfinite(hv) || hv <= 0)
        return IV_SCAN_NO_DATA;
    iv_scan_verdict_t side = IV_SCAN_NEITHER;
    double s = NAN;
    if (rank >= r->sell_min_rank && iv > hv) {
        side = IV_SCAN_SELL;
        s = rank + 100.0 * (iv / hv - 1.0);
    } else if (rank <= r->buy_max_rank && iv < hv) {
        side = IV_SCAN_BUY;
        s = (100.0 - rank) + 100.0 * (1.0 - iv / hv);
    }
    if (side == IV_SCAN_NEITHER)
        return side;
    if (h->atm_open_interest < r->min_open_interest || h->atm_volume < r->min_volume)
        return IV_SCAN_ILLIQUID;
    *score = s;
    return side;
}
