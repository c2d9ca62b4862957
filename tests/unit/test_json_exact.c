/* test_json_exact.c — json_exact_dumps: each real in its fewest digits that
 * read back as the same double (0.1, not jansson's 0.10000000000000001),
 * laid out as jansson lays out a real (".0" on a whole number, 1e-5, 1e21),
 * everything else byte for byte what json_dumps writes, under each layout
 * flag. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/json_exact.h"
#include "unit.h"

/* v alone, as json_exact_dumps writes it (static; "(null)" on failure). */
static const char *real_text(double v)
{
    static char out[64];
    json_t *j = json_real(v);
    char *s = json_exact_dumps(j, JSON_ENCODE_ANY);
    json_decref(j);
    snprintf(out, sizeof out, "%s", s ? s : "(null)");
    free(s);
    return out;
}

TEST(json_exact_reals_in_their_fewest_digits)
{
    CHECK_STR(real_text(0.1), "0.1");
    CHECK_STR(real_text(100 / 1000.0), "0.1"); /* a timeout of 100 ms in seconds */
    CHECK_STR(real_text(strtod("0.1", NULL)), "0.1"); /* a progress the record holds as "0.1" */
    CHECK_STR(real_text(1.5), "1.5");
    CHECK_STR(real_text(0.3), "0.3");
    CHECK_STR(real_text(0.1 + 0.2), "0.30000000000000004"); /* not 0.3: that is another double */
    CHECK_STR(real_text(1.0 / 3), "0.3333333333333333");
    CHECK_STR(real_text(258.3752), "258.3752");
    CHECK_STR(real_text(123456789012.5), "123456789012.5");
    /* A whole real keeps jansson's ".0": it reads back as a real. */
    CHECK_STR(real_text(60), "60.0");
    CHECK_STR(real_text(0), "0.0");
    CHECK_STR(real_text(-0.0), "-0.0");
    CHECK_STR(real_text(1e16), "10000000000000000.0");
    /* Exponents as jansson writes them: no '+', no leading zeros. */
    CHECK_STR(real_text(0.00001), "1e-5");
    CHECK_STR(real_text(1.5e-7), "1.5e-7");
    CHECK_STR(real_text(1e17), "1e17");
    CHECK_STR(real_text(1e21), "1e21");
    CHECK_STR(real_text(1e100), "1e100");
    CHECK_STR(real_text(-2.5e-100), "-2.5e-100");
    CHECK_STR(real_text(5e-324), "5e-324");
    CHECK_STR(real_text(DBL_MAX), "1.7976931348623157e308");
    CHECK_STR(real_text(-DBL_MIN), "-2.2250738585072014e-308");
}

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Doubles of every magnitude (random bit patterns) and short decimals (as
 * users write them), all in one array: each reads back bit for bit, in no
 * more characters than jansson's 17 digits take. */
TEST(json_exact_every_real_reads_back_exactly)
{
    enum { N = 20000 };
    static double want[2 * N];
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    json_t *arr = json_array();
    size_t n = 0;
    while (n < N) {
        uint64_t bits = next_random(&seed);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            continue;
        want[n++] = v;
    }
    for (int i = 0; i < N; i++) { /* 0.001 to 999.999, as a price or a fraction is written */
        char text[32];
        snprintf(text, sizeof text, "%d.%03d", (int)(next_random(&seed) % 1000), (int)(next_random(&seed) % 1000));
        want[n++] = strtod(text, NULL);
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_real(want[i]));
    char *exact = json_exact_dumps(arr, JSON_COMPACT);
    char *jansson = json_dumps(arr, JSON_COMPACT);
    CHECK(exact != NULL && jansson != NULL);
    if (exact != NULL && jansson != NULL) {
        CHECK(strlen(exact) <= strlen(jansson));
        json_t *back = json_loads(exact, 0, NULL);
        CHECK(json_array_size(back) == n);
        size_t wrong = 0;
        for (size_t i = 0; i < n && back != NULL; i++) {
            json_t *v = json_array_get(back, i);
            double got = json_real_value(v);
            if (!json_is_real(v) || memcmp(&got, &want[i], sizeof got) != 0)
                wrong++;
        }
        CHECK_INT(wrong, 0);
        json_decref(back);
    }
    free(exact);
    free(jansson);
    json_decref(arr);
}

/* json_exact_dumps(v, flags) is json_dumps(v, flags), byte for byte. */
static void check_as_jansson(const json_t *v, size_t flags, int line)
{
    char *exact = json_exact_dumps(v, flags);
    char *jansson = json_dumps(v, flags);
    if (exact == NULL || jansson == NULL || strcmp(exact, jansson) != 0)
        unit_fail(__FILE__, line, "flags %#zx:\n%s\nwant\n%s", flags, exact ? exact : "(null)",
                  jansson ? jansson : "(null)");
    free(exact);
    free(jansson);
}

/* A tree whose reals jansson too writes in their fewest digits (0.5, 2.0,
 * 1e21): the text is json_dumps' own, byte for byte, in every layout. */
TEST(json_exact_layout_is_janssons)
{
    const char *doc = "{\"id\": \"a\\\"b\\\\c\\n\\t\\u0001/\\u00e9\\u20ac\\ud83d\\ude00\", \"n\": -42, \"big\": "
                      "9007199254740993, \"t\": true, \"f\": false, \"z\": null, \"half\": 0.5, \"two\": 2.0, "
                      "\"huge\": 1e21, \"empty_o\": {}, \"empty_a\": [], \"list\": [1, [2, []], {\"k\\u00e9y\": "
                      "[{}]}, \"s\"], \"nested\": {\"a\": {\"b\": {\"c\": [0.25, -0.0]}}}}";
    json_t *v = json_loads(doc, 0, NULL);
    CHECK(v != NULL);
    const size_t layouts[] = { 0, JSON_INDENT(2), JSON_INDENT(4), JSON_COMPACT, JSON_INDENT(2) | JSON_COMPACT,
                               JSON_ENSURE_ASCII, JSON_INDENT(2) | JSON_ENSURE_ASCII,
                               JSON_COMPACT | JSON_ESCAPE_SLASH | JSON_ENSURE_ASCII };
    for (size_t i = 0; v != NULL && i < sizeof layouts / sizeof layouts[0]; i++)
        check_as_jansson(v, layouts[i], __LINE__);
    json_decref(v);
}

/* Strings, keys and integers json_exact_dumps writes itself (plain
 * printable ASCII; integers) and those it hands to jansson: random ones,
 * from bytes that are plain, that every flag leaves alone but one
 * ('/', JSON_ESCAPE_SLASH), that are always escaped ('"', '\\', controls,
 * DEL) and multibyte UTF-8 (escaped under JSON_ENSURE_ASCII), are the text
 * json_dumps writes, byte for byte, under each flag. */
TEST(json_exact_strings_keys_and_integers_are_janssons)
{
    static const char *const pieces[] = { "a", "Z", "0", " ", "~", "!", "/", "\"", "\\", "\n", "\t", "\x01",
                                          "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "key" };
    static const json_int_t ints[] = { 0, 1, -1, 42, -42, 1000000007, INT64_MAX, INT64_MIN, 9007199254740993 };
    const size_t layouts[] = { 0, JSON_COMPACT, JSON_INDENT(2), JSON_ENSURE_ASCII, JSON_ESCAPE_SLASH,
                               JSON_COMPACT | JSON_ESCAPE_SLASH | JSON_ENSURE_ASCII };
    unsigned seed = 7;
    for (int round = 0; round < 3000; round++) {
        char a[64] = "", b[64] = "";
        for (int i = 0, n = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 6; i < n; i++) {
            strcat(a, pieces[((seed = seed * 1103515245u + 12345u) >> 16) % (sizeof pieces / sizeof *pieces)]);
            strcat(b, pieces[((seed = seed * 1103515245u + 12345u) >> 16) % (sizeof pieces / sizeof *pieces)]);
        }
        json_t *v = json_object();
        json_object_set_new(v, a, json_string(b));
        json_object_set_new(v, "n", json_integer(ints[round % (sizeof ints / sizeof *ints)]));
        json_object_set_new(v, b, json_pack("[s, i, {s:s}]", a, (json_int_t)round, a, b));
        for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
            check_as_jansson(v, layouts[i], __LINE__);
        json_decref(v);
    }
}

/* A job as `tickq job` shows it: timeout_ms 100, progress "0.1", args
 * with a decimal the user wrote. */
TEST(json_exact_a_job_view)
{
    json_t *job = json_object();
    json_object_set_new(job, "progress", json_real(strtod("0.1", NULL)));
    json_object_set_new(job, "timeout_seconds", json_real((double)100 / 1000.0));
    json_object_set_new(job, "args", json_loads("{\"qty\": 0.1, \"px\": 101.7, \"n\": 3}", 0, NULL));
    json_object_set_new(job, "timeout_ms", json_integer(100));
    char *s = json_exact_dumps(job, JSON_INDENT(2));
    CHECK_STR(s, "{\n  \"progress\": 0.1,\n  \"timeout_seconds\": 0.1,\n  \"args\": {\n    \"qty\": 0.1,\n"
                 "    \"px\": 101.7,\n    \"n\": 3\n  },\n  \"timeout_ms\": 100\n}");
    free(s);
    s = json_exact_dumps(job, JSON_COMPACT);
    CHECK_STR(s, "{\"progress\":0.1,\"timeout_seconds\":0.1,\"args\":{\"qty\":0.1,\"px\":101.7,\"n\":3},"
                 "\"timeout_ms\":100}");
    free(s);
    json_decref(job);
}

TEST(json_exact_refusals)
{
    json_t *o = json_pack("{s:f}", "x", 0.1);
    json_t *leaf = json_real(0.1);
    char *s = json_exact_dumps(o, JSON_SORT_KEYS);
    CHECK(s == NULL);
    s = json_exact_dumps(o, JSON_EMBED);
    CHECK(s == NULL);
    s = json_exact_dumps(leaf, 0); /* a bare value needs JSON_ENCODE_ANY, as with json_dumps */
    CHECK(s == NULL);
    s = json_exact_dumps(NULL, JSON_ENCODE_ANY);
    CHECK(s == NULL);
    s = json_exact_dumps(o, JSON_REAL_PRECISION(3)); /* ignored: 0.1 has its own digits */
    CHECK_STR(s, "{\"x\": 0.1}");
    free(s);
    /* A value that holds itself (a -> b -> a) ends at the depth limit. */
    json_t *a = json_array(), *b = json_array();
    json_array_append(a, b);
    json_array_append(b, a);
    s = json_exact_dumps(a, JSON_COMPACT);
    CHECK(s == NULL);
    json_array_clear(b);
    json_decref(b);
    json_decref(a);
    json_decref(leaf);
    json_decref(o);
}
