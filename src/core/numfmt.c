/* numfmt.c — the shortest decimal text that reads back as the same double.
 *
 * printf's "%.<p>e" rounds v correctly to p significant digits; the
 * fewest digits whose text strtod turns back into v are the answer.
 * Whether p digits round-trip is monotone in p (the (p+1)-digit decimals
 * include every p-digit one, so the nearest is never farther), so a binary
 * search over 1..17 finds p in at most five tries instead of up to
 * seventeen. The digits are then laid out as %g would lay them out with
 * 17 digits of precision: plainly (10, 0.0001, 100.0000000005) unless the
 * exponent is below -4 or above 16 (1e-05, 1.5e+20), which %.<p>g alone
 * would not do (it writes 10 as 1e+01). */
#include "core/numfmt.h"

#include <math.h>
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
    int lo = 1, hi = 17; /* 17 digits always read back (DBL_DECIMAL_DIG) */
    char sci[NUMFMT_MAX];
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (reads_back(v, mid, sci))
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(sci, sizeof sci, "%.*e", lo - 1, v); /* [-]d[.ddd]e±XX */
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
