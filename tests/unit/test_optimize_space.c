/* test_optimize_space.c — an optimize job's combinations: grids, ranges,
 * random samples, and the constraint language (its parser refuses what it
 * does not know). */
#include <math.h>

#include "strategy/optimize_space.h"
#include "unit.h"

static json_t *combos(const char *params, const char *constraints, size_t *space, char *err, size_t errlen)
{
    json_t *p = json_loads(params, 0, NULL);
    json_t *c = constraints ? json_loads(constraints, JSON_DECODE_ANY, NULL) : NULL;
    optimize_constraints_t *oc = NULL;
    json_t *out = NULL;
    if (optimize_constraints_parse(c, p, &oc, err, errlen) == 0)
        out = optimize_combinations(p, oc, space, err, errlen);
    optimize_constraints_free(oc);
    json_decref(p);
    json_decref(c);
    return out;
}

static void refused(const char *params, const char *constraints, const char *needle, int line)
{
    char err[512] = "";
    size_t space;
    json_t *out = combos(params, constraints, &space, err, sizeof err);
    if (out != NULL)
        unit_fail(__FILE__, line, "should be refused (expected '%s')", needle);
    else if (strstr(err, needle) == NULL)
        unit_fail(__FILE__, line, "error '%s' should mention '%s'", err, needle);
    json_decref(out);
}

TEST(optimize_grid_and_ranges)
{
    char err[512];
    size_t space;
    json_t *out = combos("{\"fast\": [5, 10, 15], \"slow\": {\"from\": 20, \"to\": 60, \"step\": 20}}", NULL, &space,
                         err, sizeof err);
    CHECK(out != NULL);
    CHECK_INT(json_array_size(out), 9);
    CHECK_INT(space, 9);
    char *first = json_dumps(json_array_get(out, 0), JSON_COMPACT | JSON_SORT_KEYS);
    char *second = json_dumps(json_array_get(out, 1), JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(first, "{\"fast\":5,\"slow\":20}");
    CHECK_STR(second, "{\"fast\":5,\"slow\":40}"); /* the last parameter varies fastest */
    free(first);
    free(second);
    json_decref(out);
    /* A real step: 0.1 * 3 is 0.3, not 0.30000000000000004. */
    out = combos("{\"k\": {\"from\": 0, \"to\": 0.3, \"step\": 0.1}}", NULL, &space, err, sizeof err);
    CHECK(out != NULL && json_array_size(out) == 4);
    CHECK(json_real_value(json_object_get(json_array_get(out, 3), "k")) == 0.3);
    json_decref(out);
}

/* The largest exact integers are still an integer range; a stepless
 * random range between the extremes of a double draws finite numbers. */
TEST(optimize_ranges_at_the_edges)
{
    char err[512] = "";
    size_t space;
    json_t *out = combos("{\"a\": {\"from\": 9007199254740990, \"to\": 9007199254740992, \"step\": 1}}", NULL,
                         &space, err, sizeof err);
    CHECK(out != NULL);
    CHECK_INT(json_array_size(out), 3);
    for (size_t i = 0; out != NULL && i < 3; i++) {
        const json_t *a = json_object_get(json_array_get(out, i), "a");
        CHECK(json_is_integer(a) && json_integer_value(a) == 9007199254740990LL + (json_int_t)i);
    }
    json_decref(out);
    out = combos("{\"random\": 20, \"space\": {\"a\": {\"from\": -1e307, \"to\": 1e307}}}", NULL, &space, err,
                 sizeof err);
    CHECK(out != NULL);
    for (size_t i = 0; out != NULL && i < json_array_size(out); i++) {
        const json_t *a = json_object_get(json_array_get(out, i), "a");
        CHECK(json_is_real(a) && isfinite(json_real_value(a)));
    }
    json_decref(out);
}

TEST(optimize_constraints_filter)
{
    char err[512];
    size_t space;
    json_t *out = combos("{\"fast\": {\"from\": 5, \"to\": 50, \"step\": 5}, \"slow\": {\"from\": 20, \"to\": 200, "
                         "\"step\": 20}}", "\"fast < slow\"", &space, err, sizeof err);
    CHECK(out != NULL);
    CHECK_INT(space, 100);
    size_t expect = 0;
    for (int f = 5; f <= 50; f += 5)
        for (int s = 20; s <= 200; s += 20)
            expect += f < s;
    CHECK_INT(json_array_size(out), expect);
    json_decref(out);
    out = combos("{\"a\": [1, 2, 3, 4], \"b\": [1, 2, 3, 4]}",
                 "[\"(b - a) * 2 >= 2 and not (a == 2)\", \"a % 2 == 1 or b == 4\"]", &space, err, sizeof err);
    CHECK(out != NULL);
    /* a in {1, 3}, b - a >= 1; or a == 4 excluded by b - a >= 1... */
    size_t n = 0;
    for (int a = 1; a <= 4; a++)
        for (int b = 1; b <= 4; b++)
            n += (b - a) * 2 >= 2 && !(a == 2) && (a % 2 == 1 || b == 4);
    CHECK_INT(json_array_size(out), n);
    json_decref(out);
}

TEST(optimize_constraint_modulo_is_pythons)
{
    /* Python's %: the sign of the divisor, -7 % 3 == 2 and 7 % -3 == -2 (C's fmod gives -1 and 1). */
    char err[512];
    size_t space;
    json_t *out = combos("{\"a\": [-7, -6, -5, 7], \"b\": [3, -3]}", "\"a % b == 2 or a % b == -2\"", &space, err,
                         sizeof err);
    CHECK(out != NULL);
    /* kept: (-7, 3) -> 2, (-5, -3) -> -2, (7, -3) -> -2; not (-5, 3) -> 1, (-7, -3) -> -1, (7, 3) -> 1 */
    CHECK_INT(json_array_size(out), 3);
    json_t *p;
    size_t i;
    int kept[3][2] = { { 0, 0 } };
    json_array_foreach(out, i, p) {
        kept[i][0] = (int)json_integer_value(json_object_get(p, "a"));
        kept[i][1] = (int)json_integer_value(json_object_get(p, "b"));
    }
    CHECK(kept[0][0] == -7 && kept[0][1] == 3);
    CHECK(kept[1][0] == -5 && kept[1][1] == -3);
    CHECK(kept[2][0] == 7 && kept[2][1] == -3);
    json_decref(out);
}

TEST(optimize_random_sample_repeats_with_its_seed)
{
    char err[512];
    size_t space;
    const char *p = "{\"random\": 50, \"seed\": 7, \"space\": {\"x\": {\"from\": 0, \"to\": 1}, \"n\": [1, 2, 3], "
                    "\"k\": {\"from\": 10, \"to\": 20, \"step\": 5}}}";
    json_t *a = combos(p, NULL, &space, err, sizeof err), *b = combos(p, NULL, &space, err, sizeof err);
    CHECK(a != NULL && b != NULL);
    CHECK_INT(json_array_size(a), 50);
    CHECK(json_equal(a, b));
    char other[400];
    snprintf(other, sizeof other, "%s", p);
    memcpy(strstr(other, "\"seed\": 7"), "\"seed\": 8", 9);
    json_t *c8 = combos(other, NULL, &space, err, sizeof err);
    CHECK(c8 != NULL && !json_equal(a, c8)); /* another seed, another sample */
    json_decref(c8);
    size_t i;
    json_t *c;
    json_array_foreach(a, i, c) {
        double x = json_real_value(json_object_get(c, "x"));
        json_int_t k = json_integer_value(json_object_get(c, "k"));
        CHECK(x >= 0 && x < 1);
        CHECK(k == 10 || k == 15 || k == 20);
    }
    json_decref(a);
    json_decref(b);
}

TEST(optimize_refusals)
{
    refused("[1]", NULL, "params must be an object", __LINE__);
    refused("{}", NULL, "1 to 16 parameters", __LINE__);
    refused("{\"a\": 3}", NULL, "params.a: a list of values or a range", __LINE__);
    refused("{\"a\": {\"from\": 1, \"to\": 5}}", NULL, "params.a: a range is", __LINE__);
    refused("{\"a\": {\"from\": 5, \"to\": 1, \"step\": 1}}", NULL, "from <= to", __LINE__);
    refused("{\"a\": {\"from\": 1, \"to\": 5, \"stp\": 1}}", NULL, "unknown key 'stp'", __LINE__);
    refused("{\"a\": {\"from\": 0, \"to\": 1000, \"step\": 0.01}}", NULL, "over 10000", __LINE__);
    refused("{\"a\": {\"from\": 1, \"to\": 1000, \"step\": 1}, \"b\": {\"from\": 1, \"to\": 1000, \"step\": 1}}", NULL,
            "the grid has 1000000 combinations, over 100000", __LINE__);
    refused("{\"a\": [[1]]}", NULL, "params.a[0]: a value is a number", __LINE__);
    /* A random range wider than a double holds drew infinities: the
     * parameter went missing from every combination. */
    refused("{\"random\": 4, \"space\": {\"a\": [1], \"b\": {\"from\": -1e308, \"to\": 1e308}}}", NULL,
            "params.b: the range from -1e+308 to 1e+308 is wider than a number can hold", __LINE__);
    refused("{\"b\": {\"from\": -1e308, \"to\": 1e308, \"step\": 1e306}}", NULL, "params.b: the range from",
            __LINE__);
    /* An integer range past 2^53 became reals rounded to 12 digits: three
     * equal combinations, none of them the values asked for. */
    refused("{\"a\": {\"from\": -9007199254740993, \"to\": -9007199254740990, \"step\": 1}}", NULL,
            "params.a: an integer range must stay within -2^53 .. 2^53", __LINE__);
    refused("{\"random\": 3, \"space\": {\"a\": {\"from\": 1, \"to\": 9007199254740999, \"step\": 2}}}", NULL,
            "params.a: an integer range must stay within", __LINE__);
    refused("{\"random\": 0, \"space\": {\"a\": [1]}}", NULL, "params.random", __LINE__);
    refused("{\"random\": 5, \"space\": {\"a\": [1]}, \"sead\": 1}", NULL, "unknown key 'sead'", __LINE__);
    refused("{\"fast\": [1, 2], \"slow\": [3]}", "\"fsat < slow\"", "unknown parameter 'fsat' (did you mean 'fast'?)",
            __LINE__);
    refused("{\"fast\": [1, 2], \"slow\": [3]}", "\"fast = slow\"", "'=' is not a comparison", __LINE__);
    refused("{\"fast\": [1, 2], \"slow\": [3]}", "\"fast < slow)\"", "unexpected ')'", __LINE__);
    refused("{\"fast\": [1, 2], \"slow\": [3]}", "\"fast <\"", "ends too early", __LINE__);
    refused("{\"fast\": [1, 2], \"slow\": [3]}", "\"os.exit()\"", "unknown parameter 'os'", __LINE__);
    refused("{\"fast\": [1, 2], \"slow\": [3]}", "\"fast > slow\"", "no combination of the 2 meets", __LINE__);
    refused("{\"fast\": [1, 2], \"slow\": [3]}", "42", "constraints must be an expression", __LINE__);
    refused("{\"fast\": [1, 2], \"slow\": [3]}", "\"fast < 0x10\"", "a malformed number", __LINE__);
    refused("{\"fast\": [1, 2], \"slow\": [3]}", "\"\"", "ends too early", __LINE__);
    refused("{\"fast\": [1, 2], \"slow\": [3]}", "\"((((((((((((((((((((((((((((((((((fast))))))))))))))))))))))))))))))))))\"",
            "nested too deeply", __LINE__);
}
