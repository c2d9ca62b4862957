/* decimal.c — reading a decimal number (decimal.h). */
#include "core/decimal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>

/* The digits from *p: how many, *p moved past them. */
static int digits(const char **p)
{
    int n = 0;
    while (isdigit((unsigned char)**p))
        (*p)++, n++;
    return n;
}

int decimal_parse(const char *s, double *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    int whole = digits(&p), frac = 0;
    if (*p == '.') {
        p++;
        frac = digits(&p);
    }
    if (whole + frac == 0)
        return -1;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (digits(&p) == 0)
            return -1;
    }
    if (*p != '\0')
        return -1;
    double v = strtod(s, NULL);
    if (!isfinite(v))
        return -1;
    *out = v;
    return 0;
}
