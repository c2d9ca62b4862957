/* task_builtin.h — the built-in task types for operations and tests. */
#ifndef TICKQ_TASK_BUILTIN_H
#define TICKQ_TASK_BUILTIN_H

#include "core/task.h"

task_status_t task_noop(const task_ctx_t *ctx, task_out_t *out);
task_status_t task_echo(const task_ctx_t *ctx, task_out_t *out);
task_status_t task_sleep(const task_ctx_t *ctx, task_out_t *out);
task_status_t task_spin(const task_ctx_t *ctx, task_out_t *out);
task_status_t task_fail(const task_ctx_t *ctx, task_out_t *out);

extern const task_def_t task_def_noop, task_def_echo, task_def_sleep, task_def_spin, task_def_fail;

/* The five, for the task registry (task.h). */
extern const task_family_t task_family_builtin;

#endif
