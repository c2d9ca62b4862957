/* optimize_rank.c — ranking an optimize job's rows, and the heat map
 * (optimize_rank.h). */
#include "strategy/optimize_rank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/task.h"

/* qsort_r's order: the best first (`minimize`: points to 1 for the
 * smallest objective first), rows without an objective last, ties by their
 * place in the table. */
static int cmp_ranked(const void *a, const void *b, void *minimize)
{
    const optimize_ranked_t *ra = a, *rb = b;
    int smallest_first = *(const int *)minimize;
    double x = ra->v, y = rb->v;
    if ((x != x) != (y != y))
        return (x != x) - (y != y);
    if (x == y || (x != x && y != y))
        return ra->at < rb->at ? -1 : ra->at > rb->at;
    return (smallest_first ? x < y : x > y) ? -1 : 1;
}

static int cmp_json_number(const void *a, const void *b)
{
    double x = json_number_value(*(json_t *const *)a), y = json_number_value(*(json_t *const *)b);
    return x < y ? -1 : x > y;
}

/* Sorts an axis of numbers ascending; an axis with another value keeps the
 * order it was met in. */
static void sort_values(json_t *axis)
{
    size_t n = json_array_size(axis), i;
    json_t *v, **items = malloc((n ? n : 1) * sizeof *items);
    if (items == NULL)
        return;
    json_array_foreach(axis, i, v) {
        if (!json_is_number(v)) {
            while (i > 0)
                json_decref(items[--i]);
            free(items);
            return;
        }
        items[i] = json_incref(v);
    }
    qsort(items, n, sizeof *items, cmp_json_number);
    json_array_clear(axis);
    for (i = 0; i < n; i++)
        json_array_append_new(axis, items[i]);
    free(items);
}

/* At most HEAT_MAP_MAX_CELLS: a random sample over real ranges has as
 * many values per axis as draws, its map would be N x N. */
json_t *optimize_heat_map(const json_t *params_space, const optimize_ranked_t *r, size_t n)
{
    if (json_object_size(params_space) != 2)
        return NULL;
    const char *names[2];
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)params_space, key, v)
        names[k++] = key;
    json_t *axes[2] = { json_array(), json_array() };
    for (size_t i = 0; i < n; i++)
        for (int a = 0; a < 2; a++) {
            const json_t *x = json_object_get(json_object_get(r[i].row, "params"), names[a]);
            size_t j, found = 0;
            json_t *e;
            json_array_foreach(axes[a], j, e)
                found |= json_equal(e, (json_t *)x);
            if (!found && x != NULL)
                json_array_append(axes[a], (json_t *)x);
        }
    if (json_array_size(axes[0]) * json_array_size(axes[1]) > HEAT_MAP_MAX_CELLS) {
        json_decref(axes[0]);
        json_decref(axes[1]);
        return NULL;
    }
    for (int a = 0; a < 2; a++)
        sort_values(axes[a]);
    json_t *z = json_array();
    for (size_t yi = 0; yi < json_array_size(axes[1]); yi++) {
        json_t *line = json_array();
        for (size_t xi = 0; xi < json_array_size(axes[0]); xi++)
            json_array_append_new(line, json_null());
        json_array_append_new(z, line);
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_object_get(r[i].row, "params");
        size_t xi = 0, yi = 0, j;
        json_t *e;
        json_array_foreach(axes[0], j, e)
            if (json_equal(e, json_object_get(p, names[0])))
                xi = j;
        json_array_foreach(axes[1], j, e)
            if (json_equal(e, json_object_get(p, names[1])))
                yi = j;
        json_array_set_new(json_array_get(z, yi), xi, json_number_or_null(r[i].v));
    }
    return json_pack("{s:{s:s, s:o}, s:{s:s, s:o}, s:o}", "x", "name", names[0], "values", axes[0], "y", "name",
                     names[1], "values", axes[1], "z", z);
}


optimize_ranked_t *optimize_rank(const json_t *rows, const char *objective, int minimize, size_t *valid,
                                 const json_t **first_error)
{
    size_t n = json_array_size(rows), i;
    optimize_ranked_t *r = calloc(n ? n : 1, sizeof *r);
    *valid = 0;
    *first_error = NULL;
    if (r == NULL)
        return NULL;
    const json_t *row;
    json_array_foreach((json_t *)rows, i, row) {
        r[i].row = row;
        r[i].at = i;
        const json_t *v = json_object_get(json_object_get(row, "metrics"), objective);
        r[i].v = json_is_number(v) ? json_number_value(v) : NAN;
        *valid += json_is_number(v);
        if (*first_error == NULL && json_object_get(row, "error") != NULL)
            *first_error = json_object_get(row, "error");
    }
    qsort_r(r, n, sizeof *r, cmp_ranked, &minimize);
    return r;
}
