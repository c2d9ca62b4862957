/* supervisor.h — the `tickq worker` parent process: forks N worker
 * children, enforces job timeouts and cancels, settles what a dead child
 * left behind, runs the heartbeat (heartbeat.h) and the users' list
 * (list_bridge.h), and shuts down gracefully.
 *
 * What else runs beside it — the job history process, the scheduler — plugs
 * in from above as a companion: the supervisor knows them only by the hooks
 * below, called at fixed points of its life.
 *
 * supervisor_run is a process body, not a function of the 0 / -1
 * convention: it runs the whole `tickq worker` process, and what it returns
 * is that process's exit status (sysexits), which the command passes on
 * (docs/hacking.md). */
#ifndef TICKQ_SUPERVISOR_H
#define TICKQ_SUPERVISOR_H

#include <stdint.h>
#include <sys/types.h>

#include "core/autoscale.h"
#include "core/config.h"
#include "core/rconn.h"
#include "core/task_env.h"

/* A companion's hooks; any may be NULL. `ctx` is passed to each. */
typedef struct {
    void *ctx;
    /* After the start line, before the first child: 0, or -1 (logged) to
     * stop at once with status 69 (EX_UNAVAILABLE). */
    int (*start)(void *ctx);
    /* Every loop turn (about every 50 ms, sooner on a signal or a child's
     * exit); `stopping` once shutdown began. */
    void (*tick)(void *ctx, int64_t now_ms, int stopping);
    /* A child process exited that is no worker child: 1 when it was the
     * companion's (it handled the exit), else 0. */
    int (*reaped)(void *ctx, pid_t pid, int wstatus);
    /* In a worker child just forked: let go of the companion's descriptors
     * and connections, with no Redis call and no wait. */
    void (*forked)(void *ctx);
    /* Shutdown began: called every turn from then on, and once more after
     * the last child is gone, before the supervisor retires its consumers
     * and heartbeat. Must be safe to call again. */
    void (*stopping)(void *ctx);
    /* Every child is gone and settled, consumers and heartbeat retired: the
     * companion's last work before the supervisor exits. */
    void (*finish)(void *ctx);
    /* After each tick: 1 asks that every worker child be replaced once it
     * has finished its current job (a reload: the companion changed what
     * new children get); asked again only after it returned 0. */
    int (*wants_recycle)(void *ctx);
} supervisor_companion_t;

#define SUPERVISOR_COMPANIONS_MAX 6

/* What `tickq worker` composes around the supervisor. */
typedef struct {
    const char *id;               /* its instance id (queue_instance_id), made by the caller */
    const char *database;         /* the tasks' database, described for the start line */
    const task_env_provider_t *task_env; /* the worker children's task environment */
    supervisor_companion_t companions[SUPERVISOR_COMPANIONS_MAX]; /* called in this order */
    int ncompanions;
    /* --autoscale: the children go from min_children to max_children as
     * the backlog asks (autoscale.h); NULL: cfg->workers children, fixed. */
    const autoscale_settings_t *autoscale;
} supervisor_plan_t;

/* Runs until SIGTERM/SIGINT (or, with --burst, until the queues are drained).
 * `conn` is a prepared connection (queue_prepare done) the supervisor keeps.
 * Returns the process's exit status: 0; 78 (EX_CONFIG) when a child found
 * another protocol version in Redis (WORKER_EXIT_PROTOCOL); 69
 * (EX_UNAVAILABLE) when a companion cannot start; 71 (EX_OSERR). */
int supervisor_run(const config_t *cfg, rconn_t *conn, const supervisor_plan_t *plan);

#endif
