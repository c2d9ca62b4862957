/* task_args.c — the argument kinds the data and strategy tasks share. */
#include "data/task_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errmsg.h"

static int cmp_sym(const void *a, const void *b) { return strcmp(*(const bar_symbol_t *)a, *(const bar_symbol_t *)b); }

int task_symbol_check(const char *what, const json_t *v, char *err, size_t errlen)
{
    if (bar_symbol_check(json_string_value(v), json_string_length(v)) == 0)
        return 0;
    char quoted[ERRMSG_QUOTE_MAX];
    errmsg_set(err, errlen, "%s is not a valid symbol (" BAR_SYMBOL_RULE "), got %s", what,
               errmsg_quote(json_string_value(v), quoted, sizeof quoted));
    return -1;
}

int task_interval_check(const char *what, const json_t *v, char *err, size_t errlen)
{
    if (bar_interval_seconds(json_string_value(v)) >= 0)
        return 0;
    char quoted[ERRMSG_QUOTE_MAX];
    errmsg_set(err, errlen, "%s must be like 1d, 1h, 15m or 1wk, got %s", what,
               errmsg_quote(json_string_value(v), quoted, sizeof quoted));
    return -1;
}

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

task_status_t task_symbols_arg(const task_ctx_t *ctx, const char *field, bar_symbol_t **out, size_t *n, int *all,
                               task_out_t *o)
{
    const json_t *v = json_object_get(ctx->args, field);
    *out = NULL;
    *n = 0;
    *all = !json_is_array(v);
    if (*all)
        return TASK_OK;
    size_t len = json_array_size(v);
    *out = malloc((len ? len : 1) * sizeof **out);
    if (*out == NULL)
        return task_error(o, TASK_TRANSIENT, "out of memory");
    for (size_t i = 0; i < len; i++)
        snprintf((*out)[i], sizeof (*out)[i], "%s", json_string_value(json_array_get(v, i)));
    *n = task_symbols_sort_unique(*out, len);
    return TASK_OK;
}
