/* handler_tasks.h — the handler types as tasks of the registry: a job of
 * one runs on its handler process (handler_proc.h), which each worker child
 * starts when it starts and stops when it stops. */
#ifndef TICKQ_HANDLER_TASKS_H
#define TICKQ_HANDLER_TASKS_H

#include <stddef.h>

#include "core/task_schema.h"
#include "handlers/handler_config.h"

/* Registers every type of set as a task (after the built-in ones). The set
 * is kept, not copied: it must live as long as it is registered. Called
 * again (a reload, in the supervisor between children: a worker child keeps
 * what it was forked with), the new types replace the old, and the old set
 * may be freed after. 0, or -1 when out of memory (the old ones stay). */
int handler_tasks_register(const handler_set_t *set);

/* For worker --check: starts each handler, checks its announcement, stops
 * it; say() gets one line per handler. Returns the number that failed. */
int handler_tasks_check(void (*say)(int ok, const char *name, const char *what));

/* The set registered, or NULL. */
const handler_set_t *handler_tasks_set(void);

/* Whether `name` is a handler type registered here. */
int handler_tasks_serves(const char *name);

/* For `tickq tasks TYPE`: the argument schema the handler serving `type`
 * announces, read by starting it. 1 with *table (valid until
 * handler_tasks_describe_end), 0 when it announces none for `type` (its args
 * go unchecked), -1 with err when it does not start or announce. */
int handler_tasks_describe(const char *type, const task_arg_t **table, char *err, size_t errlen);
void handler_tasks_describe_end(void);

#endif
