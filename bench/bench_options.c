/* bench_options.c — the options benchmark (`make bench-options`): implied
 * volatility and Greeks of 1 M European contracts on one core. Prints one
 * JSON line.
 *
 * The contracts are a seeded random mix like a listed chain: spots from 10
 * to 1,000, expiries from 1 day to 2 years, listed strikes (rounded to the
 * exchange's increment) within 3 standard deviations of the forward, calls
 * and puts, vols from 10% to 100%, rates 0-6% and dividend yields 0-4%.
 * Prices come from the known vols; the solver must give them back
 * (max_iv_error). iv_greeks is option_implied_vol_greeks (a quote in,
 * its vol and Greeks out); iv_only and greeks_only time the two halves
 * alone. Each pass goes over every contract once; rates are the median of
 * five passes. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "options/option_pricing.h"

#define CONTRACTS 1000000
#define PASSES 5

typedef struct {
    option_t o;
    double vol, price;
} sample_t;

/* splitmix64: a small, good generator, so the mix is the same everywhere. */
static uint64_t next_u64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *state, double lo, double hi)
{
    return lo + (hi - lo) * (double)(next_u64(state) >> 11) * (1.0 / 9007199254740992.0);
}

static double strike_increment(double spot)
{
    return spot < 25 ? 0.5 : spot < 200 ? 1 : spot < 500 ? 5 : 10;
}

static void make_contracts(sample_t *c, size_t n)
{
    uint64_t state = 20240601;
    for (size_t i = 0; i < n; i++) {
        option_t *o = &c[i].o;
        o->kind = next_u64(&state) & 1 ? OPTION_CALL : OPTION_PUT;
        o->spot = exp(uniform(&state, log(10.0), log(1000.0)));
        o->years = floor(uniform(&state, 1, 731)) / 365.0;
        o->rate = uniform(&state, 0, 0.06);
        o->div = uniform(&state, 0, 0.04);
        c[i].vol = uniform(&state, 0.10, 1.00);
        double z = uniform(&state, -3, 3);
        double forward = o->spot * exp((o->rate - o->div) * o->years);
        double inc = strike_increment(o->spot);
        double strike = inc * round(forward * exp(z * c[i].vol * sqrt(o->years)) / inc);
        o->strike = strike > 0 ? strike : inc;
        c[i].price = option_price(o, c[i].vol);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef enum { RUN_IV_GREEKS, RUN_IV, RUN_GREEKS } run_t;

/* Contracts per second of one pass; adds to *sink so nothing is optimised
 * away, and tracks the largest vol error and the contracts left unsolved. */
static double run_pass(const sample_t *c, size_t n, run_t what, double *sink, double *max_err, size_t *unsolved)
{
    double sum = 0;
    int64_t t0 = clock_mono_us();
    for (size_t i = 0; i < n; i++) {
        option_greeks_t g;
        double iv = c[i].vol;
        option_iv_status_t st = OPTION_IV_OK;
        if (what == RUN_IV_GREEKS)
            st = option_implied_vol_greeks(&c[i].o, c[i].price, &iv, &g, NULL, 0);
        else if (what == RUN_IV)
            st = option_implied_vol(&c[i].o, c[i].price, &iv, NULL, 0);
        else
            option_greeks(&c[i].o, iv, &g);
        if (st != OPTION_IV_OK) {
            (*unsolved)++;
            continue;
        }
        if (what != RUN_GREEKS) {
            double e = fabs(iv - c[i].vol);
            if (e > *max_err)
                *max_err = e;
            sum += iv;
        }
        if (what != RUN_IV)
            sum += g.delta + g.vega;
    }
    double secs = (double)(clock_mono_us() - t0) / 1e6;
    *sink += sum;
    return (double)n / secs;
}

static double median_rate(const sample_t *c, size_t n, run_t what, double *sink, double *max_err, size_t *unsolved)
{
    double rates[PASSES];
    for (int p = 0; p < PASSES; p++) {
        size_t miss = 0;
        rates[p] = run_pass(c, n, what, sink, max_err, &miss);
        *unsolved = miss;
    }
    qsort(rates, PASSES, sizeof rates[0], cmp_double);
    return rates[PASSES / 2];
}

int main(void)
{
    sample_t *c = malloc(CONTRACTS * sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "bench_options: out of memory\n");
        return 1;
    }
    make_contracts(c, CONTRACTS);
    double sink = 0, max_err = 0;
    size_t unsolved = 0, unused = 0;
    double both = median_rate(c, CONTRACTS, RUN_IV_GREEKS, &sink, &max_err, &unsolved);
    double iv_only = median_rate(c, CONTRACTS, RUN_IV, &sink, &max_err, &unused);
    double greeks_only = median_rate(c, CONTRACTS, RUN_GREEKS, &sink, &max_err, &unused);
    printf("{\"bench\":\"options\",\"contracts\":%d,\"iv_greeks_per_s\":%.0f,\"iv_only_per_s\":%.0f,"
           "\"greeks_only_per_s\":%.0f,\"max_iv_error\":%.3g,\"unsolved\":%zu,\"passes\":%d,\"checksum\":%.6g}\n",
           CONTRACTS, both, iv_only, greeks_only, max_err, unsolved, PASSES, sink);
    free(c);
    return 0;
}
