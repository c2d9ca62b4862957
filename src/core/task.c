/* task.c — the task registry: every job type a worker can run, by name.
 *
 * To add a task family: write its handlers, argument tables and task_def_t
 * values in their own file and add one line per type to `registry` below.
 * Names are looked up linearly: the table is small and the lookup is
 * nothing next to a Redis round trip. */
#include "core/task.h"

#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <string.h>

#include "core/task_builtin.h"
#include "data/task_market_data.h"
#include "options/task_options.h"
#include "strategy/task_strategy.h"

static const task_def_t *const registry[] = {
    &task_def_backtest,
    &task_def_portfolio_backtest,
    &task_def_screening,
    &task_def_update_stock_data,
    &task_def_update_options_data,
    &task_def_calculate_iv_analysis,
    &task_def_scan_opportunities,
    &task_def_noop,
    &task_def_echo,
    &task_def_sleep,
    &task_def_fail,
};

#define REGISTRY_SIZE (sizeof registry / sizeof registry[0])

const task_def_t *task_find(const char *name)
{
    for (size_t i = 0; i < REGISTRY_SIZE; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const task_def_t *const *task_all(size_t *n)
{
    *n = REGISTRY_SIZE;
    return registry;
}

int task_check(const task_def_t *task, const json_t *args, task_check_where_t where, char *err, size_t errlen)
{
    if (task->args != NULL && task_schema_check(task->name, task->args, args, err, errlen) != 0)
        return -1;
    return task->check != NULL ? task->check(args, where, err, errlen) : 0;
}

void task_names(char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < REGISTRY_SIZE && used + 1 < outlen; i++) {
        int w = snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", registry[i]->name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
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
