/* numfmt.c — the shortest decimal text that reads back as the same double,
 * and fixed-point text as printf writes it.
 *
 * printf's "%.<p>e" rounds v correctly to p significant digits. When 15
 * digits read back, so does the shortest decimal d that does (at most 15
 * digits): v is within half an ulp of d, far less than the spacing of
 * 15-digit decimals, so rounding v to 15 digits gives d with trailing
 * zeros, which are dropped. Otherwise 16 digits, else 17 (which always
 * read back): at most three tries, most values one (a subnormal counts up
 * from one digit). (At a power of two,
 * whose ulp below is half the ulp above, 16 digits may fail where another
 * 16-digit decimal than the nearest would read back: 17 are written, still
 * exact.) The digits are then laid out as %g would lay them out with 17
 * digits of precision: plainly (10, 0.0001, 100.0000000005) unless the
 * exponent is below -4 or above 16 (1e-05, 1.5e+20), which %.<p>g alone
 * would not do (it writes 10 as 1e+01). */
#include "core/numfmt.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reads_back(double v, int p, char out[NUMFMT_MAX])
{
    snprintf(out, NUMFMT_MAX, "%.*e", p - 1, v);
    return strtod(out, NULL) == v;
}

int numfmt_shortest(double v, char out[NUMFMT_MAX])
{
    if (!isfinite(v))
        return snprintf(out, NUMFMT_MAX, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
    char sci[NUMFMT_MAX]; /* [-]d[.ddd]e±XX */
    if (v != 0 && fabs(v) < DBL_MIN) {
        /* Subnormal: its ulp is no longer tiny beside it (5e-324 is one
         * digit), so count up from one digit. */
        int p = 1;
        while (p < 17 && !reads_back(v, p, sci))
            p++;
        if (p == 17)
            snprintf(sci, sizeof sci, "%.16e", v);
    } else if (!reads_back(v, 15, sci) && !reads_back(v, 16, sci)) {
        snprintf(sci, sizeof sci, "%.16e", v); /* 17 digits always read back (DBL_DECIMAL_DIG) */
    }
    const char *p = sci;
    char *o = out;
    if (*p == '-')
        *o++ = *p++;
    char digits[18];
    int nd = 0;
    for (; *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0') /* 100 is one digit, exponent 2 */
        nd--;
    int exp10 = atoi(p + 1);
    if (exp10 < -4 || exp10 > 16) {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        o += snprintf(o, NUMFMT_MAX - (size_t)(o - out), "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
        return (int)(o - out);
    }
    if (exp10 < 0) { /* 0.000ddd */
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -exp10 - 1; i++)
            *o++ = '0';
        memcpy(o, digits, (size_t)nd);
        o += nd;
    } else { /* ddd[000][.ddd] */
        for (int i = 0; i <= exp10; i++)
            *o++ = i < nd ? digits[i] : '0';
        if (nd > exp10 + 1) {
            *o++ = '.';
            memcpy(o, digits + exp10 + 1, (size_t)(nd - exp10 - 1));
            o += nd - exp10 - 1;
        }
    }
    *o = '\0';
    return (int)(o - out);
}

/* --- integers --------------------------------------------------------- */

int numfmt_integer(long long v, char out[NUMFMT_INTEGER_MAX])
{
    char digits[NUMFMT_INTEGER_MAX];
    int k = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        digits[k++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u > 0);
    char *o = out;
    if (v < 0)
        *o++ = '-';
    while (k > 0)
        *o++ = digits[--k];
    *o = '\0';
    return (int)(o - out);
}

/* --- fixed point ------------------------------------------------------ */

/* A finite double is m * 2^e exactly (m < 2^53). With prec decimals it
 * reads as m * 10^prec / 2^-e, rounded to a whole number q: that product
 * is below 2^53 * 10^17 < 2^110, so 128-bit integers hold it and the
 * remainder, and the rounding is exact, as printf's is (to nearest, a tie
 * to the even q, in the default rounding mode). q's digits are then laid
 * out with the point `prec` digits from the right. printf's own "%f" goes
 * through arbitrary-precision arithmetic for the same answer, about ten
 * times slower. */
int numfmt_fixed(double v, int prec, char out[NUMFMT_FIXED_MAX])
{
    if (!isfinite(v) || prec < 0 || prec > NUMFMT_FIXED_PREC_MAX)
        return -1;
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int biased = (int)((bits >> 52) & 0x7ff);
    uint64_t m = bits & ((UINT64_C(1) << 52) - 1);
    int e = -1074;                        /* subnormal */
    if (biased != 0) {
        m |= UINT64_C(1) << 52;
        e = biased - 1075;
    }
    if (e > 10)
        return -1;                        /* |v| >= 2^63 */
    static const uint64_t pow10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
                                      1000000000, 10000000000, 100000000000, 1000000000000,
                                      10000000000000, 100000000000000, 1000000000000000,
                                      10000000000000000, 100000000000000000 };
    _Static_assert(sizeof pow10 / sizeof pow10[0] > NUMFMT_FIXED_PREC_MAX, "a power of ten per precision");
    unsigned __int128 scale = pow10[prec], q;
    if (e >= 0) {
        q = (unsigned __int128)(m << e) * scale;
    } else if (-e >= 120) {
        q = 0;                            /* below half of 10^-prec: m * scale < 2^110 < 2^(-e-1) */
    } else {
        int k = -e;
        unsigned __int128 p = (unsigned __int128)m * scale, half = (unsigned __int128)1 << (k - 1);
        unsigned __int128 rem = p & ((half << 1) - 1);
        q = p >> k;
        if (rem > half || (rem == half && (q & 1) != 0))
            q++;
    }
    char digits[48];
    int n = 0;
    while (q > UINT64_MAX) {              /* backwards */
        digits[n++] = (char)('0' + (int)(q % 10));
        q /= 10;
    }
    uint64_t low = (uint64_t)q;           /* most values: 64-bit division is far cheaper */
    do {
        digits[n++] = (char)('0' + (int)(low % 10));
        low /= 10;
    } while (low != 0);
    while (n <= prec)                     /* 0.05: at least one digit before the point */
        digits[n++] = '0';
    char *o = out;
    if (bits >> 63)
        *o++ = '-';
    for (int i = n - 1; i >= 0; i--) {
        *o++ = digits[i];
        if (i == prec && prec > 0)
            *o++ = '.';
    }
    *o = '\0';
    return (int)(o - out);
}
