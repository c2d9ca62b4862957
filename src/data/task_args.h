/* task_args.h — the argument kinds the data and strategy tasks share: the
 * checks their tables use for symbols and bar intervals (task_schema.h),
 * and reading a list of symbols or "all". */
#ifndef TICKQ_TASK_ARGS_H
#define TICKQ_TASK_ARGS_H

#include <stddef.h>

#include "data/bars.h"
#include "core/task.h"

/* Table checks (task_arg_check_fn): a valid symbol (bars.h), a bar
 * interval like 1d, 1h, 15m or 1wk. */
int task_symbol_check(const char *what, const json_t *v, char *err, size_t errlen);
int task_interval_check(const char *what, const json_t *v, char *err, size_t errlen);

/* A table entry for a list of symbols or "all", of at most `max`. */
#define TASK_SYMBOLS_OR_ALL_ARG(flags_, max_, default_doc_, doc_)                                              \
    { .name = "symbols", .type = TASK_ARG_LIST, .flags = (flags_) | TASK_ARG_OR_ALL, .min = 1, .max = (max_),  \
      .type_doc = "symbols", .check = task_symbol_check, .default_doc = (default_doc_), .doc = (doc_) }

/* Sorts symbols and drops repeats; returns how many are left. */
size_t task_symbols_sort_unique(bar_symbol_t *s, size_t n);

/* The checked args[field]: a list of symbols (sorted, distinct, malloc'd
 * into *out; the caller frees it) or "all" or absent (*all set, *out NULL). */
task_status_t task_symbols_arg(const task_ctx_t *ctx, const char *field, bar_symbol_t **out, size_t *n, int *all,
                               task_out_t *o);

#endif
