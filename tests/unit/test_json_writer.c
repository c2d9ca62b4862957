/* test_json_writer.c — JSON text written directly: numbers read back as
 * the same double, in printf's %.15g where that is the same double, strings
 * are escaped and made UTF-8. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_writer.h"
#include "unit.h"

static char *written(double v)
{
    json_writer_t w;
    jw_init(&w);
    jw_number(&w, v);
    size_t len;
    return jw_take(&w, &len);
}

TEST(json_writer_numbers_read_back_exactly)
{
    static const struct { double v; const char *text; } exact[] = {
        { 2.0, "2.0" }, { -3.0, "-3.0" }, { 0.5, "0.5" }, { 0.1, "0.1" }, { 100.25, "100.25" },
        { 0.0321250699416929, "0.0321250699416929" }, { 123456789012345.0, "123456789012345.0" },
        { 0.0001, "0.0001" }, { 1e-5, "1e-05" }, { 1e20, "1e+20" }, { 0.0, "0.0" }, { -0.000123, "-0.000123" },
        { 3.14159265358979, "3.14159265358979" }, { 99.99999999999999, "99.99999999999999" },
        { 0.30000000000000004, "0.30000000000000004" }, { 1.0 / 3.0, "0.3333333333333333" },
    };
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        char *s = written(exact[i].v);
        CHECK_STR(s, exact[i].text);
        free(s);
    }
    char *s = written(NAN);
    CHECK_STR(s, "null");
    free(s);
    /* Random values over many magnitudes read back as the same double. */
    srand(7);
    for (int i = 0; i < 20000; i++) {
        double v = (rand() / (double)RAND_MAX - 0.5) * pow(10, rand() % 24 - 8);
        char *t = written(v);
        double back = strtod(t, NULL);
        if (back != v)
            unit_fail(__FILE__, __LINE__, "%.17g written as %s", v, t);
        free(t);
    }
    /* Prices and ratios with few decimals (what most results hold) take the
     * path that reads back without strtod: their text must be %.15g's, and
     * read back. So must doubles of any bits in the same magnitudes, where
     * that path's check of the 15 digits fails as often as it holds. */
    static const double scale[] = { 1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e8 };
    for (int i = 0; i < 200000; i++) {
        double v;
        char g15[40];
        if (i % 2 == 0) {
            v = (double)(rand() % 100000000) / scale[rand() % 8] * (rand() % 3 == 0 ? -1 : 1);
            if (v == 0 || fabs(v) < 1e-4)
                continue;
            snprintf(g15, sizeof g15, "%.15g%s", v, v == floor(v) ? ".0" : "");
        } else {
            uint64_t bits = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
            bits = (bits & ((UINT64_C(1) << 52) - 1)) | ((uint64_t)(1010 + rand() % 60) << 52);
            memcpy(&v, &bits, sizeof v);
            g15[0] = '\0';
        }
        char *t = written(v);
        if (strtod(t, NULL) != v || (g15[0] != '\0' && strcmp(t, g15) != 0))
            unit_fail(__FILE__, __LINE__, "%.17g written as %s (%%.15g: %s)", v, t, g15);
        free(t);
    }
    /* The same value twice in a row, as a column's sums are: the second
     * must not pass its check on the digits the first left behind (a
     * 15-digit text that is not v, followed by the first's 16th digit). */
    const double twice[] = { 58230583.45941123, 1.4552055908372132, 89.32538461538462, 0.30000000000000004 };
    for (size_t i = 0; i < sizeof twice / sizeof twice[0]; i++) {
        json_writer_t w;
        jw_init(&w);
        jw_char(&w, '[');
        jw_number(&w, twice[i]);
        jw_char(&w, ',');
        jw_number(&w, twice[i]);
        jw_char(&w, ']');
        size_t len;
        char *text = jw_take(&w, &len);
        json_error_t e;
        json_t *a = json_loads(text, 0, &e);
        CHECK(a != NULL && json_array_size(a) == 2);
        for (size_t k = 0; a != NULL && k < json_array_size(a); k++)
            if (json_real_value(json_array_get(a, k)) != twice[i])
                unit_fail(__FILE__, __LINE__, "%.17g written as %s", twice[i], text);
        json_decref(a);
        free(text);
    }
}

TEST(json_writer_strings_escape_and_repair_utf8)
{
    json_writer_t w;
    jw_init(&w);
    jw_char(&w, '[');
    jw_string(&w, "a\"b\\c\n\t\x01", 8);
    jw_char(&w, ',');
    jw_string(&w, "caf\xc3\xa9 \xff end", 11);
    jw_char(&w, ']');
    size_t len;
    char *text = jw_take(&w, &len);
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    CHECK(v != NULL);
    CHECK_STR(json_string_value(json_array_get(v, 0)), "a\"b\\c\n\t\x01");
    CHECK_STR(json_string_value(json_array_get(v, 1)), "caf\xc3\xa9 \xef\xbf\xbd end");
    json_decref(v);
    free(text);
}

/* A writer with a maximum stops at it: what fits is kept, nothing after,
 * and `over` says why it failed. */
TEST(json_writer_stops_at_its_maximum)
{
    json_writer_t w;
    jw_init(&w);
    w.max = 8;
    jw_raw(&w, "[1,2,3", 6);
    jw_char(&w, ',');
    CHECK(!w.failed && !w.over);
    jw_string(&w, "abc", 3); /* "abc" needs 5 more bytes: over */
    CHECK(w.failed && w.over);
    CHECK_INT(w.len, 7);
    jw_char(&w, ']');
    CHECK_INT(w.len, 7);
    jw_free(&w);
    jw_init(&w); /* no maximum by default */
    for (int i = 0; i < 100000; i++)
        jw_char(&w, 'x');
    CHECK(!w.failed && !w.over && w.len == 100000);
    jw_free(&w);
}
