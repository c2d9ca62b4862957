/* queue_controls.h — what operators do to queues and jobs beyond enqueue
 * and cancel: pause and resume a logical queue, limit how many jobs of a
 * task type run at once across every worker, purge a queue, run a failed or
 * dead job again, delete a finished one; and the worker's side of those
 * gates (queue_admit).
 *
 * The state changes are the Redis functions' (src/lua/admit.lua, limit.lua,
 * purge.lua, retry.lua, delete.lua; docs/protocol.md, "Queue controls");
 * pausing is a member of the set <prefix>:paused, which the claim reads. */
#ifndef TICKQ_QUEUE_CONTROLS_H
#define TICKQ_QUEUE_CONTROLS_H

#include "core/queue.h"

/* The keys of the controls and of the state index (queue_paused_key,
 * queue_limits_key, queue_running_key, queue_held_key, queue_holding_key,
 * queue_index_key) are built with the others in core/queue.h. */

/* A blocking claim's jobs (queue_claim_blocking) when the claim before it
 * said gates were set (claim_batch_t.gates): each job that may run gets its
 * running result and stays in *b; the others (expired, in a paused queue, of
 * a type at its limit) were settled by Redis and are removed from *b, which
 * keeps its order. */
queue_status_t queue_admit(queue_t *q, const queue_list_t *streams, const char *consumer, claim_batch_t *b,
                           char *err, size_t errlen);

/* Pauses (pause 1) or resumes (0) claims from logical queue `queue` on
 * every worker; enqueues still go in. *changed (may be NULL): 0 when it
 * already was so. */
queue_status_t queue_pause(queue_t *q, const char *queue, int pause, int *changed, char *err, size_t errlen);
/* 1 when logical queue `queue` is paused, 0 when not, -1 with err. */
int queue_is_paused(queue_t *q, const char *queue, char *err, size_t errlen);

typedef enum { RETRY_REQUEUED, RETRY_REFUSED, RETRY_MISSING } retry_status_t;

/* Runs a failed or dead job again as its next run; *run gets it
 * (RETRY_REQUEUED). RETRY_REFUSED: the job is in another state, written to
 * state (running included), and nothing changed. */
queue_status_t queue_retry(queue_t *q, const char *id, retry_status_t *result, int *run, char state[JOB_STATE_MAX],
                           char *err, size_t errlen);

typedef enum { DELETE_DONE, DELETE_REFUSED, DELETE_NEEDED, DELETE_MISSING } delete_status_t;

/* Deletes a finished job from Redis: its record, result, retry list, state
 * index entry and dead-letter entry (the counters and the job history
 * database keep it). *state gets its state: the one it had (DELETE_DONE),
 * or the unfinished one that refused it (DELETE_REFUSED, running
 * included). DELETE_NEEDED: *needed_by waiting jobs depend on its result.
 * Nothing changes unless DELETE_DONE. */
queue_status_t queue_delete(queue_t *q, const char *id, delete_status_t *result, char state[JOB_STATE_MAX],
                            long long *needed_by, char *err, size_t errlen);

/* What a purge of a logical queue would cancel, and the running jobs it
 * leaves to finish. */
typedef struct {
    long long ready, delayed, retrying, held, running, deferred;
} purge_count_t;

queue_status_t queue_purge_count(queue_t *q, const char *queue, purge_count_t *out, char *err, size_t errlen);

/* Jobs one purge call cancels at most (purge.lua: each call atomic). */
#define QUEUE_PURGE_BATCH 1000

/* Cancels every job waiting in logical queue `queue` ("Job purged"), in
 * calls of QUEUE_PURGE_BATCH, until one finds nothing more; *cancelled gets
 * how many (also when a later call fails). */
queue_status_t queue_purge(queue_t *q, const char *queue, long long *cancelled, char *err, size_t errlen);

/* A per-type concurrency limit. */
typedef struct {
    char type[JOB_TYPE_MAX + 1];
    long long slots;       /* jobs of the type that may run at once */
    long long running;     /* slots taken */
    long long held;        /* jobs set aside until a slot is free */
} type_limit_t;

#define QUEUE_LIMIT_MAX_SLOTS 1000000
#define QUEUE_LIMITS_MAX 256

/* Sets type's limit (0 to QUEUE_LIMIT_MAX_SLOTS); *previous gets the one
 * before (-1: none) and *running the jobs of the type running now. */
queue_status_t queue_limit_set(queue_t *q, const char *type, long long slots, long long *previous,
                               long long *running, char *err, size_t errlen);
/* Removes type's limit; *previous as above (-1: there was none), *held the
 * jobs still set aside (they go back to their queues with the next claims). */
queue_status_t queue_limit_clear(queue_t *q, const char *type, long long *previous, long long *held, char *err,
                                 size_t errlen);
/* Every limit, by type, up to max; *n gets how many. */
queue_status_t queue_limit_list(queue_t *q, type_limit_t *out, size_t max, size_t *n, char *err, size_t errlen);

#endif
