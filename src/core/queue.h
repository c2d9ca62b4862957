/* queue.h — tickq's Redis protocol: enqueue, claim, finish, release, reclaim,
 * touch and cancel, each one atomic Lua script (src/lua/, docs/protocol.md).
 *
 * A queue_t borrows a connection and carries the settings every script needs
 * (key prefix, consumer group, result TTL, dead-letter cap, retry backoff). */
#ifndef TICKQ_QUEUE_H
#define TICKQ_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "core/job.h"
#include "core/queue_names.h"
#include "core/rconn.h"

#define TICKQ_PROTOCOL "1"
#define CLAIM_MAX 100
#define QUEUE_JOB_KEY_MAX (64 + 5 + JOB_ID_MAX + 1) /* "<prefix>:job:<id>" */

/* A job's stream entry: these fields, in this order. src/lua/common.lua's
 * ENTRY_FIELDS is the same list (tests/unit/test_lua_caps.c holds the two
 * together). */
#define QUEUE_ENTRY_FIELD_COUNT 7
extern const char *const queue_entry_field_names[QUEUE_ENTRY_FIELD_COUNT];

typedef enum {
    QUEUE_OK = 0,
    QUEUE_ERR_IO = -1,       /* connection lost or timed out: reconnect */
    QUEUE_ERR_INVALID = -2,  /* the job was refused: bad input */
    QUEUE_ERR_PROTOCOL = -3, /* Redis holds another tickq protocol version */
    QUEUE_ERR_REPLY = -4,    /* Redis answered with an error or a surprise */
    QUEUE_ERR_OOM = -5       /* Redis refused to write: out of memory (maxmemory); nothing was done,
                              * the message gives its memory figures; try again later */
} queue_status_t;

/* The status an error reply's text stands for: QUEUE_ERR_INVALID for
 * "TICKQ_INVALID ...", QUEUE_ERR_PROTOCOL for "TICKQ_PROTOCOL ...",
 * QUEUE_ERR_OOM for Redis's "OOM ...", else QUEUE_ERR_REPLY (queue.c,
 * reply_errors, is the one list). *message (may be NULL) gets the text
 * without the TICKQ_ prefix, pointing into `said`. For a reply read outside
 * this module, such as a sent call's (rconn_deferred_error). */
queue_status_t queue_error_status(const char *said, const char **message);

typedef struct queue {
    rconn_t *conn;           /* borrowed */
    char prefix[64];
    char group[64];
    int64_t result_ttl_s;
    int64_t dlq_cap;
    int64_t retry_base_ms;
    int64_t retry_max_ms;
    size_t max_payload;
    int64_t default_timeout_ms; /* claims: the timeout of a job enqueued without
                              * one (timeout_ms JOB_TIMEOUT_UNSET): the claiming
                              * worker's --job-timeout or its pool's job_timeout;
                              * job_timeout_valid */
    char history[128];       /* the job history stream finish, release,
                              * reclaim and touch append rows to (history.h); "": off */
    long long unrecorded;    /* jobs release, reclaim or touch settled without
                              * their history rows: Redis ran a library from
                              * before the history stream (the next call loads
                              * this one again); the caller logs and zeroes it */
} queue_t;

/* Zeroes q and borrows conn; the settings come from the configuration
 * (config_apply: its defaults are the only ones). */
void queue_init(queue_t *q, rconn_t *conn);

/* Checks the protocol version stored in Redis (recording ours on a fresh
 * server), creates the consumer group on each stream, registers the queues
 * and loads every script. */
queue_status_t queue_prepare(queue_t *q, const queue_list_t *streams, char *err, size_t errlen);

#define JOB_STATE_MAX 16

typedef struct {
    char id[JOB_ID_MAX + 1];
    int created;             /* 1: enqueued (a new job, or a new run when
                              * spec->replace and the job had finished);
                              * 0: the id exists; nothing was enqueued */
    char state[JOB_STATE_MAX];    /* the job's state after the call */
    int run;                 /* the job's run number (1 for a first run,
                              * and when Redis runs an older library) */
    char previous[JOB_STATE_MAX]; /* a new run: how the run before ended */
} enqueue_result_t;

/* Enqueues one job (spec->id NULL: a UUID is generated). An id that exists
 * enqueues nothing (created 0, with the existing job's state), unless
 * spec->replace and the job has finished: then it runs again as its next
 * run (attempts 0, run + 1, its result, retry list and dead-letter entry
 * removed). Atomic (src/lua/common.lua, add_job). */
queue_status_t queue_enqueue(queue_t *q, const job_spec_t *spec, enqueue_result_t *out,
                             char *err, size_t errlen);
/* The task types producers accept beyond the ones compiled into them: a
 * Redis set, filled by workers (the handler types they serve) and by
 * `tickq types add`, never pruned, so that a producer that starts before
 * any worker, or while the workers are scaled to zero, still enqueues. */
queue_status_t queue_types_add(queue_t *q, const char *const *names, size_t n, char *err, size_t errlen);
/* *known gets 1 when name is in the set. */
queue_status_t queue_type_known(queue_t *q, const char *name, int *known, char *err, size_t errlen);

/* Enqueues n jobs (each with its id set) in one MULTI/EXEC transaction:
 * Redis runs them together with no other client between them, so a job may
 * depend on ones before it in the list (a chain: specs[i].depends_on naming
 * specs[i-1].id, at most QUEUE_CHAIN_MAX long; a flow: children, then the
 * parent depending on them all). The specs must have passed
 * job_spec_check: Redis then refuses none of them but for lack of memory,
 * which it says when the calls are queued and which discards the whole
 * transaction (nothing enqueued). out[i] per job. QUEUE_OK, or the first
 * refusal's status with err naming the job (1-based). */
#define QUEUE_CHAIN_MAX 16
queue_status_t queue_enqueue_chain(queue_t *q, const job_spec_t *specs, size_t n, enqueue_result_t *out,
                                   char *err, size_t errlen);

/* Enqueues n jobs without dependencies (depends_on NULL or ""; ids NULL
 * get a UUID: out[i].id, set before the call), QUEUE_BATCH_MAX to a Redis
 * call, fewer when their args pass QUEUE_BATCH_BYTES (src/lua/enqueue_batch.lua).
 * Each call is all or nothing: Redis checks every job of it before writing
 * any, and one refusal enqueues none of them: QUEUE_ERR_INVALID with
 * *refused the refused job's index in specs (its id is out[*refused].id)
 * and err saying why, without naming the job. Otherwise *refused is
 * SIZE_MAX and err says the whole of what went wrong (a refusal of the
 * call itself included). Specs that passed job_spec_check are refused only
 * for a replace of a finished job that waiting jobs still need. An id that
 * exists is not a refusal: out[i] says created 0 and its state, as
 * queue_enqueue does. *done gets the jobs whose call went through (all n
 * on QUEUE_OK; on an error, the calls before the failing one: after an I/O
 * error Redis may have run that one too). */
#define QUEUE_BATCH_MAX 400
#define QUEUE_BATCH_BYTES (8u << 20) /* a call's jobs stop after their args pass 8 MiB */
queue_status_t queue_enqueue_batch(queue_t *q, const job_spec_t *specs, size_t n, enqueue_result_t *out,
                                   size_t *done, size_t *refused, char *err, size_t errlen);

/* Enqueues n jobs in one pipeline; out[i] and status per job in st[i]. */
queue_status_t queue_enqueue_many(queue_t *q, const job_spec_t *specs, size_t n,
                                  enqueue_result_t *out, queue_status_t *st,
                                  char *err, size_t errlen);

typedef struct {
    int stream_index;        /* index in the queue list */
    const char *entry;       /* stream entry id */
    const char *id;
    const char *type;
    const char *args;
    size_t args_len;
    int attempt;             /* 1 on the first run */
    int max_retries;
    int64_t timeout_ms;      /* resolved: the job's own, else the queue's default_timeout_ms */
    int64_t enqueued_us;
} claimed_job_t;

typedef struct {
    redisReply *reply;       /* owns every string in jobs[] */
    size_t n;
    claimed_job_t jobs[CLAIM_MAX];
    int64_t next_due_ms;     /* empty claim: earliest delayed/retry time, -1 none */
    long long retrying;      /* empty claim: retries waiting on these queues */
    int gates;               /* empty claim: 1 when a queue is paused, a type limited or a job
                              * has an expiry (queue_controls.h): a blocking claim's jobs then
                              * go through queue_admit, not queue_send_started */
    uint64_t paused;         /* empty claim: bit i set when streams[i]'s queue is paused (a
                              * blocking claim leaves those streams out) */
} claim_batch_t;

/* Claims up to `count` (1 to CLAIM_MAX) jobs (strict priority, one stream per
 * batch). A job enqueued without a timeout gets q->default_timeout_ms here,
 * the one place a claimed job's timeout is resolved (its record and entry
 * keep JOB_TIMEOUT_UNSET). */
queue_status_t queue_claim(queue_t *q, const queue_list_t *streams, const char *consumer,
                           int count, claim_batch_t *out, char *err, size_t errlen);
/* Frees the batch's reply; the batch may be reused. Accepts a zeroed batch. */
void claim_batch_clear(claim_batch_t *b);

/* The idle path, after an empty claim: blocks up to block_ms in XREADGROUP
 * on every stream. Redis hands each new entry to exactly one blocked
 * consumer, claimed in the same round trip. Entries come in queue-list
 * order; timeouts are resolved as queue_claim's. Follow a non-empty result
 * with queue_send_started(). */
queue_status_t queue_claim_blocking(queue_t *q, const queue_list_t *streams, const char *consumer,
                                    int count, int64_t block_ms, claim_batch_t *out,
                                    char *err, size_t errlen);
/* Writes the running results of a blocking claim's jobs without waiting for
 * the reply (rconn_deferred_error() reports a refusal later). */
queue_status_t queue_send_started(queue_t *q, const claim_batch_t *b, const char *consumer);
/* Sends (without waiting for the reply: rconn_deferred_error) a running
 * job's progress, fraction 0 to 1 and a message, for its running result
 * and its record. */
queue_status_t queue_send_progress(queue_t *q, const char *consumer, const char *id, int attempt, double fraction,
                                   const char *message);

typedef struct {
    const char *entry;
    const char *id;
    job_outcome_kind_t kind;
    const char *payload;     /* OK: the task_result JSON; else the error text */
    size_t payload_len;
    int attempt;
    int64_t started_us;
    int64_t finished_us;
    int run;                 /* set by queue_finish: the job's run number
                              * (1 when Redis runs an older library) */
} job_outcome_t;

typedef struct {
    long long recorded;      /* outcomes that took effect */
    long long skipped;       /* entries no longer pending: reclaimed meanwhile, or recorded by an
                              * earlier call whose reply was lost (queue_finish_applied) */
    long long retried;       /* failures scheduled for a retry */
    long long dead;          /* failures moved to the dead-letter stream */
    long long unrecorded;    /* outcomes recorded without their history rows:
                              * Redis ran a library from before the history
                              * stream (loaded by an older tickq process);
                              * the next call loads this one again */
} finish_tally_t;

/* Records a batch of outcomes from one stream; adds to *tally (may be NULL)
 * and, when states is not NULL, writes each job's new state ("completed",
 * "retrying", ... or "" when skipped) to states[i]; sets each o[i].run.
 * Safe to call again with the same outcomes after a lost reply. */
queue_status_t queue_finish(queue_t *q, const char *stream_key, const char *worker_id,
                            job_outcome_t *o, size_t n, finish_tally_t *tally,
                            char (*states)[JOB_STATE_MAX], char *err, size_t errlen);

/* After a repeated finish call skipped an outcome: whether the job's record
 * shows that very attempt recorded by `worker` (its attempts, worker and
 * finished_us are the outcome's), i.e. an earlier call was applied though
 * its reply was lost, rather than the entry reclaimed meanwhile (never for
 * a shutdown outcome, which writes none of these: leave those out). Sets
 * *applied (1 or 0); when 1, the record's state and run go to state and
 * o->run. */
queue_status_t queue_finish_applied(queue_t *q, const char *worker, job_outcome_t *o, int *applied,
                                    char state[JOB_STATE_MAX], char *err, size_t errlen);

/* What release and reclaim did to a job. */
typedef struct {
    char id[JOB_ID_MAX + 1];
    char type[JOB_TYPE_MAX + 1];
    char queue[QUEUE_NAME_MAX + 1];
    char state[JOB_STATE_MAX];   /* "" when nothing happened to it */
    int attempts;
    int run;                     /* its run number (1 when Redis runs an older library) */
    char error[200];             /* reclaim: why the attempt failed */
} settled_job_t;

/* Settles what `consumer` left pending: `current_entry` (may be NULL) gets
 * `kind` with `error`, the rest goes back to its queues. A consumer name with
 * a generation (queue_consumer_name) also settles the worker's older
 * generations the same way (their entries back to their queues), and those
 * consumers and this one are deleted from the groups. *current (may be
 * NULL) describes the current job afterwards (state "" if it was not
 * pending any more). */
queue_status_t queue_release(queue_t *q, const queue_list_t *streams, const char *consumer,
                             const char *current_entry, job_outcome_kind_t kind,
                             const char *error, long long *requeued, settled_job_t *current,
                             char *err, size_t errlen);
/* queue_release, also saying when the current job started (epoch µs; 0:
 * unknown), for its job history row. */
queue_status_t queue_release_started(queue_t *q, const queue_list_t *streams, const char *consumer,
                                     const char *current_entry, job_outcome_kind_t kind, const char *error,
                                     int64_t started_us, long long *requeued, settled_job_t *current,
                                     char *err, size_t errlen);

/* Entries one reclaim call takes back per stream at most (reclaim.lua's
 * XPENDING and XAUTOCLAIM COUNT; tests/unit/test_lua_caps.c holds the two
 * to it): QUEUE_LIST_MAX * QUEUE_RECLAIM_BATCH jobs hold every job one call
 * over a worker's queues can reclaim. */
#define QUEUE_RECLAIM_BATCH 100

/* Reclaims entries idle for more than min_idle_ms (dead workers); fills up
 * to `max` of them into jobs (may be NULL) and their count into *reclaimed. */
queue_status_t queue_reclaim(queue_t *q, const queue_list_t *streams, const char *reclaimer,
                             int64_t min_idle_ms, settled_job_t *jobs, size_t max,
                             long long *reclaimed, char *err, size_t errlen);

/* A history process wrote the rows of these entries of history stream
 * `stream` (history.h): acknowledges them in `group`, deletes them and takes
 * their rows (counts[i] for entries[i]: its fields / 2) off the stream's
 * backlog; *rows (may be NULL) gets how many. */
queue_status_t queue_history_ack(queue_t *q, const char *stream, const char *group, const char *const *entries,
                                 const int *counts, size_t n, long long *rows, char *err, size_t errlen);

/* What a touch did. */
#define TOUCH_IDS_MAX 16
typedef struct {
    long long renewed;           /* entries whose claim was renewed */
    long long released;          /* entries of older consumer generations, back in their queues */
    size_t nids;                 /* the first TOUCH_IDS_MAX of those jobs' ids */
    char ids[TOUCH_IDS_MAX][JOB_ID_MAX + 1];
    long long cancelled;         /* entries of older generations whose job was
                                  * cancelled meanwhile: it ended cancelled */
    size_t ncancelled;           /* the first TOUCH_IDS_MAX of those jobs' ids */
    char cancelled_ids[TOUCH_IDS_MAX][JOB_ID_MAX + 1];
} touch_result_t;

/* The most consumers one touch renews (a supervisor's children, at most
 * WORKERS_MAX: heartbeat.c holds the two together). */
#define TOUCH_CONSUMERS_MAX 512

/* Renews the claims of the given consumers (at most TOUCH_CONSUMERS_MAX), and hands back to their queues
 * (attempt not charged) the entries of older generations of the same
 * workers, or ends them cancelled when a cancel was requested, deleting
 * those consumers (src/lua/touch.lua). The cancels' history rows go to
 * q->history in the same call. *out may be NULL. */
queue_status_t queue_touch(queue_t *q, const queue_list_t *streams, const char *const *consumers,
                           size_t n, touch_result_t *out, char *err, size_t errlen);

/* QUEUE_ERR_OOM with the message every refusal for lack of memory gets:
 * what was not done, Redis's words (`said`) and its memory figures. */
queue_status_t queue_out_of_memory(queue_t *q, const char *what, const char *said, char *err, size_t errlen);

/* Calls library function tickq_p<protocol>_<name> with streams' keys (may
 * be NULL: none), the argument header and argc arguments (lens NULL: C
 * strings), for the calls of queue_controls.c. On QUEUE_OK *out holds a
 * reply that is not an error, which the caller frees. */
#define QUEUE_FCALL_ARGS_MAX (4 * CLAIM_MAX + 1)
queue_status_t queue_fcall(queue_t *q, const char *name, const queue_list_t *streams, const char *const *argv,
                           const size_t *lens, int argc, redisReply **out, char *err, size_t errlen);

typedef enum { CANCEL_DONE, CANCEL_RUNNING, CANCEL_FINAL, CANCEL_MISSING } cancel_status_t;

/* Cancels a job; *state gets the final state for CANCEL_FINAL. */
queue_status_t queue_cancel(queue_t *q, const char *id, cancel_status_t *result,
                            char state[JOB_STATE_MAX], char *err, size_t errlen);

/* Whether a cancel was asked for job `id` (queue_cancel on a running job),
 * pipelined: queue_cancel_requested_send appends the question to q's
 * connection (0, or -1), queue_cancel_requested_read reads the answers in
 * the same order: 1 asked, 0 not, -1 with err when the connection failed. */
int queue_cancel_requested_send(queue_t *q, const char *id);
int queue_cancel_requested_read(queue_t *q, char *err, size_t errlen);

/* Moves the given dead-letter entries back to their queues; *requeued gets
 * how many jobs were requeued. */
queue_status_t queue_dlq_retry(queue_t *q, const char *const *entries, size_t n,
                               long long *requeued, char *err, size_t errlen);

#define LIST_BATCH_MAX 100

/* One thing a list import reports (docs/protocol.md, the users' list
 * protocol). Strings point into the import's reply. */
typedef enum {
    LIST_REJECTED,   /* error, list_item, rejected_id */
    LIST_DUPLICATE,  /* state, job_args, list_item */
    LIST_RERUN       /* state, run */
} list_event_kind_t;

/* A field a kind does not use is "" (run: 0). */
typedef struct {
    list_event_kind_t kind;
    const char *task_id;         /* "" for a rejected entry without a usable one */
    const char *error;           /* rejected: why */
    const char *state;           /* duplicate: the existing job's state; rerun: how the run before ended */
    const char *job_args;        /* duplicate: the start of the existing job's args */
    const char *list_item;       /* rejected, duplicate: the start of what the client pushed on the list
                                  * (logged under the key "entry") */
    const char *rejected_id;     /* rejected: its stream id in <prefix>:rejected */
    long long run;               /* rerun: the new run */
} list_event_t;

/* What one list import did. */
typedef struct {
    redisReply *reply;           /* owns the events' strings */
    long long moved;             /* jobs enqueued (new ones and re-runs) */
    long long duplicates;        /* task ids of jobs still waiting or running */
    long long reruns;            /* task ids of finished jobs, run again */
    long long remaining;         /* entries still in the list */
    size_t nevents;
    list_event_t events[LIST_BATCH_MAX]; /* one per entry at most */
} list_import_t;

/* Moves up to max_entries (1 to LIST_BATCH_MAX) tasks from the plain list
 * `list` into <queue>_normal, atomically (task_id becomes the job id; a
 * finished one runs again); keeps rejected entries in <prefix>:rejected.
 * Free *out's reply with list_import_clear (also done by the next call). */
queue_status_t queue_list_import(queue_t *q, const char *list, const char *queue, int max_entries,
                                 list_import_t *out, char *err, size_t errlen);
/* Frees the import's reply; accepts a zeroed struct. */
void list_import_clear(list_import_t *li);

/* The scheduler's leadership lease: acquire (or renew, when `holder` has
 * it) for ttl_ms, or release. *held: 1 when holder has it after the call;
 * current (may be NULL) gets the holder's id ("" when free). */
queue_status_t queue_lease(queue_t *q, const char *holder, int acquire, int64_t ttl_ms, int *held, char *current,
                           size_t curlen, char *err, size_t errlen);

/* The Redis keys of the protocol (docs/protocol.md, the key table), each
 * written once in queue_keys.c under q->prefix into out (outlen bytes); the streams'
 * names are in core/queue_names.h, the history streams' in
 * core/history_keys.h. No other C file spells a key (scripts/check-keys). */
void queue_protocol_key(const queue_t *q, char *out, size_t outlen);         /* <prefix>:protocol */
void queue_queues_key(const queue_t *q, char *out, size_t outlen);           /* <prefix>:queues */
void queue_types_key(const queue_t *q, char *out, size_t outlen);            /* <prefix>:types */
void queue_job_key(const queue_t *q, const char *id, char *out, size_t outlen);     /* <prefix>:job:<id> */
void queue_retries_key(const queue_t *q, const char *id, char *out, size_t outlen); /* <prefix>:retries:<id> */
/* <prefix>:delayed:<physical> and <prefix>:retry:<physical> */
void queue_delayed_key(const queue_t *q, const char *physical, char *out, size_t outlen);
void queue_retry_key(const queue_t *q, const char *physical, char *out, size_t outlen);
/* <prefix>:deferred:<physical> (jobs waiting for dependencies) and
 * <prefix>:deps:<id> (the ids a job depends on, in order) */
void queue_deferred_key(const queue_t *q, const char *physical, char *out, size_t outlen);
void queue_deps_key(const queue_t *q, const char *id, char *out, size_t outlen);
void queue_stats_key(const queue_t *q, const char *logical, char *out, size_t outlen); /* <prefix>:stats:<queue> */
void queue_dead_key(const queue_t *q, char *out, size_t outlen);             /* <prefix>:dead */
void queue_rejected_key(const queue_t *q, char *out, size_t outlen);         /* <prefix>:rejected */
void queue_workers_key(const queue_t *q, char *out, size_t outlen);          /* <prefix>:workers */
void queue_worker_key(const queue_t *q, const char *id, char *out, size_t outlen);  /* <prefix>:worker:<id> */
/* The scheduler's: its lease, each schedule's last fire time, and the
 * counts of fires and misfires /metrics reads. */
void queue_scheduler_lease_key(const queue_t *q, char *out, size_t outlen);    /* <prefix>:scheduler:lease */
void queue_scheduler_last_key(const queue_t *q, char *out, size_t outlen);     /* <prefix>:scheduler:last */
void queue_scheduler_fires_key(const queue_t *q, char *out, size_t outlen);    /* <prefix>:scheduler:fires */
void queue_scheduler_misfires_key(const queue_t *q, char *out, size_t outlen); /* <prefix>:scheduler:misfires */
/* The queue controls' (core/queue_controls.h) and the state index's. */
void queue_paused_key(const queue_t *q, char *out, size_t outlen);   /* <prefix>:paused */
void queue_limits_key(const queue_t *q, char *out, size_t outlen);   /* <prefix>:limits */
void queue_running_key(const queue_t *q, const char *type, char *out, size_t outlen); /* <prefix>:running:<type> */
void queue_holding_key(const queue_t *q, char *out, size_t outlen);  /* <prefix>:holding */
void queue_held_key(const queue_t *q, const char *type, char *out, size_t outlen); /* <prefix>:held:<type> */
/* <prefix>:index:<queue>:<state>, state failed, dead, cancelled or retrying */
void queue_index_key(const queue_t *q, const char *queue, const char *state, char *out, size_t outlen);
/* The dashboard's (http/http_sampler.c): the samples of the last hour, and
 * the lock that gives one slot's sample to one host (slot: its start, in
 * epoch ms). */
void queue_dash_samples_key(const queue_t *q, char *out, size_t outlen);   /* <prefix>:dash:samples */
void queue_dash_slot_key(const queue_t *q, long long slot, char *out, size_t outlen); /* <prefix>:dash:slot:<t> */

/* Job `id`'s state into state ("" when it has no record, or on failure):
 * QUEUE_OK, QUEUE_ERR_IO when the connection failed, QUEUE_ERR_REPLY when
 * Redis answered with an error. */
queue_status_t queue_job_state(queue_t *q, const char *id, char state[JOB_STATE_MAX], char *err, size_t errlen);
/* Writes the key of job `id`'s result, "task_result:<id>" (no prefix: the
 * users' existing clients read it there). */
void queue_result_key(const char *id, char *out, size_t outlen);

#endif
