/* optimize_space.h — the parameter combinations of an `optimize` job
 * (docs/optimize.md): a grid ({"fast": [5, 10], "slow": {"from": 20, "to":
 * 200, "step": 20}}) or a random sample ({"random": N, "seed": S, "space":
 * {...}}), filtered by constraints written in a small expression language
 * ("fast < slow", "slow - fast >= 10 and fast % 5 == 0"), parsed here by a
 * recursive-descent parser that knows only numbers, the parameters' names,
 * + - * / %, comparisons, and, or, not and parentheses: nothing else is
 * evaluated. */
#ifndef TICKQ_OPTIMIZE_SPACE_H
#define TICKQ_OPTIMIZE_SPACE_H

#include <jansson.h>
#include <stddef.h>

#define OPTIMIZE_MAX_COMBINATIONS 100000
#define OPTIMIZE_MAX_PARAMS 16
#define OPTIMIZE_MAX_VALUES 10000      /* of one parameter */
#define OPTIMIZE_CONSTRAINT_MAX 512    /* characters of one constraint */

typedef struct optimize_constraints optimize_constraints_t;

/* Checks the shape of `constraints` (NULL or null: none): an expression,
 * or a list of 1 to 32 of them, each of at most OPTIMIZE_CONSTRAINT_MAX
 * characters; what they say is checked when they are parsed. 0, or -1 with
 * err. */
int optimize_constraints_check(const json_t *constraints, char *err, size_t errlen);

/* Parses `constraints` (NULL: none; a string, or a list of strings that
 * must all hold) against the parameter names of `space` (a grid's keys, or
 * a random sample's space's keys). NULL with err when a constraint is not
 * an expression of them (err names it, the position, and an unknown name's
 * close match); *out NULL when there are none. 0, or -1 with err. */
int optimize_constraints_parse(const json_t *constraints, const json_t *params, optimize_constraints_t **out,
                               char *err, size_t errlen);
void optimize_constraints_free(optimize_constraints_t *c);

/* Whether combination `p` (an object of the parameters' numbers) meets
 * every constraint (NULL: none, always). */
int optimize_constraints_hold(const optimize_constraints_t *c, const json_t *p);

/* The combinations of `params` (a grid or a random sample) that meet
 * `constraints`, as a new array of objects (parameter -> value), in grid
 * order (the first parameter varying slowest) or in the order drawn.
 * *space_size gets how many there were before the constraints. NULL with
 * err naming what is wrong: the shape of params, a range, a grid over
 * OPTIMIZE_MAX_COMBINATIONS, none left after the constraints. */
json_t *optimize_combinations(const json_t *params, const optimize_constraints_t *constraints, size_t *space_size,
                              char *err, size_t errlen);

/* Checks `params` (a grid or a random sample) as optimize_combinations
 * does, without making the combinations: its shape, each parameter's
 * values or range, a grid's size. 0, or -1 with err. */
int optimize_space_check(const json_t *params, char *err, size_t errlen);

/* The parameter names of `params` (a grid's keys or a random sample's
 * space's), in order; NULL when it has neither shape. Borrowed. */
const json_t *optimize_space_of(const json_t *params);

#endif
