/* worker.h — a worker child: claims jobs, runs their handlers, records the
 * outcomes. One job at a time; the supervisor forks N of these. */
#ifndef TICKQ_WORKER_H
#define TICKQ_WORKER_H

#include "core/config.h"
#include "core/slot.h"
#include "core/task_env.h"

/* Runs in a freshly forked child until SIGTERM/SIGINT (or, in burst mode,
 * until the supervisor stops it). `worker_id` is also its consumer name;
 * the job history of what it records goes to the history stream in the same
 * Redis calls (history.h). Its tasks get an environment of `envs`
 * (task_env.h). Returns the exit status: 0, 78 (EX_CONFIG) when Redis holds
 * another protocol version, or 71 (EX_OSERR) when out of memory. */
int worker_run(const config_t *cfg, slot_t *slot, const char *worker_id, const task_env_provider_t *envs);

#endif
