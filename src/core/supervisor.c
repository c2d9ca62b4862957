/* supervisor.c — the `tickq worker` parent process.
 *
 * It never runs a job itself. Each loop turn (at most every 50 ms, sooner on
 * a signal or a child's exit) it reaps children, settles what a dead child
 * left pending (release.lua), respawns, kills jobs past their deadline or
 * cancelled, takes tasks from the users' list (list_bridge.h), ticks its
 * companions (supervisor.h) and on its heartbeat renews its children's
 * claims, reclaims entries of dead workers elsewhere and publishes itself
 * (heartbeat.h).
 *
 * With --autoscale the slot board holds the maximum number of children and
 * each interval the autoscaler (autoscale.h) samples the backlog
 * (backlog.h) and says how many it wants: a slot it does not want is "off"
 * and not refilled. Scaling up turns slots on (their children start on the
 * next turn); scaling down turns off one slot whose child runs no job and
 * asks that child to stop once its current job is done (SIGUSR1, as a
 * reload does): a busy child is never stopped to scale down.
 *
 * Shutdown: the first SIGTERM/SIGINT stops fetching (children finish their
 * current job and exit); after --grace seconds, or at a second signal, the
 * remaining children are killed and their jobs go back to their queues with
 * the attempt not charged. Then the companions stop (the scheduler first,
 * so another replica takes over), the supervisor retires its consumers and
 * heartbeat, and the companions finish (the history process drains the
 * history stream). */
#include "core/supervisor.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "core/autoscaler.h"
#include "core/clock.h"
#include "core/heartbeat.h"
#include "core/list_bridge.h"
#include "core/log.h"
#include "core/queue.h"
#include "core/slot.h"
#include "core/worker.h"
#include "core/worker_metrics.h"

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
    int off;                      /* no child wanted in this slot (autoscaled down): not refilled */
    int retiring;                 /* asked to stop once its current job is done (SIGUSR1) */
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
    const supervisor_plan_t *plan;
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
    list_bridge_t *list;          /* the users' list; NULL: off, or not this worker's */
    int desired;                  /* children it keeps: n, or the autoscaler's count */
    autoscaler_t scaler;          /* with plan->autoscale only */
    int64_t last_turn_ms;
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
    k->retiring = 0;
    pid_t parent = getpid();
    /* Stop signals stay blocked across fork until the child has its own
     * handlers (worker_run unblocks them), so none is lost in between. */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGUSR1); /* a reload's: the child's handler is not in place yet */
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
        for (int c = 0; c < s->plan->ncompanions; c++)
            if (s->plan->companions[c].forked != NULL)
                s->plan->companions[c].forked(s->plan->companions[c].ctx);
        rconn_free(s->conn);
        list_bridge_free(s->list);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        _exit(worker_run(s->cfg, &s->board[i], k->id, s->plan->task_env));
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
    if (job.busy && k->rel_kind != OUTCOME_SHUTDOWN)
        worker_metrics_job(job.queue, job.type, k->rel_kind, clock_now_us() - job.started_us);
    int crashed = job.busy && k->kill_reason == KILL_NONE;
    if (crashed || (!WIFEXITED(wstatus) && k->kill_reason == KILL_NONE) ||
        (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0))
        log_warn("worker child stopped", LF_S("worker_id", k->id), LF_S("how", how),
                 LF_S("job_id", job.busy ? job.job_id : ""));
    else
        log_debug("worker child stopped", LF_S("worker_id", k->id), LF_S("how", how));

    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == WORKER_EXIT_PROTOCOL && !s->stopping) {
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

static void reap(sup_t *s)
{
    int wstatus;
    pid_t pid;
    while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
        int known = 0;
        for (int i = 0; i < s->n && !known; i++) {
            if (s->kids[i].pid == pid) {
                on_child_exit(s, i, wstatus);
                known = 1;
            }
        }
        for (int c = 0; c < s->plan->ncompanions && !known; c++)
            if (s->plan->companions[c].reaped != NULL)
                known = s->plan->companions[c].reaped(s->plan->companions[c].ctx, pid, wstatus);
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

/* A reload: each child stops once its current job is done (SIGUSR1; one
 * waiting for work stops at once) and exits 0, and is replaced at once by
 * a child forked from what the supervisor holds now. Jobs it had claimed
 * and not started go back to their queues, uncharged (release). */
static void recycle_children(sup_t *s)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        if (s->kids[i].pid > 0 && s->kids[i].kill_reason == KILL_NONE) {
            kill(s->kids[i].pid, SIGUSR1);
            s->kids[i].retiring = 1;
            n++;
        }
    log_info("reload: each worker child is replaced once its current job is done", LF_S("worker", s->id),
             LF_I("children", n));
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
        if (jobs[i].stops_itself) /* the child asks and stops it (a handler job) */
            jobs[i].busy = 0;
        if (!jobs[i].busy)
            continue;
        if (queue_cancel_requested_send(&s->q, jobs[i].job_id) != 0)
            return;
        asked++;
    }
    for (int i = 0; i < s->n && asked > 0; i++) {
        if (!jobs[i].busy)
            continue;
        asked--;
        int cancelled = queue_cancel_requested_read(&s->q, s->err, sizeof s->err);
        if (cancelled < 0)
            return;
        if (cancelled) {
            log_info("job cancelled; killing its worker child", LF_S("job_id", jobs[i].job_id),
                     LF_S("worker_id", s->kids[i].id));
            kill_child(s, i, KILL_CANCEL, jobs[i].entry);
        }
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

/* Renews the live children's claims, reclaims dead workers' jobs and
 * publishes this supervisor (heartbeat.h). */
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
    heartbeat_renew(&s->q, s->cfg, s->id, consumers, (size_t)live);
    heartbeat_reclaim(&s->q, s->cfg, s->id);
    log_unrecorded(s);

    long long done, failed, retried, delay;
    int busy;
    totals(s, &done, &failed, &retried, &busy, &delay);
    heartbeat_child_t kids[s->n];
    slot_job_t jobs[s->n];
    size_t nkids = 0;
    for (int i = 0; i < s->n; i++) {
        if (s->kids[i].pid <= 0)
            continue;
        slot_read(&s->board[i], &jobs[nkids]);
        const slot_job_t *j = &jobs[nkids];
        kids[nkids] = (heartbeat_child_t){ s->kids[i].id, (int)s->kids[i].pid, j->busy, j->job_id, j->type,
                                           j->queue, j->started_us };
        nkids++;
    }
    heartbeat_info_t info = { s->id, s->host, s->started_at, s->desired, busy, done, failed, kids, nkids };
    heartbeat_publish(&s->q, s->cfg, &info);
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

/* Reads every child's burst state: 1 when all are idle (their last claim
 * found nothing), with the claims they have begun, summed, in *claims. */
static int burst_all_idle(sup_t *s, unsigned long long *claims)
{
    *claims = 0;
    for (int i = 0; i < s->n; i++) {
        const child_t *k = &s->kids[i];
        *claims += atomic_load(&s->board[i].burst_claims);
        if (k->off && k->pid <= 0 && !k->needs_release)
            continue; /* autoscaled down, and gone */
        if (k->pid <= 0 || k->needs_release || !atomic_load(&s->board[i].burst_idle))
            return 0;
    }
    return 1;
}

/* Whether a burst is over: every child idle at one instant. A child turns
 * busy before each claim, so two reads with no claim begun between them
 * (the counts only grow: equal sums, no claim) show all idle at once; a
 * job a finishing job made ready (a dependant, a flow's parent) was then
 * seen by its maker's next claim. */
static int burst_done(sup_t *s)
{
    /* Tasks just taken from the list must first reach a child's claim. */
    if (list_bridge_holds_burst(s->list, clock_mono_ms()))
        return 0;
    unsigned long long before, after;
    return burst_all_idle(s, &before) && burst_all_idle(s, &after) && before == after;
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
    heartbeat_withdraw(&s->q, s->id);
}

static int live_children(const sup_t *s)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        n += s->kids[i].pid > 0 || s->kids[i].needs_release;
    return n;
}

/* Wanted children alive, not on their way out, running no job. */
static int idle_children(sup_t *s)
{
    int n = 0;
    for (int i = 0; i < s->n; i++) {
        const child_t *k = &s->kids[i];
        if (k->off || k->pid <= 0 || k->kill_reason != KILL_NONE || k->retiring)
            continue;
        slot_job_t job;
        slot_read(&s->board[i], &job);
        n += !job.busy;
    }
    return n;
}

/* Turns slots on until `to` are: first those with no process left (a
 * child starts there on the next turn), then those whose child is on its
 * way out (a new one follows it). */
static void scale_up(sup_t *s, int to)
{
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < s->n && s->desired < to; i++) {
            child_t *k = &s->kids[i];
            if (k->off && (pass == 1 || (k->pid == 0 && !k->needs_release))) {
                k->off = 0;
                k->respawn_at_ms = 0;
                s->desired++;
            }
        }
}

/* Turns one slot off: one whose child is gone (nothing to stop), else one
 * whose child runs no job, asked to stop after the job it may take
 * meanwhile (SIGUSR1: it finishes what it started; what it claimed and
 * did not start goes back to its queue, uncharged). The highest slots go
 * first. 0, or -1 when every child is busy. */
static int scale_down(sup_t *s)
{
    for (int i = s->n - 1; i >= 0; i--) {
        child_t *k = &s->kids[i];
        if (!k->off && k->pid == 0) {
            k->off = 1;
            s->desired--;
            return 0;
        }
    }
    for (int i = s->n - 1; i >= 0; i--) {
        child_t *k = &s->kids[i];
        if (k->off || k->pid <= 0 || k->kill_reason != KILL_NONE || k->retiring)
            continue;
        slot_job_t job;
        slot_read(&s->board[i], &job);
        if (job.busy)
            continue;
        k->off = 1;
        k->retiring = 1;
        kill(k->pid, SIGUSR1);
        s->desired--;
        log_debug("worker child retired: it stops once it has no job", LF_S("worker_id", k->id), LF_I("child_pid", k->pid));
        return 0;
    }
    return -1;
}

/* One autoscaler interval: sample and decide (autoscaler.h), apply. */
static void autoscale_turn(sup_t *s, int64_t now)
{
    long long done, failed, retried, delay;
    int busy;
    totals(s, &done, &failed, &retried, &busy, &delay);
    (void)reconnect(s); /* on failure, autoscaler_decide says so */
    autoscale_decision_t d;
    if (autoscaler_decide(&s->scaler, &s->q, &s->cfg->queues, s->id, done + failed, busy, idle_children(s), now,
                          &d, s->err, sizeof s->err) != 0)
        return;
    int applied = 0;
    if (d.direction == AUTOSCALE_UP) {
        scale_up(s, d.to);
        applied = 1;
    } else if (d.direction == AUTOSCALE_DOWN) {
        applied = scale_down(s) == 0;
    }
    autoscaler_done(&s->scaler, &d, applied, s->id, now);
    assert(s->desired == s->scaler.policy.desired);
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
        if (!s->stopping && !k->off && k->pid == 0 && !k->needs_release && now >= k->respawn_at_ms)
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
    int live = 0, busy = 0;
    for (int i = 0; i < s->n; i++) {
        live += s->kids[i].pid > 0;
        if (s->kids[i].pid > 0) {
            slot_job_t job;
            slot_read(&s->board[i], &job);
            busy += job.busy;
        }
    }
    worker_metrics_supervisor(live, busy, s->desired, s->stopping, now);
    if (s->plan->autoscale != NULL) {
        autoscaler_turned(&s->scaler, busy, s->last_turn_ms > 0 ? now - s->last_turn_ms : 0);
        if (!s->stopping && autoscaler_due(&s->scaler, now))
            autoscale_turn(s, now);
    }
    s->last_turn_ms = now;
    /* Once a tick at most (turn also runs whenever children report jobs),
     * and at once again while the list had more than one call takes. */
    if (s->list != NULL && !s->stopping)
        list_bridge_turn(s->list, &s->q, now, TICK_MS);
    for (int c = 0; c < s->plan->ncompanions; c++)
        if (s->plan->companions[c].tick != NULL)
            s->plan->companions[c].tick(s->plan->companions[c].ctx, now, s->stopping);
    for (int c = 0; c < s->plan->ncompanions && !s->stopping; c++)
        if (s->plan->companions[c].wants_recycle != NULL &&
            s->plan->companions[c].wants_recycle(s->plan->companions[c].ctx))
            recycle_children(s);
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


static void companions_stopping(sup_t *s)
{
    for (int c = 0; c < s->plan->ncompanions; c++)
        if (s->plan->companions[c].stopping != NULL)
            s->plan->companions[c].stopping(s->plan->companions[c].ctx);
}

int supervisor_run(const config_t *cfg, rconn_t *conn, const supervisor_plan_t *plan)
{
    assert(plan->ncompanions >= 0 && plan->ncompanions <= SUPERVISOR_COMPANIONS_MAX);
    sup_t s;
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    s.conn = conn;
    s.plan = plan;
    s.n = plan->autoscale != NULL ? plan->autoscale->max_children : cfg->workers;
    assert(s.n >= 1 && s.n <= WORKERS_MAX);
    queue_init(&s.q, conn);
    config_apply(cfg, &s.q);
    if (gethostname(s.host, sizeof s.host) != 0)
        strcpy(s.host, "localhost");
    s.host[sizeof s.host - 1] = '\0';
    snprintf(s.id, sizeof s.id, "%s", plan->id);
    char name[200];
    snprintf(name, sizeof name, "tickq-supervisor:%s", s.id);
    rconn_set_name(conn, name);
    clock_iso8601(clock_now_us(), s.started_at);

    if (install_signals() != 0) {
        log_error("cannot create the signal pipe", LF_S("error", strerror(errno)));
        return EX_OSERR; /* nothing to release yet */
    }
    s.board = slot_board_new(s.n);
    s.kids = calloc((size_t)s.n, sizeof *s.kids);
    s.consumer_names = calloc((size_t)s.n, sizeof *s.consumer_names);
    if (s.board == NULL || s.kids == NULL || s.consumer_names == NULL) {
        log_error("cannot allocate worker slots", LF_I("workers", s.n));
        s.status = EX_OSERR;
        goto out;
    }
    for (int i = 0; i < s.n; i++)
        queue_worker_id(s.id, i, s.kids[i].id, sizeof s.kids[i].id);
    s.desired = s.n;
    if (plan->autoscale != NULL) {
        autoscaler_init(&s.scaler, plan->autoscale, clock_mono_ms());
        s.desired = s.scaler.policy.desired;
        for (int i = s.desired; i < s.n; i++)
            s.kids[i].off = 1;
    }

    char queues[2048], where[4400];
    queue_list_describe(&cfg->queues, queues, sizeof queues);
    redis_url_describe(&cfg->url, where, sizeof where);
    log_info("worker started", LF_S("worker", s.id), LF_S("queues", queues), LF_I("workers", s.desired),
             LF_S("group", cfg->group), LF_S("redis", where), LF_S("database", plan->database),
             LF_B("burst", cfg->burst), LF_F("job_timeout_s", (double)cfg->job_timeout_ms / 1000.0),
             LF_S("list_queue", cfg->list_queue[0] ? cfg->list_queue : "(off)"),
             LF_B("history", cfg->history), LF_S("history_stream", cfg->history ? cfg->history_stream : ""),
             LF_S("protocol", TICKQ_PROTOCOL));
    if (plan->autoscale != NULL) {
        const autoscale_settings_t *a = plan->autoscale;
        log_info("autoscaler started", LF_S("worker", s.id), LF_I("min_workers", a->min_children),
                 LF_I("max_workers", a->max_children), LF_F("interval_s", (double)a->interval_ms / 1000.0),
                 LF_F("cooldown_s", (double)a->cooldown_ms / 1000.0),
                 LF_F("target_wait_s", (double)a->target_wait_ms / 1000.0));
    }

    s.list = list_bridge_new(cfg);
    for (int c = 0; c < plan->ncompanions; c++)
        if (plan->companions[c].start != NULL && plan->companions[c].start(plan->companions[c].ctx) != 0) {
            s.status = EX_UNAVAILABLE;
            goto out;
        }
    int seen = 0;
    while (!s.stopping || live_children(&s) > 0) {
        if (s.stopping)
            companions_stopping(&s); /* the scheduler stops firing at once; another replica takes over */
        turn(&s, &seen);
        if (s.stopping && live_children(&s) == 0)
            break;
        if (s.stopping && s.killed_for_shutdown && clock_mono_ms() > s.stop_deadline_ms + 10000) {
            log_error("cannot settle stopped children's jobs (Redis unreachable); they stay pending "
                      "and will be reclaimed", LF_S("worker", s.id));
            break;
        }
        int watch_fd = s.list != NULL ? list_bridge_fd(s.list) : -1;
        struct pollfd p[2] = { { g_pipe[0], POLLIN, 0 }, { watch_fd, POLLIN, 0 } };
        if (poll(p, 2, TICK_MS) > 0 && (p[0].revents & POLLIN)) {
            char buf[64];
            while (read(g_pipe[0], buf, sizeof buf) > 0) {
            }
        }
        if (p[1].revents != 0)
            list_bridge_woken(s.list);
    }
    companions_stopping(&s);
    log_stats(&s);
    /* retire's releases may still append rows (a claim Redis ran late for
     * an old generation, cancelled meanwhile): before the history process
     * drains the stream. */
    retire(&s);
    /* Every child is gone: what they finished is in the history stream. */
    for (int c = 0; c < plan->ncompanions; c++)
        if (plan->companions[c].finish != NULL)
            plan->companions[c].finish(plan->companions[c].ctx);
    log_info("worker stopped", LF_S("worker", s.id), LF_I("status", s.status));
out:
    slot_board_free(s.board, s.n);
    free(s.kids);
    free(s.consumer_names);
    close(g_pipe[0]);
    close(g_pipe[1]);
    list_bridge_free(s.list);
    return s.status;
}
