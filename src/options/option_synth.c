/* option_synth.c — synthetic option chains generated from daily bars
 * (option_synth.h, docs/options.md "Synthetic chains").
 *
 * A chain is a pure function of the bars and the knobs: the base
 * volatility comes from hv_20 (or the vol knob), the smile from
 * option_synth_vol, and the day's noise, open interest and volume from a
 * hash of (seed, symbol, quote date, contract), never from a clock or a
 * global RNG. Same inputs, same chain. */
#include "options/option_synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "data/feature.h"
#include "options/option_chain.h"
#include "options/option_pricing.h"

void option_synth_defaults(option_synth_opts_t *o)
{
    o->expiries = 4;
    o->strikes = 10;
    o->vol = NAN;
    o->vol_premium = 1.1;
    o->noise = 0.15;
    o->rate = 0.04;
    o->div = 0;
    o->round_cents = 1;
    o->seed = 1;
}

int64_t option_third_friday(int year, int month)
{
    int64_t first = clock_days_from_civil(year, month, 1);
    int dow = (int)(((first + 4) % 7 + 7) % 7); /* 0 Sunday; 1970-01-01 was a Thursday */
    int to_friday = (5 - dow + 7) % 7;
    return first + to_friday + 14;
}

double option_synth_vol(double base, double years, double strike, double forward)
{
    double z = log(strike / forward) / (base * sqrt(years));
    z = z < -4 ? -4 : z > 4 ? 4 : z;
    return base * (1 - 0.05 * log(365 * years / 30)) * (1 - 0.06 * z + 0.02 * z * z);
}

static uint64_t mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A uniform number in [0, 1) from the seed, the symbol and up to three
 * integers: the same arguments always give the same number. */
static double hash01(uint64_t seed, const char *symbol, int64_t a, int64_t b, int64_t c)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a of the symbol */
    for (const unsigned char *s = (const unsigned char *)symbol; *s; s++)
        h = (h ^ *s) * 0x100000001b3ULL;
    h = mix64(h ^ mix64(seed));
    h = mix64(h ^ (uint64_t)a);
    h = mix64(h ^ (uint64_t)b);
    h = mix64(h ^ (uint64_t)c);
    return (double)(h >> 11) / 9007199254740992.0;
}

/* The listing increment of strikes for a spot. */
static double strike_step(double spot)
{
    return spot < 5 ? 0.5 : spot < 25 ? 1 : spot < 100 ? 2.5 : spot < 250 ? 5 : spot < 1000 ? 10 : 25;
}

/* Bid and ask around a model price: a spread of about 4% of the price,
 * in whole cents (at least 1 cent each side, at most 50) when rounding. */
static void quote_around(double price, int round_cents, double *bid, double *ask, double *last)
{
    if (!round_cents) {
        double h = 0.02 * price;
        *bid = price - h;
        *ask = price + h;
        *last = price;
        return;
    }
    long long pc = llround(price * 100);
    long long hc = llround((double)pc * 0.02);
    hc = hc < 1 ? 1 : hc > 50 ? 50 : hc;
    *bid = (double)(pc > hc ? pc - hc : 0) / 100.0;
    *ask = (double)(pc + hc) / 100.0;
    *last = (double)pc / 100.0;
}

int option_synth_chain(const char *symbol, const int64_t *ts, const double *close, const double *volume, size_t n,
                       const option_synth_opts_t *o, option_chain_t *out, option_synth_info_t *info, char *err,
                       size_t errlen)
{
    if (n == 0 || !(close[n - 1] > 0)) {
        snprintf(err, errlen, "%s has no daily bar with a positive close to quote options around", symbol);
        return -1;
    }
    double hv20 = feature_hv_last(close, n, 20);
    double adv = 0;
    size_t from = n > 20 ? n - 20 : 0;
    for (size_t i = from; i < n; i++)
        adv += volume[i] / (double)(n - from);
    int64_t day = ts[n - 1] / 86400;
    double spot = close[n - 1];
    double base = isfinite(o->vol) ? o->vol : isfinite(hv20) ? hv20 * o->vol_premium : 0.25;
    base *= 1 + o->noise * (2 * hash01(o->seed, symbol, day, 0, 0) - 1);
    base = base < 0.01 ? 0.01 : base > 5 ? 5 : base;
    info->quote_date = day;
    info->spot = spot;
    info->hv_20 = hv20;
    info->base_vol = base;

    double step = strike_step(spot);
    double center = round(spot / step) * step;
    double oi_base = adv > 0 ? adv / 200 : 2000;
    int y, m, d;
    clock_civil_from_days(day, &y, &m, &d);
    for (int e = 0; e < o->expiries;) {
        int64_t expiry = option_third_friday(y, m);
        if (++m > 12) {
            m = 1;
            y++;
        }
        if (expiry <= day)
            continue;
        double years = (double)(expiry - day) / 365.0;
        double forward = spot * exp((o->rate - o->div) * years);
        for (int k = -o->strikes; k <= o->strikes; k++) {
            double strike = center + k * step;
            if (strike <= 0)
                continue;
            double vol = option_synth_vol(base, years, strike, forward);
            double z = log(strike / forward) / (base * sqrt(years));
            for (int kind = OPTION_CALL; kind <= OPTION_PUT; kind++) {
                option_t c = { (option_kind_t)kind, spot, strike, years, o->rate, o->div };
                option_quote_t q;
                memset(&q, 0, sizeof q);
                snprintf(q.symbol, sizeof q.symbol, "%s", symbol);
                q.quote_date = day;
                q.expiry = expiry;
                q.strike = strike;
                q.kind = (option_kind_t)kind;
                quote_around(option_price(&c, vol), o->round_cents, &q.bid, &q.ask, &q.last);
                double u1 = hash01(o->seed, symbol, day, expiry * 4 + kind, llround(strike * 1000));
                double u2 = hash01(o->seed ^ 0x5bd1e995u, symbol, day, expiry * 4 + kind, llround(strike * 1000));
                q.open_interest = llround(oi_base * exp(-0.5 * z * z) / (1 + 0.3 * e) * (0.5 + u1));
                q.volume = llround((double)q.open_interest * (0.05 + 0.15 * u2));
                q.underlying = spot;
                if (option_chain_push(out, &q) != 0) {
                    snprintf(err, errlen, "out of memory");
                    return -1;
                }
            }
        }
        e++;
    }
    return 0;
}
