/* json_exact.c — JSON text whose reals read back exactly (json_exact.h).
 *
 * The walk follows jansson's own dump (do_dump in its dump.c) step for
 * step: the same brackets, separators and indentation, objects in their
 * insertion order. A string, a key and an integer are handed to jansson
 * itself, so their text (escapes, JSON_ENSURE_ASCII, JSON_ESCAPE_SLASH) is
 * exactly what json_dumps writes; only a real is written here. Except
 * where jansson's text is certain without asking it: a string or key of
 * printable ASCII that needs no escape under any flag (no '"', '\\' or
 * '/') is itself between quotes, and an integer is its decimal digits
 * (jansson's "%lld"). Each call of jansson's dump sets up a table of its
 * own; for a job's result that was a quarter of the worker's time per
 * no-op job. tests/unit/test_json_exact.c compares both ways. */
#include "core/json_exact.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/json_writer.h"
#include "core/numfmt.h"

#define INDENT_OF(flags) ((int)((flags) & 0x1F)) /* jansson's FLAGS_TO_INDENT */

static int append(const char *buffer, size_t size, void *data)
{
    json_writer_t *w = data;
    jw_raw(w, buffer, size);
    return w->failed ? -1 : 0;
}

/* Whether jansson writes s[0..len) as itself between quotes under every
 * flag: printable ASCII without '"', '\\' or '/'. */
static int plain_string(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '/')
            return 0;
    }
    return 1;
}

/* A string or key jansson would write as itself: written here. */
static int write_plain(json_writer_t *w, const char *s, size_t len)
{
    jw_char(w, '"');
    jw_raw(w, s, len);
    jw_char(w, '"');
    return w->failed ? -1 : 0;
}

/* A leaf (string, integer, true, false, null) as jansson writes it. */
static int write_leaf(json_writer_t *w, const json_t *leaf, size_t flags)
{
    if (json_is_string(leaf) && plain_string(json_string_value(leaf), json_string_length(leaf)))
        return write_plain(w, json_string_value(leaf), json_string_length(leaf));
    if (json_is_integer(leaf)) {
        jw_integer(w, json_integer_value(leaf));
        return w->failed ? -1 : 0;
    }
    return json_dump_callback(leaf, append, w, JSON_ENCODE_ANY | (flags & (JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH)));
}

/* v in its fewest exact digits, laid out as jansson lays out a real: ".0"
 * on a whole number, the exponent without '+' or leading zeros. */
static int write_real(json_writer_t *w, double v)
{
    char text[NUMFMT_MAX + 2];
    if (!isfinite(v)) /* jansson holds none; JSON has no word for one */
        return -1;
    numfmt_shortest(v, text);
    char *e = strchr(text, 'e');
    if (e == NULL && strchr(text, '.') == NULL) {
        strcat(text, ".0");
    } else if (e != NULL) {
        char *to = e + 1, *from = e + 1;
        if (*from == '+')
            from++;
        else if (*from == '-')
            to++, from++;
        while (from[0] == '0' && from[1] != '\0')
            from++;
        memmove(to, from, strlen(from) + 1);
    }
    jw_raw(w, text, strlen(text));
    return w->failed ? -1 : 0;
}

/* jansson's dump_indent: a newline and depth levels of indentation, or,
 * without JSON_INDENT, a space after a comma unless JSON_COMPACT. */
static void write_indent(json_writer_t *w, size_t flags, int depth, int space)
{
    if (INDENT_OF(flags) > 0) {
        jw_char(w, '\n');
        for (int i = 0; i < depth * INDENT_OF(flags); i++)
            jw_char(w, ' ');
    } else if (space && !(flags & JSON_COMPACT)) {
        jw_char(w, ' ');
    }
}

static int write_value(json_writer_t *w, const json_t *v, size_t flags, int depth)
{
    if (depth > JSON_EXACT_MAX_DEPTH)
        return -1;
    if (json_is_real(v))
        return write_real(w, json_real_value(v));
    if (json_is_array(v)) {
        size_t n = json_array_size(v);
        jw_char(w, '[');
        if (n > 0)
            write_indent(w, flags, depth + 1, 0);
        for (size_t i = 0; i < n; i++) {
            if (write_value(w, json_array_get(v, i), flags, depth + 1) != 0)
                return -1;
            if (i + 1 < n) {
                jw_char(w, ',');
                write_indent(w, flags, depth + 1, 1);
            } else {
                write_indent(w, flags, depth, 0);
            }
        }
        jw_char(w, ']');
        return w->failed ? -1 : 0;
    }
    if (json_is_object(v)) {
        const char *separator = flags & JSON_COMPACT ? ":" : ": ";
        void *iter = json_object_iter((json_t *)v);
        jw_char(w, '{');
        if (iter != NULL)
            write_indent(w, flags, depth + 1, 0);
        while (iter != NULL) {
            void *next = json_object_iter_next((json_t *)v, iter);
            const char *k = json_object_iter_key(iter);
            size_t klen = json_object_iter_key_len(iter);
            if (plain_string(k, klen)) {
                if (write_plain(w, k, klen) != 0)
                    return -1;
            } else {
                json_t *key = json_stringn_nocheck(k, klen);
                int bad = key == NULL || write_leaf(w, key, flags) != 0;
                json_decref(key);
                if (bad)
                    return -1;
            }
            jw_raw(w, separator, strlen(separator));
            if (write_value(w, json_object_iter_value(iter), flags, depth + 1) != 0)
                return -1;
            if (next != NULL) {
                jw_char(w, ',');
                write_indent(w, flags, depth + 1, 1);
            } else {
                write_indent(w, flags, depth, 0);
            }
            iter = next;
        }
        jw_char(w, '}');
        return w->failed ? -1 : 0;
    }
    return write_leaf(w, v, flags);
}

char *json_exact_dumps(const json_t *json, size_t flags)
{
    if (json == NULL || (flags & (JSON_SORT_KEYS | JSON_EMBED)) ||
        (!(flags & JSON_ENCODE_ANY) && !json_is_object(json) && !json_is_array(json)))
        return NULL;
    json_writer_t w;
    jw_init(&w);
    if (write_value(&w, json, flags, 0) != 0) {
        jw_free(&w);
        return NULL;
    }
    size_t len;
    return jw_take(&w, &len);
}
