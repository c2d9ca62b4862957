/* worker_metrics.h — one `tickq worker`'s own numbers, in a page of shared
 * memory that its supervisor, worker children and HTTP process all see:
 * the jobs this worker ran by queue, type and outcome with their durations,
 * sandbox kills by reason, the supervisor's state (live and busy
 * children, shutting down or not, when it last turned, when a job last
 * finished) and its autoscaler's (autoscale.h: the children it wants, its
 * decisions, the backlog it last saw).
 *
 * The page is mapped by worker_metrics_open() in the supervisor before it
 * forks anything; every process forked after shares it. Writers are many
 * processes: every counter is an atomic add, and a (queue, type) series is
 * claimed once by compare-and-swap and published complete. A process killed
 * while claiming leaves a series that is never published; it is skipped.
 * When the page was never opened (tickq serve, tickq enqueue) every record
 * call does nothing and worker_metrics_page() is NULL.
 *
 * The cluster's numbers (queue depths, totals of every worker) are in Redis,
 * not here (stats.h). */
#ifndef TICKQ_WORKER_METRICS_H
#define TICKQ_WORKER_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/job.h"
#include "core/queue_names.h"

#define WORKER_METRICS_SERIES 512
/* Upper bounds of the job duration histogram, in seconds (+Inf after). */
#define WORKER_METRICS_BUCKETS 14
extern const double worker_metrics_bucket_s[WORKER_METRICS_BUCKETS];
#define WORKER_METRICS_OUTCOMES (OUTCOME_SHUTDOWN + 1)

/* Why a sandboxed strategy was killed. */
typedef enum {
    SANDBOX_KILL_TIME,       /* its CPU or wall-clock limit */
    SANDBOX_KILL_MEMORY,     /* its memory limit */
    SANDBOX_KILL_SYSCALL,    /* a system call the sandbox forbids */
    SANDBOX_KILL_OTHER,      /* any other signal */
    SANDBOX_KILL_REASONS
} sandbox_kill_reason_t;

typedef struct {
    _Atomic int state;                   /* 0 free, 1 being claimed, 2 published */
    char queue[QUEUE_NAME_MAX + 1];
    char type[JOB_TYPE_MAX + 1];
    _Atomic long long outcomes[WORKER_METRICS_OUTCOMES];
    _Atomic long long buckets[WORKER_METRICS_BUCKETS + 1]; /* per bucket, not cumulative; the last is +Inf */
    _Atomic long long duration_us;       /* sum */
} worker_metrics_series_t;

typedef struct {
    _Atomic long long started_ms;        /* wall clock; 0: no supervisor */
    _Atomic long long turned_ms;         /* monotonic: the supervisor's last loop turn */
    _Atomic int children;                /* worker children alive */
    _Atomic int busy;                    /* of them, running a job */
    _Atomic int wanted;                  /* children it runs when not stopping */
    _Atomic int stopping;
    _Atomic long long last_finished_us;  /* wall clock of the last job an attempt of which ended */
    _Atomic long long kills[SANDBOX_KILL_REASONS];
    _Atomic long long dropped;           /* outcomes not counted: every series taken */
    _Atomic int autoscaled;              /* 1: --autoscale; the fields below are its */
    _Atomic int autoscale_desired;       /* children it wants now */
    _Atomic long long autoscale_up;      /* decisions to scale up, since start */
    _Atomic long long autoscale_down;
    _Atomic long long autoscale_backlog; /* at its last sample */
    _Atomic long long autoscale_oldest_ready_ms;
    worker_metrics_series_t series[WORKER_METRICS_SERIES];
} worker_metrics_t;

/* Maps the shared page (once; later calls return 0). 0, or -1 with errno. */
int worker_metrics_open(void);
/* Unmaps the page in this process (a sandboxed child: untrusted code must
 * not write the worker's numbers); record calls then do nothing. */
void worker_metrics_forget(void);
/* The page, or NULL when it was never opened. */
worker_metrics_t *worker_metrics_page(void);

/* An attempt of a job of `type` on logical `queue` ended with `kind` after
 * `duration_us`. */
void worker_metrics_job(const char *queue, const char *type, job_outcome_kind_t kind, int64_t duration_us);
void worker_metrics_sandbox_kill(sandbox_kill_reason_t reason);
/* The supervisor, every loop turn. */
void worker_metrics_supervisor(int children, int busy, int wanted, int stopping, int64_t now_mono_ms);
/* The autoscaler, every interval: the children it wants, what it sampled,
 * and the change it made (+1 up, -1 down, 0 none). */
void worker_metrics_autoscale(int desired, long long backlog, double oldest_ready_age_s, int change);

const char *sandbox_kill_reason_name(sandbox_kill_reason_t reason);

#endif
