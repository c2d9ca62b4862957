/* supervisor.c — the `tickq worker` parent process.
 *
 * It never runs a job itself. Each loop turn (at most every 50 ms, sooner on
 * a signal or a child's exit) it reaps children, settles what a dead child
 * left pending (release.lua), respawns, kills jobs past their deadline or
 * cancelled, and on its heartbeat renews its children's claims (touch.lua),
 * reclaims entries of dead workers elsewhere (reclaim.lua) and publishes
 * itself under <prefix>:worker:<id>.
 *
 * Claims are renewed by consumer name, and a child's name carries a
 * generation (worker.c, slot.h): the heartbeat renews only the generation
 * each live child last published, and in the same call hands back to their
 * queues the entries of its older generations, which no child runs (a claim
 * the child gave up on that Redis ran late). So an entry pending for a
 * consumer that is not running it goes back within a heartbeat, and is never
 * renewed past the one after the child moved on.
 *
 * Shutdown: the first SIGTERM/SIGINT stops fetching (children finish their
 * current job and exit); after --grace seconds, or at a second signal, the
 * remaining children are killed and their jobs go back to their queues with
 * the attempt not charged. */
#include "core/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "core/clock.h"
#include "data/db.h"
#include "data/history.h"
#include "data/history_process.h"
#include "core/list_watch.h"
#include "core/log.h"
#include "core/queue.h"
#include "sched/scheduler.h"
#include "core/slot.h"
#include "core/worker.h"

#define TICK_MS 50
#define CANCEL_CHECK_MS 250

typedef enum { KILL_NONE, KILL_TIMEOUT, KILL_CANCEL, KILL_SHUTDOWN } kill_reason_t;

typedef struct {
    pid_t pid;                    /* 0: no process in this slot */
    char id[192];                 /* worker id, stable per slot; consumer names add #<generation> */
    int64_t spawned_ms;
    int64_t respawn_at_ms;        /* crash-loop backoff */
    kill_reason_t kill_reason;
    char kill_entry[40];          /* the job entry the kill was aimed at */
    int needs_release;            /* dead, and its leftovers not yet settled */
    char rel_consumer[QUEUE_CONSUMER_MAX]; /* its last consumer name (older ones go with it) */
    job_outcome_kind_t rel_kind;
    char rel_entry[40];
    char rel_job[JOB_ID_MAX + 1];
    char rel_error[300];
    int64_t rel_started_us;       /* when the job it was running started; 0: unknown */
} child_t;

typedef struct {
    const config_t *cfg;
    rconn_t *conn;
    int history_fd[2];          /* the history process's lifetime: it reads, we hold the write end */
    char history_consumer[200]; /* the history process's consumer name */
    pid_t history_pid;          /* the history process; 0: not running */
    int64_t history_restart_ms;
    queue_t q;
    slot_t *board;
    child_t *kids;
    int n;
    char id[160];
    char host[128];
    char started_at[CLOCK_ISO_LEN];
    int stopping;
    int64_t stop_deadline_ms;
    int killed_for_shutdown;
    int status;
    int64_t next_heartbeat_ms;
    int64_t next_stats_ms;
    int64_t next_cancel_ms;
    long long settled_failures;   /* timeouts and crashes settled here */
    char (*consumer_names)[QUEUE_CONSUMER_MAX]; /* the heartbeat's scratch, one per slot */
    int list_import;              /* the list is on and this worker serves its target */
    int64_t next_list_ms;
    int64_t list_active_ms;       /* when the list import last found entries */
    int list_ok;                  /* the last import worked: the watch may wake it */
    list_watch_t *list_watch;     /* wakes the import when the list gets a task */
    scheduler_t *scheduler;       /* worker --scheduler; NULL otherwise */
    rconn_t *scheduler_conn;
    int64_t next_schedule_ms;
    int64_t list_warned_ms;
    char err[1024];
} sup_t;

static volatile sig_atomic_t g_signals;
static int g_pipe[2] = { -1, -1 };

static void wake(void)
{
    int saved = errno;
    if (g_pipe[1] >= 0) {
        ssize_t w = write(g_pipe[1], "x", 1);
        (void)w;
    }
    errno = saved;
}

static void on_stop_signal(int sig)
{
    (void)sig;
    g_signals++;
    wake();
}

static void on_child_signal(int sig)
{
    (void)sig;
    wake();
}

static int install_signals(void)
{
    if (pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_child_signal;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sa.sa_flags = 0;
    sigaction(SIGPIPE, &sa, NULL);
    return 0;
}

static void spawn(sup_t *s, int i)
{
    child_t *k = &s->kids[i];
    slot_reset_job(&s->board[i]);
    k->kill_reason = KILL_NONE;
    k->kill_entry[0] = '\0';
    pid_t parent = getpid();
    /* Stop signals stay blocked across fork until the child has its own
     * handlers (worker_run unblocks them), so none is lost in between. */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, &old);
    pid_t pid = fork();
    if (pid != 0)
        sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        log_error("cannot fork a worker child", LF_S("error", strerror(errno)));
        k->respawn_at_ms = clock_mono_ms() + 1000;
        return;
    }
    if (pid == 0) {
        /* The child: drop the parent's connection and pipe, die with it. */
        /* The database connection is the parent's: the child leaves it
         * alone (closing it could write to a socket or file they share). */
        close(g_pipe[0]);
        close(g_pipe[1]);
        for (int e = 0; e < 2; e++)
            if (s->history_fd[e] >= 0)
                close(s->history_fd[e]);
        rconn_free(s->conn);
        rconn_free(s->scheduler_conn);
        list_watch_free(s->list_watch);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        _exit(worker_run(s->cfg, &s->board[i], k->id));
    }
    k->pid = pid;
    k->spawned_ms = clock_mono_ms();
    log_debug("worker child started", LF_S("worker_id", k->id), LF_I("child_pid", pid));
}

static int reconnect(sup_t *s)
{
    if (!rconn_broken(s->conn))
        return 0;
    if (rconn_reconnect(s->conn, s->err, sizeof s->err) == 0) {
        log_info("supervisor reconnected to Redis", LF_S("worker", s->id));
        return 0;
    }
    return -1;
}

/* Jobs release, reclaim or touch settled while Redis ran a library from
 * before the history stream have no history rows (queue.h, unrecorded). */
static void log_unrecorded(sup_t *s)
{
    if (s->q.unrecorded == 0)
        return;
    log_warn("job history not recorded: Redis ran an older tickq function library (an older tickq process "
             "loaded it); loading this one again", LF_S("worker", s->id), LF_I("jobs", s->q.unrecorded));
    s->q.unrecorded = 0;
}

/* Settles a dead child's leftovers; on success the slot may be refilled. */
static void try_release(sup_t *s, int i)
{
    child_t *k = &s->kids[i];
    if (!k->needs_release || reconnect(s) != 0)
        return;
    long long requeued = 0;
    settled_job_t cur;
    /* The job history of what it settles is written in the same call. */
    queue_status_t st = queue_release_started(&s->q, &s->cfg->queues, k->rel_consumer,
                                              k->rel_entry[0] ? k->rel_entry : NULL, k->rel_kind,
                                              k->rel_error, k->rel_started_us, &requeued, &cur, s->err,
                                              sizeof s->err);
    const char *outcome = cur.state;
    if (st != QUEUE_OK) {
        log_warn("cannot settle a stopped child's jobs yet, will retry", LF_S("worker_id", k->id),
                 LF_S("error", s->err));
        return;
    }
    k->needs_release = 0;
    if (k->rel_entry[0] && outcome[0]) {
        if (k->rel_kind == OUTCOME_TIMEOUT || k->rel_kind == OUTCOME_CRASH)
            s->settled_failures++;
        log_info("job settled after its worker stopped", LF_S("job_id", k->rel_job),
                 LF_S("reason", job_outcome_name(k->rel_kind)), LF_S("state", outcome),
                 LF_S("worker_id", k->id));
    }
    if (requeued > 0)
        log_info("claimed jobs returned to their queues", LF_S("worker_id", k->id), LF_I("jobs", requeued));
    log_unrecorded(s);
}

static void on_child_exit(sup_t *s, int i, int wstatus)
{
    child_t *k = &s->kids[i];
    slot_job_t job;
    slot_read(&s->board[i], &job);
    k->pid = 0;
    k->needs_release = 1;
    /* Read after its exit: no newer generation can follow in this slot
     * until the release is done (only then is the slot refilled). */
    queue_consumer_name(k->id, slot_generation(&s->board[i]), k->rel_consumer, sizeof k->rel_consumer);
    k->rel_entry[0] = k->rel_job[0] = k->rel_error[0] = '\0';
    k->rel_kind = OUTCOME_SHUTDOWN;
    k->rel_started_us = job.busy ? job.started_us : 0;

    char how[64];
    if (WIFSIGNALED(wstatus))
        snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(wstatus));
    else
        snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(wstatus));

    if (job.busy) {
        snprintf(k->rel_entry, sizeof k->rel_entry, "%s", job.entry);
        snprintf(k->rel_job, sizeof k->rel_job, "%s", job.job_id);
        int aimed = strcmp(job.entry, k->kill_entry) == 0;
        if (k->kill_reason == KILL_TIMEOUT && aimed) {
            k->rel_kind = OUTCOME_TIMEOUT;
            snprintf(k->rel_error, sizeof k->rel_error, "Job exceeded its timeout of %.3g s and was killed",
                     (double)job.timeout_ms / 1000.0);
        } else if (k->kill_reason == KILL_CANCEL && aimed) {
            k->rel_kind = OUTCOME_CANCEL;
            snprintf(k->rel_error, sizeof k->rel_error, "Job cancelled");
        } else if (k->kill_reason != KILL_NONE) {
            /* Killed for shutdown, or a kill that raced the job it was
             * aimed at: this job did nothing wrong, it goes back. */
            k->rel_kind = OUTCOME_SHUTDOWN;
        } else {
            k->rel_kind = OUTCOME_CRASH;
            snprintf(k->rel_error, sizeof k->rel_error,
                     "Worker process died while running the job (%s)", how);
        }
    }
    int crashed = job.busy && k->kill_reason == KILL_NONE;
    if (crashed || (!WIFEXITED(wstatus) && k->kill_reason == KILL_NONE) ||
        (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0))
        log_warn("worker child stopped", LF_S("worker_id", k->id), LF_S("how", how),
                 LF_S("job_id", job.busy ? job.job_id : ""));
    else
        log_debug("worker child stopped", LF_S("worker_id", k->id), LF_S("how", how));

    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == EX_CONFIG && !s->stopping) {
        log_error("a worker child cannot run with this Redis; stopping", LF_S("worker", s->id));
        s->status = EX_CONFIG;
        s->stopping = 1;
        s->stop_deadline_ms = clock_mono_ms() + s->cfg->grace_ms;
        for (int j = 0; j < s->n; j++)
            if (s->kids[j].pid > 0)
                kill(s->kids[j].pid, SIGTERM);
    }
    /* A child that dies on its own right after starting is crash-looping:
     * slow down. Children we killed are replaced at once. */
    int64_t now = clock_mono_ms();
    int unexpected = k->kill_reason == KILL_NONE && !(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
    k->respawn_at_ms = unexpected && now - k->spawned_ms < 1000 ? now + 1000 : now;
    try_release(s, i);
}

/* The history process (history_process.h): started before the workers,
 * again if it dies while the supervisor runs. */
static void start_history(sup_t *s)
{
    s->history_pid = history_process_start(s->cfg, s->history_fd[0], s->history_consumer);
    if (s->history_pid < 0) {
        log_error("cannot start the job history process; trying again", LF_S("error", strerror(errno)));
        s->history_pid = 0;
        s->history_restart_ms = clock_mono_ms() + 1000;
    }
}

static void reap(sup_t *s)
{
    int wstatus;
    pid_t pid;
    while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
        if (pid == s->history_pid) {
            /* Not while we run: it ends only after us. */
            s->history_pid = 0;
            s->history_restart_ms = clock_mono_ms() + 1000;
            log_error("the job history process stopped; starting another",
                      LF_S("how", WIFSIGNALED(wstatus) ? "killed by a signal" : "exited"),
                      LF_I("status", WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus)));
            continue;
        }
        for (int i = 0; i < s->n; i++) {
            if (s->kids[i].pid == pid) {
                on_child_exit(s, i, wstatus);
                break;
            }
        }
    }
}

static void kill_child(sup_t *s, int i, kill_reason_t why, const char *entry)
{
    child_t *k = &s->kids[i];
    if (k->pid <= 0 || k->kill_reason != KILL_NONE)
        return;
    k->kill_reason = why;
    snprintf(k->kill_entry, sizeof k->kill_entry, "%s", entry ? entry : "");
    kill(k->pid, SIGKILL);
}

static void enforce_timeouts(sup_t *s, int64_t now)
{
    for (int i = 0; i < s->n; i++) {
        if (s->kids[i].pid <= 0 || s->kids[i].kill_reason != KILL_NONE)
            continue;
        slot_job_t job;
        slot_read(&s->board[i], &job);
        if (job.busy && now >= job.deadline_mono_ms) {
            log_warn("job timed out; killing its worker child", LF_S("job_id", job.job_id),
                     LF_S("type", job.type), LF_F("timeout_s", (double)job.timeout_ms / 1000.0),
                     LF_S("worker_id", s->kids[i].id));
            kill_child(s, i, KILL_TIMEOUT, job.entry);
        }
    }
}

static void check_cancels(sup_t *s)
{
    slot_job_t jobs[s->n];
    int asked = 0;
    for (int i = 0; i < s->n; i++) {
        jobs[i].busy = 0;
        if (s->kids[i].pid <= 0 || s->kids[i].kill_reason != KILL_NONE)
            continue;
        slot_read(&s->board[i], &jobs[i]);
        if (!jobs[i].busy)
            continue;
        char key[256];
        queue_key(&s->q, "job", jobs[i].job_id, key, sizeof key);
        const char *argv[3] = { "HGET", key, "cancel_requested" };
        if (rconn_append_argv(s->conn, 3, argv, NULL) != 0)
            return;
        asked++;
    }
    for (int i = 0; i < s->n && asked > 0; i++) {
        if (!jobs[i].busy)
            continue;
        asked--;
        redisReply *r = rconn_read(s->conn, s->err, sizeof s->err);
        if (r == NULL)
            return;
        if (r->type == REDIS_REPLY_STRING && strcmp(r->str, "1") == 0) {
            log_info("job cancelled; killing its worker child", LF_S("job_id", jobs[i].job_id),
                     LF_S("worker_id", s->kids[i].id));
            kill_child(s, i, KILL_CANCEL, jobs[i].entry);
        }
        freeReplyObject(r);
    }
}

static void totals(sup_t *s, long long *done, long long *failed, long long *retried, int *busy,
                   long long *delay_us)
{
    *done = *failed = *retried = *delay_us = 0;
    *busy = 0;
    for (int i = 0; i < s->n; i++) {
        *done += atomic_load(&s->board[i].completed);
        *failed += atomic_load(&s->board[i].failed);
        *retried += atomic_load(&s->board[i].retried);
        long long d = atomic_load(&s->board[i].last_delay_us);
        if (d > *delay_us)
            *delay_us = d;
        slot_job_t job;
        if (s->kids[i].pid > 0) {
            slot_read(&s->board[i], &job);
            *busy += job.busy;
        }
    }
    *failed += s->settled_failures;
}

/* Entries claimed for a consumer generation no child uses any more (a late
 * call of a connection its child gave up on) went back to their queues. */
static void join_ids(char *out, size_t outlen, const char (*ids)[JOB_ID_MAX + 1], size_t n, long long total)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < outlen; i++)
        used += (size_t)snprintf(out + used, outlen - used, "%s%s", i ? "," : "", ids[i]);
    if (total > (long long)n && used < outlen)
        snprintf(out + used, outlen - used, ",...");
}

static void log_released(const sup_t *s, const touch_result_t *t)
{
    char ids[TOUCH_IDS_MAX * (JOB_ID_MAX + 2) + 8];
    if (t->released > 0) {
        join_ids(ids, sizeof ids, t->ids, t->nids, t->released);
        log_warn("jobs claimed for a worker's old consumer name returned to their queues (a call Redis ran after "
                 "the worker had given up on its connection)", LF_S("worker", s->id), LF_I("jobs", t->released),
                 LF_S("job_ids", ids));
    }
    if (t->cancelled > 0) {
        join_ids(ids, sizeof ids, t->cancelled_ids, t->ncancelled, t->cancelled);
        log_info("jobs claimed for a worker's old consumer name and cancelled meanwhile ended cancelled",
                 LF_S("worker", s->id), LF_I("jobs", t->cancelled), LF_S("job_ids", ids));
    }
}


static void heartbeat(sup_t *s)
{
    if (reconnect(s) != 0)
        return;
    /* Each live child's current consumer name, as it published it: the
     * child may take a newer one before the call runs, which the call then
     * leaves alone (it renews this one and releases only older ones). */
    char (*names)[QUEUE_CONSUMER_MAX] = s->consumer_names;
    const char *consumers[s->n];
    int live = 0;
    for (int i = 0; i < s->n; i++) {
        unsigned long gen = slot_generation(&s->board[i]);
        if (s->kids[i].pid <= 0 || gen == 0)
            continue; /* gen 0: its first child has not started claiming */
        queue_consumer_name(s->kids[i].id, gen, names[live], sizeof names[live]);
        consumers[live] = names[live];
        live++;
    }
    touch_result_t touched;
    if (queue_touch(&s->q, &s->cfg->queues, consumers, (size_t)live, &touched, s->err, sizeof s->err) != QUEUE_OK)
        log_warn("cannot renew claims", LF_S("worker", s->id), LF_S("error", s->err));
    else if (touched.released > 0 || touched.cancelled > 0)
        log_released(s, &touched);
    long long reclaimed = 0;
    static settled_job_t jobs[QUEUE_LIST_MAX * 100];
    if (queue_reclaim(&s->q, &s->cfg->queues, s->id, s->cfg->claim_timeout_ms, jobs,
                      sizeof jobs / sizeof jobs[0], &reclaimed, s->err, sizeof s->err) != QUEUE_OK) {
        log_warn("cannot reclaim jobs of dead workers", LF_S("worker", s->id), LF_S("error", s->err));
    } else if (reclaimed > 0) {
        log_warn("reclaimed jobs from a dead worker", LF_S("worker", s->id), LF_I("jobs", reclaimed));
    }
    log_unrecorded(s);

    long long done, failed, retried, delay;
    int busy;
    totals(s, &done, &failed, &retried, &busy, &delay);
    char now[CLOCK_ISO_LEN], queues[2048];
    clock_iso8601(clock_now_us(), now);
    queue_list_describe(&s->cfg->queues, queues, sizeof queues);
    json_t *info = json_pack("{s:s, s:s, s:i, s:s, s:s, s:i, s:i, s:s, s:s, s:I, s:I, s:b}",
                             "id", s->id, "host", s->host, "pid", (int)getpid(), "queues", queues,
                             "group", s->cfg->group, "workers", s->n, "busy", busy,
                             "started_at", s->started_at, "heartbeat_at", now,
                             "completed", (json_int_t)done, "failed", (json_int_t)failed,
                             "burst", s->cfg->burst);
    char *text = info ? json_dumps(info, JSON_COMPACT) : NULL;
    json_decref(info);
    if (text == NULL)
        return;
    char key[256], set[256], ttl[24], score[24];
    queue_key(&s->q, "worker", s->id, key, sizeof key);
    queue_key(&s->q, "workers", NULL, set, sizeof set);
    snprintf(ttl, sizeof ttl, "%" PRId64, s->cfg->heartbeat_ms * 3 / 1000 + 2);
    snprintf(score, sizeof score, "%" PRId64, clock_now_ms());
    /* Registry entries of workers gone for long are dropped here, so the
     * registry stays bounded even if nobody runs `tickq stats`. */
    int64_t stale_ms = s->cfg->heartbeat_ms * 10 > 60000 ? s->cfg->heartbeat_ms * 10 : 60000;
    char stale[32];
    snprintf(stale, sizeof stale, "(%" PRId64, clock_now_ms() - stale_ms);
    const char *a1[5] = { "SET", key, text, "EX", ttl };
    const char *a2[4] = { "ZADD", set, score, s->id };
    const char *a3[4] = { "ZREMRANGEBYSCORE", set, "-inf", stale };
    redisReply *r = rconn_argv(s->conn, 5, a1, NULL, s->err, sizeof s->err);
    freeReplyObject(r);
    if (r != NULL) {
        r = rconn_argv(s->conn, 4, a2, NULL, s->err, sizeof s->err);
        freeReplyObject(r);
    }
    if (r != NULL)
        freeReplyObject(rconn_argv(s->conn, 4, a3, NULL, s->err, sizeof s->err));
    free(text);
}

static void log_stats(sup_t *s)
{
    long long done, failed, retried, delay;
    int busy;
    totals(s, &done, &failed, &retried, &busy, &delay);
    char delayed[32];
    snprintf(delayed, sizeof delayed, "%.3fs", (double)delay / 1e6);
    log_info("worker stats", LF_S("worker", s->id), LF_I("j_complete", done), LF_I("j_failed", failed),
             LF_I("j_retried", retried), LF_I("j_ongoing", busy), LF_S("delayed", delayed));
}

static void begin_stop(sup_t *s, const char *why)
{
    if (s->stopping)
        return;
    s->stopping = 1;
    s->stop_deadline_ms = clock_mono_ms() + s->cfg->grace_ms;
    int busy = 0;
    for (int i = 0; i < s->n; i++) {
        if (s->kids[i].pid > 0) {
            slot_job_t job;
            slot_read(&s->board[i], &job);
            busy += job.busy;
            kill(s->kids[i].pid, SIGTERM);
        }
    }
    log_info("shutting down", LF_S("worker", s->id), LF_S("reason", why), LF_I("running_jobs", busy),
             LF_F("grace_s", (double)s->cfg->grace_ms / 1000.0));
}

/* The users' protocol: tasks LPUSHed onto a plain list become native jobs
 * of this queue (its normal level), atomically (queue_list_import). */
#define LIST_TARGET_QUEUE "backtest"
#define LIST_BATCH LIST_BATCH_MAX
#define LIST_ROUNDS 10
#define LIST_WARN_EVERY_MS 10000
#define LIST_OOM_RETRY_MS 1000
#define LIST_BURST_HOLD_MS 500

/* What a list import reported, one log line each: rejected entries and
 * duplicates at warning level, re-runs of finished ids at info level. */
static void log_list_event(const sup_t *s, const list_event_t *e)
{
    const char *list = s->cfg->list_queue;
    switch (e->kind) {
    case LIST_REJECTED:
        if (e->task_id[0])
            log_warn("malformed task in the list: error result written, entry kept (tickq rejected)",
                     LF_S("list", list), LF_S("task_id", e->task_id), LF_S("error", e->a), LF_S("entry", e->b),
                     LF_S("rejected_id", e->c));
        else
            log_warn("malformed task in the list without a task_id: entry kept (tickq rejected)",
                     LF_S("list", list), LF_S("error", e->a), LF_S("entry", e->b), LF_S("rejected_id", e->c));
        break;
    case LIST_DUPLICATE:
        log_warn("duplicate task in the list: its task_id is still waiting or running, not run again",
                 LF_S("list", list), LF_S("task_id", e->task_id), LF_S("state", e->a), LF_S("job_args", e->b),
                 LF_S("entry", e->c));
        break;
    case LIST_RERUN:
        log_info("finished task pushed again: running it again", LF_S("list", list), LF_S("task_id", e->task_id),
                 LF_I("run", e->run), LF_S("previous_state", e->a));
        break;
    }
}

static void import_list(sup_t *s, int64_t now)
{
    static list_import_t got;
    s->next_list_ms = now + TICK_MS;
    for (int round = 0; round < LIST_ROUNDS; round++) {
        queue_status_t st = queue_list_import(&s->q, s->cfg->list_queue, LIST_TARGET_QUEUE, LIST_BATCH, &got,
                                              s->err, sizeof s->err);
        if (st != QUEUE_OK) {
            s->list_ok = 0;
            if (st == QUEUE_ERR_OOM) /* not every tick: it will not pass soon, and each refusal asks INFO too */
                s->next_list_ms = now + LIST_OOM_RETRY_MS;
            if (now - s->list_warned_ms >= LIST_WARN_EVERY_MS) {
                s->list_warned_ms = now;
                log_warn("cannot take tasks from the list", LF_S("list", s->cfg->list_queue),
                         LF_S("error", s->err));
            }
            return;
        }
        s->list_ok = 1;
        for (size_t i = 0; i < got.nevents; i++)
            log_list_event(s, &got.events[i]);
        if (got.moved > 0 || got.duplicates > 0 || got.nevents > 0) {
            s->list_active_ms = now;
            log_debug("took tasks from the list", LF_S("list", s->cfg->list_queue), LF_I("jobs", got.moved),
                      LF_I("reruns", got.reruns), LF_I("duplicates", got.duplicates));
        }
        long long remaining = got.remaining;
        list_import_clear(&got);
        if (remaining == 0)
            return;
    }
    s->next_list_ms = now; /* more than LIST_ROUNDS batches waiting: go on next turn */
}

static int burst_done(sup_t *s)
{
    /* Tasks just taken from the list must first reach a child's claim. */
    if (s->list_active_ms != 0 && clock_mono_ms() - s->list_active_ms < LIST_BURST_HOLD_MS)
        return 0;
    for (int i = 0; i < s->n; i++)
        if (s->kids[i].pid <= 0 || s->kids[i].needs_release || !atomic_load(&s->board[i].burst_idle))
            return 0;
    return 1;
}

/* Deletes this worker's consumers from the groups, every generation of
 * each slot's, and its heartbeat, so neither accumulates across restarts.
 * Every child is gone and settled: what a consumer still holds is a late
 * claim nobody runs, and goes back to its queue (release.lua). A slot whose
 * release failed keeps its consumers for the reclaim. */
static void retire(sup_t *s)
{
    if (reconnect(s) != 0)
        return;
    for (int i = 0; i < s->n; i++) {
        unsigned long gen = slot_generation(&s->board[i]);
        if (s->kids[i].needs_release || gen == 0)
            continue;
        char consumer[QUEUE_CONSUMER_MAX];
        long long requeued = 0;
        queue_consumer_name(s->kids[i].id, gen, consumer, sizeof consumer);
        if (queue_release(&s->q, &s->cfg->queues, consumer, NULL, OUTCOME_SHUTDOWN, "", &requeued, NULL, s->err,
                          sizeof s->err) != QUEUE_OK)
            log_warn("cannot delete a child's consumers", LF_S("worker_id", s->kids[i].id), LF_S("error", s->err));
        else if (requeued > 0)
            log_warn("jobs claimed for a stopped child's old consumer name returned to their queues",
                     LF_S("worker_id", s->kids[i].id), LF_I("jobs", requeued));
    }
    char key[256], set[256];
    queue_key(&s->q, "worker", s->id, key, sizeof key);
    queue_key(&s->q, "workers", NULL, set, sizeof set);
    freeReplyObject(rconn_cmd(s->conn, s->err, sizeof s->err, "DEL %s", key));
    freeReplyObject(rconn_cmd(s->conn, s->err, sizeof s->err, "ZREM %s %s", set, s->id));
}

static int live_children(const sup_t *s)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        n += s->kids[i].pid > 0 || s->kids[i].needs_release;
    return n;
}

static void turn(sup_t *s, int *seen_signals)
{
    int64_t now = clock_mono_ms();
    if (g_signals != *seen_signals) {
        int first = *seen_signals == 0;
        *seen_signals = g_signals;
        if (first && !s->stopping) {
            begin_stop(s, "signal");
        } else if (!s->killed_for_shutdown) {
            log_info("second signal: not waiting for running jobs", LF_S("worker", s->id));
            s->stop_deadline_ms = now;
        }
    }
    reap(s);
    for (int i = 0; i < s->n; i++) {
        child_t *k = &s->kids[i];
        if (k->needs_release)
            try_release(s, i);
        if (!s->stopping && k->pid == 0 && !k->needs_release && now >= k->respawn_at_ms)
            spawn(s, i);
    }
    if (s->stopping && !s->killed_for_shutdown && now >= s->stop_deadline_ms) {
        s->killed_for_shutdown = 1;
        for (int i = 0; i < s->n; i++) {
            if (s->kids[i].pid > 0) {
                slot_job_t job;
                slot_read(&s->board[i], &job);
                log_warn("grace period over; returning the job to its queue", LF_S("job_id", job.job_id),
                         LF_S("worker_id", s->kids[i].id));
                kill_child(s, i, KILL_SHUTDOWN, job.entry);
            }
        }
    }
    enforce_timeouts(s, now);
    if (s->cfg->history && s->history_pid == 0 && s->history_fd[1] >= 0 && now >= s->history_restart_ms)
        start_history(s);
    /* Once a tick at most (turn also runs whenever children report jobs),
     * and at once again while the list had more than one call takes. */
    if (s->list_import && !s->stopping && now >= s->next_list_ms && !rconn_broken(s->conn))
        import_list(s, now);
    /* Woken by the watch, a task waits no tick; while imports fail, the
     * tick alone retries them (a watch would wake at once, again and again). */
    if (s->list_watch != NULL && !s->stopping && s->list_ok)
        list_watch_arm(s->list_watch, now);
    if (s->scheduler != NULL && !s->stopping && now >= s->next_schedule_ms)
        s->next_schedule_ms = now + scheduler_tick(s->scheduler);
    if (now >= s->next_cancel_ms && !rconn_broken(s->conn)) {
        s->next_cancel_ms = now + CANCEL_CHECK_MS;
        check_cancels(s);
    }
    if (now >= s->next_heartbeat_ms) {
        s->next_heartbeat_ms = now + s->cfg->heartbeat_ms;
        heartbeat(s);
    }
    if (now >= s->next_stats_ms) {
        if (s->next_stats_ms != 0)
            log_stats(s);
        s->next_stats_ms = now + s->cfg->stats_interval_ms;
    }
    if (s->cfg->burst && !s->stopping && burst_done(s))
        begin_stop(s, "burst: queues are empty");
}


/* worker --scheduler: a scheduler on a connection of its own (its lease and
 * state calls never interleave with the supervisor's). It runs in the
 * supervisor's loop, so while Redis is unreachable its reconnect attempts
 * take their time out of that loop as the supervisor's own do. */
static int start_scheduler(sup_t *s, const schedule_config_t *schedules)
{
    char err[1024];
    s->scheduler_conn = rconn_open(&s->cfg->url, s->cfg->command_timeout_ms, err, sizeof err);
    if (s->scheduler_conn == NULL) {
        log_error("cannot connect the scheduler to Redis", LF_S("error", err));
        return -1;
    }
    rconn_set_name(s->scheduler_conn, "tickq-scheduler");
    s->scheduler = scheduler_new(schedules, s->cfg, s->scheduler_conn);
    if (s->scheduler == NULL) {
        rconn_free(s->scheduler_conn);
        s->scheduler_conn = NULL;
        return -1;
    }
    scheduler_banner(s->scheduler);
    return 0;
}

static void stop_scheduler(sup_t *s)
{
    if (s->scheduler == NULL)
        return;
    scheduler_stop(s->scheduler);
    scheduler_free(s->scheduler);
    rconn_free(s->scheduler_conn);
    s->scheduler = NULL;
    s->scheduler_conn = NULL;
}

#define HISTORY_DRAIN_MS 30000

/* Every worker is gone, and what they and we settled is in the history
 * stream: closing the pipe's write end lets the history process write what
 * the stream holds and exit. */
static void stop_history(sup_t *s)
{
    if (!s->cfg->history)
        return;
    close(s->history_fd[1]);
    s->history_fd[1] = -1;
    if (s->history_pid == 0)
        start_history(s); /* it died just before: one more to drain the stream */
    int64_t give_up = clock_mono_ms() + HISTORY_DRAIN_MS;
    int restarts = 0;
    while (s->history_pid > 0) {
        int wstatus;
        pid_t pid = waitpid(s->history_pid, &wstatus, WNOHANG);
        if (pid == s->history_pid || (pid < 0 && errno != EINTR)) {
            s->history_pid = 0;
            if (pid > 0 && WIFSIGNALED(wstatus) && restarts++ < 3) {
                /* Killed on its way: the stream may still hold rows. */
                log_error("the job history process stopped before the end; starting another to drain the stream");
                start_history(s);
            } else if (pid > 0 && !(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)) {
                log_error("the job history process did not write everything (see its log line above)");
            }
        } else if (clock_mono_ms() > give_up) {
            log_error("the job history process did not finish in time; stopping it",
                      LF_I("waited_ms", HISTORY_DRAIN_MS));
            kill(s->history_pid, SIGKILL);
            waitpid(s->history_pid, NULL, 0);
            s->history_pid = 0;
        } else {
            clock_sleep_ms(10, NULL);
        }
    }
}

int supervisor_run(const config_t *cfg, rconn_t *conn, const schedule_config_t *schedules)
{
    static sup_t s;
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    s.conn = conn;
    s.history_fd[0] = s.history_fd[1] = -1;
    s.n = cfg->workers;
    queue_init(&s.q, conn);
    config_apply(cfg, &s.q);
    if (gethostname(s.host, sizeof s.host) != 0)
        strcpy(s.host, "localhost");
    s.host[sizeof s.host - 1] = '\0';
    queue_instance_id(s.id, sizeof s.id);
    if (cfg->history) {
        /* The backlog cap is in Redis before any row is: the children start
         * after this. */
        char where[DB_WHERE_MAX + 300], key[HISTORY_KEY_MAX];
        if (history_stream_key(cfg->prefix, cfg->database_url, cfg->db_path, key, sizeof key, where, sizeof where,
                               s.err, sizeof s.err) != 0 ||
            history_register(conn, cfg->prefix, cfg->history_stream, cfg->history_backlog, where, s.err,
                             sizeof s.err) != 0) {
            log_error("cannot set up the job history stream", LF_S("error", s.err));
            return EX_UNAVAILABLE;
        }
        if (pipe2(s.history_fd, O_CLOEXEC) != 0) {
            log_error("cannot set up the job history process's pipe", LF_S("error", strerror(errno)));
            return EX_OSERR;
        }
        snprintf(s.history_consumer, sizeof s.history_consumer, "%s:history", s.id);
        start_history(&s);
    }
    char name[200];
    snprintf(name, sizeof name, "tickq-supervisor:%s", s.id);
    rconn_set_name(conn, name);
    clock_iso8601(clock_now_us(), s.started_at);

    if (install_signals() != 0) {
        log_error("cannot create the signal pipe", LF_S("error", strerror(errno)));
        return EX_OSERR;
    }
    s.board = slot_board_new(s.n);
    s.kids = calloc((size_t)s.n, sizeof *s.kids);
    s.consumer_names = calloc((size_t)s.n, sizeof *s.consumer_names);
    if (s.board == NULL || s.kids == NULL || s.consumer_names == NULL) {
        log_error("cannot allocate worker slots", LF_I("workers", s.n));
        return EX_OSERR;
    }
    for (int i = 0; i < s.n; i++)
        snprintf(s.kids[i].id, sizeof s.kids[i].id, "%s:%d", s.id, i);

    char queues[2048], where[4400], database[DB_WHERE_MAX + 1100];
    queue_list_describe(&cfg->queues, queues, sizeof queues);
    redis_url_describe(&cfg->url, where, sizeof where);
    db_describe(cfg->database_url, cfg->db_path, database, sizeof database);
    log_info("worker started", LF_S("worker", s.id), LF_S("queues", queues), LF_I("workers", s.n),
             LF_S("group", cfg->group), LF_S("redis", where), LF_S("database", database), LF_B("burst", cfg->burst),
             LF_S("list_queue", cfg->list_queue[0] ? cfg->list_queue : "(off)"), LF_B("history", cfg->history),
             LF_S("history_stream", cfg->history ? cfg->history_stream : ""),
             LF_S("protocol", TICKQ_PROTOCOL));

    /* The list feeds <LIST_TARGET_QUEUE>_normal: a worker that does not
     * serve it leaves the list to those that do. */
    for (int q = 0; cfg->list_queue[0] && q < cfg->queues.n; q++)
        s.list_import |= strcmp(cfg->queues.name[q], LIST_TARGET_QUEUE "_normal") == 0;
    if (s.list_import)
        s.list_watch = list_watch_new(&cfg->url, cfg->list_queue, cfg->command_timeout_ms);
    if (cfg->list_queue[0] && !s.list_import)
        log_info("not taking tasks from the list: this worker does not serve " LIST_TARGET_QUEUE "_normal",
                 LF_S("list", cfg->list_queue));
    if (schedules != NULL && start_scheduler(&s, schedules) != 0)
        return EX_UNAVAILABLE;
    int seen = 0;
    while (!s.stopping || live_children(&s) > 0) {
        if (s.stopping)
            stop_scheduler(&s); /* stop firing at once; another replica takes over */
        turn(&s, &seen);
        if (s.stopping && live_children(&s) == 0)
            break;
        if (s.stopping && s.killed_for_shutdown && clock_mono_ms() > s.stop_deadline_ms + 10000) {
            log_error("cannot settle stopped children's jobs (Redis unreachable); they stay pending "
                      "and will be reclaimed", LF_S("worker", s.id));
            break;
        }
        int watch_fd = s.list_watch != NULL ? list_watch_fd(s.list_watch) : -1;
        struct pollfd p[2] = { { g_pipe[0], POLLIN, 0 }, { watch_fd, POLLIN, 0 } };
        if (poll(p, 2, TICK_MS) > 0 && (p[0].revents & POLLIN)) {
            char buf[64];
            while (read(g_pipe[0], buf, sizeof buf) > 0) {
            }
        }
        if (p[1].revents != 0 && list_watch_wake(s.list_watch))
            s.next_list_ms = 0;
    }
    stop_scheduler(&s);
    log_stats(&s);
    /* retire's releases may still append rows (a claim Redis ran late for
     * an old generation, cancelled meanwhile): before the history process
     * drains the stream. */
    retire(&s);
    /* Every child is gone: what they finished is in the history stream. */
    stop_history(&s);
    log_info("worker stopped", LF_S("worker", s.id), LF_I("status", s.status));
    slot_board_free(s.board, s.n);
    free(s.kids);
    free(s.consumer_names);
    close(g_pipe[0]);
    close(g_pipe[1]);
    if (s.history_fd[0] >= 0)
        close(s.history_fd[0]);
    list_watch_free(s.list_watch);
    return s.status;
}
