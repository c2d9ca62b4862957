/* task.c — the task registry: every job type a worker can run, by name.
 *
 * To add a task family: write its handlers, argument tables and task_def_t
 * values in their own files, export the family's table (task_family_t) and
 * register it in cmd/tasks_all.c. Names are looked up linearly: the table
 * is small and the lookup is nothing next to a Redis round trip. The
 * registry is filled once at start, before any command or process looks a
 * task up, and only read after. */
#include "core/task.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <string.h>

#include "core/close_match.h"

static const task_def_t *registry[TASKS_MAX];
static size_t registry_n;
#define FAMILIES_MAX 16
static const task_family_t *families[FAMILIES_MAX];
static size_t families_n;

void task_register(const task_family_t *family)
{
    assert(families_n < FAMILIES_MAX && "raise FAMILIES_MAX");
    families[families_n++] = family;
    for (size_t i = 0; i < family->n; i++) {
        assert(registry_n < TASKS_MAX && "raise TASKS_MAX");
        assert(task_find(family->defs[i]->name) == NULL && "a task name registered twice");
        registry[registry_n++] = family->defs[i];
    }
}

void task_unregister(const task_family_t *family)
{
    size_t kept = 0;
    for (size_t i = 0; i < registry_n; i++) {
        int ours = 0;
        for (size_t k = 0; k < family->n && !ours; k++)
            ours = registry[i] == family->defs[k];
        if (!ours)
            registry[kept++] = registry[i];
    }
    registry_n = kept;
    kept = 0;
    for (size_t i = 0; i < families_n; i++)
        if (families[i] != family)
            families[kept++] = families[i];
    families_n = kept;
}

void task_families_child_start(void)
{
    for (size_t i = 0; i < families_n; i++)
        if (families[i]->child_start != NULL)
            families[i]->child_start();
}

void task_families_child_stop(void)
{
    for (size_t i = 0; i < families_n; i++)
        if (families[i]->child_stop != NULL)
            families[i]->child_stop();
}

void task_families_child_idle(void)
{
    for (size_t i = 0; i < families_n; i++)
        if (families[i]->child_idle != NULL)
            families[i]->child_idle();
}

const task_def_t *task_find(const char *name)
{
    for (size_t i = 0; i < registry_n; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const task_def_t *const *task_all(size_t *n)
{
    *n = registry_n;
    return registry;
}

int task_check(const task_def_t *task, const json_t *args, task_check_where_t where, char *err, size_t errlen)
{
    if (task->args != NULL && task->inner != NULL) {
        const task_def_t *in = task->inner(args);
        if (task_schema_check_outer(task->name, task->args, in != NULL ? in->name : NULL,
                                    in != NULL ? in->args : NULL, args, err, errlen) != 0)
            return -1;
    } else if (task->args != NULL && task_schema_check(task->name, task->args, args, err, errlen) != 0) {
        return -1;
    }
    return task->check != NULL ? task->check(args, where, err, errlen) : 0;
}

void task_names(char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < registry_n && used + 1 < outlen; i++) {
        int w = snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", registry[i]->name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

void task_name_hint(const char *word, char *out, size_t outlen)
{
    const char *names[TASKS_MAX];
    size_t n = 0, best;
    for (size_t i = 0; i < registry_n; i++)
        names[n++] = registry[i]->name;
    out[0] = '\0';
    if (close_match_find(word, names, n, &best, 1) == 1)
        snprintf(out, outlen, " (did you mean '%s'?)", names[best]);
}

task_status_t task_error(task_out_t *out, task_status_t status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->error, sizeof out->error, fmt, ap);
    va_end(ap);
    return status;
}

json_t *json_number_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}
