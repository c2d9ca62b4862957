/* handler_setup.h — the configuration file's handlers and pools, read and
 * registered for a command that runs or lists them (worker, tasks). */
#ifndef TICKQ_HANDLER_SETUP_H
#define TICKQ_HANDLER_SETUP_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

/* Reads the [handler NAME] and [pool NAME] sections of `path` (NULL: no
 * file named, no handlers) and registers the handlers' types after the
 * built-in tasks: with `pool` (worker --pool NAME), only that pool's
 * handlers, and cfg (when not NULL) gets the pool's settings: its queues
 * and workers unless given as flags (queues_flag, workers_flag), its types.
 * Call once, after tasks_register_all. 0, or -1 with err naming the file
 * and line. */
int handler_setup(const char *path, const char *pool, config_t *cfg, int queues_flag, int workers_flag, char *err,
                  size_t errlen);

/* A reload (worker --watch): reads the same file again, for the same pool.
 * When it is good, its handlers replace the registered ones (new worker
 * children get them; the pool's queues, workers and job_timeout change
 * only at a restart, warned about); when it is not, nothing changes. 0, or
 * -1 with err. */
int handler_setup_reload(char *err, size_t errlen);

/* The job_timeout of the pool in use (the timeout of its jobs that set
 * none), or 0: no pool, or it sets none. The worker reads it once, at
 * start, and applies it unless --job-timeout is given. */
int64_t handler_setup_pool_job_timeout_ms(void);

/* The file handler_setup read, or NULL. */
const char *handler_setup_path(void);

/* The file's pools when the worker runs none of them (no --pool), as
 * "a, b" in out: 1; else 0 (no file, no pools, or --pool given). */
int handler_setup_pools_unused(char *out, size_t outlen);

#endif
