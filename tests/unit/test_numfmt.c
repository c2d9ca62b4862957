/* test_numfmt.c — numfmt_shortest (the fewest digits that read back as the
 * same double, against a plain search of every precision), numfmt_fixed
 * (byte for byte printf's "%.<p>f") and close_match (edit distances, "did
 * you mean" picks). */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/close_match.h"
#include "core/numfmt.h"
#include "unit.h"

static const char *fmt(double v)
{
    static char out[NUMFMT_MAX];
    int n = numfmt_shortest(v, out);
    if (n != (int)strlen(out))
        return "(length differs)";
    return out;
}

TEST(numfmt_known_values)
{
    CHECK_STR(fmt(0.1), "0.1");
    CHECK_STR(fmt(10), "10");
    CHECK_STR(fmt(100), "100");
    CHECK_STR(fmt(2.5), "2.5");
    CHECK_STR(fmt(-2.5), "-2.5");
    CHECK_STR(fmt(0), "0");
    CHECK_STR(fmt(-0.0), "-0");
    CHECK_STR(fmt(100.0000000005), "100.0000000005");
    CHECK_STR(fmt(100.000000001), "100.000000001"); /* %.10g prints both as 100 */
    CHECK_STR(fmt(0.1 + 0.2), "0.30000000000000004");
    CHECK_STR(fmt(1.0 / 3), "0.3333333333333333");
    CHECK_STR(fmt(258.3752), "258.3752");
    CHECK_STR(fmt(0.0001), "0.0001");
    CHECK_STR(fmt(0.00012345), "0.00012345");
    CHECK_STR(fmt(0.00001), "1e-05");
    CHECK_STR(fmt(1.5e-7), "1.5e-07");
    CHECK_STR(fmt(1e16), "10000000000000000");
    CHECK_STR(fmt(1e17), "1e+17");
    CHECK_STR(fmt(1.2345678901234568e17), "1.2345678901234568e+17");
    CHECK_STR(fmt(1e21), "1e+21");
    CHECK_STR(fmt(123456789012.5), "123456789012.5");
    CHECK_STR(fmt(5e-324), "5e-324");
    CHECK_STR(fmt(DBL_MAX), "1.7976931348623157e+308");
    CHECK_STR(fmt(-DBL_MIN), "-2.2250738585072014e-308");
    CHECK_STR(fmt(NAN), "nan");
    CHECK_STR(fmt(INFINITY), "inf");
    CHECK_STR(fmt(-INFINITY), "-inf");
}

/* Significant digits of numfmt's text: the mantissa without sign, point,
 * leading and trailing zeros ("100" has 1, "0.00012345" has 5). */
static int significant(const char *s)
{
    char d[40];
    int n = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            d[n++] = *s;
    int a = 0;
    while (a < n - 1 && d[a] == '0')
        a++;
    while (n - 1 > a && d[n - 1] == '0')
        n--;
    return n - a;
}

/* The reference: the first precision from 1 up whose %.*g reads back. */
static int shortest_by_search(double v)
{
    char buf[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return p;
    }
    return 99;
}

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

TEST(numfmt_reads_back_with_the_fewest_digits)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 300000; i++) {
        double v;
        uint64_t r = next(&seed);
        switch (i % 3) {
        case 0: /* any bit pattern */
            memcpy(&v, &r, sizeof v);
            if (!isfinite(v))
                continue;
            break;
        case 1: /* prices: a few decimals, as CSV files have them */
            v = (double)(r % 100000000) / 10000.0;
            break;
        default: /* results of arithmetic on prices */
            v = (double)(r % 1000000) / 100.0 * 1.0000001 / 3.0;
            break;
        }
        char out[NUMFMT_MAX];
        numfmt_shortest(v, out);
        double back = strtod(out, NULL);
        if (back != v || signbit(back) != signbit(v)) {
            unit_fail(__FILE__, __LINE__, "%.17g printed as '%s' reads back as %.17g", v, out, back);
            return;
        }
        int want = shortest_by_search(v), got = significant(out);
        if (got != want) {
            unit_fail(__FILE__, __LINE__, "%.17g printed as '%s': %d digits, the search finds %d", v, out, got,
                      want);
            return;
        }
    }
}

TEST(close_match_distance_ignores_case_and_counts_swaps_once)
{
    CHECK_INT(close_match_distance("aapl", "AAPL"), 0);
    CHECK_INT(close_match_distance("APPL", "AAPL"), 1);
    CHECK_INT(close_match_distance("AAPL", "AAPLX"), 1);
    CHECK_INT(close_match_distance("MSFT", "MFST"), 1); /* two neighbours swapped */
    CHECK_INT(close_match_distance("hold_bar", "hold_bars"), 1);
    CHECK_INT(close_match_distance("", "ABC"), 3);
    CHECK_INT(close_match_distance("SPY", "QQQ"), 3);
    char long_name[80];
    memset(long_name, 'A', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    CHECK(close_match_distance(long_name, "A") == (size_t)-1);
}

/* numfmt_fixed(v, p) against snprintf("%.*f", p, v); 1 when they agree. */
static int fixed_matches(double v, int prec)
{
    char got[NUMFMT_FIXED_MAX], want[400];
    int n = numfmt_fixed(v, prec, got);
    snprintf(want, sizeof want, "%.*f", prec, v);
    if (n == (int)strlen(want) && strcmp(got, want) == 0)
        return 1;
    unit_fail(__FILE__, __LINE__, "numfmt_fixed(%a, %d) is \"%s\" (%d), printf gives \"%s\"", v, prec,
              n < 0 ? "(declined)" : got, n, want);
    return 0;
}

/* numfmt_integer writes what "%lld" does: the ends of the range, around
 * each power of ten, and a spread of values between. */
TEST(numfmt_integer_is_printf_lld)
{
    long long cases[200];
    int n = 0;
    cases[n++] = LLONG_MIN;
    cases[n++] = LLONG_MAX;
    cases[n++] = 0;
    for (long long p = 1; n < 150 && p <= LLONG_MAX / 10; p *= 10) {
        cases[n++] = p - 1;
        cases[n++] = p;
        cases[n++] = -p;
        cases[n++] = -p - 1;
    }
    unsigned long long x = 88172645463325252ULL;
    while (n < 200) { /* xorshift: values of every length and sign */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        cases[n++] = (long long)(x >> (x % 64));
    }
    for (int i = 0; i < n; i++) {
        char got[NUMFMT_INTEGER_MAX], want[32];
        int len = numfmt_integer(cases[i], got);
        snprintf(want, sizeof want, "%lld", cases[i]);
        CHECK_STR(got, want);
        CHECK_INT(len, (int)strlen(want));
    }
}

TEST(numfmt_fixed_is_printf_f)
{
    /* Ties round to the even digit, as printf does; a negative rounding to
     * zero keeps its sign. */
    static const double known[] = { 0, -0.0, 0.5, 1.5, 2.5, 0.25, 0.125, 0.375, -0.04, -0.5, 0.05, 0.15,
                                    0.35, 1e-5, 123.456, 99.95, 9.995, 1e15, 1e18, 9.2e18, 4.9e-324,
                                    2.2250738585072014e-308, 0.1, 1.0 / 3, 2.0 / 3, -12.3456789 };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        for (int p = 0; p <= NUMFMT_FIXED_PREC_MAX; p++)
            fixed_matches(known[i], p);
    /* Random bit patterns over every exponent a result is written for, and
     * values that are exact ties at some precision (k / 2^j). */
    uint64_t x = 0x9E3779B97F4A7C15u;
    int bad = 0;
    for (int i = 0; i < 400000 && bad < 5; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t bits = x & ~(UINT64_C(0x7ff) << 52);
        bits |= (uint64_t)((x >> 52) % 1086) << 52;   /* biased exponents 0 .. 1085: |v| < 2^63 */
        double v;
        memcpy(&v, &bits, sizeof v);
        bad += !fixed_matches(v, (int)(x % (NUMFMT_FIXED_PREC_MAX + 1)));
        double tie = (double)(int64_t)(x % 2000001) / (double)(1 << (x % 12)) - 1000.0;
        bad += !fixed_matches(tie, (int)((x >> 8) % 8));
    }
    /* Left to printf: non-finite values, |v| >= 2^63, other precisions. */
    char out[NUMFMT_FIXED_MAX];
    CHECK_INT(numfmt_fixed(NAN, 2, out), -1);
    CHECK_INT(numfmt_fixed(-INFINITY, 2, out), -1);
    CHECK_INT(numfmt_fixed(9223372036854775808.0, 0, out), -1);
    CHECK_INT(numfmt_fixed(-9223372036854775808.0, 0, out), -1);
    CHECK_INT(numfmt_fixed(1.5, NUMFMT_FIXED_PREC_MAX + 1, out), -1);
    CHECK_INT(numfmt_fixed(1.5, -1, out), -1);
    fixed_matches(9223372036854774784.0, NUMFMT_FIXED_PREC_MAX); /* the largest double below 2^63 */
}

TEST(close_match_find_orders_by_distance_then_names)
{
    const char *names[] = { "AAPL", "AAP", "MSFT", "aapl", "APL", "GOOG", "BRK.B" };
    size_t idx[16];
    size_t n = close_match_find("aapl", names, 7, idx, 16);
    /* AAPL (case only), then distance 1: AAP, APL; never itself */
    CHECK_INT(n, 3);
    CHECK_STR(names[idx[0]], "AAPL");
    CHECK_STR(names[idx[1]], "AAP");
    CHECK_STR(names[idx[2]], "APL");
    CHECK_INT(close_match_find("aapl", names, 7, idx, 1), 1);
    CHECK_STR(names[idx[0]], "AAPL");
    CHECK_INT(close_match_find("XYZW", names, 7, idx, 16), 0);
    CHECK_INT(close_match_find("brk.a", names, 7, idx, 16), 1); /* 5 letters: distance up to 2 */
    CHECK_STR(names[idx[0]], "BRK.B");
    CHECK_INT(close_match_find("QQ", names, 7, idx, 16), 0);     /* short words: distance 1 only */
}
