/* decimal.c — reading a decimal number (decimal.h). */
#include "core/decimal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *decimal_end(const char *s)
{
    const char *p = s;
    size_t digits = strspn(p, "0123456789");
    p += digits;
    if (*p == '.') {
        size_t fraction = strspn(p + 1, "0123456789");
        p += 1 + fraction;
        digits += fraction;
    }
    if (digits == 0)
        return NULL;
    if (*p == 'e' || *p == 'E') {
        const char *q = p + 1 + (p[1] == '+' || p[1] == '-');
        size_t exponent = strspn(q, "0123456789");
        if (exponent > 0)
            p = q + exponent;
    }
    return p;
}

int decimal_parse(const char *s, double *out)
{
    const char *end = decimal_end(s + (*s == '+' || *s == '-'));
    if (end == NULL || *end != '\0')
        return -1;
    double v = strtod(s, NULL);
    if (!isfinite(v))
        return -1;
    *out = v;
    return 0;
}
