/* worker_autoscale.c — `tickq worker --autoscale` flags (worker_autoscale.h). */
#include "cmd/worker_autoscale.h"

#include <stdio.h>
#include <unistd.h>

#include "core/config.h"

static autoscale_settings_t g_set;
static int g_on, g_defaulted;
static const char *g_given; /* the first autoscale setting flag given, for "needs --autoscale" */
static int g_min_given, g_max_given;

static void defaults_once(void)
{
    if (!g_defaulted)
        autoscale_defaults(&g_set, sysconf(_SC_NPROCESSORS_ONLN));
    g_defaulted = 1;
}

int worker_autoscale_owns(int opt)
{
    return opt >= OPT_AUTOSCALE && opt <= OPT_AUTOSCALE_LAST;
}

static int count_flag(const char *flag, const char *arg, const char *usage, int *out)
{
    long long v;
    if (cli_parse_int(arg, 1, WORKERS_MAX, &v) != 0)
        return cli_usage_error(usage, "%s '%s' is not a number from 1 to %d", flag, arg, WORKERS_MAX);
    *out = (int)v;
    return 0;
}

int worker_autoscale_flag(int opt, const char *arg, const char *usage, worker_duration_fn duration)
{
    defaults_once();
    if (opt == OPT_AUTOSCALE) {
        g_on = 1;
        return 0;
    }
    static const char *const names[] = { "--min-workers", "--max-workers", "--interval", "--cooldown",
                                         "--target-wait" };
    const char *flag = names[opt - OPT_MIN_WORKERS];
    if (g_given == NULL)
        g_given = flag;
    switch (opt) {
    case OPT_MIN_WORKERS:
        g_min_given = 1;
        return count_flag(flag, arg, usage, &g_set.min_children);
    case OPT_MAX_WORKERS:
        g_max_given = 1;
        return count_flag(flag, arg, usage, &g_set.max_children);
    case OPT_AUTOSCALE_INTERVAL:
        return duration(flag, arg, AUTOSCALE_INTERVAL_MS_MIN, AUTOSCALE_DURATION_MS_MAX, &g_set.interval_ms);
    case OPT_AUTOSCALE_COOLDOWN:
        return duration(flag, arg, 0, AUTOSCALE_DURATION_MS_MAX, &g_set.cooldown_ms);
    default:
        return duration(flag, arg, 1, AUTOSCALE_DURATION_MS_MAX, &g_set.target_wait_ms);
    }
}

int worker_autoscale_check(const char *usage, int workers_flag)
{
    defaults_once();
    if (!g_on && g_given != NULL)
        return cli_usage_error(usage, "%s needs --autoscale (a fixed --workers N runs N children)", g_given);
    if (!g_on)
        return 0;
    if (workers_flag)
        return cli_usage_error(usage, "--autoscale and --workers cannot be used together: the autoscaler runs "
                               "between --min-workers and --max-workers children");
    if (g_set.min_children > g_set.max_children)
        return cli_usage_error(usage, "--min-workers %d is above --max-workers %d%s", g_set.min_children,
                               g_set.max_children,
                               g_max_given ? "" : g_min_given ? " (the default: 2 x CPUs): give --max-workers too"
                                                              : "");
    return 0;
}

const autoscale_settings_t *worker_autoscale_settings(void)
{
    return g_on ? &g_set : NULL;
}

void worker_autoscale_describe(char *out, size_t outlen)
{
    if (!g_on) {
        snprintf(out, outlen, "%s", "");
        return;
    }
    snprintf(out, outlen, "autoscale: %d to %d workers; every %gs; cooldown %gs; target wait %gs",
             g_set.min_children, g_set.max_children, (double)g_set.interval_ms / 1000,
             (double)g_set.cooldown_ms / 1000, (double)g_set.target_wait_ms / 1000);
}
