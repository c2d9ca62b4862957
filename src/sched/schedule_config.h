/* schedule_config.h — the schedule config: the recurring jobs the
 * configuration file defines, the scheduler's settings, and their fire times.
 * (The process that fires them is the scheduler, scheduler.h.)
 *
 * The configuration file is INI (core/config_file.h): this reader takes its
 * [scheduler] section for the settings and one [schedule NAME] section per
 * schedule (docs/scheduler.md), and skips the sections other readers own. A
 * schedule's fire times are a cron expression in its time zone, optionally
 * limited to an exchange's trading days (calendar = XNYS) and its session
 * (market_hours = true), or, with offset_from_close, once per trading day at
 * the day's close plus the offset. A schedule with `after = NAME` has no
 * times of its own: it fires whenever NAME does, its job depending on
 * NAME's (a chain; docs/scheduler.md, "Chains"). */
#ifndef TICKQ_SCHEDULE_CONFIG_H
#define TICKQ_SCHEDULE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/job.h"
#include "sched/cron.h"
#include "sched/market_calendar.h"

#define SCHEDULE_NAME_MAX 64
#define SCHEDULES_MAX 256
/* At most this many schedules in one chain: a cron schedule and those that
 * run after it, directly or not (fired in one transaction). */
#define SCHEDULE_CHAIN_MAX 16

/* A fire time found due this late is on time: it fires whatever its
 * misfire policy (scheduler.c). */
#define SCHEDULE_ON_TIME_S 60

/* The [scheduler] settings' bounds (docs/scheduler.md).
 * lease_ttl: a standby tries for the lease every third of it, so it takes
 * over from a dead leader within 4/3 of it; at most 30 s, that is 40 s, and
 * the fire times the dead leader missed are still on time when the new one
 * fires them (scheduler.c asserts it). At least 300 ms, a renewal every
 * 100 ms.
 * misfire_grace: at most a year (366 days): then every schedule that fires
 * at least once a year (@yearly is cron's longest regular period) runs the
 * latest time it missed, however long ago; more says nothing more (a
 * typo: 100000h).
 * shutdown_wait: it is also the timeout of each of the scheduler's Redis
 * calls (cmd_scheduler: a second at least); at most 30 s, so a frozen Redis
 * is noticed within it and a process manager's stop timeout can exceed it
 * (Kubernetes' default is 30 s, systemd's 90 s). */
#define SCHEDULER_LEASE_TTL_MIN_MS 300
#define SCHEDULER_LEASE_TTL_MAX_MS (30 * 1000)
#define SCHEDULER_MISFIRE_GRACE_MAX_MS (366 * 86400 * 1000LL)
#define SCHEDULER_SHUTDOWN_WAIT_MIN_MS 1000
#define SCHEDULER_SHUTDOWN_WAIT_MAX_MS (30 * 1000)

typedef enum { MISFIRE_RUN_ONCE, MISFIRE_SKIP } misfire_t;

typedef struct {
    char name[SCHEDULE_NAME_MAX + 1];
    char expr[128];
    char zone[64];
    cron_t cron;                 /* with a day filter for the calendar */
    const market_calendar_t *cal;/* the set's XNYS calendar, when limited to it */
    int calendar;                /* limited to XNYS trading days */
    int market_hours;            /* ... and to the session, open to close */
    int has_offset;
    int64_t offset_from_close_s; /* fires at close + offset (may be negative) */
    char task[65];
    char *args;                  /* JSON object text */
    char queue[101];
    char priority[8];
    int max_retries;             /* -1: the default */
    int64_t timeout_ms;          /* 0: the default */
    misfire_t misfire;
    char after[SCHEDULE_NAME_MAX + 1]; /* "": fires on its own times; else runs after that
                                 * schedule, with no times of its own: each time that one fires,
                                 * this one's job is enqueued with it, depending on its job */
    int parent;                  /* with after: the index of that schedule; else -1 */
    int after_line;              /* where after is set */
    int line;                    /* where its section starts (its first key), for messages */
    int section_line;            /* the line of its [schedule NAME] header */
    int zone_line;               /* where its timezone is set; 0: not set */
} schedule_t;

typedef struct {
    schedule_t *items;
    size_t n;
    int64_t misfire_grace_ms;    /* run_once: how late a missed time may still run (default 1 h) */
    int64_t shutdown_wait_ms;    /* wait for running work on SIGTERM (default 5 s) */
    int64_t lease_ttl_ms;        /* leadership lease (default 5 s) */
    market_calendar_t xnys;      /* with the configured extra closures */
} schedule_config_t;

/* Checks a schedule's task and args (the reader knows no tasks: the
 * command that loads the file passes the check, cmd/schedule_check.h).
 * Called once per schedule, after its cron and task are known to be set and
 * its args default to "{}"; 0, or -1 with the whole message in err. */
typedef int (*schedule_task_check_fn)(const schedule_t *s, char *err, size_t errlen);

/* Reads and checks a configuration file's [scheduler] and [schedule NAME]
 * sections (each once, each key once in it; durations within their
 * bounds; closures that are trading days), each schedule's task through
 * check_task (NULL: not checked) and its job as the enqueue checks one
 * (job_spec_check: a schedule that loads can always be enqueued). 0, or -1
 * with err naming the file, the line and what is wrong. The set must not
 * be copied (its schedules point to its calendar). */
int schedule_config_load(schedule_config_t *set, const char *path, schedule_task_check_fn check_task, char *err,
                         size_t errlen);
/* The same, but a file with no [schedule NAME] section (only handlers, say)
 * is a set of none rather than an error: for what shows a file's schedules
 * if it has any (the HTTP server's GET /api/schedules). */
int schedule_config_load_any(schedule_config_t *set, const char *path, schedule_task_check_fn check_task, char *err,
                             size_t errlen);
/* The same from a string (fuzzing); `origin` names it in errors. */
int schedule_config_parse(schedule_config_t *set, const char *text, const char *origin,
                          schedule_task_check_fn check_task, char *err, size_t errlen);
void schedule_config_free(schedule_config_t *set);

/* Sets up a schedule's fire times from its parts: expr in zone (NULL: UTC,
 * or America/New_York with a calendar), limited to cal's trading days (cal
 * may be NULL) and, with market_hours, to the session; with has_offset,
 * once per trading day at the close plus offset_s (the expression's day
 * fields choose the days). s must stay where it is (its cron filter points
 * to it). 0, or -1 with err. */
int schedule_init(schedule_t *s, const char *expr, const char *zone, const market_calendar_t *cal,
                  int market_hours, int has_offset, int64_t offset_s, char *err, size_t errlen);
void schedule_release(schedule_t *s);

/* A warning about s that is not an error: its zone is a fixed offset
 * without daylight-saving time (EST, Etc/GMT+5: tz_fixed_offset_warning).
 * Returns 1 with the message in msg, else 0. */
int schedule_zone_warning(const schedule_t *s, char *msg, size_t msglen);

/* Prints the warnings of a loaded set on stderr, one line each:
 * "tickq: warning: ORIGIN:LINE: [schedule NAME]: ...". Returns how many. */
size_t schedule_config_print_warnings(const schedule_config_t *set, const char *origin);

/* The id of the job schedule `name` enqueues for fire time t:
 * "<name>:<t in UTC, YYYY-MM-DDTHH:MM:SSZ>" (out: SCHEDULE_JOB_ID_MAX
 * bytes), so a time fired twice gives one job. */
#define SCHEDULE_JOB_ID_MAX (SCHEDULE_NAME_MAX + 80)
void schedule_job_id(const char *name, int64_t t, char *out, size_t outlen);

/* The job s enqueues when it fires, with the id `id` and, for a schedule
 * that runs after another, `after` the id of that one's job (else NULL).
 * The strings are borrowed from s and the arguments. The loader checks
 * this spec with job_spec_check, so a schedule that loads can always be
 * enqueued. */
void schedule_job_spec(const schedule_t *s, const char *id, const char *after, job_spec_t *spec);

/* The first fire time strictly after `after` (epoch seconds): 0, or -1 when
 * there is none within the search horizon. */
int schedule_next(const schedule_t *s, int64_t after, int64_t *next);

/* "2026-03-09T09:30:00-04:00" (the schedule's zone) and "...Z" (UTC). */
void schedule_format_local(const schedule_t *s, int64_t t, char *out, size_t outlen);
void schedule_format_utc(int64_t t, char *out, size_t outlen);

#endif
