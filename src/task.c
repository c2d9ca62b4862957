/* task.c — the task registry: every job type a worker can run, by name.
 *
 * To add a task family: write its handlers in their own file and add one line
 * per type to `registry` below. Names are looked up linearly: the table is
 * small and the lookup is nothing next to a Redis round trip. */
#include "task.h"

#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <string.h>

#include "task_builtin.h"
#include "task_market_data.h"
#include "task_options.h"
#include "task_strategy.h"

static const task_def_t registry[] = {
    { "backtest", task_backtest, "signal backtest of a Lua strategy over stored bars" },
    { "portfolio_backtest", task_portfolio_backtest, "position backtest of a Lua strategy: equity curve, trades, metrics" },
    { "screening", task_screening, "ranks a universe's current opportunities by a Lua strategy's score" },
    { "update_stock_data", task_update_stock_data, "fetches bars from a provider (csv_dir, http_csv) and upserts them, all symbols or none" },
    { "update_options_data", task_update_options_data, "fetches option chains from a provider (csv_dir, http_csv, synthetic) and upserts them, all symbols or none" },
    { "calculate_iv_analysis", task_calculate_iv_analysis, "implied volatility and Greeks of each contract; 30-day ATM IV, IV rank/percentile, hv_20/hv_60 per symbol and day" },
    { "scan_opportunities", task_scan_opportunities, "ranks premium-selling and premium-buying candidates from the IV history and stores the list" },
    { "noop", task_noop, "does nothing; returns {}" },
    { "echo", task_echo, "returns its args" },
    { "sleep", task_sleep, "sleeps {\"ms\": N} milliseconds" },
    { "fail", task_fail, "fails (transient; {\"permanent\": true}, {\"times\": N}: only the first N attempts, "
                         "{\"crash\": true}: kills its worker process)" },
};

const task_def_t *task_find(const char *name)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (strcmp(registry[i].name, name) == 0)
            return &registry[i];
    return NULL;
}

const task_def_t *task_all(size_t *n)
{
    *n = sizeof registry / sizeof registry[0];
    return registry;
}

void task_names(char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof registry / sizeof registry[0] && used + 1 < outlen; i++) {
        int w = snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", registry[i].name);
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
