/* job_list.h — jobs by state, read from Redis for `tickq jobs`.
 *
 * Redis keeps no record index by state, so each state is read where it
 * lives (docs/protocol.md):
 *   failed, dead, cancelled, retrying  the state index the functions keep,
 *                     <prefix>:index:<queue>:<state>, newest first; an entry
 *                     whose record is gone or says another state is skipped
 *                     (its record expired: writers trim the index by age)
 *   running           the consumer group's pending entries (XPENDING), oldest
 *                     first
 *   queued            the streams' entries the group has not read yet, in the
 *                     order a worker would take them (queue, priority, entry)
 *   delayed           the delayed sets, by due time
 *   held              jobs set aside for a slot of their type's limit, oldest
 *                     first
 * Every read is bounded by the filter's limit, in pages, so the cost is the
 * rows shown plus the entries a --type filter skips. The job history
 * database (finished runs past the record TTL) is the caller's to add. */
#ifndef TICKQ_JOB_LIST_H
#define TICKQ_JOB_LIST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/job.h"
#include "core/queue.h"

/* The states `tickq jobs` lists, in its order when no state is asked for
 * (failed and dead first); JOB_LIST_STATES of them. */
#define JOB_LIST_STATES 9
extern const char *const job_list_states[JOB_LIST_STATES];
/* 1 when s is one of them. */
int job_list_state_known(const char *s);
/* 1 for the states a run ends in that the job history database holds too
 * (failed, dead, cancelled). */
int job_list_state_in_history(const char *s);

typedef struct {
    char id[JOB_ID_MAX + 1];
    char type[JOB_TYPE_MAX + 1];
    char queue[QUEUE_NAME_MAX + 1];  /* logical */
    char state[JOB_STATE_MAX];       /* one of job_list_states */
    int attempts;                    /* attempts made (a running job's current one included) */
    int run;                         /* 0: unknown */
    int64_t since_ms;                /* when it entered the state shown, epoch ms (running and queued:
                                      * when its entry became ready; delayed: its enqueue) */
    int64_t due_ms;                  /* delayed: when it is due; else 0 */
    char worker[QUEUE_CONSUMER_MAX]; /* running: the worker holding it; else "" */
    char *error;                     /* owned; NULL: none */
    int from_history;                /* 1: a row of the job history database */
} job_row_t;

typedef struct {
    job_row_t *rows;
    size_t n, cap;
} job_rows_t;

typedef struct {
    const char *queue;     /* logical queue; NULL: every queue */
    const char *type;      /* task type; NULL: any */
    int64_t since_ms;      /* only jobs that entered their state at or after; 0: any */
    size_t limit;          /* rows at most, across states */
} job_filter_t;

/* Appends to *out the jobs in `state` (job_list_states) that match f, until
 * out->n reaches f->limit. 0, or -1 with err (a Redis error; out keeps the
 * rows read). */
int job_list_state(queue_t *q, const char *state, const job_filter_t *f, job_rows_t *out, char *err,
                   size_t errlen);

/* A row as JSON (a new object): id, type, queue, state, attempts, run,
 * since (ISO 8601), age_s at now_ms, error, source (redis or history),
 * worker and due_at when set. For `tickq jobs --json` and GET /api/tasks,
 * which dump it with JOB_ROW_REAL_DIGITS. */
json_t *job_row_json(const job_row_t *r, int64_t now_ms);

/* The significant digits to dump job_row_json's objects with: age_s is
 * whole milliseconds in seconds, which 15 digits print as such (0.076;
 * jansson's default of 17 prints 0.075999999999999998) for any age under
 * 30,000 years. */
#define JOB_ROW_REAL_DIGITS 15

/* Appends one row (copied; error may be NULL); NULL when out of memory. */
job_row_t *job_rows_add(job_rows_t *out, const job_row_t *row, const char *error);
void job_rows_free(job_rows_t *rows);

#endif
