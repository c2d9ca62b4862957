/* option_synth.h — synthetic option chains: a chain generated from a
 * symbol's daily bars, for the synthetic provider of update_options_data
 * (docs/options.md, "Synthetic chains").
 *
 * Monthly expiries (third Fridays) after the quote date, strikes on the
 * listing grid around the spot, prices from Black-Scholes at a smile over
 * a base volatility (hv_20 x vol_premium unless set), with a day's noise,
 * open interest and volume drawn from a hash of the seed, symbol, quote
 * date and contract: the same bars and knobs always give the same chain. */
#ifndef TICKQ_OPTION_SYNTH_H
#define TICKQ_OPTION_SYNTH_H

#include <stddef.h>
#include <stdint.h>

struct option_chain; /* option_chain.h */

/* The synthetic provider's knobs (docs/options.md, "Synthetic chains"). */
typedef struct {
    int expiries;                /* monthly expiries (third Fridays) after the quote date: 4 */
    int strikes;                 /* strikes each side of the one nearest the spot: 10 */
    double vol;                  /* the base volatility; NaN: hv_20 x vol_premium */
    double vol_premium;          /* 1.1 */
    double noise;                /* relative amplitude of the day's noise on the base: 0.15 */
    double rate, div;            /* pricing rate and dividend yield: 0.04, 0 */
    int round_cents;             /* prices and spreads in cents: 1 */
    uint64_t seed;               /* 1 */
} option_synth_opts_t;

void option_synth_defaults(option_synth_opts_t *o);

/* What a synthetic chain was generated from. */
typedef struct {
    int64_t quote_date;
    double spot, hv_20, base_vol;
} option_synth_info_t;

/* The third Friday of a month, as days since 1970-01-01. */
int64_t option_third_friday(int year, int month);

/* The synthetic smile: the volatility of strike K at T years with forward
 * F, for a base volatility `base`:
 *   z = clamp(ln(K/F) / (base sqrt(T)), -4, 4)
 *   vol = base (1 - 0.05 ln(365 T / 30)) (1 - 0.06 z + 0.02 z^2). */
double option_synth_vol(double base, double years, double strike, double forward);

/* Generates the chain of `symbol` quoted at the last of its n daily bars
 * (closes and volumes in date order, ts in epoch seconds) and appends it to
 * *out (an option_chain_t). Same inputs, same chain. 0, or -1 with err. */
int option_synth_chain(const char *symbol, const int64_t *ts, const double *close, const double *volume, size_t n,
                       const option_synth_opts_t *o, struct option_chain *out, option_synth_info_t *info, char *err,
                       size_t errlen);

#endif
