/* task_args.h — task arguments several task families read alike: the
 * symbols a data task works on, a list or "all". */
#ifndef TICKQ_TASK_ARGS_H
#define TICKQ_TASK_ARGS_H

#include <stddef.h>

#include "bars.h"
#include "task.h"

/* Sorts symbols and drops repeats; returns how many are left. */
size_t task_symbols_sort_unique(bar_symbol_t *s, size_t n);

/* args[field]: a non-empty list of at most `max` symbols (sorted, distinct,
 * malloc'd into *out; the caller frees it) or "all" (*all set, *out NULL).
 * Absent: an error when required, else all. */
task_status_t task_symbols_arg(const task_ctx_t *ctx, const char *field, int required, size_t max,
                               bar_symbol_t **out, size_t *n, int *all, task_out_t *o);

#endif
