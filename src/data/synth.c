/* synth.c — deterministic synthetic daily bars.
 *
 * Per symbol: a starting price, an annual drift and volatility drawn from
 * the seed; each trading day an overnight gap (normal, with occasional
 * jumps of several percent, so gap strategies find something), an intraday
 * geometric-Brownian move from open to close, a high and low around them,
 * and a lognormal volume with spikes (more likely on jump days). Prices are
 * rounded to cents and kept consistent (low <= open, close <= high).
 *
 * Randomness: xoshiro256** seeded through splitmix64 (both published by
 * Blackman and Vigna), one stream per symbol, so a symbol's bars do not
 * depend on how many other symbols are generated. */
#include "data/synth.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"

#define CHUNK 4096

typedef struct {
    uint64_t s[4];
    int have_spare;
    double spare;
} rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
    r->have_spare = 0;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in (0, 1). */
static double uniform(rng_t *r) { return ((double)(rng_next(r) >> 11) + 0.5) / 9007199254740992.0; }

/* Standard normal (Marsaglia's polar method). */
static double normal(rng_t *r)
{
    if (r->have_spare) {
        r->have_spare = 0;
        return r->spare;
    }
    double u, v, s;
    do {
        u = 2 * uniform(r) - 1;
        v = 2 * uniform(r) - 1;
        s = u * u + v * v;
    } while (s >= 1 || s == 0);
    double m = sqrt(-2 * log(s) / s);
    r->spare = v * m;
    r->have_spare = 1;
    return u * m;
}

static double cents(double x)
{
    double c = round(x * 100) / 100;
    return c < 0.01 ? 0.01 : c;
}

void synth_symbol(int i, int n, char out[BAR_SYMBOL_MAX + 1])
{
    int width = n > 9999 ? (n > 99999 ? 6 : 5) : 4;
    snprintf(out, BAR_SYMBOL_MAX + 1, "SYN%0*d", width, (i + 1) % 1000000);
}

/* The next weekday at or after day `d` (days since 1970-01-01, a Thursday). */
static int64_t weekday_at_or_after(int64_t d)
{
    for (;;) {
        int dow = (int)(((d % 7) + 7 + 3) % 7); /* 0 = Monday */
        if (dow < 5)
            return d;
        d++;
    }
}

int synth_generate(const synth_opts_t *o, int (*emit)(const bar_row_t *rows, size_t n, void *ctx), void *ctx)
{
    static bar_row_t rows[CHUNK];
    char name[BAR_SYMBOL_MAX + 1];
    size_t nrows = 0;
    for (int i = 0; i < o->symbols; i++) {
        synth_symbol(i, o->symbols, name);
        rng_t r;
        rng_seed(&r, o->seed * 0x100000001B3ULL + (uint64_t)i * 0x9E3779B97F4A7C15ULL + 1);
        double price = exp(log(50.0) + 0.8 * normal(&r));
        double mu = 0.05 + 0.10 * normal(&r);
        double sigma = 0.15 + 0.45 * uniform(&r);
        double base_volume = exp(log(1e6) + 1.0 * normal(&r));
        double daily_sigma = sigma / sqrt(252.0);
        int64_t day = weekday_at_or_after(o->start_ts / 86400);
        double prev_close = cents(price);
        for (int t = 0; t < o->days; t++) {
            double gap = 0.3 * daily_sigma * normal(&r);
            int jump = uniform(&r) < 0.03;
            if (jump)
                gap += (uniform(&r) < 0.6 ? 1 : -1) * (0.03 + 0.03 * fabs(normal(&r)));
            double open = prev_close * exp(gap);
            double close = open * exp((mu - sigma * sigma / 2) / 252.0 + 0.9 * daily_sigma * normal(&r));
            double high = fmax(open, close) * exp(0.4 * daily_sigma * fabs(normal(&r)));
            double low = fmin(open, close) * exp(-0.4 * daily_sigma * fabs(normal(&r)));
            double volume = base_volume * exp(0.35 * normal(&r));
            if (jump || uniform(&r) < 0.02)
                volume *= 2 + 4 * uniform(&r);
            open = cents(open);
            close = cents(close);
            high = fmax(cents(high), fmax(open, close));
            low = fmin(cents(low), fmin(open, close));
            bar_row_t *b = &rows[nrows++];
            b->symbol = name;
            b->ts = day * 86400;
            b->open = open;
            b->high = high;
            b->low = low;
            b->close = close;
            b->volume = round(volume);
            prev_close = close;
            day = weekday_at_or_after(day + 1);
            if (nrows == CHUNK) {
                int st = emit(rows, nrows, ctx);
                nrows = 0;
                if (st != 0)
                    return st;
            }
        }
        /* Rows point at this symbol's name: hand them over before the next. */
        if (nrows > 0) {
            int st = emit(rows, nrows, ctx);
            nrows = 0;
            if (st != 0)
                return st;
        }
    }
    return 0;
}
