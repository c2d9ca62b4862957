/* errmsg.h — formatting an error message into a caller's buffer, the way
 * tickq's functions report failures (char *err, size_t errlen). */
#ifndef TICKQ_ERRMSG_H
#define TICKQ_ERRMSG_H

#include <stddef.h>

/* Like snprintf into err; does nothing when err is NULL or errlen is 0. */
void errmsg_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Cuts a trailing UTF-8 character that a fixed-size copy left incomplete,
 * so that a truncated text stays valid UTF-8. */
void errmsg_utf8_trim(char *s);

/* text between single quotes for a message: whole up to 40 characters,
 * else its first 40 and "…" with its length ('AAAA…' (47 characters)).
 * Returns out, which ERRMSG_QUOTE_MAX bytes always hold. */
#define ERRMSG_QUOTE_MAX 200
const char *errmsg_quote(const char *text, char *out, size_t outlen);

/* A message built from parts (several failures named in one error): text
 * is always NUL-terminated and cut at its size. */
typedef struct {
    char text[1024];
    size_t len;
} errmsg_t;

/* Appends formatted text to m (nothing once it is full). */
void errmsg_add(errmsg_t *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
