/* option_pricing.h — European options under Black–Scholes–Merton with a
 * continuous dividend yield: prices, Greeks and implied volatility.
 *
 * Conventions (docs/options.md): T is in years (calendar days / 365); r and
 * q are continuously compounded rates per year; vol is the annual volatility
 * as a fraction (0.20 is 20%). Greeks come per unit: theta per year (divide
 * by 365 for a calendar day), vega per 1.00 of vol and rho per 1.00 of rate
 * (divide by 100 for a point). Every function here is pure and thread-safe. */
#ifndef TICKQ_OPTION_PRICING_H
#define TICKQ_OPTION_PRICING_H

#include <stddef.h>

#include "data/option_kind.h"

/* The implied volatilities the solver searches. */
#define OPTION_VOL_MIN 1e-9
#define OPTION_VOL_MAX 100.0

/* The longest time to expiry a contract may have, in years: longer than any
 * option trades (listed LEAPS run about 3 years, long-dated OTC options 30),
 * so a larger T is a unit slip (days or seconds given as years), not a
 * contract to price. */
#define OPTION_YEARS_MAX 100.0

/* The spots and strikes the functions take (beyond them the discounted
 * amounts and their ratios leave the range of doubles). */
#define OPTION_AMOUNT_MIN 1e-100
#define OPTION_AMOUNT_MAX 1e100
#define OPTION_AMOUNT_RANGE "from 1e-100 to 1e100" /* the two above, for messages */

typedef struct {
    option_kind_t kind;
    double spot;   /* S > 0 */
    double strike; /* K > 0 */
    double years;  /* 0 < T <= OPTION_YEARS_MAX, time to expiry */
    double rate;   /* r, finite */
    double div;    /* q, finite */
} option_t;

typedef struct {
    double price;
    double delta; /* dV/dS */
    double gamma; /* d2V/dS2 */
    double theta; /* dV/dt = -dV/dT, per year */
    double vega;  /* dV/dvol, per 1.00 of vol */
    double rho;   /* dV/dr, per 1.00 of rate */
} option_greeks_t;

typedef enum {
    OPTION_IV_OK = 0,
    OPTION_IV_BAD_INPUT,    /* a contract field or the price is out of its domain */
    OPTION_IV_BELOW_LOWER,  /* price at or below the lower no-arbitrage bound */
    OPTION_IV_ABOVE_UPPER,  /* price at or above the upper no-arbitrage bound */
    OPTION_IV_OUT_OF_RANGE, /* the volatility is below OPTION_VOL_MIN or above OPTION_VOL_MAX */
    OPTION_IV_NO_CONVERGENCE
} option_iv_status_t;

/* 0 when the contract is valid (and vol, unless it is NaN: pass NAN to skip
 * it); else -1 with a message naming the field. */
int option_check(const option_t *o, double vol, char *err, size_t errlen);

/* The price at volatility vol. The contract must pass option_check. */
double option_price(const option_t *o, double vol);

/* The price and every Greek at volatility vol, from one set of d1, d2, N(d). */
void option_greeks(const option_t *o, double vol, option_greeks_t *g);

/* The implied volatility of `price`, to about 1e-13 relative where the price
 * carries that much information. A price has one exactly when it lies
 * strictly between the no-arbitrage bounds, call: max(0, S e^-qT - K e^-rT)
 * and S e^-qT; put: max(0, K e^-rT - S e^-qT) and K e^-rT. Returns
 * OPTION_IV_OK and *vol, or a status with a message in err (err may be NULL)
 * that names the bound (in every digit) or the field at fault. */
option_iv_status_t option_implied_vol(const option_t *o, double price, double *vol, char *err, size_t errlen);

/* Both at once, as a desk wants them from a quote: the implied volatility
 * of `price` and, when there is one, the Greeks at it in *g (the contract's
 * terms are computed once). Returns as option_implied_vol. */
option_iv_status_t option_implied_vol_greeks(const option_t *o, double price, double *vol, option_greeks_t *g,
                                             char *err, size_t errlen);

#endif
