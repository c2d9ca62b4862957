/* utf8.c — UTF-8 text out of bytes that may not be text (utf8.h).
 *
 * Well-formed sequences are those of Unicode's table 3-7: no overlong form,
 * no surrogate, nothing past U+10FFFF. An ill-formed sequence's maximal
 * subpart is its longest start that some well-formed sequence begins with
 * (at least one byte), so "\xE2\x82" followed by "A" is one U+FFFD, then A. */
#include "core/utf8.h"

#include <stdlib.h>
#include <string.h>

size_t utf8_next(const char *s, size_t n, int *ok)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[0], lo = 0x80, hi = 0xBF;
    size_t need;
    *ok = 0;
    if (c < 0x80) {
        *ok = 1;
        return 1;
    }
    if (c < 0xC2 || c > 0xF4)
        return 1;            /* a continuation byte, an overlong lead, or past U+10FFFF */
    if (c < 0xE0) {
        need = 1;
    } else if (c < 0xF0) {
        need = 2;
        lo = c == 0xE0 ? 0xA0 : 0x80;   /* no overlong form */
        hi = c == 0xED ? 0x9F : 0xBF;   /* no surrogate */
    } else {
        need = 3;
        lo = c == 0xF0 ? 0x90 : 0x80;   /* no overlong form */
        hi = c == 0xF4 ? 0x8F : 0xBF;   /* nothing past U+10FFFF */
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= n || u[i] < lo || u[i] > hi)
            return i;
        lo = 0x80;
        hi = 0xBF;
    }
    *ok = 1;
    return need + 1;
}

int utf8_is_text(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if ((unsigned char)s[i] >= 0x80) {
            int ok;
            i += utf8_next(s + i, n - i, &ok);
            if (!ok)
                return 0;
        } else if (s[i++] == '\0') {
            return 0;
        }
    }
    return 1;
}

size_t utf8_clean(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0, i = 0;
    while (i < n) {
        int ok;
        size_t len = utf8_next(s + i, n - i, &ok);
        int text = ok && s[i] != '\0';
        const char *put = text ? s + i : UTF8_REPLACEMENT;
        size_t putlen = text ? len : sizeof UTF8_REPLACEMENT - 1;
        if (o + putlen >= outlen)
            break;
        memcpy(out + o, put, putlen);
        o += putlen;
        i += len;
    }
    out[o] = '\0';
    return o;
}

char *utf8_clean_dup(const char *s, size_t n, size_t *len)
{
    char *out = malloc(UTF8_CLEAN_MAX(n));
    if (out == NULL)
        return NULL;
    size_t got = utf8_clean(s, n, out, UTF8_CLEAN_MAX(n));
    if (len != NULL)
        *len = got;
    return out;
}

size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    /* Back from the first byte left out to the start of its character. */
    size_t k = max;
    while (k > 0 && max - k < 3 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    /* A sequence starting at k that reaches past max (whole, or cut short
     * by the end of the input: the rest may not have been read yet) goes
     * to the next part whole; one that ends before max is ill-formed, and
     * cleaned wherever it falls. */
    int ok;
    if (k < max && utf8_next(s + k, n - k, &ok) > max - k)
        return k;
    return max;
}
