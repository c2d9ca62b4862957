/* schedule_check.c — a schedule's task and args checked against the task
 * registry (schedule_check.h). */
#include "cmd/schedule_check.h"

#include <jansson.h>
#include <stdio.h>

int schedule_check_args(const schedule_t *s, task_check_where_t where, char *err, size_t errlen)
{
    const task_def_t *task = task_find(s->task);
    json_t *args = json_loads(s->args, 0, NULL);
    int rc = -1;
    if (task == NULL)
        snprintf(err, errlen, "unknown task type '%.64s'", s->task);
    else if (!json_is_object(args))
        snprintf(err, errlen, "args must be a JSON object");
    else if (task_check(task, args, where, err, errlen) == 0)
        rc = 0;
    json_decref(args);
    return rc;
}

int schedule_check_task(const schedule_t *s, char *err, size_t errlen)
{
    char why[1024];
    if (task_find(s->task) == NULL) {
        char names[400];
        task_names(names, sizeof names);
        snprintf(err, errlen, "unknown task type '%.64s' (this build runs: %.400s)", s->task, names);
        return -1;
    }
    if (schedule_check_args(s, TASK_CHECK_CLIENT, why, sizeof why) != 0) {
        snprintf(err, errlen, "[schedule %s]: %s", s->name, why);
        return -1;
    }
    return 0;
}
