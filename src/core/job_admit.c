/* job_admit.c — a producer's checks before it enqueues (job_admit.h). */
#include "core/job_admit.h"

#include <jansson.h>
#include <stdio.h>

#include "core/task.h"

int job_admit_check(const job_spec_t *spec, size_t max_payload, char *err, size_t errlen)
{
    if (job_spec_check(spec, max_payload, err, errlen) != 0)
        return -1;
    const task_def_t *task = task_find(spec->type);
    if (task == NULL)
        return 0;
    json_error_t jerr;
    json_t *args = spec->args != NULL ? json_loadb(spec->args, spec->args_len, 0, &jerr) : json_object();
    if (!json_is_object(args)) {
        snprintf(err, errlen, "args must be a JSON object");
        json_decref(args);
        return -1;
    }
    int rc = task_check(task, args, TASK_CHECK_CLIENT, err, errlen);
    json_decref(args);
    return rc;
}

queue_status_t job_admit_type(queue_t *q, const char *type, int *known, char *err, size_t errlen)
{
    *known = task_find(type) != NULL;
    if (*known)
        return QUEUE_OK;
    queue_status_t st = queue_type_known(q, type, known, err, errlen);
    if (st == QUEUE_OK && !*known) {
        char names[512], hint[96];
        task_names(names, sizeof names);
        task_name_hint(type, hint, sizeof hint);
        snprintf(err, errlen, "unknown task type '%s'%s (built in: %s; no worker has announced it as a handler "
                 "type, and `tickq types add %s` has not added it)", type, hint, names, type);
    }
    return st;
}
