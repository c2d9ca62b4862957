/* test_options.c — option pricing: published Black–Scholes–Merton values,
 * put–call parity, every Greek against finite differences of the price, and
 * implied volatility: the no-arbitrage bounds, extreme contracts, and a
 * price -> vol -> price round trip over two grids (strikes as K/S and as
 * standard deviations from the forward) with the skipped points counted. */
#include <float.h>
#include <math.h>

#include "options/option_pricing.h"
#include "unit.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static option_t contract(option_kind_t kind, double S, double K, double T, double r, double q)
{
    option_t o = { kind, S, K, T, r, q };
    return o;
}

/* Matches a value published to 4 decimals. */
static void check_4dp(const char *what, double got, double want, int line)
{
    if (fabs(got - want) >= 5e-5)
        unit_fail(__FILE__, line, "%s = %.6f, want %.4f", what, got, want);
}

#define CHECK_4DP(what, got, want) check_4dp(what, got, want, __LINE__)

static void check_close(const char *what, double got, double want, double tol, int line)
{
    if (!(fabs(got - want) <= tol))
        unit_fail(__FILE__, line, "%s = %.15g, want %.15g (tolerance %.3g)", what, got, want, tol);
}

#define CHECK_CLOSE(what, got, want, tol) check_close(what, got, want, tol, __LINE__)

/* The no-arbitrage bounds option_implied_vol solves between (its header):
 * call max(0, S e^-qT - K e^-rT) and S e^-qT, put max(0, K e^-rT - S e^-qT)
 * and K e^-rT, computed as the solver computes them, to the last bit. */
static void bounds(const option_t *o, double *lower, double *upper)
{
    double a = o->spot * exp(-o->div * o->years), b = o->strike * exp(-o->rate * o->years);
    if (o->kind == OPTION_CALL) {
        *lower = a > b ? a - b : 0.0;
        *upper = a;
    } else {
        *lower = b > a ? b - a : 0.0;
        *upper = b;
    }
}

/* The bound a refusal names, read back from its message (every digit). */
static double bound_in(const char *err)
{
    const char *at = strstr(err, " bound ");
    double v;
    return at != NULL && sscanf(at + 7, "%lf", &v) == 1 ? v : NAN;
}

/* Examples from Haug, The Complete Guide to Option Pricing Formulas, where
 * the cost of carry b is r - q. */
TEST(options_published_values)
{
    option_t c = contract(OPTION_CALL, 60, 65, 0.25, 0.08, 0);
    CHECK_4DP("call price", option_price(&c, 0.30), 2.1334);
    option_t p = contract(OPTION_PUT, 100, 95, 0.5, 0.10, 0.05);
    CHECK_4DP("put price", option_price(&p, 0.20), 2.4648);

    option_greeks_t g;
    option_t d = contract(OPTION_CALL, 105, 100, 0.5, 0.10, 0.10);
    option_greeks(&d, 0.36, &g);
    CHECK_4DP("call delta", g.delta, 0.5946);
    d.kind = OPTION_PUT;
    option_greeks(&d, 0.36, &g);
    CHECK_4DP("put delta", g.delta, -0.3566);

    option_t e = contract(OPTION_CALL, 55, 60, 0.75, 0.10, 0);
    option_greeks(&e, 0.30, &g);
    CHECK_4DP("gamma", g.gamma, 0.0278);
    CHECK_4DP("vega", g.vega, 18.9358);
    CHECK_4DP("price from option_greeks", g.price, option_price(&e, 0.30));
}

static const double par_strikes[] = { 50, 80, 95, 100, 105, 120, 200 };
static const double par_years[] = { 1.0 / 365, 0.1, 1, 3 };
static const double par_vols[] = { 0.05, 0.2, 0.6, 1.5 };
static const double par_rates[] = { -0.01, 0, 0.07 };
static const double par_divs[] = { 0, 0.04 };

TEST(options_put_call_parity)
{
    for (size_t a = 0; a < NELEM(par_strikes); a++)
        for (size_t b = 0; b < NELEM(par_years); b++)
            for (size_t c = 0; c < NELEM(par_vols); c++)
                for (size_t d = 0; d < NELEM(par_rates); d++)
                    for (size_t e = 0; e < NELEM(par_divs); e++) {
                        double S = 100, K = par_strikes[a], T = par_years[b], r = par_rates[d], q = par_divs[e];
                        double vol = par_vols[c];
                        option_t call = contract(OPTION_CALL, S, K, T, r, q);
                        option_t put = contract(OPTION_PUT, S, K, T, r, q);
                        option_greeks_t gc, gp;
                        option_greeks(&call, vol, &gc);
                        option_greeks(&put, vol, &gp);
                        double dq = exp(-q * T), dr = exp(-r * T);
                        CHECK_CLOSE("C - P", gc.price - gp.price, S * dq - K * dr, 1e-12 * (S + K));
                        CHECK_CLOSE("delta C - delta P", gc.delta - gp.delta, dq, 1e-14);
                        CHECK_CLOSE("gamma C - gamma P", gc.gamma, gp.gamma, 1e-15);
                        CHECK_CLOSE("vega C - vega P", gc.vega, gp.vega, 1e-12);
                        CHECK_CLOSE("theta C - theta P", gc.theta - gp.theta, q * S * dq - r * K * dr, 1e-11);
                        CHECK_CLOSE("rho C - rho P", gc.rho - gp.rho, K * T * dr, 1e-11);
                        CHECK(gc.price >= 0 && gp.price >= 0);
                    }
}

/* Central differences of the price, each against the analytic Greek. The
 * steps balance truncation (h^2) against rounding (eps / h, eps / h^2 for
 * gamma); the tolerances are about 10x the worst error seen. */
TEST(options_greeks_match_finite_differences)
{
    static const double strikes[] = { 70, 90, 100, 110, 140 };
    static const double years[] = { 0.05, 0.5, 2 };
    static const double vols[] = { 0.1, 0.3, 0.8 };
    static const double rates[] = { 0, 0.05 };
    static const double divs[] = { 0, 0.03 };
    int checked = 0;
    for (size_t a = 0; a < NELEM(strikes); a++)
        for (size_t b = 0; b < NELEM(years); b++)
            for (size_t c = 0; c < NELEM(vols); c++)
                for (size_t d = 0; d < NELEM(rates); d++)
                    for (size_t e = 0; e < NELEM(divs); e++)
                        for (int k = 0; k < 2; k++) {
                            option_t o = contract(k ? OPTION_PUT : OPTION_CALL, 100, strikes[a], years[b], rates[d],
                                                  divs[e]);
                            double vol = vols[c];
                            option_greeks_t g;
                            option_greeks(&o, vol, &g);
                            option_t up = o, down = o;
                            double h = 1e-5 * o.spot;
                            up.spot += h;
                            down.spot -= h;
                            double delta = (option_price(&up, vol) - option_price(&down, vol)) / (2 * h);
                            CHECK_CLOSE("delta", delta, g.delta, 1e-8);
                            up = o, down = o;
                            h = 1e-4 * o.spot;
                            up.spot += h;
                            down.spot -= h;
                            double gamma = (option_price(&up, vol) - 2 * g.price + option_price(&down, vol)) / (h * h);
                            CHECK_CLOSE("gamma", gamma, g.gamma, 1e-4 * g.gamma + 1e-9);
                            up = o, down = o;
                            h = 1e-5 * o.years;
                            up.years += h;
                            down.years -= h;
                            double theta = -(option_price(&up, vol) - option_price(&down, vol)) / (2 * h);
                            CHECK_CLOSE("theta", theta, g.theta, 1e-7 * (fabs(g.theta) + 1));
                            h = 1e-5;
                            double vega = (option_price(&o, vol + h) - option_price(&o, vol - h)) / (2 * h);
                            CHECK_CLOSE("vega", vega, g.vega, 1e-7 * (g.vega + 1));
                            up = o, down = o;
                            up.rate += h;
                            down.rate -= h;
                            double rho = (option_price(&up, vol) - option_price(&down, vol)) / (2 * h);
                            CHECK_CLOSE("rho", rho, g.rho, 1e-7 * (fabs(g.rho) + 1));
                            checked++;
                        }
    CHECK_INT(checked, 360);
}

/* What the round trip over a grid found. */
typedef struct {
    int points;       /* contracts priced */
    int recovered;    /* vol recovered to 1e-10 */
    int no_info;      /* time value below 1e-12 S: skipped */
    int unidentified; /* price rounding alone moves vol by more than 1e-11: vol not checked */
    int lost_pairs;   /* call and put at one point, neither recovered nor no_info: must be 0 */
    double max_vol_error, max_price_error;
} round_trip_t;

typedef enum { RT_RECOVERED, RT_NO_INFO, RT_UNIDENTIFIED, RT_FAILED } rt_outcome_t;

/* Prices the contract at vol, solves for the vol again and checks both.
 * The price's own rounding (about DBL_EPSILON * price) moves the implied
 * vol by DBL_EPSILON * price / vega: where that exceeds 1e-11 (deep in the
 * money, near expiry) vol is not identifiable to 1e-10 and only the price
 * round trip is checked. Where the time value is below 1e-12 S (zero in
 * doubles, often) the price carries no information and only the status is
 * checked. */
static rt_outcome_t round_trip(const option_t *o, double vol, round_trip_t *rt, int line)
{
    option_greeks_t g;
    option_greeks(o, vol, &g);
    double lower, upper, iv = NAN;
    bounds(o, &lower, &upper);
    char err[256];
    option_iv_status_t st = option_implied_vol(o, g.price, &iv, err, sizeof err);
    rt->points++;
    if (g.price - lower < 1e-12 * o->spot) {
        rt->no_info++;
        /* a price of exactly 0 is not a price (bad input) */
        if (st != OPTION_IV_OK && st != OPTION_IV_BELOW_LOWER && st != OPTION_IV_OUT_OF_RANGE &&
            !(st == OPTION_IV_BAD_INPUT && g.price == 0))
            unit_fail(__FILE__, line, "%s S=%g K=%g T=%g r=%g q=%g vol=%g: %s", option_kind_name(o->kind), o->spot,
                      o->strike, o->years, o->rate, o->div, vol, err);
        return RT_NO_INFO;
    }
    if (st != OPTION_IV_OK) {
        unit_fail(__FILE__, line, "%s S=%g K=%g T=%g r=%g q=%g vol=%g price=%.17g: %s", option_kind_name(o->kind),
                  o->spot, o->strike, o->years, o->rate, o->div, vol, g.price, err);
        return RT_FAILED;
    }
    double price_error = fabs(option_price(o, iv) - g.price) / o->spot;
    if (price_error > rt->max_price_error)
        rt->max_price_error = price_error;
    if (price_error > 1e-14) {
        unit_fail(__FILE__, line, "%s S=%g K=%g T=%g vol=%g: price %.17g back as %.17g", option_kind_name(o->kind),
                  o->spot, o->strike, o->years, vol, g.price, option_price(o, iv));
        return RT_FAILED;
    }
    if (DBL_EPSILON * g.price / g.vega > 1e-11) {
        rt->unidentified++;
        return RT_UNIDENTIFIED;
    }
    double vol_error = fabs(iv - vol);
    if (vol_error > rt->max_vol_error)
        rt->max_vol_error = vol_error;
    if (vol_error > 1e-10) {
        unit_fail(__FILE__, line, "%s S=%g K=%g T=%g r=%g q=%g vol=%.17g: iv %.17g", option_kind_name(o->kind),
                  o->spot, o->strike, o->years, o->rate, o->div, vol, iv);
        return RT_FAILED;
    }
    rt->recovered++;
    return RT_RECOVERED;
}

/* The call and the put at one point. They share their time value (by
 * parity), so both or neither carry information; where there is some, the
 * out-of-the-money one always gives vol back. */
static void round_trip_pair(double S, double K, double T, double r, double q, double vol, round_trip_t *rt, int line)
{
    option_t call = contract(OPTION_CALL, S, K, T, r, q), put = contract(OPTION_PUT, S, K, T, r, q);
    rt_outcome_t a = round_trip(&call, vol, rt, line), b = round_trip(&put, vol, rt, line);
    if (a != RT_RECOVERED && b != RT_RECOVERED && !(a == RT_NO_INFO && b == RT_NO_INFO))
        rt->lost_pairs++;
}

static const double grid_years[] = { 1.0 / 365, 2.0 / 365, 7.0 / 365, 30.0 / 365, 0.25, 0.5, 1, 2, 3 };
static const double grid_vols[] = { 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2 };
static const double grid_rates[] = { -0.01, 0, 0.05 };
static const double grid_divs[] = { 0, 0.03 };

/* Strikes from half to twice the spot, at every expiry and vol. */
TEST(options_iv_round_trip_moneyness_grid)
{
    static const double moneyness[] = { 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1, 1.05, 1.1, 1.25, 1.5, 1.75, 2 };
    round_trip_t rt = { 0 };
    for (size_t a = 0; a < NELEM(moneyness); a++)
        for (size_t b = 0; b < NELEM(grid_years); b++)
            for (size_t c = 0; c < NELEM(grid_vols); c++)
                for (size_t d = 0; d < NELEM(grid_rates); d++)
                    for (size_t e = 0; e < NELEM(grid_divs); e++)
                        round_trip_pair(100, 100 * moneyness[a], grid_years[b], grid_rates[d], grid_divs[e],
                                        grid_vols[c], &rt, __LINE__);
    CHECK_INT(rt.points, 12636);
    /* 2,846 (22.5%) have a time value below 1e-12 S, mostly 0: the short,
     * quiet corners of the grid, where K/S = 0.5 or 2 at one day and 5%
     * vol is hundreds of standard deviations away. 311 (2.5%) are deep in
     * the money with vol under the price's rounding; their twins are
     * recovered. */
    CHECK(rt.no_info <= rt.points * 23 / 100);
    CHECK(rt.unidentified <= rt.points * 3 / 100);
    CHECK_INT(rt.lost_pairs, 0);
    CHECK_INT(rt.recovered + rt.no_info + rt.unidentified, rt.points);
    CHECK(rt.max_vol_error <= 1e-10);
}

/* Strikes at z standard deviations from the forward, K = F e^(z vol
 * sqrt(T)), |z| <= 5: the contracts a desk quotes, deep wings included.
 * Every one carries information; 1,260 (7.6%), deep in the money at
 * |z| >= 3 and mostly short-dated, lose vol to the price's rounding, and
 * their out-of-the-money twins are recovered. */
TEST(options_iv_round_trip_sigma_grid)
{
    static const double zs[] = { -5, -4, -3, -2, -1.5, -1, -0.5, -0.1, 0, 0.1, 0.5, 1, 1.5, 2, 3, 4, 5 };
    round_trip_t rt = { 0 };
    for (size_t a = 0; a < NELEM(zs); a++)
        for (size_t b = 0; b < NELEM(grid_years); b++)
            for (size_t c = 0; c < NELEM(grid_vols); c++)
                for (size_t d = 0; d < NELEM(grid_rates); d++)
                    for (size_t e = 0; e < NELEM(grid_divs); e++) {
                        double T = grid_years[b], vol = grid_vols[c], r = grid_rates[d], q = grid_divs[e];
                        double K = 100 * exp((r - q) * T + zs[a] * vol * sqrt(T));
                        round_trip_pair(100, K, T, r, q, vol, &rt, __LINE__);
                    }
    CHECK_INT(rt.points, 16524);
    CHECK_INT(rt.no_info, 0);
    CHECK(rt.unidentified <= rt.points * 8 / 100);
    CHECK_INT(rt.lost_pairs, 0);
    CHECK_INT(rt.recovered + rt.unidentified, rt.points);
    CHECK(rt.max_vol_error <= 1e-10);
}

/* Near expiry, deep wings, very low and very high vols. */
TEST(options_iv_extreme_contracts)
{
    static const struct {
        option_kind_t kind;
        double K, T, r, q, vol;
    } cases[] = {
        { OPTION_CALL, 100.1, 1.0 / (365 * 24), 0.05, 0, 0.2 }, /* one hour */
        { OPTION_PUT, 99.9, 1.0 / (365 * 24), 0.05, 0, 0.2 },
        { OPTION_CALL, 300, 0.1, 0.02, 0, 0.5 },               /* 7 sd out */
        { OPTION_PUT, 30, 0.25, 0.02, 0.01, 0.4 },
        { OPTION_CALL, 100, 1, 0, 0, 0.005 },                  /* very quiet */
        { OPTION_PUT, 100, 2, 0.03, 0, 5 },                    /* very wild */
        { OPTION_CALL, 100, 30, 0.04, 0.02, 0.3 },             /* long dated */
        { OPTION_CALL, 60, 1.0 / 365, 0.05, 0, 3 },            /* deep in, high vol */
    };
    for (size_t i = 0; i < NELEM(cases); i++) {
        option_t o = contract(cases[i].kind, 100, cases[i].K, cases[i].T, cases[i].r, cases[i].q);
        double price = option_price(&o, cases[i].vol), iv = NAN;
        char err[256] = "";
        CHECK_INT(option_implied_vol(&o, price, &iv, err, sizeof err), OPTION_IV_OK);
        CHECK_CLOSE("iv", iv, cases[i].vol, 1e-10);
    }
}

TEST(options_iv_greeks_together_match_apart)
{
    option_t o = contract(OPTION_PUT, 100, 95, 0.5, 0.10, 0.05);
    option_greeks_t both, apart;
    double vol = NAN, iv = NAN;
    CHECK_INT(option_implied_vol_greeks(&o, 2.4648, &vol, &both, NULL, 0), OPTION_IV_OK);
    CHECK_INT(option_implied_vol(&o, 2.4648, &iv, NULL, 0), OPTION_IV_OK);
    option_greeks(&o, iv, &apart);
    CHECK(vol == iv);
    CHECK(memcmp(&both, &apart, sizeof both) == 0);
    CHECK_CLOSE("price", both.price, 2.4648, 1e-12);
    char err[256];
    CHECK_INT(option_implied_vol_greeks(&o, 200, &vol, &both, err, sizeof err), OPTION_IV_ABOVE_UPPER);
    CHECK(vol == iv);
    o.years = -1;
    CHECK_INT(option_implied_vol_greeks(&o, 2.4648, &vol, &both, err, sizeof err), OPTION_IV_BAD_INPUT);
    CHECK(strstr(err, "years") == err);
}

TEST(options_iv_no_solution_outside_the_bounds)
{
    option_t call = contract(OPTION_CALL, 100, 90, 0.5, 0.05, 0.02);
    option_t put = contract(OPTION_PUT, 100, 110, 0.5, 0.05, 0.02);
    double lower, upper, iv = 0.123;
    char err[256];
    bounds(&call, &lower, &upper);
    CHECK_CLOSE("call lower", lower, 100 * exp(-0.01) - 90 * exp(-0.025), 1e-12);
    CHECK_CLOSE("call upper", upper, 100 * exp(-0.01), 1e-12);
    CHECK_INT(option_implied_vol(&call, lower - 0.01, &iv, err, sizeof err), OPTION_IV_BELOW_LOWER);
    CHECK(strstr(err, "lower no-arbitrage bound") != NULL);
    CHECK(bound_in(err) == lower); /* the solver's own bound, to the last bit */
    CHECK_INT(option_implied_vol(&call, lower, &iv, err, sizeof err), OPTION_IV_BELOW_LOWER);
    CHECK_INT(option_implied_vol(&call, upper, &iv, err, sizeof err), OPTION_IV_ABOVE_UPPER);
    CHECK(strstr(err, "upper no-arbitrage bound") != NULL);
    CHECK_INT(option_implied_vol(&call, upper + 1, &iv, err, sizeof err), OPTION_IV_ABOVE_UPPER);
    CHECK(bound_in(err) == upper);
    CHECK(iv == 0.123); /* untouched */

    bounds(&put, &lower, &upper);
    CHECK_CLOSE("put lower", lower, 110 * exp(-0.025) - 100 * exp(-0.01), 1e-12);
    CHECK_CLOSE("put upper", upper, 110 * exp(-0.025), 1e-12);
    CHECK_INT(option_implied_vol(&put, 0.5 * lower, &iv, err, sizeof err), OPTION_IV_BELOW_LOWER);
    CHECK_INT(option_implied_vol(&put, upper * 1.001, &iv, err, sizeof err), OPTION_IV_ABOVE_UPPER);
    CHECK_INT(option_implied_vol(&put, upper, &iv, err, sizeof err), OPTION_IV_ABOVE_UPPER);

    /* Out of the money, the lower bound is zero: any positive price solves. */
    option_t otm = contract(OPTION_CALL, 100, 150, 0.5, 0.05, 0);
    CHECK_INT(option_implied_vol(&otm, 1e-6, &iv, err, sizeof err), OPTION_IV_OK);
    CHECK_CLOSE("round trip", option_price(&otm, iv), 1e-6, 1e-18);
    /* Vols beyond the range searched. */
    option_t atm = contract(OPTION_CALL, 100, 100, 1, 0, 0);
    CHECK_INT(option_implied_vol(&atm, 1e-12, &iv, err, sizeof err), OPTION_IV_OUT_OF_RANGE);
    CHECK(strstr(err, "outside") != NULL);
    option_t brief = contract(OPTION_CALL, 100, 100, 1e-4, 0, 0);
    CHECK_INT(option_implied_vol(&brief, 90, &iv, err, sizeof err), OPTION_IV_OUT_OF_RANGE);

    CHECK_INT(option_implied_vol(&call, 0, &iv, err, sizeof err), OPTION_IV_BAD_INPUT);
    CHECK(strstr(err, "price") == err);
    CHECK_INT(option_implied_vol(&call, NAN, &iv, err, sizeof err), OPTION_IV_BAD_INPUT);
    CHECK_INT(option_implied_vol(&call, -1, &iv, NULL, 0), OPTION_IV_BAD_INPUT);
}

TEST(options_check_names_the_field)
{
    char err[256];
    option_t o = contract(OPTION_CALL, 100, 100, 1, 0.05, 0);
    CHECK_INT(option_check(&o, 0.2, err, sizeof err), 0);
    CHECK_INT(option_check(&o, NAN, err, sizeof err), 0);
    CHECK_INT(option_check(&o, 0, err, sizeof err), -1);
    CHECK(strstr(err, "vol ") == err);
    CHECK_INT(option_check(&o, INFINITY, err, sizeof err), -1);
    o.spot = 0;
    CHECK_INT(option_check(&o, 0.2, err, sizeof err), -1);
    CHECK(strstr(err, "spot ") == err);
    o.spot = 100;
    o.strike = -5;
    CHECK_INT(option_check(&o, 0.2, err, sizeof err), -1);
    CHECK(strstr(err, "strike ") == err);
    o.strike = 100;
    o.years = 0;
    CHECK_INT(option_check(&o, 0.2, err, sizeof err), -1);
    CHECK(strstr(err, "years ") == err);
    o.years = 1;
    o.rate = NAN;
    CHECK_INT(option_check(&o, 0.2, err, sizeof err), -1);
    CHECK(strstr(err, "rate ") == err);
    o.rate = 0;
    o.div = INFINITY;
    CHECK_INT(option_check(&o, 0.2, err, sizeof err), -1);
    CHECK(strstr(err, "div ") == err);
    o.div = 0;
    o.kind = (option_kind_t)7;
    CHECK_INT(option_check(&o, 0.2, err, sizeof err), -1);
    CHECK(strstr(err, "type ") == err);
    CHECK_STR(option_kind_name(OPTION_PUT), "put");
}

/* A time to expiry no option has (1e300 years: a unit slip) is refused as
 * years, with its range, whatever the rate; a rate x years product out of
 * the doubles' reach names both factors. */
TEST(options_check_bounds_years_and_names_rate_times_years)
{
    char err[256];
    option_t o = contract(OPTION_CALL, 100, 100, 1e300, 0.05, 0);
    CHECK_INT(option_check(&o, 0.2, err, sizeof err), -1);
    CHECK(strstr(err, "years ") == err);
    CHECK(strstr(err, "at most 100") != NULL);
    o.rate = 0;
    CHECK_INT(option_check(&o, 0.2, err, sizeof err), -1);
    CHECK(strstr(err, "years ") == err);
    o.years = OPTION_YEARS_MAX;
    CHECK_INT(option_check(&o, 0.2, err, sizeof err), 0);
    o.years = OPTION_YEARS_MAX * (1 + DBL_EPSILON);
    CHECK_INT(option_check(&o, 0.2, err, sizeof err), -1);
    o.years = 100;
    o.rate = 7;
    CHECK_INT(option_check(&o, 0.2, err, sizeof err), -1);
    CHECK(strstr(err, "rate ") == err);
    CHECK(strstr(err, "rate 7 x years 100 = 700") != NULL);
    o.rate = 0;
    o.div = -6;
    CHECK_INT(option_check(&o, 0.2, err, sizeof err), -1);
    CHECK(strstr(err, "div -6 x years 100 = -600") != NULL);
}

/* --- relative precision far out of the money ------------------------- */

/* The reference: the same closed forms in binary128 (113-bit) arithmetic,
 * whose rounding (1e-34) is far below a double's. g = price, delta, gamma,
 * theta, vega, rho of a contract p = S, K, T, r, q, vol. */
typedef _Float128 quad_t;

static quad_t quad_cdf(quad_t x)
{
    return erfcf128(-x / sqrtf128(2)) / 2;
}

static quad_t quad_pdf(quad_t x)
{
    return expf128(-x * x / 2) / sqrtf128(2 * M_PIf128);
}

static void quad_greeks(int call, const quad_t p[6], quad_t g[6])
{
    quad_t S = p[0], K = p[1], T = p[2], r = p[3], q = p[4], v = p[5];
    quad_t a = S * expf128(-q * T), b = K * expf128(-r * T), s = v * sqrtf128(T);
    quad_t d1 = (logf128(S / K) + (r - q + v * v / 2) * T) / s, d2 = d1 - s;
    quad_t decay = -a * quad_pdf(d1) * v / (2 * sqrtf128(T));
    g[2] = expf128(-q * T) * quad_pdf(d1) / (S * s);
    g[4] = a * quad_pdf(d1) * sqrtf128(T);
    if (call) {
        g[0] = a * quad_cdf(d1) - b * quad_cdf(d2);
        g[1] = expf128(-q * T) * quad_cdf(d1);
        g[3] = decay - r * b * quad_cdf(d2) + q * a * quad_cdf(d1);
        g[5] = K * T * expf128(-r * T) * quad_cdf(d2);
    } else {
        g[0] = b * quad_cdf(-d2) - a * quad_cdf(-d1);
        g[1] = -expf128(-q * T) * quad_cdf(-d1);
        g[3] = decay + r * b * quad_cdf(-d2) - q * a * quad_cdf(-d1);
        g[5] = -K * T * expf128(-r * T) * quad_cdf(-d2);
    }
}

/* docs/options.md, "Accuracy": a price or Greek is exact for inputs off by
 * a few ulps, so its relative error is at most 4 eps (1 + kappa), kappa the
 * value's condition number, sum over the inputs p of |p dV/dp / V| (here by
 * central differences in binary128). Far out of the money a N(d1) - b N(d2)
 * cancelled two tails, each off by d^2 eps: a 1e-232 put lost 6 digits, 200
 * times over this bound; both tails beyond |d| = 3 now come from Mills'
 * ratio. Out-of-the-money contracts from 1 hour to 3 years, vol 1% to
 * 150%, prices down to 1e-290. */
TEST(options_far_out_of_the_money_keeps_relative_precision)
{
    static const double strikes[] = { 30, 50, 60, 70, 80, 90, 95, 105, 110, 120, 140, 160, 200, 300, 1000 };
    static const double years[] = { 1.0 / (365 * 24), 1.0 / 365, 7.0 / 365, 0.1, 0.5, 1, 3 };
    static const double vols[] = { 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5 };
    static const double rates[] = { 0, 0.05 }, divs[] = { 0, 0.03 };
    static const char *const names[6] = { "price", "delta", "gamma", "theta", "vega", "rho" };
    int checked = 0, below_1e100 = 0;
    for (size_t a = 0; a < NELEM(strikes); a++)
        for (size_t b = 0; b < NELEM(years); b++)
            for (size_t c = 0; c < NELEM(vols); c++)
                for (size_t d = 0; d < NELEM(rates); d++)
                    for (size_t e = 0; e < NELEM(divs); e++) {
                        double K = strikes[a], T = years[b], r = rates[d], q = divs[e], vol = vols[c];
                        int call = K > 100 * exp((r - q) * T); /* the out-of-the-money one */
                        quad_t p[6] = { 100, K, T, r, q, vol }, want[6], kappa[6] = { 0 };
                        quad_greeks(call, p, want);
                        if (!(want[0] > (quad_t)1e-290))
                            continue; /* below the doubles' normal range */
                        for (int i = 0; i < 6; i++) {
                            if (p[i] == 0)
                                continue;
                            quad_t up[6], down[6], gu[6], gd[6], h = p[i] * (quad_t)1e-12;
                            memcpy(up, p, sizeof up);
                            memcpy(down, p, sizeof down);
                            up[i] += h;
                            down[i] -= h;
                            quad_greeks(call, up, gu);
                            quad_greeks(call, down, gd);
                            for (int m = 0; m < 6; m++)
                                kappa[m] += fabsf128(p[i] * (gu[m] - gd[m]) / (2 * h) / want[m]);
                        }
                        option_t o = contract(call ? OPTION_CALL : OPTION_PUT, 100, K, T, r, q);
                        option_greeks_t g;
                        option_greeks(&o, vol, &g);
                        const double got[6] = { g.price, g.delta, g.gamma, g.theta, g.vega, g.rho };
                        for (int m = 0; m < 6; m++) {
                            double rel = (double)fabsf128(((quad_t)got[m] - want[m]) / want[m]);
                            double bound = 4 * DBL_EPSILON * (1 + (double)kappa[m]);
                            if (!(rel <= bound))
                                unit_fail(__FILE__, __LINE__, "%s %s S=100 K=%g T=%g r=%g q=%g vol=%g = %.17g, want "
                                          "%.17g: relative error %.3g, bound %.3g (kappa %.3g)", option_kind_name(o.kind),
                                          names[m], K, T, r, q, vol, got[m], (double)want[m], rel, bound,
                                          (double)kappa[m]);
                        }
                        checked++;
                        below_1e100 += want[0] < (quad_t)1e-100;
                    }
    CHECK_INT(checked, 2287);
    CHECK_INT(below_1e100, 257);
}

/* Values from mpmath at 60 digits: the put of the report, worth 3.1e-232,
 * whose price's condition number is about 1e4 (one ulp of S moves it by
 * 1e-12), a 1e-246 call and a 2e-207 put. The old difference of tails
 * gave 3.14152623441e-232 (1e-9 off). The implied volatility of the exact
 * price comes back to 1e-13. The inputs are the doubles the C code gets
 * (mpf(0.0149), not mpf("0.0149")); the Greeks follow the table of
 * docs/options.md:
 *
 *   from mpmath import mp, mpf, erfc, sqrt, exp, log; mp.dps = 60
 *   N = lambda x: erfc(-x / sqrt(2)) / 2
 *   S, K, T, r, q, v = map(mpf, (100.0, 90.0, 0.05, 0.05, 0.0, 0.0149))
 *   s = v * sqrt(T); d1 = (log(S / K) + (r - q + v * v / 2) * T) / s; d2 = d1 - s
 *   put = K * exp(-r * T) * N(-d2) - S * exp(-q * T) * N(-d1) */
TEST(options_far_out_of_the_money_matches_mpmath)
{
    static const struct {
        option_kind_t kind;
        double S, K, T, r, q, vol;
        double want[6]; /* price, delta, gamma, theta, vega, rho */
    } cases[] = {
        { OPTION_PUT, 100, 90, 0.05, 0.05, 0, 0.0149,
          { 3.141526237646405331239e-232, -3.058186454631526933315e-230, 2.974538642943451798455e-228,
            -3.148961590236614103837e-228, 2.216031288992871720294e-227, -1.529250303627645871815e-229 } },
        { OPTION_CALL, 50, 62, 0.1, 0.04, 0, 0.02,
          { 1.422610519250263480971e-246, 1.504476864701669754372e-244, 1.589333364228564387779e-242,
            -8.24750528966238621634e-243, 7.946666821142822545447e-242, 7.520961712989098925874e-244 } },
        { OPTION_PUT, 100, 60, 0.05, 0.05, 0, 0.075,
          { 1.975104811824519818719e-207, -3.611561219224707263893e-206, 6.600493574449358639219e-205,
            -1.838321136193699319958e-203, 2.475185090418509535507e-203, -1.806768162018265992152e-205 } },
    };
    for (size_t i = 0; i < NELEM(cases); i++) {
        option_t o = contract(cases[i].kind, cases[i].S, cases[i].K, cases[i].T, cases[i].r, cases[i].q);
        option_greeks_t g;
        option_greeks(&o, cases[i].vol, &g);
        const double got[6] = { g.price, g.delta, g.gamma, g.theta, g.vega, g.rho };
        for (int m = 0; m < 6; m++)
            CHECK_CLOSE("far out of the money", got[m], cases[i].want[m], 5e-12 * fabs(cases[i].want[m]));
        double iv = NAN;
        CHECK_INT(option_implied_vol(&o, cases[i].want[0], &iv, NULL, 0), OPTION_IV_OK);
        CHECK_CLOSE("iv far out of the money", iv, cases[i].vol, 1e-13 * cases[i].vol);
    }
}
