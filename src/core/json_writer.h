/* json_writer.h — JSON text written straight into a growing buffer.
 *
 * For results too big to build as jansson values and dump (a backtest's
 * tens of thousands of instances): the sandbox writes their text once, and
 * the worker splices it into the result without parsing it again. Numbers
 * read back exactly, as in the rest of the worker's results: 15 significant
 * digits when they are the same double (most values), else 16 or 17; NaN
 * and infinities as null. Strings are escaped, with bytes that are not UTF-8
 * replaced by U+FFFD (utf8.h). An allocation failure sets `failed` and stops writing;
 * so does text past `max` (when not 0), which sets `over` too. */
#ifndef TICKQ_JSON_WRITER_H
#define TICKQ_JSON_WRITER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *buf;
    size_t len, cap;
    size_t max;                  /* 0: no limit */
    int failed;
    int over;                    /* stopped at max */
} json_writer_t;

void jw_init(json_writer_t *w);
void jw_free(json_writer_t *w);
/* Hands the text over (NUL-terminated; the caller frees it). */
char *jw_take(json_writer_t *w, size_t *len);

void jw_raw(json_writer_t *w, const char *s, size_t len);
void jw_char(json_writer_t *w, char c);
void jw_string(json_writer_t *w, const char *s, size_t len);
void jw_number(json_writer_t *w, double v);
void jw_integer(json_writer_t *w, int64_t v);
void jw_bool(json_writer_t *w, int v);
void jw_null(json_writer_t *w);
/* A key and its colon, after a comma unless `first`. */
void jw_key(json_writer_t *w, const char *key, int first);

#endif
