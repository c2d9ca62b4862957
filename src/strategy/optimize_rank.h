/* optimize_rank.h — the ranking of an optimize job's rows (docs/optimize.md,
 * "The result"): {params, metrics} rows sorted by the objective, the best
 * first, rows without one last, ties in the order they came; and for two
 * parameters the heat map of the objective. */
#ifndef TICKQ_OPTIMIZE_RANK_H
#define TICKQ_OPTIMIZE_RANK_H

#include <jansson.h>
#include <stddef.h>

typedef struct {
    const json_t *row;           /* {params, metrics} or {params, error}: borrowed from the rows */
    double v;                    /* the objective; NaN: none (ranked last) */
    size_t at;                   /* its place in the rows: ties keep it */
} optimize_ranked_t;

/* Ranks the rows (a JSON array, kept alive by the caller) by metrics'
 * `objective` (smallest first with `minimize`): a new array of n (malloc'd;
 * NULL when out of memory), with how many have a number in *valid and the
 * first failed row's error (or NULL) in *first_error. */
optimize_ranked_t *optimize_rank(const json_t *rows, const char *objective, int minimize, size_t *valid,
                                 const json_t **first_error);

/* For exactly two parameters: {"x": {"name", "values"}, "y": {...}, "z":
 * [[objective or null, per x] per y]}, numeric axes ascending; NULL
 * otherwise, or when it would pass HEAT_MAP_MAX_CELLS. */
#define HEAT_MAP_MAX_CELLS 10000
json_t *optimize_heat_map(const json_t *params_space, const optimize_ranked_t *r, size_t n);

#endif
