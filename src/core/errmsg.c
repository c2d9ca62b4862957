/* errmsg.c — formatting an error message into a caller's buffer. */
#include "core/errmsg.h"

#include <stdarg.h>
#include <stdio.h>

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
