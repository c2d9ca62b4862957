/* errmsg.c — formatting an error message into a caller's buffer. */
#include "core/errmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void errmsg_set(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void errmsg_add(errmsg_t *m, const char *fmt, ...)
{
    if (m->len + 1 >= sizeof m->text)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(m->text + m->len, sizeof m->text - m->len, fmt, ap);
    va_end(ap);
    if (w > 0)
        m->len = m->len + (size_t)w < sizeof m->text ? m->len + (size_t)w : sizeof m->text - 1;
}

void errmsg_utf8_trim(char *s)
{
    size_t n = strlen(s), lead = n;
    /* Back over at most 3 continuation bytes to the sequence's lead byte. */
    while (lead > 0 && n - lead < 4 && ((unsigned char)s[lead - 1] & 0xC0) == 0x80)
        lead--;
    if (lead == 0)
        return;
    unsigned char c = (unsigned char)s[lead - 1];
    size_t want = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (c >= 0x80 && n - (lead - 1) < want)
        s[lead - 1] = '\0';
}

#define QUOTE_CHARS 40

const char *errmsg_quote(const char *text, char *out, size_t outlen)
{
    size_t len = strlen(text), chars = 0;
    for (size_t i = 0; i < len; i++)
        chars += ((unsigned char)text[i] & 0xC0) != 0x80; /* a character's first byte */
    if (chars <= QUOTE_CHARS) {
        snprintf(out, outlen, "'%s'", text);
        return out;
    }
    size_t cut = 0, seen = 0; /* cut: where character QUOTE_CHARS + 1 starts */
    while (cut < len && !(((unsigned char)text[cut] & 0xC0) != 0x80 && ++seen > QUOTE_CHARS))
        cut++;
    snprintf(out, outlen, "'%.*s\u2026' (%zu characters)", (int)cut, text, chars);
    return out;
}
