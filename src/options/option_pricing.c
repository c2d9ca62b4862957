/* option_pricing.c — Black–Scholes–Merton prices, Greeks and implied
 * volatility of European options.
 *
 * Prices are computed as the out-of-the-money option's value plus the
 * forward intrinsic value (a - b for an in-the-money call, where a = S e^-qT
 * and b = K e^-rT), so the time value keeps its full relative precision and
 * a price is never below its lower no-arbitrage bound by rounding.
 *
 * The solver works on that same split: it subtracts the intrinsic value and
 * solves for the total volatility s = vol sqrt(T) of the out-of-the-money
 * option in Black's normalised form, b(x, s) = e^(x/2) N(x/s + s/2) -
 * e^(-x/2) N(x/s - s/2) with x = -|ln(a/b)| <= 0, which serves calls and
 * puts alike. b is convex in s below s_c = sqrt(2|x|) and concave above, so
 * the steps go on ln b below s_c (where b spans hundreds of orders of
 * magnitude) and on b above it. They are Householder steps of order 3
 * (quartic convergence): every derivative of b in s is vega times a short
 * expression in x and s, so they cost little more than Newton's. From the
 * Corrado-Miller starting point, two evaluations of b (two erfc each) reach
 * full precision for common contracts, three or four far in the wings. The
 * solver stops when the error the last step leaves, estimated from the
 * quartic rate, is below 1e-15 relative. Every step stays inside a bracket
 * that each evaluation narrows, with bisection as the fallback, so it
 * always ends. N(x) is computed from erfc, which keeps its relative
 * precision deep in the lower tail; far out of the money (both |d| > 3)
 * the time value, a difference of two such tails, comes from Mills' ratio
 * instead (cdf_init), in pricing and in the solver alike. */
#include "options/option_pricing.h"

#include <math.h>
#include <stdio.h>

#include "core/errmsg.h"
#include "core/numfmt.h"

#define INV_SQRT2 0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794
#define SQRT_2PI 2.50662827463100050242
#define SQRT_PI_OVER_2 1.25331413731550025121
#define MILLS_FROM 3.0 /* both |d| beyond this: the out-of-the-money value from Mills' ratio */
#define MAX_RATE_YEARS 500.0 /* |rT|, |qT| beyond this: discount factors leave the doubles */
#define MAX_STEPS 100
#define REL_TOL 1e-13  /* bracket width at which the solver stops */
#define FIRST_C 2.0   /* the error constant assumed before two steps measure it */

static double norm_cdf(double x)
{
    return 0.5 * erfc(-x * INV_SQRT2);
}

static double norm_pdf(double x)
{
    return INV_SQRT_2PI * exp(-0.5 * x * x);
}

/* e^(u^2) to about an ulp, for 0 <= u < 27: exp(u * u) would magnify the
 * rounding of u * u by u^2, so u^2 is split into hi^2, exact (hi has 24
 * bits), and the rest y = (u - hi)(u + hi), below 2^-23 u^2 < 1e-4, whose
 * exponential four terms of its series give to the last bit. */
static double exp_square(double u)
{
    double hi = (double)(float)u, y = (u - hi) * (u + hi);
    return exp(hi * hi) * (1.0 + y * (1.0 + y * (0.5 + y * (1.0 / 6.0 + y * (1.0 / 24.0)))));
}

/* Mills' ratio R(z) = N(-z) / n(z) for z >= 0, to a few ulps: sqrt(pi/2)
 * erfcx(z / sqrt 2), where erfcx(u) = e^(u^2) erfc(u). erfc and e^(u^2)
 * each magnify the rounding of u by 2 u^2, but their product does not:
 * R is as well conditioned as 1/z. Where erfc would underflow (z > 36.8)
 * the asymptotic series 1/z (1 - 1/z^2 + 3/z^4 - ...) is exact to the last
 * bit with nine terms. */
static double mills(double z)
{
    double u = z * INV_SQRT2;
    if (u < 26.0)
        return SQRT_PI_OVER_2 * erfc(u) * exp_square(u);
    double iz2 = 1.0 / (z * z), term = 1.0, sum = 1.0;
    for (int k = 1; k <= 9; k++) {
        term *= -(2.0 * k - 1.0) * iz2;
        sum += term;
    }
    return sum / z;
}

/* What every formula shares; x = ln(a/b) = ln(S/K) + (r - q)T. */
typedef struct {
    double sqrt_t, dq, dr, a, b, x;
} terms_t;

static void terms_init(const option_t *o, terms_t *t)
{
    t->sqrt_t = sqrt(o->years);
    t->dq = exp(-o->div * o->years);
    t->dr = exp(-o->rate * o->years);
    t->a = o->spot * t->dq;
    t->b = o->strike * t->dr;
    t->x = log(o->spot / o->strike) + (o->rate - o->div) * o->years;
}

static int check_amount(const char *name, double v, char *err, size_t errlen)
{
    if (isfinite(v) && v >= OPTION_AMOUNT_MIN && v <= OPTION_AMOUNT_MAX)
        return 0;
    errmsg_set(err, errlen, "%s must be a positive number " OPTION_AMOUNT_RANGE ", got %g", name, v);
    return -1;
}

int option_check(const option_t *o, double vol, char *err, size_t errlen)
{
    if (o->kind != OPTION_CALL && o->kind != OPTION_PUT) {
        errmsg_set(err, errlen, "type must be call or put");
        return -1;
    }
    if (check_amount("spot", o->spot, err, errlen) != 0 || check_amount("strike", o->strike, err, errlen) != 0)
        return -1;
    if (!isfinite(o->years) || o->years <= 0 || o->years > OPTION_YEARS_MAX) {
        errmsg_set(err, errlen, "years must be above 0 and at most %g, got %g", OPTION_YEARS_MAX, o->years);
        return -1;
    }
    /* Named with both factors: the product is at fault, not either alone. */
    if (!isfinite(o->rate) || fabs(o->rate * o->years) > MAX_RATE_YEARS) {
        errmsg_set(err, errlen, "rate must be a finite number with |rate x years| <= %g, got rate %g x years %g = %g",
                   MAX_RATE_YEARS, o->rate, o->years, o->rate * o->years);
        return -1;
    }
    if (!isfinite(o->div) || fabs(o->div * o->years) > MAX_RATE_YEARS) {
        errmsg_set(err, errlen, "div must be a finite number with |div x years| <= %g, got div %g x years %g = %g",
                   MAX_RATE_YEARS, o->div, o->years, o->div * o->years);
        return -1;
    }
    if (!isnan(vol) && !(vol >= OPTION_VOL_MIN && vol <= OPTION_VOL_MAX)) {
        errmsg_set(err, errlen, "vol must be from %g to %g (0.2 is 20%%), got %g", OPTION_VOL_MIN, OPTION_VOL_MAX,
                vol);
        return -1;
    }
    return 0;
}

static void bounds_of(const option_t *o, const terms_t *t, double *lower, double *upper)
{
    if (o->kind == OPTION_CALL) {
        *lower = t->a > t->b ? t->a - t->b : 0.0;
        *upper = t->a;
    } else {
        *lower = t->b > t->a ? t->b - t->a : 0.0;
        *upper = t->b;
    }
}

/* N(d1) and N(d2), each computed directly in whichever tail keeps its
 * precision: for the out-of-the-money side, that is the small value.
 *
 * The out-of-the-money value a N(d1) - b N(d2) (a call; the put's mirrors
 * it) is a difference of two tails. Far out, each tail carries a relative
 * error of d^2 eps from the rounding of d, which the difference magnifies
 * by |d| / (vol sqrt T): a 1e-232 put lost 6 digits. Beyond |d| =
 * MILLS_FROM on both sides it is computed as
 *   a n(d1) (R(z_lo) - R(z_hi)),  z = |x| / s -+ s / 2,  s = vol sqrt T,
 * where a n(d1) = sqrt(a b) n(x/s) e^(-s^2/8) carries the magnitude and
 * Mills' ratio R (well conditioned) the difference: the value is then as
 * exact as its inputs allow (a few ulps times its condition number). */
typedef struct {
    double inv_s;          /* 1 / (vol sqrt(T)) */
    double d1, d2, n1, n2; /* n1 = N(d1), n2 = N(d2) */
    double m1, m2;         /* N(-d1), N(-d2) */
    double otm;            /* the out-of-the-money option's value */
} cdf_t;

static void cdf_init(const terms_t *t, double vol, cdf_t *c)
{
    double s = vol * t->sqrt_t;
    c->inv_s = 1.0 / s;
    c->d1 = t->x * c->inv_s + 0.5 * s;
    c->d2 = c->d1 - s;
    if (t->a <= t->b) { /* call out of the money: N(d1), N(d2) are the tails */
        c->n1 = norm_cdf(c->d1);
        c->n2 = norm_cdf(c->d2);
        c->m1 = 1.0 - c->n1;
        c->m2 = 1.0 - c->n2;
        c->otm = t->a * c->n1 - t->b * c->n2;
    } else {
        c->m1 = norm_cdf(-c->d1);
        c->m2 = norm_cdf(-c->d2);
        c->n1 = 1.0 - c->m1;
        c->n2 = 1.0 - c->m2;
        c->otm = t->b * c->m2 - t->a * c->m1;
    }
    double h = fabs(t->x) * c->inv_s, half = 0.5 * s;
    if (h - half > MILLS_FROM) {
        double scale = sqrt(t->a) * sqrt(t->b) * INV_SQRT_2PI * exp(-0.5 * (h * h + half * half));
        c->otm = scale * (mills(h - half) - mills(h + half));
    }
    if (c->otm < 0) /* cancellation at the last bit */
        c->otm = 0;
}

static double price_of(const option_t *o, const terms_t *t, const cdf_t *c)
{
    int call = o->kind == OPTION_CALL;
    if (call == (t->a <= t->b))
        return c->otm;
    return c->otm + (call ? t->a - t->b : t->b - t->a);
}

double option_price(const option_t *o, double vol)
{
    terms_t t;
    cdf_t c;
    terms_init(o, &t);
    cdf_init(&t, vol, &c);
    return price_of(o, &t, &c);
}

static void greeks_at(const option_t *o, const terms_t *t, double vol, option_greeks_t *g)
{
    cdf_t c;
    cdf_init(t, vol, &c);
    double pdf = norm_pdf(c.d1);
    double decay = -0.5 * t->a * pdf * vol * vol * c.inv_s; /* -a n(d1) vol / (2 sqrt T), both types */
    g->price = price_of(o, t, &c);
    g->gamma = t->dq * pdf * c.inv_s / o->spot;
    g->vega = t->a * pdf * t->sqrt_t;
    if (o->kind == OPTION_CALL) {
        g->delta = t->dq * c.n1;
        g->theta = decay - o->rate * t->b * c.n2 + o->div * t->a * c.n1;
        g->rho = o->years * t->b * c.n2;
    } else {
        g->delta = -t->dq * c.m1;
        g->theta = decay + o->rate * t->b * c.m2 - o->div * t->a * c.m1;
        g->rho = -o->years * t->b * c.m2;
    }
}

void option_greeks(const option_t *o, double vol, option_greeks_t *g)
{
    terms_t t;
    terms_init(o, &t);
    greeks_at(o, &t, vol, g);
}

/* --- the solver, in normalised form ----------------------------------- */

/* Black's normalised out-of-the-money call: x <= 0, ex = e^(x/2). */
typedef struct {
    double x, ex, iex, beta; /* iex = 1/ex; beta is the target value */
} normalised_t;

/* b(x, s) into *b and db/ds (the normalised vega) into *v, with inv_s =
 * 1/s; far out, as cdf_init, from Mills' ratio: b = v (R(z_lo) - R(z_hi)). */
static inline void nb_eval(const normalised_t *p, double s, double inv_s, double *b, double *v)
{
    double h = -p->x * inv_s, half = 0.5 * s;
    if (h - half > MILLS_FROM) {
        *v = INV_SQRT_2PI * exp(-0.5 * (h * h + half * half));
        *b = *v * (mills(h - half) - mills(h + half));
        return;
    }
    double d1 = half - h;
    *b = p->ex * norm_cdf(d1) - p->iex * norm_cdf(d1 - s);
    *v = p->ex * norm_pdf(d1);
}

static double nb_value(const normalised_t *p, double s)
{
    double b, v;
    nb_eval(p, s, 1.0 / s, &b, &v);
    return b;
}

/* A starting point: Corrado and Miller's extension of Brenner and
 * Subrahmanyam's b ~ s / sqrt(2 pi) at the money, in normalised units
 * (discounted forward e^(x/2), strike e^(-x/2)). It is typically within 10%
 * of s near the money and within a factor of 2 deep in the wings, where
 * the steps on ln b take large strides safely. (An asymptotic guess for the
 * wings saved a tenth of an evaluation there but cost more than that, in
 * logarithms, on the common contracts.) */
static double nb_guess(const normalised_t *p)
{
    double half_gap = 0.5 * (p->ex - p->iex);
    double c = p->beta - half_gap;
    double disc = c * c - (4.0 / M_PI) * half_gap * half_gap;
    return SQRT_2PI / (p->ex + p->iex) * (c + sqrt(disc > 0 ? disc : 0));
}

/* One Householder step of order 3 (quartic convergence) for f with
 * derivatives f1, f2, f3; the Newton step where that is not a sound one.
 * One division: they are a good part of the solver's time. */
static double householder3(double f, double f1, double f2, double f3)
{
    double num = (6.0 * f1 * f1 - 3.0 * f * f2) * f1;
    double den = 6.0 * f1 * f1 * f1 - 6.0 * f * f1 * f2 + f * f * f3;
    /* The step is the Newton step f/f1 times num/den, which must lie in (0, 2). */
    if (num * den > 0 && fabs(num) < 2.0 * fabs(den))
        return f * num / (f1 * den);
    return f / f1;
}

/* Solves b(x, s) = beta for s in (lo, hi); returns the number of
 * evaluations of b, or -1 when the step budget ran out. */
static int nb_solve(const normalised_t *p, double lo, double hi, double *s_out)
{
    double x = p->x, x2 = x * x;
    double s_c = sqrt(-2.0 * x);
    double s = nb_guess(p), prev_rel = 0, inv_beta = 1.0 / p->beta;
    if (!(s > lo && s < hi))
        s = s < hi ? sqrt(lo * hi) : 0.5 * (lo + hi);
    for (int it = 0; it < MAX_STEPS; it++) {
        double inv_s = 1.0 / s, bs, v; /* v = db/ds */
        nb_eval(p, s, inv_s, &bs, &v);
        if (bs == p->beta) {
            *s_out = s;
            return it + 1;
        }
        if (bs < p->beta)
            lo = s;
        else
            hi = s;
        double h = x2 * inv_s * inv_s * inv_s - 0.25 * s;  /* (d2b/ds2) / (db/ds) */
        double h1 = -3.0 * x2 * inv_s * inv_s * inv_s * inv_s - 0.25; /* dh/ds */
        double step = NAN;
        if (v > 0 && bs > 0) {
            if (s < s_c) { /* ln b - ln beta */
                double a = v / bs, f2 = a * (h - a);
                step = householder3(log(bs * inv_beta), a, f2, f2 * (h - 2.0 * a) + a * h1);
            } else { /* b - beta */
                step = householder3(bs - p->beta, v, v * h, v * (h * h + h1));
            }
        }
        double next = s - step;
        int inside = next > lo && next < hi;
        /* Quartic convergence: the relative error left after a step of
         * relative size rel is about C rel^4, where C = rel / prev_rel^4 is
         * measured from the last two steps (FIRST_C before there are two).
         * Stop when that is below 1e-15, written without a division. */
        double rel = fabs(step) * inv_s, rel2 = rel * rel;
        double scale = prev_rel > 0 ? prev_rel * prev_rel * prev_rel * prev_rel : rel / FIRST_C;
        if (rel <= REL_TOL || (inside && rel <= 1e-2 && rel * rel2 * rel2 <= 1e-15 * scale)) {
            *s_out = next;
            return it + 1;
        }
        prev_rel = inside ? rel : 0;
        /* Outside the bracket, or slow (every other step after the first
         * dozen): bisect, which bounds the work in every case. */
        if (!inside || (it >= 12 && it % 2 == 0))
            next = hi > 4.0 * lo ? sqrt(lo * hi) : 0.5 * (lo + hi);
        if (hi - lo <= REL_TOL * next) {
            *s_out = next;
            return it + 1;
        }
        s = next;
    }
    *s_out = s;
    return -1;
}

/* The solver on a valid contract's terms; see option_implied_vol. */
static option_iv_status_t implied_vol(const option_t *o, const terms_t *t, double price, double *vol, char *err,
                                      size_t errlen)
{
    if (!isfinite(price) || price <= 0) {
        errmsg_set(err, errlen, "price must be a positive number, got %g", price);
        return OPTION_IV_BAD_INPUT;
    }
    int call = o->kind == OPTION_CALL;
    double lower, upper;
    bounds_of(o, t, &lower, &upper);
    /* Prices and bounds in every digit: "price 10 is at or below the bound
     * 10" would hide the 1e-11 that tells them apart. */
    char shown[NUMFMT_MAX], bound[NUMFMT_MAX];
    if (price <= lower) {
        numfmt_shortest(price, shown);
        numfmt_shortest(lower, bound);
        errmsg_set(err, errlen, "no solution: price %s is at or below the lower no-arbitrage bound %s = %s", shown,
                   bound, call ? "max(0, S e^-qT - K e^-rT)" : "max(0, K e^-rT - S e^-qT)");
        return OPTION_IV_BELOW_LOWER;
    }
    normalised_t p;
    p.x = -fabs(t->x);
    p.ex = exp(0.5 * p.x);
    p.iex = 1.0 / p.ex;
    /* The out-of-the-money option's price over sqrt(a b); lo / sqrt(a b) = e^(x/2). */
    p.beta = (price - lower) / fmin(t->a, t->b) * p.ex;
    if (price >= upper || p.beta >= p.ex) { /* the second: within rounding of the bound */
        numfmt_shortest(price, shown);
        numfmt_shortest(upper, bound);
        errmsg_set(err, errlen, "no solution: price %s is at or above the upper no-arbitrage bound %s = %s", shown,
                   bound, call ? "S e^-qT" : "K e^-rT");
        return OPTION_IV_ABOVE_UPPER;
    }
    double s_lo = OPTION_VOL_MIN * t->sqrt_t, s_hi = OPTION_VOL_MAX * t->sqrt_t, s;
    if (nb_solve(&p, s_lo, s_hi, &s) < 0) {
        numfmt_shortest(price, shown);
        errmsg_set(err, errlen, "no solution: the solver did not converge (price %s)", shown);
        return OPTION_IV_NO_CONVERGENCE;
    }
    if ((s <= s_lo * (1 + 1e-9) && nb_value(&p, s_lo) >= p.beta) ||
        (s >= s_hi * (1 - 1e-9) && nb_value(&p, s_hi) <= p.beta)) {
        numfmt_shortest(price, shown);
        errmsg_set(err, errlen, "no solution: the implied volatility of price %s is outside %g to %g", shown,
                   OPTION_VOL_MIN, OPTION_VOL_MAX);
        return OPTION_IV_OUT_OF_RANGE;
    }
    *vol = s / t->sqrt_t;
    return OPTION_IV_OK;
}

option_iv_status_t option_implied_vol(const option_t *o, double price, double *vol, char *err, size_t errlen)
{
    if (option_check(o, NAN, err, errlen) != 0)
        return OPTION_IV_BAD_INPUT;
    terms_t t;
    terms_init(o, &t);
    return implied_vol(o, &t, price, vol, err, errlen);
}

option_iv_status_t option_implied_vol_greeks(const option_t *o, double price, double *vol, option_greeks_t *g,
                                             char *err, size_t errlen)
{
    if (option_check(o, NAN, err, errlen) != 0)
        return OPTION_IV_BAD_INPUT;
    terms_t t;
    terms_init(o, &t);
    option_iv_status_t st = implied_vol(o, &t, price, vol, err, errlen);
    if (st == OPTION_IV_OK)
        greeks_at(o, &t, *vol, g);
    return st;
}
