/* task_args.c — task arguments several task families read alike. */
#include "task_args.h"

#include <stdlib.h>
#include <string.h>

static int cmp_sym(const void *a, const void *b) { return strcmp(*(const bar_symbol_t *)a, *(const bar_symbol_t *)b); }

size_t task_symbols_sort_unique(bar_symbol_t *s, size_t n)
{
    if (n == 0)
        return 0;
    qsort(s, n, sizeof *s, cmp_sym);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (strcmp(s[k - 1], s[i]) != 0)
            memmove(s[k++], s[i], sizeof *s);
    return k;
}

task_status_t task_symbols_arg(const task_ctx_t *ctx, const char *field, int required, size_t max,
                               bar_symbol_t **out, size_t *n, int *all, task_out_t *o)
{
    static const char *const how = "give a list like [\"AAPL\", \"MSFT\"], or \"all\"";
    json_t *v = json_object_get(ctx->args, field);
    *out = NULL;
    *n = 0;
    *all = 0;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return task_error(o, TASK_PERMANENT, "missing %s: %s", field, how);
        *all = 1;
        return TASK_OK;
    }
    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), "all") != 0)
            return task_error(o, TASK_PERMANENT, "%s is the string '%.40s': %s", field, json_string_value(v), how);
        *all = 1;
        return TASK_OK;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return task_error(o, TASK_PERMANENT, "%s must be a non-empty list or \"all\": %s", field, how);
    size_t len = json_array_size(v);
    if (len > max)
        return task_error(o, TASK_PERMANENT, "%s has %zu entries (at most %zu per job)", field, len, max);
    *out = malloc(len * sizeof **out);
    if (*out == NULL)
        return task_error(o, TASK_TRANSIENT, "out of memory");
    for (size_t i = 0; i < len; i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s) || bar_symbol_check(json_string_value(s), json_string_length(s)) != 0)
            return task_error(o, TASK_PERMANENT, "%s[%zu] is not a valid symbol (1-32 characters, no spaces, "
                              "commas, quotes, backslashes or braces)", field, i);
        memcpy((*out)[i], json_string_value(s), json_string_length(s) + 1);
    }
    *n = task_symbols_sort_unique(*out, len);
    return TASK_OK;
}
