/* worker_autoscale.h — `tickq worker --autoscale`: its flags (--autoscale,
 * --min-workers, --max-workers, --interval, --cooldown, --target-wait),
 * their checks, and the settings the supervisor's plan gets
 * (core/autoscale.h). */
#ifndef TICKQ_WORKER_AUTOSCALE_H
#define TICKQ_WORKER_AUTOSCALE_H

#include <stddef.h>
#include <stdint.h>

#include "cmd/cli.h"
#include "core/autoscale.h"

enum {
    OPT_AUTOSCALE = OPT_FIRST_COMMAND_OPTION + 200, /* above cmd_worker.c's own */
    OPT_MIN_WORKERS, OPT_MAX_WORKERS, OPT_AUTOSCALE_INTERVAL, OPT_AUTOSCALE_COOLDOWN, OPT_TARGET_WAIT,
    OPT_AUTOSCALE_LAST = OPT_TARGET_WAIT
};

#define WORKER_AUTOSCALE_OPTIONS \
    { "autoscale", no_argument, 0, OPT_AUTOSCALE }, \
    { "min-workers", required_argument, 0, OPT_MIN_WORKERS }, \
    { "max-workers", required_argument, 0, OPT_MAX_WORKERS }, \
    { "interval", required_argument, 0, OPT_AUTOSCALE_INTERVAL }, \
    { "cooldown", required_argument, 0, OPT_AUTOSCALE_COOLDOWN }, \
    { "target-wait", required_argument, 0, OPT_TARGET_WAIT }

#define WORKER_AUTOSCALE_HELP \
    "  --autoscale          run between --min-workers and --max-workers children as the\n" \
    "                       backlog asks (docs/operations.md, \"Autoscaling\"); not with\n" \
    "                       --workers\n" \
    "  --min-workers N      with --autoscale: fewest children (default: 1)\n" \
    "  --max-workers N      with --autoscale: most children (default: 2 x CPUs)\n" \
    "  --interval D         with --autoscale: how often it samples and decides\n" \
    "                       (default: 30s)\n" \
    "  --cooldown D         with --autoscale: quiet this long before a scale-down, and no\n" \
    "                       reversal within it of a change (default: 60s)\n" \
    "  --target-wait D      with --autoscale: how long a ready job should wait at most\n" \
    "                       (default: 5s)\n"

/* A duration flag's parser (cmd_worker.c's): 0 with *out, or the usage
 * error's status. */
typedef int (*worker_duration_fn)(const char *flag, const char *arg, int64_t min_ms, int64_t max_ms, int64_t *out);

/* 1 when `opt` is one of these flags. */
int worker_autoscale_owns(int opt);

/* Takes one of these flags: 0, or the usage error's status (64). */
int worker_autoscale_flag(int opt, const char *arg, const char *usage, worker_duration_fn duration);

/* After every flag: the combinations (these flags without --autoscale,
 * with --workers, min above max). `workers_flag`: --workers was given.
 * 0, or 64 after the usage error. */
int worker_autoscale_check(const char *usage, int workers_flag);

/* The settings, or NULL without --autoscale. */
const autoscale_settings_t *worker_autoscale_settings(void);

/* One line for `worker --check`, without a newline ("" without --autoscale). */
void worker_autoscale_describe(char *out, size_t outlen);

#endif
