/* json_writer.c — JSON text written straight into a growing buffer. */
#include "core/json_writer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/numfmt.h"
#include "core/utf8.h"

void jw_init(json_writer_t *w)
{
    memset(w, 0, sizeof *w);
}

void jw_free(json_writer_t *w)
{
    free(w->buf);
    jw_init(w);
}

char *jw_take(json_writer_t *w, size_t *len)
{
    jw_char(w, '\0');
    if (w->failed) {
        jw_free(w);
        return NULL;
    }
    char *s = w->buf;
    *len = w->len - 1;
    jw_init(w);
    return s;
}

static int reserve(json_writer_t *w, size_t more)
{
    if (w->failed)
        return -1;
    if (w->max > 0 && more > w->max - w->len) {
        w->failed = w->over = 1;
        return -1;
    }
    if (w->len + more <= w->cap)
        return 0;
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->len + more)
        cap *= 2;
    char *b = realloc(w->buf, cap);
    if (b == NULL) {
        w->failed = 1;
        return -1;
    }
    w->buf = b;
    w->cap = cap;
    return 0;
}

void jw_raw(json_writer_t *w, const char *s, size_t len)
{
    if (reserve(w, len) == 0) {
        memcpy(w->buf + w->len, s, len);
        w->len += len;
    }
}

void jw_char(json_writer_t *w, char c)
{
    if (reserve(w, 1) == 0)
        w->buf[w->len++] = c;
}

void jw_string(json_writer_t *w, const char *s, size_t len)
{
    if (reserve(w, len + 2) != 0)
        return;
    w->buf[w->len++] = '"';
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t run = i; /* copy plain ASCII in one go */
        while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            jw_raw(w, s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char)c };
            jw_raw(w, esc, 2);
            i++;
        } else if (c < 0x20) {
            char esc[8];
            const char *named = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
            if (named != NULL)
                jw_raw(w, named, 2);
            else
                jw_raw(w, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", c));
            i++;
        } else {
            int ok;
            size_t seq = utf8_next(s + i, len - i, &ok);
            if (ok) {
                jw_raw(w, s + i, seq);
                i += seq;
            } else { /* the one rule for bytes that are not UTF-8 (utf8.h) */
                jw_raw(w, UTF8_REPLACEMENT, sizeof UTF8_REPLACEMENT - 1);
                i += seq;
            }
        }
    }
    jw_char(w, '"');
}

/* 15 significant digits, NUL-terminated, without printf for the common
 * magnitudes (printf's exact decimal conversion dominates writing many
 * numbers): the value is scaled by an exact power of ten and rounded to a
 * 15-digit integer m, which can differ from correct rounding only in the
 * 15th digit. *exact tells whether the text reads back as v, without
 * strtod: the text is m / 10^k, and m (< 2^53) and 10^k (k <= 18 < 23) are
 * exact doubles, so IEEE division rounds m / 10^k to the nearest double
 * just as strtod rounds the text: the two are equal exactly when the text
 * reads back as v. */
static int fast_g15(double v, char *out, int *exact)
{
    static const double pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
                                    1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18 };
    double a = fabs(v);
    if (!(a >= 1e-4 && a < 1e15))
        return -1;
    int e10 = (int)floor(log10(a));
    if (e10 < -4 || e10 > 14)
        return -1;
    uint64_t m = (uint64_t)llround(a * pow10[14 - e10]);
    if (m >= 1000000000000000ULL) { /* rounded up to the next power of ten */
        m /= 10;
        e10++;
        if (e10 > 14)
            return -1;
    }
    if (m < 100000000000000ULL)
        return -1; /* log10 landed a digit off: let printf do it */
    *exact = (double)m / pow10[14 - e10] == a;
    char digits[16];
    for (int i = 14; i >= 0; i--) {
        digits[i] = (char)('0' + m % 10);
        m /= 10;
    }
    int last = 14; /* drop trailing zeros */
    while (last > 0 && digits[last] == '0')
        last--;
    char *p = out;
    if (v < 0)
        *p++ = '-';
    if (e10 >= 0) {
        for (int i = 0; i <= e10; i++)
            *p++ = digits[i];
        *p++ = '.';
        if (last <= e10) {
            *p++ = '0';
        } else {
            for (int i = e10 + 1; i <= last; i++)
                *p++ = digits[i];
        }
    } else {
        *p++ = '0';
        *p++ = '.';
        for (int i = 0; i < -e10 - 1; i++)
            *p++ = '0';
        for (int i = 0; i <= last; i++)
            *p++ = digits[i];
    }
    *p = '\0'; /* jw_number reads it back with strtod */
    return (int)(p - out);
}

void jw_number(json_writer_t *w, double v)
{
    if (!isfinite(v)) {
        jw_null(w);
        return;
    }
    char num[40];
    int exact = 0;
    int n = fast_g15(v, num, &exact);
    if (n < 0)
        n = snprintf(num, sizeof num, "%.15g", v);
    for (int digits = 16; !exact && digits <= 17 && strtod(num, NULL) != v; digits++)
        n = snprintf(num, sizeof num, "%.*g", digits, v); /* 15 digits are not v: more, to 17, which are */
    if (strpbrk(num, ".eEn") == NULL) /* keep it a real: 2 -> 2.0, as jansson writes it */
        n += snprintf(num + n, sizeof num - (size_t)n, ".0");
    jw_raw(w, num, (size_t)n);
}

void jw_integer(json_writer_t *w, int64_t v)
{
    char num[NUMFMT_INTEGER_MAX];
    jw_raw(w, num, (size_t)numfmt_integer((long long)v, num));
}

void jw_bool(json_writer_t *w, int v)
{
    if (v)
        jw_raw(w, "true", 4);
    else
        jw_raw(w, "false", 5);
}

void jw_null(json_writer_t *w)
{
    jw_raw(w, "null", 4);
}

void jw_key(json_writer_t *w, const char *key, int first)
{
    if (!first)
        jw_char(w, ',');
    jw_string(w, key, strlen(key));
    jw_char(w, ':');
}
