/* optimize_space.c — fuzz target: an optimize job's parameter space and
 * constraints (src/strategy/optimize_space.c: grids, ranges, random samples
 * and the constraint expression parser).
 *
 * Input, two parts separated by a line "--": the params (JSON), then the
 * constraints (JSON: a string or a list of them; absent or empty: none).
 *
 * Properties: the constraints parse (0) or are refused with a message;
 * the combinations are an array of 1 to OPTIMIZE_MAX_COMBINATIONS objects,
 * each meeting the constraints, no more than the space they came from; or
 * NULL with a message. */
#include <jansson.h>

#include "fuzz.h"
#include "strategy/optimize_space.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[2];
    size_t len[2];
    size_t n = fuzz_split(data, size, FUZZ_SEP, part, len, 2);
    json_t *params = json_loadb((const char *)part[0], len[0], JSON_DECODE_ANY, NULL);
    json_t *cons = n > 1 && len[1] > 0 ? json_loadb((const char *)part[1], len[1], JSON_DECODE_ANY, NULL) : NULL;
    if (params == NULL) {
        json_decref(cons);
        return 0;
    }
    char err[1024] = "";
    optimize_constraints_t *c = NULL;
    if (optimize_constraints_parse(cons, params, &c, err, sizeof err) != 0) {
        if (err[0] == '\0')
            fuzz_fail("constraints refused without a message");
    } else {
        size_t space = 0;
        err[0] = '\0';
        json_t *combos = optimize_combinations(params, c, &space, err, sizeof err);
        if (combos == NULL && err[0] == '\0')
            fuzz_fail("combinations refused without a message");
        if (combos != NULL) {
            size_t k = json_array_size(combos), i;
            json_t *p;
            if (k == 0 || k > OPTIMIZE_MAX_COMBINATIONS || k > space)
                fuzz_fail("%zu combinations of a space of %zu", k, space);
            json_array_foreach(combos, i, p)
                if (!json_is_object(p) || !optimize_constraints_hold(c, p))
                    fuzz_fail("combination %zu breaks the constraints", i);
        }
        json_decref(combos);
    }
    optimize_constraints_free(c);
    json_decref(params);
    json_decref(cons);
    return 0;
}
