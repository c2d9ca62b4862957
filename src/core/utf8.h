/* utf8.h — UTF-8 text out of bytes that may not be text.
 *
 * The one rule for foreign bytes (a handler's output, a task's error, a
 * history row, a log field) on their way to a log line, a result or a
 * database, which all need UTF-8 text: each ill-formed sequence (its
 * maximal subpart, as Python's errors="replace" and WHATWG decoders take
 * it) and each NUL byte becomes U+FFFD; text is never cut after a NUL, and
 * a long text is cut at a whole character. */
#ifndef TICKQ_UTF8_H
#define TICKQ_UTF8_H

#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
#define UTF8_REPLACEMENT "\xEF\xBF\xBD"

/* Room that utf8_clean of n bytes always fits in (each byte may become
 * U+FFFD), with its terminating NUL. */
#define UTF8_CLEAN_MAX(n) (3 * (n) + 1)

/* The next unit of the n > 0 bytes at s: returns its length and sets *ok
 * to 1 for a well-formed character (NUL is one), to 0 for an ill-formed
 * sequence's maximal subpart (never 0 bytes). */
size_t utf8_next(const char *s, size_t n, int *ok);

/* 1 when the n bytes at s are well-formed UTF-8 with no NUL byte. */
int utf8_is_text(const char *s, size_t n);

/* The n bytes at s as text into out (outlen >= 1), NUL-terminated, by the
 * rule above; stops at a whole character when out is full. Returns the
 * length written. Note that this is O(n) even when s is text already. */
size_t utf8_clean(const char *s, size_t n, char *out, size_t outlen);

/* utf8_clean into a malloc'd string (*len its length unless len is NULL);
 * NULL when memory runs out. */
char *utf8_clean_dup(const char *s, size_t n, size_t *len);

/* The length of the longest start of the n bytes at s of at most max
 * bytes that does not end inside a character. */
size_t utf8_cut(const char *s, size_t n, size_t max);

#endif
