/* worker.h — a worker child: claims jobs, runs their handlers, records the
 * outcomes. One job at a time; the supervisor forks N of these.
 *
 * worker_run is a process body, not a function of the 0 / -1 convention:
 * it runs a whole forked child, and what it returns is that child's exit
 * status (sysexits), which the supervisor reads (docs/hacking.md). */
#ifndef TICKQ_WORKER_H
#define TICKQ_WORKER_H

#include <sysexits.h>

#include "core/config.h"
#include "core/slot.h"
#include "core/task_env.h"

/* Runs in a freshly forked child until SIGTERM/SIGINT (or, in burst mode,
 * until the supervisor stops it). `worker_id` is also its consumer name;
 * the job history of what it records goes to the history stream in the same
 * Redis calls (history.h). Its tasks get an environment of `envs`
 * (task_env.h). Returns the child's exit status: 0, WORKER_EXIT_PROTOCOL
 * when Redis holds another protocol version, or 71 (EX_OSERR) when out of
 * memory. */
int worker_run(const config_t *cfg, slot_t *slot, const char *worker_id, const task_env_provider_t *envs);

/* The exit status by which a worker child tells its supervisor that Redis
 * holds another protocol version (the supervisor then stops every child
 * and exits with it too). */
#define WORKER_EXIT_PROTOCOL EX_CONFIG

#endif
