/* slot.h — the shared-memory board between a supervisor and its children.
 *
 * Each child owns one slot and publishes the job it is running (entry, id,
 * deadline) and its counters; the supervisor reads the slots to enforce
 * timeouts, act on cancels, settle a dead child's job and log statistics.
 * The job fields are guarded by a sequence lock: the child is the only
 * writer, the supervisor retries a read that raced a write. A child killed in
 * the middle of a write leaves the sequence odd, which reads as "no job".
 *
 * The slot also carries the generation of the child's consumer name
 * ("<worker id>#<generation>", queue_consumer_name). It only grows, across
 * the slot's children too: a child takes the next one when it starts and
 * whenever it reconnects holding nothing, and stores it here before it sends
 * any call under that name. Entries pending for an older generation belong
 * to nobody (a stale call landed late), and the supervisor's heartbeat hands
 * them back to their queues. */
#ifndef TICKQ_SLOT_H
#define TICKQ_SLOT_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/job.h"
#include "core/queue_names.h"

typedef struct {
    int busy;                        /* 1 while a job runs */
    char entry[40];
    char job_id[JOB_ID_MAX + 1];
    char type[JOB_TYPE_MAX + 1];
    char queue[QUEUE_NAME_MAX + 1];  /* the logical queue */
    int64_t timeout_ms;
    int64_t deadline_mono_ms;        /* when the supervisor kills the child */
    int stops_itself;                /* the task stops itself at its deadline and on a
                                      * cancel (task_def_t.stops_within_ms): the
                                      * supervisor leaves cancels to the child */
    int64_t started_us;              /* wall clock, for the history of a killed job */
} slot_job_t;

typedef struct {
    _Atomic unsigned seq;
    slot_job_t job;
    _Atomic int burst_idle;          /* burst mode: the last claim found nothing */
    _Atomic unsigned long long burst_claims; /* burst mode: claims begun (burst_done reads it twice) */
    _Atomic long long completed;
    _Atomic long long failed;        /* failed attempts */
    _Atomic long long retried;
    _Atomic long long last_delay_us; /* queue delay of the last job started */
    _Atomic unsigned long consumer_gen; /* 0 until the slot's first child starts */
} slot_t;

/* Maps n zeroed slots shared with future children; NULL on failure. */
slot_t *slot_board_new(int n);
void slot_board_free(slot_t *board, int n);

/* Child side: publish the job about to run, and its end. */
void slot_begin(slot_t *s, const slot_job_t *job);
void slot_end(slot_t *s);

/* Child side: takes the slot's next consumer generation and publishes it
 * (before the caller sends anything under it); returns it. */
unsigned long slot_next_generation(slot_t *s);
/* Supervisor side: the generation the slot's child last published. */
unsigned long slot_generation(slot_t *s);

/* Supervisor side: a consistent copy of the current job (busy 0 if none). */
void slot_read(slot_t *s, slot_job_t *out);
/* Supervisor side: clears the job fields before a new child takes the slot
 * (the consumer generation stays: the next child goes on from it). */
void slot_reset_job(slot_t *s);

#endif
