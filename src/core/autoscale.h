/* autoscale.h — the autoscaler's policy: how many worker children a
 * supervisor wants, from what one interval saw of its queues and children.
 *
 * Pure logic, no I/O: the supervisor samples (backlog.h, the slot board),
 * calls autoscale_step once per interval, applies what it returns and tells
 * autoscale_applied that it did. The policy (docs/operations.md,
 * "Autoscaling"):
 *
 *   (1) up fast, when jobs wait that no idle child is there to take: to
 *       the children that drain the backlog within the target wait at the
 *       observed rate per busy child; at least double when the oldest
 *       ready job has waited longer than the target wait; double while no
 *       job has finished yet (rate unknown). Capped at the maximum.
 *   (2) down slowly: one child per interval, only once the queues have been
 *       quiet for a whole cooldown. Quiet: every waiting job has an idle
 *       child to take it, none has waited past the target wait, and one
 *       child fewer would have carried the interval's work.
 *   (3) never a reversal within the cooldown of the previous change: no up
 *       within a cooldown of a down (it holds); no down within a cooldown
 *       of an up (a down needs a quiet cooldown, and quiet begins only
 *       after the last up). Steps in the same direction follow each other
 *       once per interval.
 *   (4) never below the minimum nor above the maximum; a scale-down retires
 *       an idle child only (the caller says how many are idle), never a
 *       busy one: with none idle, it holds. */
#ifndef TICKQ_AUTOSCALE_H
#define TICKQ_AUTOSCALE_H

#include <stdint.h>

#define AUTOSCALE_MIN_DEFAULT 1
#define AUTOSCALE_INTERVAL_MS_DEFAULT 30000
#define AUTOSCALE_COOLDOWN_MS_DEFAULT 60000
#define AUTOSCALE_TARGET_WAIT_MS_DEFAULT 5000
/* The least --interval: the supervisor turns about every 50 ms. */
#define AUTOSCALE_INTERVAL_MS_MIN 100
/* The longest --interval, --cooldown and --target-wait: a day. */
#define AUTOSCALE_DURATION_MS_MAX (86400 * 1000LL)

typedef struct {
    int min_children;
    int max_children;
    int64_t interval_ms;         /* how often it samples and decides */
    int64_t cooldown_ms;         /* quiet this long before a scale-down; no reversal within it */
    int64_t target_wait_ms;      /* how long a ready job should wait at most */
} autoscale_settings_t;

/* The defaults for `cpus` online CPUs (sysconf's answer, -1 when unknown):
 * 1 to 2 × cpus children (at most WORKERS_MAX, at least 1), every 30 s,
 * cooldown 60 s, target wait 5 s. */
void autoscale_defaults(autoscale_settings_t *s, long cpus);

/* What the supervisor saw at one interval's end. */
typedef struct {
    long long backlog;           /* jobs waiting: ready, plus due retries and delayed jobs */
    double oldest_ready_age_s;   /* how long the oldest ready job has waited (0: none) */
    int busy;                    /* children running a job now */
    int idle;                    /* wanted children alive and waiting for work: the ones a
                                  * scale-down may retire */
    double busy_children;        /* busy children on average over the interval */
} autoscale_sample_t;

typedef enum { AUTOSCALE_HOLD, AUTOSCALE_UP, AUTOSCALE_DOWN } autoscale_direction_t;

typedef struct {
    autoscale_direction_t direction;
    int from, to;                /* to == from when it holds */
    const char *reason;          /* a static string (docs/operations.md lists them) */
    int held;                    /* 1: a change was wanted and a rule held it (reason says which) */
} autoscale_decision_t;

typedef struct {
    autoscale_settings_t set;
    int desired;                 /* children wanted now */
    autoscale_direction_t last_direction; /* of the last change; HOLD: none yet */
    int64_t last_change_ms;
    int64_t quiet_since_ms;      /* first sample of the current quiet spell; -1: not quiet */
    /* The rate estimate: jobs finished per busy child-second, both sums
     * decayed each interval so that the last few intervals weigh most. */
    long long finished_seen;     /* the running total at the previous interval */
    double finished_w, busy_w;
    double rate;                 /* 0: unknown (no job finished yet) */
} autoscale_t;

/* Starts at the minimum. */
void autoscale_init(autoscale_t *a, const autoscale_settings_t *s);

/* One interval's work: `finished_total` job attempts ended since the
 * supervisor started (a running total), `busy_child_s` child-seconds spent
 * running jobs during the interval. Updates the rate. */
void autoscale_observe(autoscale_t *a, long long finished_total, double busy_child_s);

/* The decision for this interval's sample (monotonic `now_ms`); updates the
 * quiet spell. Changes nothing else: call autoscale_applied once the
 * change is made. */
autoscale_decision_t autoscale_step(autoscale_t *a, const autoscale_sample_t *in, int64_t now_ms);

/* The supervisor made decision `d` (UP or DOWN) at now_ms. */
void autoscale_applied(autoscale_t *a, const autoscale_decision_t *d, int64_t now_ms);

const char *autoscale_direction_name(autoscale_direction_t d);

#endif
