/* scheduler.c — fires recurring jobs (scheduler.h). */
#include "sched/scheduler.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "data/db.h"
#include "core/job.h"
#include "core/log.h"
#include "core/queue.h"

#define ON_TIME_S SCHEDULE_ON_TIME_S /* a fire time found due this late is on time */
#define MAX_WAIT_MS 1000         /* look again at least this often */
#define WARN_EVERY_MS 10000
#define CATCH_UP_MAX 1000000     /* fire times walked over after a downtime */
#define CATCH_UP_JUMP_S (7 * 86400)

_Static_assert(SCHEDULE_CHAIN_MAX <= QUEUE_CHAIN_MAX, "a schedule's chain is enqueued in one transaction");
/* A standby tries for the lease every third of lease_ttl: it fires within
 * 4/3 of it (and a look) after the leader's last renewal, so the times a
 * dead leader missed are still on time (schedule_config.h). */
_Static_assert(SCHEDULER_LEASE_TTL_MAX_MS * 4 / 3 + MAX_WAIT_MS < ON_TIME_S * 1000,
               "a lease handover keeps the missed fire times on time");

struct scheduler {
    const schedule_config_t *set;
    const config_t *cfg;
    rconn_t *conn;
    queue_t q;
    char id[200];
    int leader;
    int64_t next_lease_ms;       /* monotonic */
    int64_t warned_ms;
    int64_t *next;               /* per schedule: the next fire time (epoch s), 0 = none */
    char err[1024];
};

scheduler_t *scheduler_new(const schedule_config_t *set, const config_t *cfg, rconn_t *conn)
{
    scheduler_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->next = calloc(set->n ? set->n : 1, sizeof *s->next);
    if (s->next == NULL) {
        free(s);
        return NULL;
    }
    s->set = set;
    s->cfg = cfg;
    s->conn = conn;
    queue_init(&s->q, conn);
    config_apply(cfg, &s->q);
    queue_instance_id(s->id, sizeof s->id);
    return s;
}

void scheduler_free(scheduler_t *s)
{
    if (s == NULL)
        return;
    free(s->next);
    free(s);
}

void scheduler_banner(const scheduler_t *s)
{
    int64_t now = clock_now_ms() / 1000;
    char database[DB_WHERE_MAX + 1100];
    db_describe(s->cfg->database_url, s->cfg->db_path, database, sizeof database);
    log_info("scheduler started", LF_S("scheduler", s->id), LF_I("schedules", (long long)s->set->n),
             LF_S("database", database));
    for (size_t i = 0; i < s->set->n; i++) {
        const schedule_t *sc = &s->set->items[i];
        if (sc->after[0] != '\0') {
            log_info("schedule", LF_S("name", sc->name), LF_S("after", sc->after), LF_S("task", sc->task));
            continue;
        }
        char local[3][64], utc[3][64];
        int64_t t = now;
        int found = 0;
        for (; found < 3 && schedule_next(sc, t, &t) == 0; found++) {
            schedule_format_local(sc, t, local[found], sizeof local[found]);
            schedule_format_utc(t, utc[found], sizeof utc[found]);
        }
        for (int k = found; k < 3; k++)
            strcpy(local[k], "-"), strcpy(utc[k], "-");
        log_info("schedule", LF_S("name", sc->name), LF_S("cron", sc->expr), LF_S("timezone", sc->zone),
                 LF_S("task", sc->task), LF_S("next_1", local[0]), LF_S("next_1_utc", utc[0]),
                 LF_S("next_2", local[1]), LF_S("next_2_utc", utc[1]), LF_S("next_3", local[2]),
                 LF_S("next_3_utc", utc[2]));
        char why[400];
        if (schedule_zone_warning(sc, why, sizeof why))
            log_warn("schedule's time zone has no daylight-saving time", LF_S("schedule", sc->name),
                     LF_S("timezone", sc->zone), LF_S("warning", why));
    }
}

static void warn(scheduler_t *s, const char *msg)
{
    int64_t now = clock_mono_ms();
    if (now - s->warned_ms < WARN_EVERY_MS)
        return;
    s->warned_ms = now;
    log_warn(msg, LF_S("scheduler", s->id), LF_S("error", s->err));
}

/* Before 2026-12-07 the config reader kept the first 49 bytes of a
 * section's header, so a schedule's name past 40 characters was stored
 * cut to its first 40: its last fire under that name is its own. */
#define OLD_NAME_KEPT 40

/* The last fire time stored under `field` of the hash at key: > 0, 0 when
 * none, -1 with s->err when Redis failed. */
static int64_t stored_last(scheduler_t *s, const char *key, const char *field, size_t field_len)
{
    const char *argv[3] = { "HGET", key, field };
    size_t lens[3] = { 4, strlen(key), field_len };
    redisReply *r = rconn_argv(s->conn, 3, argv, lens, s->err, sizeof s->err);
    if (r == NULL)
        return -1;
    int64_t last = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
    freeReplyObject(r);
    return last > 0 ? last : 0;
}

/* Whether a schedule of the set is named by the first n bytes of name
 * alone (its stored state is its own then, not a cut name's). */
static int named(const schedule_config_t *set, const char *name, size_t n)
{
    for (size_t i = 0; i < set->n; i++)
        if (strlen(set->items[i].name) == n && strncmp(set->items[i].name, name, n) == 0)
            return 1;
    return 0;
}

/* On becoming the leader: where each schedule stands. A schedule never
 * fired before starts from now (no past runs to catch up). */
static int load_state(scheduler_t *s)
{
    char key[256];
    queue_scheduler_last_key(&s->q, key, sizeof key);
    int64_t now = clock_now_ms() / 1000;
    for (size_t i = 0; i < s->set->n; i++) {
        const schedule_t *sc = &s->set->items[i];
        s->next[i] = 0;
        if (sc->after[0] != '\0') /* fires with the schedule it runs after */
            continue;
        int64_t last = stored_last(s, key, sc->name, strlen(sc->name));
        if (last == 0 && strlen(sc->name) > OLD_NAME_KEPT && !named(s->set, sc->name, OLD_NAME_KEPT))
            last = stored_last(s, key, sc->name, OLD_NAME_KEPT); /* stored by a version that cut its name */
        if (last < 0)
            return -1;
        if (last <= 0 || last > now) {
            last = now;
            char v[24];
            snprintf(v, sizeof v, "%" PRId64, last);
            freeReplyObject(rconn_cmd(s->conn, s->err, sizeof s->err, "HSET %s %s %s", key, sc->name, v));
        }
        if (schedule_next(sc, last, &s->next[i]) != 0)
            s->next[i] = 0;
    }
    return 0;
}

static void lease(scheduler_t *s)
{
    int held = 0;
    char holder[200] = "";
    if (queue_lease(&s->q, s->id, 1, s->set->lease_ttl_ms, &held, holder, sizeof holder, s->err,
                    sizeof s->err) != QUEUE_OK) {
        warn(s, "cannot renew the scheduler lease");
        if (s->leader) /* it may expire meanwhile: stop firing until renewed */
            log_warn("standing by until the lease is renewed", LF_S("scheduler", s->id));
        s->leader = 0;
        return;
    }
    if (held && !s->leader) {
        if (load_state(s) != 0) {
            warn(s, "cannot read the schedules' state");
            return;
        }
        s->leader = 1;
        log_info("scheduler holds the lease: firing", LF_S("scheduler", s->id));
    } else if (!held && s->leader) {
        s->leader = 0;
        log_warn("scheduler lost the lease: standing by", LF_S("scheduler", s->id), LF_S("holder", holder));
    } else if (!held && s->next_lease_ms == 0) {
        log_info("another scheduler holds the lease: standing by", LF_S("scheduler", s->id), LF_S("holder", holder));
    }
}

/* Schedule `root` and the schedules that run after it, directly or not,
 * into chain (at most SCHEDULE_CHAIN_MAX: the loader's limit), each after
 * the one it runs after (breadth first); returns how many. */
static size_t chain_of(const schedule_config_t *set, size_t root, size_t chain[SCHEDULE_CHAIN_MAX])
{
    size_t n = 0;
    chain[n++] = root;
    for (size_t head = 0; head < n; head++)
        for (size_t k = 0; k < set->n && n < SCHEDULE_CHAIN_MAX; k++)
            if (set->items[k].parent == (int)chain[head])
                chain[n++] = k;
    return n;
}

/* Enqueues schedule i's job for fire time t, with the jobs of the
 * schedules that run after it (each depending on the job of the one it
 * runs after, all in one transaction): ids "<schedule>:<fire time>".
 * 0, or -1 (Redis trouble). */
static int fire(scheduler_t *s, size_t i, int64_t t, long long missed)
{
    size_t chain[SCHEDULE_CHAIN_MAX];
    size_t n = chain_of(s->set, i, chain);
    char ids[SCHEDULE_CHAIN_MAX][SCHEDULE_JOB_ID_MAX];
    job_spec_t specs[SCHEDULE_CHAIN_MAX];
    enqueue_result_t res[SCHEDULE_CHAIN_MAX];
    for (size_t k = 0; k < n; k++) {
        const schedule_t *sc = &s->set->items[chain[k]];
        schedule_job_id(sc->name, t, ids[k], sizeof ids[k]);
        const char *after = NULL;
        for (size_t p = 0; p < k && after == NULL; p++)
            if ((int)chain[p] == sc->parent)
                after = ids[p];
        schedule_job_spec(sc, ids[k], after, &specs[k]);
    }
    queue_status_t st = n == 1 ? queue_enqueue(&s->q, &specs[0], &res[0], s->err, sizeof s->err)
                               : queue_enqueue_chain(&s->q, specs, n, res, s->err, sizeof s->err);
    if (st == QUEUE_ERR_INVALID) { /* cannot get better by retrying: say so, move on */
        log_error("schedule's job refused", LF_S("schedule", s->set->items[i].name), LF_S("job_id", ids[0]),
                  LF_S("error", s->err));
        return 0;
    }
    if (st != QUEUE_OK)
        return -1;
    for (size_t k = 0; k < n; k++) {
        const schedule_t *sc = &s->set->items[chain[k]];
        if (k == 0)
            log_info(res[k].created ? "schedule fired" : "schedule fired (job already enqueued)",
                     LF_S("schedule", sc->name), LF_S("job_id", ids[k]), LF_S("task", sc->task),
                     LF_S("queue", sc->queue), LF_I("missed_before", missed));
        else
            log_info(res[k].created ? "schedule fired" : "schedule fired (job already enqueued)",
                     LF_S("schedule", sc->name), LF_S("job_id", ids[k]), LF_S("task", sc->task),
                     LF_S("queue", sc->queue), LF_S("after", specs[k].depends_on), LF_S("state", res[k].state));
    }
    return 0;
}

static void record(scheduler_t *s, const schedule_t *sc, int64_t t)
{
    char key[256], v[24];
    queue_scheduler_last_key(&s->q, key, sizeof key);
    snprintf(v, sizeof v, "%" PRId64, t);
    freeReplyObject(rconn_cmd(s->conn, s->err, sizeof s->err, "HSET %s %s %s", key, sc->name, v));
}

/* Counts a schedule's fires and misfires (runs missed and not made up) for
 * /metrics: <prefix>:scheduler:fires and :misfires, by schedule. The
 * misfires go first: the readers (/metrics, /api/schedules) read fires
 * then misfires, so one that sees a fire sees the misfires counted with it.
 * A counter call lost to a dropped connection is not retried: the counts
 * are for alerts, the fire itself is exact. */
static void count_runs(scheduler_t *s, const schedule_t *sc, long long fired, long long missed)
{
    char key[256];
    if (missed > 0) {
        queue_scheduler_misfires_key(&s->q, key, sizeof key);
        freeReplyObject(rconn_cmd(s->conn, s->err, sizeof s->err, "HINCRBY %s %s %lld", key, sc->name, missed));
    }
    if (fired > 0) {
        queue_scheduler_fires_key(&s->q, key, sizeof key);
        freeReplyObject(rconn_cmd(s->conn, s->err, sizeof s->err, "HINCRBY %s %s %lld", key, sc->name, fired));
    }
}

/* Fires schedule i if it is due; returns 0, or -1 on Redis trouble (it
 * stays due and is tried again). */
static int run_due(scheduler_t *s, size_t i, int64_t now)
{
    const schedule_t *sc = &s->set->items[i];
    int64_t due = s->next[i];
    if (due == 0 || due > now)
        return 0;
    /* The latest due time, and how many were missed before it. After a
     * long downtime the walk starts a week back when a fire time lies
     * there (the count is then a lower bound), so a minutely schedule does
     * not step through months of minutes. */
    int64_t latest = due, n;
    long long missed = 0;
    if (now - due > CATCH_UP_JUMP_S && schedule_next(sc, now - CATCH_UP_JUMP_S, &n) == 0 && n <= now && n > due) {
        latest = n;
        missed = 1;
    }
    while (missed < CATCH_UP_MAX && schedule_next(sc, latest, &n) == 0 && n <= now) {
        latest = n;
        missed++;
    }
    int64_t late_s = now - latest;
    int on_time = late_s <= ON_TIME_S;
    int run = on_time || (sc->misfire == MISFIRE_RUN_ONCE && late_s * 1000 <= s->set->misfire_grace_ms);
    if (run) {
        if (fire(s, i, latest, missed) != 0)
            return -1;
        size_t chain[SCHEDULE_CHAIN_MAX];
        size_t nchain = chain_of(s->set, i, chain);
        count_runs(s, sc, 1, missed);
        for (size_t k = 1; k < nchain; k++)
            count_runs(s, &s->set->items[chain[k]], 1, 0);
        if (!on_time)
            log_warn("ran a missed schedule once", LF_S("schedule", sc->name), LF_I("late_s", late_s),
                     LF_I("missed_before", missed));
    } else {
        count_runs(s, sc, 0, missed + 1);
        log_warn("skipped missed runs", LF_S("schedule", sc->name), LF_I("runs", missed + 1),
                 LF_S("misfire", sc->misfire == MISFIRE_SKIP ? "skip" : "run_once (past the grace period)"));
    }
    record(s, sc, latest);
    if (schedule_next(sc, latest, &s->next[i]) != 0)
        s->next[i] = 0;
    return 0;
}

int64_t scheduler_tick(scheduler_t *s)
{
    int64_t mono = clock_mono_ms();
    if (rconn_broken(s->conn)) {
        if (s->leader)
            log_warn("lost Redis: standing by until it is back", LF_S("scheduler", s->id));
        s->leader = 0; /* the lease may lapse meanwhile: re-take it and re-read the state */
        if (rconn_reconnect(s->conn, s->err, sizeof s->err) != 0) {
            warn(s, "cannot reach Redis");
            return MAX_WAIT_MS;
        }
        log_info("scheduler reconnected to Redis", LF_S("scheduler", s->id));
        s->next_lease_ms = 0;
        mono = clock_mono_ms();
    }
    if (mono >= s->next_lease_ms) {
        lease(s);
        s->next_lease_ms = mono + s->set->lease_ttl_ms / 3;
    }
    int64_t wait = s->next_lease_ms - mono;
    if (!s->leader)
        return wait < MAX_WAIT_MS ? wait : MAX_WAIT_MS;
    int64_t now_ms = clock_now_ms(), now = now_ms / 1000;
    for (size_t i = 0; i < s->set->n; i++) {
        if (run_due(s, i, now) != 0) {
            warn(s, "cannot enqueue a schedule's job; trying again");
            return 200;
        }
        if (s->next[i] != 0) {
            int64_t until = s->next[i] * 1000 - now_ms;
            if (until < wait)
                wait = until < 10 ? 10 : until;
        }
    }
    return wait < MAX_WAIT_MS ? wait : MAX_WAIT_MS;
}

void scheduler_stop(scheduler_t *s)
{
    int held;
    if (queue_lease(&s->q, s->id, 0, s->set->lease_ttl_ms, &held, NULL, 0, s->err, sizeof s->err) != QUEUE_OK)
        log_warn("cannot release the scheduler lease; it expires by itself", LF_S("scheduler", s->id),
                 LF_S("error", s->err));
    s->leader = 0;
}

int scheduler_run(scheduler_t *s, volatile sig_atomic_t *stop)
{
    scheduler_banner(s);
    while (!*stop) {
        int64_t wait = scheduler_tick(s);
        log_flush();
        clock_sleep_ms(wait, stop);
    }
    scheduler_stop(s);
    return 0;
}
