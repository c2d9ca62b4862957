/* handler_proc.h — one handler process: started, fed jobs over its pipes,
 * stopped (docs/handlers.md).
 *
 * A worker child owns its handler processes. handler_proc_submit starts
 * the process when it is not running (and waits for its announcement) and
 * sends a job; handler_proc_wait relays the handler's progress and output
 * and returns the jobs that ended, matched by id (up to the max_jobs it
 * announced run at once; handler_proc_run is one job from start to end).
 * At a job's deadline, or when its owner reports a cancel, the job is sent
 * a cancel message; a handler that has not replied within its
 * cancel_grace is killed with its whole process group. A handler that
 * dies, or says anything malformed, is killed and started again for the
 * next job; the jobs it had end as crashed. One that cannot be started is
 * tried again after a pause (1 s, doubling to 30 s). Its stdout and stderr
 * become log lines tagged with the handler's name and the running jobs'
 * ids. */
#ifndef TICKQ_HANDLER_PROC_H
#define TICKQ_HANDLER_PROC_H

#include <jansson.h>
#include <signal.h>
#include <stdint.h>

#include "handlers/handler_config.h"
#include "core/task.h"
#include "handlers/handler_wire.h"

typedef struct handler_proc handler_proc_t;

typedef enum {
    HANDLER_DONE,        /* a result: *data */
    HANDLER_RETRY,       /* the handler's error, retry true */
    HANDLER_FAIL,        /* the handler's error, retry false; or a type it does not serve */
    HANDLER_TIMEOUT,     /* the deadline passed */
    HANDLER_CANCELLED,   /* cancelled by the owner */
    HANDLER_CRASHED,     /* it died, or said something malformed */
    HANDLER_NOT_STARTED  /* it could not be started: the job never reached it */
} handler_outcome_t;

handler_proc_t *handler_proc_new(const handler_def_t *def);
/* Closes its requests (the handler should exit), waits up to a second, then
 * kills its process group. Accepts NULL. */
void handler_proc_free(handler_proc_t *p);

/* Starts the process unless it runs, and waits for its announcement.
 * 0, or -1 with err (the process is then not running). */
int handler_proc_start(handler_proc_t *p, char *err, size_t errlen);
/* Between jobs (none on its way): logs what the process wrote to stdout
 * and stderr meanwhile, without waiting, so that a thread of its own that
 * prints does not stall on a full pipe; a process that ended is reaped
 * (the next job starts another). */
void handler_proc_idle(handler_proc_t *p);
/* fn (NULL: none) is called at each round of handler_proc_wait (at least
 * once a second while it waits): the handler family reads its other, idle
 * processes' output there (handler_proc_idle), which would stall while a
 * long job of one handler runs. */
void handler_proc_set_meanwhile(void (*fn)(void));
/* The announcement of the running process (NULL when not running). */
const handler_hello_t *handler_proc_hello(const handler_proc_t *p);

/* Checks the running handler's announcement against its section's types:
 * 0, or -1 with err naming the types it did not announce. */
int handler_proc_check_types(const handler_proc_t *p, char *err, size_t errlen);

/* A job that ended, for handler_proc_wait's caller. */
typedef struct {
    void *tag;                   /* the submitter's */
    handler_outcome_t outcome;
    json_t *data;                /* HANDLER_DONE: the result (owned) */
    char err[HANDLER_ERROR_MAX]; /* otherwise: what happened */
    int64_t retry_in_ms;         /* HANDLER_NOT_STARTED: until the next start is tried */
} handler_done_t;

/* How many jobs the running handler takes at once: its announced max_jobs
 * (1 when it is not running). */
int handler_proc_capacity(const handler_proc_t *p);

/* Sends a job (starting the process first when needed) without waiting:
 * its end comes from handler_proc_wait, with `tag`. hooks (may be NULL)
 * must stay valid until then. 0; or -1 when the job ended at once, *done
 * saying how (the process could not be started, now or lately:
 * HANDLER_NOT_STARTED, with done->retry_in_ms until the next try; a type
 * the handler did not announce: HANDLER_FAIL). A start that failed is not
 * tried again for a while: 1 s, doubling to 30 s while it keeps failing. */
int handler_proc_submit(handler_proc_t *p, const handler_request_t *job, int64_t deadline_mono_ms,
                        const task_hooks_t *hooks, void *tag, handler_done_t *done);

/* Waits up to wait_ms for jobs to end, sending cancels and killing as
 * their deadlines, cancels and graces say; fills done (room for `max`,
 * which must hold every job it has: a crash ends them all at once) and
 * returns how many ended (0 when none is running). */
size_t handler_proc_wait(handler_proc_t *p, int64_t wait_ms, handler_done_t *done, size_t max);

/* Runs one job (starting the process first when needed) to its end;
 * deadline_mono_ms is on clock_mono_ms(). hooks (may be NULL) get its
 * progress, and are asked about a cancel every 200 ms. On HANDLER_DONE
 * *data gets the result (owned); otherwise err says what happened (and on
 * HANDLER_NOT_STARTED *retry_in_ms, until the next start is tried). */
handler_outcome_t handler_proc_run(handler_proc_t *p, const handler_request_t *job, int64_t deadline_mono_ms,
                                   const task_hooks_t *hooks, json_t **data, char *err, size_t errlen,
                                   int64_t *retry_in_ms);

#endif
