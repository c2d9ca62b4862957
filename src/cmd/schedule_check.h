/* schedule_check.h — a schedule's task and args checked against the task
 * registry: where the schedule config (sched/) meets the tasks (core/task.h),
 * so that sched/ knows no task. */
#ifndef TICKQ_SCHEDULE_CHECK_H
#define TICKQ_SCHEDULE_CHECK_H

#include <stddef.h>

#include "core/task.h"
#include "sched/schedule_config.h"

/* Checks a schedule's args against its task's table and the task's own
 * check, as a client (the loader does) or for the worker that will run it
 * (worker --check --scheduler). 0, or -1 with err. */
int schedule_check_args(const schedule_t *s, task_check_where_t where, char *err, size_t errlen);

/* The loader's check (schedule_task_check_fn): the task is registered (as
 * tickq enqueue refuses an unknown one) and its args pass as a client's. */
int schedule_check_task(const schedule_t *s, char *err, size_t errlen);

#endif
