/* task_env.h — the environment a worker child offers its tasks beyond the
 * job (task_ctx_t.env).
 *
 * Opaque to the queue core: a worker child makes one environment when it
 * starts and frees it when it stops, through the provider the command that
 * runs the worker plugs in (supervisor.h). What it holds and how tasks reach
 * it is the provider's: data/task_env_data.h offers the database, opened on
 * first use, and a cache of bars. */
#ifndef TICKQ_TASK_ENV_H
#define TICKQ_TASK_ENV_H

#include "core/config.h"

typedef struct task_env task_env_t;

typedef struct {
    /* A new environment for a worker child of cfg (which outlives it);
     * NULL when out of memory. */
    task_env_t *(*open)(const config_t *cfg);
    /* Frees it and what it opened; accepts NULL. */
    void (*close)(task_env_t *env);
} task_env_provider_t;

#endif
