/* job.h — what a job is: its fields and defaults, the checks a new job must
 * pass before it is enqueued, and the kinds of outcome an attempt can have. */
#ifndef TICKQ_JOB_H
#define TICKQ_JOB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/queue_names.h"

#define JOB_ID_MAX 128
#define JOB_TYPE_MAX 64
#define JOB_DEFAULT_MAX_RETRIES 3
#define JOB_MAX_RETRIES_LIMIT 100
/* A job's timeout_ms 0 is "not set": the worker that runs it gives it its
 * default (worker --job-timeout, or its pool's job_timeout), which is
 * JOB_DEFAULT_TIMEOUT_MS unless they say otherwise. Set timeouts are more
 * than 0 and at most JOB_MAX_TIMEOUT_MS; so are the workers' defaults. */
#define JOB_TIMEOUT_UNSET 0
#define JOB_DEFAULT_TIMEOUT_MS (3600 * 1000LL)
#define JOB_MAX_TIMEOUT_MS (7 * 86400 * 1000LL)
#define JOB_DEFAULT_MAX_PAYLOAD (1024 * 1024)

/* A job as a producer describes it. Strings are borrowed. */
typedef struct {
    const char *id;        /* NULL: a UUID v4 is generated at enqueue */
    const char *type;
    const char *args;      /* a JSON object as text */
    size_t args_len;
    const char *queue;     /* logical queue */
    const char *priority;  /* high | normal | low */
    int max_retries;       /* a job runs at most 1 + max_retries times */
    int64_t timeout_ms;    /* per attempt; JOB_TIMEOUT_UNSET: the worker's default */
    int64_t delay_ms;      /* first run no earlier than now + delay */
    int replace;           /* 1: an id whose job has finished runs again (its next run) */
    int64_t expires_ms;    /* 0: none; else the job ends cancelled ("Job expired") unless it
                            * starts within this many ms of its enqueue (JOB_MAX_EXPIRES_MS) */
    const char *depends_on; /* NULL or "": none; else comma-separated ids of jobs it waits for
                            * (at most JOB_MAX_DEPS): it is `deferred` until they end */
    int after_any;         /* with depends_on: 1 runs it whatever they end in; 0 (default) only
                            * when all completed, else it fails */
    int flow;              /* with depends_on: the job is a flow's parent, its dependencies its
                            * children: cancelling it while it waits cancels them */
} job_spec_t;

/* At most this many dependencies a job, or children a flow
 * (src/lua/common.lua, MAX_DEPS). */
#define JOB_MAX_DEPS 10000

/* A job's expiry: at most a year, and later than its delay. */
#define JOB_MAX_EXPIRES_MS (365 * 86400 * 1000LL)

/* How deep a job's args may nest: what Redis's cjson reads (deeper args
 * would be refused there as "not valid JSON"). */
#define JOB_ARGS_MAX_DEPTH 1000

/* A job's delay: from 0 to a year, however it is enqueued. */
#define JOB_MAX_DELAY_MS (365 * 86400 * 1000LL)

/* How an attempt ended; the Redis scripts decide the job's next state. */
typedef enum {
    OUTCOME_OK,        /* completed */
    OUTCOME_TRANSIENT, /* retry with backoff, or dead when retries are spent */
    OUTCOME_PERMANENT, /* failed at once: bad input, unknown type */
    OUTCOME_TIMEOUT,   /* killed at its timeout: transient */
    OUTCOME_CRASH,     /* its worker process died: transient */
    OUTCOME_CANCEL,    /* cancelled while running */
    OUTCOME_SHUTDOWN,  /* stopped by a shutdown: back to its queue, attempt not charged */
    OUTCOME_CHILDREN   /* the task enqueued children and waits for them (deferred, a flow's
                        * parent): it runs again, its next attempt, once they have ended */
} job_outcome_kind_t;

/* The name the Redis scripts use for an outcome kind. */
const char *job_outcome_name(job_outcome_kind_t kind);

/* 1 for the states a job ends in (completed, failed, dead, cancelled): the
 * only ones a job can run again from (docs/protocol.md; FINAL in
 * src/lua/common.lua is the same list). */
int job_state_is_final(const char *state);

/* Fills the defaults: queue "backtest", priority normal, 3 retries, no
 * timeout of its own (JOB_TIMEOUT_UNSET: the worker's default). */
void job_spec_init(job_spec_t *spec);

/* Whether s is a name of the kind task types, handlers and pools have: 1
 * to max characters from A-Z a-z 0-9 _ - . */
int job_name_valid(const char *s, size_t max);

/* Whether id may be a job id (1 to JOB_ID_MAX bytes, no spaces or control
 * characters): 0, or -1 with err naming the rule. */
int job_id_check(const char *id, char *err, size_t errlen);

/* Whether ms is a timeout a job or a worker's default may have: more than 0,
 * at most JOB_MAX_TIMEOUT_MS (JOB_TIMEOUT_UNSET is not one). */
int job_timeout_valid(int64_t ms);

/* Checks everything a worker would otherwise trip over: id, type, args (a JSON
 * object within max_payload bytes), queue name, priority, retries, timeout
 * (JOB_TIMEOUT_UNSET, or more than 0 up to JOB_MAX_TIMEOUT_MS), delay, the
 * form of depends_on (ids; whether they exist is Redis's to say).
 * Returns 0, or -1 with a message naming the bad field and the rule. */
int job_spec_check(const job_spec_t *spec, size_t max_payload, char *err, size_t errlen);

/* Checks a depends_on list's form: comma-separated job ids, at most
 * JOB_MAX_DEPS; after_any only with one. 0, or -1 with err naming the fault. */
int job_depends_check(const char *list, int after_any, char *err, size_t errlen);

/* Why args that jansson could not load are refused: "args are not valid
 * JSON: ... (line L, column C)", or, for a NUL character (\u0000: valid
 * JSON, which tickq does not take), a message saying so. */
void job_args_json_error(const json_error_t *jerr, char *err, size_t errlen);


#endif
