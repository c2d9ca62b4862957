/* worker.c — a worker child: claims jobs, runs their handlers, records the
 * outcomes.
 *
 * The loop: claim a batch from the first non-empty queue (claim.lua), run
 * each job, record the batch's outcomes in one call (finish.lua), repeat;
 * with nothing to do, block on XREAD until a stream grows or a retry is due.
 * Batches are sized from the observed job duration so that a child never
 * holds more than about `batch_budget_us` of work it has not started (fast
 * jobs come in batches of up to 100, slow ones one at a time), which keeps
 * priority order and crash recovery tight while making no-op jobs cheap.
 *
 * Crash safety does not depend on this process: anything it claimed stays
 * pending in the consumer group until finish.lua acks it, and the supervisor
 * settles whatever a dead child left pending (release.lua).
 *
 * The child consumes as "<worker id>#<generation>" (queue_consumer_name).
 * Invariant: the generation changes only while the child holds nothing
 * (a reconnect before a claim), and is published in the slot before any
 * call under it. A call sent on a connection the child gave up on may still
 * run in Redis later; if it claims, it claims for the old generation, which
 * the supervisor's heartbeat hands back to the queue (touch.lua). A
 * reconnect while outcomes are being recorded keeps the name: finish.lua
 * records only entries pending for it. */
#include "core/worker.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sysexits.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/job.h"
#include "core/job_children.h"
#include "core/json_exact.h"
#include "core/log.h"
#include "core/queue.h"
#include "core/queue_controls.h"
#include "core/refusals.h"
#include "core/task.h"
#include "core/utf8.h"
#include "core/worker_metrics.h"

static volatile sig_atomic_t g_stop;
static volatile sig_atomic_t g_recycle; /* a reload: stop after the current job (SIGUSR1) */
static volatile sig_atomic_t g_waiting; /* blocked with no claimed job */

static void on_stop_signal(int sig)
{
    if (sig == SIGUSR1)
        g_recycle = 1; /* running jobs are not told: they finish */
    else
        g_stop = 1;
    if (g_waiting)
        _exit(0); /* holding nothing: leave at once */
}

typedef struct {
    const config_t *cfg;
    slot_t *slot;
    const char *id;              /* the worker id, stable per slot */
    char consumer[QUEUE_CONSUMER_MAX]; /* id#generation: the name claims use */
    task_env_t *env;             /* the tasks' environment (task_env.h) */
    rconn_t *conn;
    queue_t q;
    char logical[QUEUE_LIST_MAX][QUEUE_NAME_MAX + 1];
    double ewma_us[QUEUE_LIST_MAX];  /* observed time per job, per stream */
    char err[1024];
} worker_ctx_t;

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Takes the slot's next consumer generation, published before use. */
static void next_consumer(worker_ctx_t *w)
{
    queue_consumer_name(w->id, slot_next_generation(w->slot), w->consumer, sizeof w->consumer);
}

/* Connects, retrying with backoff until it works or a stop is requested.
 * With `release_orphans` (the child holds nothing), a reconnect also takes a
 * new consumer generation and returns to the queue whatever the lost
 * connection may have claimed under the old one without this process seeing
 * the reply; what it claims later still, the heartbeat returns. Pass 0 when
 * outcomes of claimed jobs are about to be recorded: those entries must stay
 * pending for this name. Returns 0, or -1 when stopping. */
static int ensure_connected(worker_ctx_t *w, int release_orphans)
{
    if (w->conn != NULL && !rconn_broken(w->conn))
        return 0;
    int reconnecting = w->conn != NULL;
    char lost[QUEUE_CONSUMER_MAX];
    snprintf(lost, sizeof lost, "%s", w->consumer);
    if (reconnecting && release_orphans)
        next_consumer(w);
    int64_t backoff = 100;
    for (int attempt = 0; !g_stop; attempt++) {
        int ok = w->conn ? rconn_reconnect(w->conn, w->err, sizeof w->err) == 0
                         : (w->conn = rconn_open(&w->cfg->url, w->cfg->command_timeout_ms,
                                                 w->err, sizeof w->err)) != NULL;
        const char *trouble = "Redis unavailable, retrying";
        if (ok) {
            if (!reconnecting) {
                char name[200];
                snprintf(name, sizeof name, "tickq-worker:%s", w->id);
                rconn_set_name(w->conn, name);
            }
            w->q.conn = w->conn;
            long long requeued = 0;
            /* Redis may answer and still refuse the release (OOM, BUSY, a
             * read-only replica): that backs off like a failed connect,
             * rather than reconnecting at once in a silent loop. */
            if (!(reconnecting && release_orphans) ||
                queue_release(&w->q, &w->cfg->queues, lost, NULL, OUTCOME_SHUTDOWN, "", &requeued, NULL,
                              w->err, sizeof w->err) == QUEUE_OK) {
                if (reconnecting)
                    log_info("reconnected to Redis", LF_S("worker_id", w->id), LF_S("consumer", w->consumer),
                             LF_I("requeued", requeued));
                return 0;
            }
            trouble = "reconnected to Redis but cannot return the lost connection's jobs to the queue, retrying";
        }
        if (attempt == 0 || attempt % 20 == 0)
            log_warn(trouble, LF_S("worker_id", w->id), LF_S("error", w->err), LF_I("attempt", attempt + 1));
        clock_sleep_ms(backoff, &g_stop);
        backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
    }
    return -1;
}

/* Replaces the quoted `token` in text (a JSON string value) with raw
 * JSON text; returns the new text (text is freed) or NULL. */
static char *splice_raw(char *text, const char *token, const char *raw, size_t raw_len, size_t *len)
{
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\"", token);
    char *at = strstr(text, quoted);
    size_t n = strlen(text), q = strlen(quoted);
    char *out = at ? malloc(n - q + raw_len + 1) : NULL;
    if (out != NULL) {
        size_t head = (size_t)(at - text);
        memcpy(out, text, head);
        memcpy(out + head, raw, raw_len);
        memcpy(out + head + raw_len, at + q, n - head - q + 1);
        *len = n - q + raw_len;
    }
    free(text);
    return out;
}

/* The task_result JSON of a completed job, in the users' existing format. */
static char *completed_result(const task_out_t *out, double seconds, const char *worker_id, int64_t now_us,
                              size_t *len)
{
    char now[CLOCK_ISO_LEN];
    clock_iso8601(now_us, now);
    json_t *data = out->data, *d;
    if (data == NULL)
        d = json_object();
    else if (json_is_object(data))
        d = json_incref(data);
    else
        d = json_pack("{s:O}", "result", data);
    /* A raw value goes in as a placeholder string that only this result
     * can contain (random), replaced by the text after dumping. */
    char token[48] = "";
    if (out->raw != NULL && out->raw_key != NULL) {
        unsigned long long r = 0;
        if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
            r = (unsigned long long)now_us * 6364136223846793005ULL;
        snprintf(token, sizeof token, "tickq-raw-%016llx", r);
        json_object_set_new(d, out->raw_key, json_string(token));
    }
    json_object_set_new(d, "execution_time_seconds", json_real(seconds));
    json_object_set_new(d, "worker_id", json_string(worker_id));
    json_object_set_new(d, "completed_at", json_string(now));
    json_t *root = json_pack("{s:s, s:o, s:s}", "status", "completed", "data", d, "updated_at", now);
    /* Each real in its fewest digits that read back as the same double: a
     * task's 0.30000000000000004 stays that number (15 digits would store
     * 0.3, another one), and 0.1 stays 0.1 (17 would print 0.10000000000000001). */
    char *s = root ? json_exact_dumps(root, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(root);
    if (s == NULL) /* only out of memory gets here */
        return NULL;
    *len = strlen(s);
    if (token[0])
        s = splice_raw(s, token, out->raw, out->raw_len, len);
    return s;
}

/* An attempt's error as text: whatever a task quoted (a handler's stderr,
 * a file's bytes) reaches the job record, its result and the history as
 * UTF-8 (utf8.h), which JSON readers and PostgreSQL require. */
static char *error_text(const char *msg, size_t *len)
{
    const char *text = msg && *msg ? msg : "task failed without a message";
    char *s = utf8_clean_dup(text, strlen(text), len);
    if (s == NULL)
        *len = 0;
    return s;
}

/* A failed attempt's payload: the error text, then, when the task gave
 * details, a NUL byte and their JSON (finish.lua merges them into the
 * error result's data). Every C reader of the payload (log, history) sees
 * only the text; a library from before details stores them in the error
 * text instead, so a mixed-version upgrade loses nothing. */
static char *error_payload(const task_out_t *out, size_t *len)
{
    char *text = error_text(out->error, len);
    int has_details = text && json_is_object(out->details) && json_object_size(out->details) > 0;
    char *json = has_details ? json_dumps(out->details, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    char *both = json ? realloc(text, *len + 1 + strlen(json) + 1) : NULL;
    if (both != NULL) {
        size_t jlen = strlen(json);
        memcpy(both + *len + 1, json, jlen + 1); /* both[*len] is the text's NUL */
        *len += 1 + jlen;
        text = both;
    } else if (has_details) {
        log_warn("out of memory adding the error's details (strategy_output) to the result: kept the error only",
                 LF_S("error", text));
    }
    free(json);
    return text;
}

/* The hooks a running job gets (task_hooks_t): its progress, written at
 * most every PROGRESS_EVERY_MS (the latest waits for the next chance: a
 * later report or a cancel poll), and its cancel flag. */
#define PROGRESS_EVERY_MS 250

typedef struct {
    worker_ctx_t *w;
    const claimed_job_t *job;
    int64_t written_ms;          /* when progress was last written */
    int pending;                 /* a report not written yet */
    double fraction;
    char message[512];
} job_hooks_t;

static void flush_progress(job_hooks_t *h, int64_t now)
{
    if (!h->pending || now - h->written_ms < PROGRESS_EVERY_MS || rconn_broken(h->w->conn))
        return;
    queue_send_progress(&h->w->q, h->w->consumer, h->job->id, h->job->attempt, h->fraction, h->message);
    h->written_ms = now;
    h->pending = 0;
}

static void on_progress(void *user, double fraction, const char *message)
{
    job_hooks_t *h = user;
    h->fraction = fraction;
    snprintf(h->message, sizeof h->message, "%s", message ? message : "");
    h->pending = 1;
    flush_progress(h, clock_mono_ms());
}

static int on_cancel_requested(void *user)
{
    job_hooks_t *h = user;
    flush_progress(h, clock_mono_ms());
    if (rconn_broken(h->w->conn) || queue_cancel_requested_send(&h->w->q, h->job->id) != 0)
        return 0;
    return queue_cancel_requested_read(&h->w->q, h->w->err, sizeof h->w->err) == 1;
}

static json_t *on_children(void *user, char *err, size_t errlen)
{
    job_hooks_t *h = user;
    flush_progress(h, clock_mono_ms());
    err[0] = '\0';
    return job_children_read(&h->w->q, h->job->id, err, errlen);
}

/* Publishes a job to the supervisor as the one this child runs. */
static void publish_job(worker_ctx_t *w, const claimed_job_t *j, const task_def_t *task, int64_t started_us,
                        int64_t mono)
{
    slot_job_t sj;
    memset(&sj, 0, sizeof sj);
    sj.busy = 1;
    snprintf(sj.entry, sizeof sj.entry, "%s", j->entry);
    snprintf(sj.job_id, sizeof sj.job_id, "%s", j->id);
    snprintf(sj.type, sizeof sj.type, "%s", j->type);
    snprintf(sj.queue, sizeof sj.queue, "%s", w->logical[j->stream_index]);
    sj.timeout_ms = j->timeout_ms;
    sj.started_us = started_us;
    sj.deadline_mono_ms = mono + j->timeout_ms;
    if (task != NULL && task->stops_within_ms > 0) {
        /* It stops itself: the kill is only a backstop, a little later. */
        sj.stops_itself = 1;
        sj.deadline_mono_ms += task->stops_within_ms + 2000;
    }
    slot_begin(w->slot, &sj);
}

/* The start of an attempt: its queue delay published, its start logged
 * (at once when it may be slow: `alone`, so that the line survives the
 * process being killed at the job's timeout). */
static void log_start(worker_ctx_t *w, const claimed_job_t *j, int64_t started_us, int alone)
{
    int64_t delay_us = j->enqueued_us > 0 && started_us > j->enqueued_us ? started_us - j->enqueued_us : 0;
    atomic_store(&w->slot->last_delay_us, delay_us);
    log_info("job started", LF_S("job_id", j->id), LF_S("type", j->type), LF_S("queue", w->logical[j->stream_index]),
             LF_I("attempt", j->attempt), LF_F("queue_delay_ms", (double)delay_us / 1000.0));
    if (alone)
        log_flush();
}

/* Checks a claimed job before it runs: TASK_OK with *args (owned) when it
 * may run, else the permanent failure, with out->error. */
static task_status_t check_job(worker_ctx_t *w, const claimed_job_t *j, const task_def_t *task, json_t **args,
                               task_out_t *out)
{
    json_error_t jerr;
    *args = j->args_len <= w->cfg->max_payload ? json_loadb(j->args, j->args_len, 0, &jerr) : NULL;
    if (j->args_len > w->cfg->max_payload)
        return task_error(out, TASK_PERMANENT, "args are %zu bytes, over the payload limit of %zu bytes", j->args_len,
                          w->cfg->max_payload);
    if (*args == NULL) {
        char why[300];
        job_args_json_error(&jerr, why, sizeof why);
        return task_error(out, TASK_PERMANENT, "%s", why);
    }
    if (!json_is_object(*args))
        return task_error(out, TASK_PERMANENT, "args must be a JSON object");
    if (w->cfg->pool != NULL && !w->cfg->pool_serves(j->type))
        return task_error(out, TASK_PERMANENT, "task type %s is not served by pool %s (serves: %s)", j->type,
                          w->cfg->pool, w->cfg->pool_types);
    if (task == NULL) {
        char names[512];
        task_names(names, sizeof names);
        return task_error(out, TASK_PERMANENT, "unknown task type '%s' (this worker runs: %s)", j->type, names);
    }
    if (task_check(task, *args, TASK_CHECK_WORKER, out->error, sizeof out->error) != 0)
        return TASK_PERMANENT;
    return TASK_OK;
}

/* The outcome of an attempt that ended with status and out (whose parts
 * are freed here), logged and counted. */
static void conclude_job(worker_ctx_t *w, const claimed_job_t *j, task_status_t status, task_out_t *out,
                         int64_t started_us, job_outcome_t *o)
{
    const char *queue = w->logical[j->stream_index];
    int64_t finished_us = clock_now_us();
    double seconds = (double)(finished_us - started_us) / 1e6;

    o->entry = j->entry;
    o->id = j->id;
    o->attempt = j->attempt;
    o->started_us = started_us;
    o->finished_us = finished_us;
    if (status == TASK_OK) {
        o->kind = OUTCOME_OK;
        o->payload = completed_result(out, seconds, w->id, finished_us, &o->payload_len);
        if (o->payload == NULL) {
            o->kind = OUTCOME_TRANSIENT;
            o->payload = error_text("worker ran out of memory building the result", &o->payload_len);
        }
    } else if (status == TASK_WAIT_CHILDREN) {
        char why[1100];
        o->kind = OUTCOME_CHILDREN;
        o->payload = job_children_payload(out->data, queue, w->q.max_payload, &o->payload_len, why, sizeof why);
        if (o->payload == NULL) {
            o->kind = OUTCOME_PERMANENT;
            o->payload = error_text(why, &o->payload_len);
        }
    } else if (status == TASK_NOT_RUN) {
        /* Never started: the job goes back to its queue, uncharged, and
         * waits there until what it needs works again. */
        o->kind = OUTCOME_SHUTDOWN;
        o->payload = error_text(out->error, &o->payload_len);
    } else if (status == TASK_TRANSIENT && g_stop) {
        /* The shutdown cut it short (a task checks ctx->stopping): the job
         * goes back to its queue and the attempt is not charged, as for a
         * job still running when the grace period ends. */
        o->kind = OUTCOME_SHUTDOWN;
        o->payload = error_text(out->error, &o->payload_len);
    } else {
        o->kind = status == TASK_PERMANENT ? OUTCOME_PERMANENT
                  : status == TASK_TIMEOUT ? OUTCOME_TIMEOUT
                  : status == TASK_CANCELLED ? OUTCOME_CANCEL
                  : status == TASK_CRASHED ? OUTCOME_CRASH
                  : OUTCOME_TRANSIENT;
        o->payload = error_payload(out, &o->payload_len);
    }
    json_decref(out->data);
    json_decref(out->details);
    free(out->raw);
    memset(out, 0, sizeof *out);
    if (status != TASK_NOT_RUN)
        worker_metrics_job(queue, j->type, o->kind, finished_us - started_us);

    if (status == TASK_NOT_RUN) {
        log_warn("job not run: back to its queue, uncharged", LF_S("job_id", j->id), LF_S("type", j->type),
                 LF_S("queue", queue), LF_I("attempt", j->attempt), LF_S("error", o->payload ? o->payload : ""));
    } else if (o->kind == OUTCOME_SHUTDOWN) {
        log_info("job interrupted by the shutdown; back to its queue", LF_S("job_id", j->id),
                 LF_S("type", j->type), LF_S("queue", queue), LF_I("attempt", j->attempt),
                 LF_S("error", o->payload ? o->payload : ""));
    } else if (o->kind == OUTCOME_CHILDREN) {
        log_info("job waits for its children", LF_S("job_id", j->id), LF_S("type", j->type), LF_S("queue", queue),
                 LF_I("attempt", j->attempt), LF_F("duration_ms", seconds * 1000.0));
    } else if (o->kind == OUTCOME_OK) {
        atomic_fetch_add(&w->slot->completed, 1);
        log_info("job finished", LF_S("job_id", j->id), LF_S("type", j->type), LF_S("queue", queue),
                 LF_I("attempt", j->attempt), LF_F("duration_ms", seconds * 1000.0));
    } else {
        atomic_fetch_add(&w->slot->failed, 1);
        log_warn("job failed", LF_S("job_id", j->id), LF_S("type", j->type), LF_S("queue", queue),
                 LF_I("attempt", j->attempt), LF_F("duration_ms", seconds * 1000.0),
                 LF_B("permanent", o->kind == OUTCOME_PERMANENT), LF_S("kind", job_outcome_name(o->kind)),
                 LF_S("error", o->payload ? o->payload : ""));
    }
}

/* Runs one claimed job and fills *o; o->payload is malloc'd. `alone` says
 * the job may be slow (a batch of one). */
static void run_job(worker_ctx_t *w, const claimed_job_t *j, int alone, job_outcome_t *o)
{
    int64_t started_us = clock_now_us();
    int64_t mono = clock_mono_ms();
    const task_def_t *task = task_find(j->type);
    publish_job(w, j, task, started_us, mono);
    log_start(w, j, started_us, alone);

    task_out_t out;
    memset(&out, 0, sizeof out);
    json_t *args = NULL;
    task_status_t status = check_job(w, j, task, &args, &out);
    if (status == TASK_OK) {
        job_hooks_t hooks = { w, j, 0, 0, 0, "" };
        const task_hooks_t offer = { &hooks, on_progress, on_cancel_requested, on_children };
        task_ctx_t ctx = { .job_id = j->id, .type = j->type, .queue = w->logical[j->stream_index],
                           .worker_id = w->id, .attempt = j->attempt, .max_retries = j->max_retries, .args = args,
                           .stopping = &g_stop, .timeout_ms = j->timeout_ms, .started_ms = mono, .env = w->env,
                           .task = task, .hooks = &offer };
        status = task->run(&ctx, &out);
    }
    json_decref(args);
    slot_end(w->slot);
    conclude_job(w, j, status, &out, started_us, o);
}

/* After a finish call that skipped outcomes (their entries were no longer
 * pending): when the call repeated one whose reply was lost (`repeated`),
 * an outcome the job's record shows recorded by this worker was applied by
 * that earlier call, late (Redis paused past the command timeout, say),
 * its history rows with it: said at info level.
 * The others were truly reclaimed meanwhile: a warning. */
static void report_skipped(worker_ctx_t *w, job_outcome_t *o, size_t n, char (*states)[JOB_STATE_MAX],
                           int repeated)
{
    long long earlier = 0, reclaimed = 0;
    for (size_t i = 0; i < n; i++) {
        if (states[i][0] != '\0')
            continue;
        /* A shutdown outcome records no attempt, worker nor finish time
         * (the job only goes back to its queue), so its record cannot show
         * it applied: nothing to tell, either way it is not this worker's
         * to run any more. */
        if (o[i].kind == OUTCOME_SHUTDOWN)
            continue;
        int applied = 0;
        if (repeated && queue_finish_applied(&w->q, w->id, &o[i], &applied, states[i], w->err,
                                             sizeof w->err) != QUEUE_OK)
            log_warn("cannot read a skipped job's record", LF_S("worker_id", w->id), LF_S("job_id", o[i].id),
                     LF_S("error", w->err));
        if (applied)
            earlier++;
        else
            reclaimed++;
    }
    if (earlier > 0)
        log_info("outcomes already recorded by the earlier call (its reply was lost)", LF_S("worker_id", w->id),
                 LF_I("outcomes", earlier));
    if (reclaimed > 0)
        log_warn("outcomes skipped: their entries were reclaimed meanwhile", LF_S("worker_id", w->id),
                 LF_I("skipped", reclaimed));
}

/* Records outcomes, retrying through reconnects (finish.lua is idempotent).
 * Their job history is written in the same call (q.history): nothing of it
 * is left to this process once the call returns. A refusal (Redis out of
 * memory, or another error reply) is retried after a growing delay and
 * warned about once a spell (refusals_t): the outcomes are held here until
 * Redis accepts them. Gives up only when stopping: the entries then stay pending
 * and are settled by the supervisor or reclaimed, so the jobs run again
 * rather than vanish. */
static void record(worker_ctx_t *w, const claimed_job_t *jobs, job_outcome_t *o, size_t n)
{
    if (n == 0)
        return;
    const char *stream_key = w->cfg->queues.key[jobs[0].stream_index];
    char states[CLAIM_MAX][JOB_STATE_MAX];
    refusals_t refused = { 0, 0, 0 };
    for (int calls = 1;; calls++) {
        finish_tally_t tally = { 0, 0, 0, 0, 0 };
        queue_status_t st = queue_finish(&w->q, stream_key, w->consumer, o, n, &tally, states, w->err,
                                         sizeof w->err);
        if (st == QUEUE_OK) {
            if (refused.since_ms != 0)
                log_info("job outcomes recorded: Redis accepts writes again", LF_S("worker_id", w->id),
                         LF_I("outcomes", (long long)n), LF_I("held_ms", clock_mono_ms() - refused.since_ms));
            atomic_fetch_add(&w->slot->retried, tally.retried);
            if (tally.skipped > 0)
                report_skipped(w, o, n, states, calls > 1);
            if (tally.unrecorded > 0)
                log_warn("job history not recorded: Redis ran an older tickq function library (an older tickq "
                         "process loaded it); loading this one again", LF_S("worker_id", w->id),
                         LF_I("jobs", tally.unrecorded));
            return;
        }
        if (st == QUEUE_ERR_IO) {
            log_warn("cannot record job outcomes, retrying", LF_S("worker_id", w->id), LF_S("error", w->err));
        } else {
            if (refusal_noted(&refused))
                log_warn(st == QUEUE_ERR_OOM ? "Redis is out of memory: cannot record job outcomes; holding them "
                                               "and retrying"
                                             : "Redis refuses to record job outcomes; holding them and retrying",
                         LF_S("worker_id", w->id), LF_I("outcomes", (long long)n),
                         LF_I("held_ms", clock_mono_ms() - refused.since_ms), LF_I("retry_ms", refused.wait_ms),
                         LF_S("error", w->err));
            refusal_wait(&refused, &g_stop);
            if (g_stop)
                return;
        }
        if (ensure_connected(w, 0) != 0)
            return;
    }
}

/* Records outcomes [from, to) of a batch; they come from one stream. */
static void record_range(worker_ctx_t *w, const claim_batch_t *b, job_outcome_t *out, size_t from, size_t to)
{
    if (to > from)
        record(w, b->jobs + from, out + from, to - from);
}

/* A job of an asynchronous task on its way (run_concurrent): its own copy
 * of the claimed job (the claim's reply may be freed before it ends), its
 * args, and the hooks and context the task holds on to until it ends. */
typedef struct {
    int used;
    claimed_job_t job;
    char *strings;               /* job's entry, id, type and args */
    json_t *args;
    job_hooks_t hooks;
    task_hooks_t offer;
    task_ctx_t ctx;
    int64_t started_us;
    int64_t deadline_mono_ms;
} flight_t;

static int same_group(const task_def_t *t, const task_async_t *as, const void *group)
{
    return t != NULL && t->async == as && as->group(t) == group;
}

static void flight_free(flight_t *f)
{
    json_decref(f->args);
    free(f->strings);
    memset(f, 0, sizeof *f);
}

/* Copies j into f (its strings with it). 0, or -1 out of memory. */
static int flight_copy(flight_t *f, const claimed_job_t *j)
{
    size_t le = strlen(j->entry) + 1, li = strlen(j->id) + 1, lt = strlen(j->type) + 1;
    char *m = malloc(le + li + lt + j->args_len + 1);
    if (m == NULL)
        return -1;
    memcpy(m, j->entry, le);
    memcpy(m + le, j->id, li);
    memcpy(m + le + li, j->type, lt);
    memcpy(m + le + li + lt, j->args, j->args_len);
    m[le + li + lt + j->args_len] = '\0';
    memset(f, 0, sizeof *f);
    f->strings = m;
    f->job = *j;
    f->job.entry = m;
    f->job.id = m + le;
    f->job.type = m + le + li;
    f->job.args = m + le + li + lt;
    return 0;
}

/* Records outcomes of flights (any streams: one call per stream). */
static void record_flights(worker_ctx_t *w, flight_t *const *ended, job_outcome_t *o, size_t n)
{
    int seen[QUEUE_LIST_MAX] = { 0 };
    for (size_t i = 0; i < n; i++) {
        int si = ended[i]->job.stream_index;
        if (seen[si]++)
            continue;
        job_outcome_t group[CLAIM_MAX];
        size_t k = 0;
        for (size_t x = i; x < n; x++)
            if (ended[x]->job.stream_index == si)
                group[k++] = o[x];
        record(w, &ended[i]->job, group, k);
    }
}

/* Tells the supervisor about the jobs on their way: the one with the
 * latest deadline stands for them (the child stops them itself; the
 * supervisor's kill is only the backstop past that deadline). */
static void publish_flights(worker_ctx_t *w, const flight_t *fl, size_t nfl, const task_def_t *task)
{
    const flight_t *last = NULL;
    for (size_t i = 0; i < nfl; i++)
        if (fl[i].used && (last == NULL || fl[i].deadline_mono_ms > last->deadline_mono_ms))
            last = &fl[i];
    if (last == NULL)
        slot_end(w->slot);
    else
        publish_job(w, &last->job, task, last->started_us, last->ctx.started_ms);
}

/* Jobs of a task that takes several at once (task_async_t; a handler
 * announcing max_jobs): starts the batch's jobs from `from` on while they
 * are of that task's group, keeps up to its capacity on their way, claims
 * more as they end (a claimed job of another kind runs at once, in turn),
 * records each outcome as it comes. Returns the index in b after the jobs
 * it took; once none is on its way, what is left of b is the caller's. */
static size_t run_concurrent(worker_ctx_t *w, const claim_batch_t *b, size_t from, const task_def_t *first)
{
    static flight_t fl[CLAIM_MAX];
    static task_done_t done[CLAIM_MAX];
    const task_async_t *as = first->async;
    const void *group = as->group(first);
    int cap = as->capacity(first);
    cap = cap < 1 ? 1 : cap > CLAIM_MAX ? CLAIM_MAX : cap;
    int inflight = 0;
    size_t next = from;
    claim_batch_t more;
    memset(&more, 0, sizeof more);
    size_t more_next = 0;
    int64_t next_claim_ms = 0, claim_wait_ms = 20;
    static int told_cap;
    if (as->capacity(first) > CLAIM_MAX && !told_cap) {
        told_cap = 1;
        log_warn("a handler takes more jobs at once than a worker child sends it: it gets 100 from each",
                 LF_S("type", first->name), LF_I("max_jobs", as->capacity(first)), LF_I("sent_at_most", CLAIM_MAX));
    }
    for (;;) {
        /* Start what there is room for. */
        while (inflight < cap && !g_stop && !g_recycle) {
            const claimed_job_t *j = NULL;
            const task_def_t *t = NULL;
            if (next < b->n && same_group(t = task_find(b->jobs[next].type), as, group)) {
                j = &b->jobs[next++];
            } else if (next >= b->n && more_next < more.n) {
                t = task_find(more.jobs[more_next].type);
                if (!same_group(t, as, group)) {
                    /* Another kind in our claim: it runs once the handler's
                     * jobs have ended, so that their replies, deadlines and
                     * cancels are seen to while they run. */
                    if (inflight > 0)
                        break;
                    j = &more.jobs[more_next++];
                    job_outcome_t o;
                    run_job(w, j, 1, &o);
                    record(w, j, &o, 1);
                    free((char *)o.payload);
                    continue;
                }
                j = &more.jobs[more_next++];
            } else {
                break;
            }
            flight_t *f = NULL;
            for (size_t i = 0; i < CLAIM_MAX && f == NULL; i++)
                if (!fl[i].used)
                    f = &fl[i];
            task_out_t out;
            memset(&out, 0, sizeof out);
            int64_t started_us = clock_now_us();
            log_start(w, j, started_us, 0);
            task_status_t status = TASK_OK;
            if (f == NULL || flight_copy(f, j) != 0) {
                status = task_error(&out, TASK_TRANSIENT, "worker ran out of memory starting the job");
            } else {
                f->started_us = started_us;
                status = check_job(w, &f->job, t, &f->args, &out);
            }
            if (status == TASK_OK) {
                f->hooks = (job_hooks_t){ w, &f->job, 0, 0, 0, "" };
                f->offer = (task_hooks_t){ &f->hooks, on_progress, on_cancel_requested, on_children };
                f->ctx = (task_ctx_t){ .job_id = f->job.id, .type = f->job.type,
                                       .queue = w->logical[f->job.stream_index], .worker_id = w->id,
                                       .attempt = f->job.attempt, .max_retries = f->job.max_retries,
                                       .args = f->args, .stopping = &g_stop, .timeout_ms = f->job.timeout_ms,
                                       .started_ms = clock_mono_ms(), .env = w->env, .task = t,
                                       .hooks = &f->offer };
                f->deadline_mono_ms = f->ctx.started_ms + f->job.timeout_ms;
                f->used = 1;
                if (as->submit(&f->ctx, f, &done[0]) == 0) {
                    inflight++;
                    publish_flights(w, fl, CLAIM_MAX, first);
                    continue;
                }
                f->used = 0;
                status = done[0].status;
                out = done[0].out;
            }
            /* It ended before it started: recorded at once. */
            job_outcome_t o;
            const claimed_job_t *jj = f != NULL && f->strings != NULL ? &f->job : j;
            conclude_job(w, jj, status, &out, started_us, &o);
            record(w, jj, &o, 1);
            free((char *)o.payload);
            if (f != NULL)
                flight_free(f);
        }
        if (inflight == 0 && (more_next >= more.n || g_stop || g_recycle))
            break;
        if (inflight == 0)
            continue; /* a job of another kind waits for its turn: now */
        /* Room, and nothing left to start: ask for more, more rarely while
         * the queues stay empty (20 ms, doubling to 1 s). */
        int64_t now = clock_mono_ms();
        if (inflight < cap && (next >= b->n) && more_next >= more.n && !g_stop && !g_recycle &&
            now >= next_claim_ms && !rconn_broken(w->conn)) {
            claim_batch_clear(&more);
            more_next = 0;
            queue_status_t st = queue_claim(&w->q, &w->cfg->queues, w->consumer, cap - inflight, &more, w->err,
                                            sizeof w->err);
            if (st == QUEUE_OK && more.n > 0) {
                claim_wait_ms = 20;
                continue;
            }
            next_claim_ms = now + claim_wait_ms;
            claim_wait_ms = claim_wait_ms * 2 > 1000 ? 1000 : claim_wait_ms * 2;
        }
        size_t n = as->collect(group, 20, done, CLAIM_MAX);
        flight_t *ended[CLAIM_MAX];
        job_outcome_t o[CLAIM_MAX];
        for (size_t i = 0; i < n; i++) {
            ended[i] = done[i].tag;
            conclude_job(w, &ended[i]->job, done[i].status, &done[i].out, ended[i]->started_us, &o[i]);
            ended[i]->used = 0;
            inflight--;
        }
        if (n > 0) {
            publish_flights(w, fl, CLAIM_MAX, first);
            record_flights(w, ended, o, n);
            for (size_t i = 0; i < n; i++) {
                free((char *)o[i].payload);
                flight_free(ended[i]);
            }
        }
        log_flush();
    }
    /* Claimed and not started (a stop came): they stay pending for this
     * name, and go back to their queues, uncharged, when the child ends. */
    claim_batch_clear(&more);
    slot_end(w->slot);
    return next;
}

static void run_batch(worker_ctx_t *w, const claim_batch_t *b)
{
    job_outcome_t out[CLAIM_MAX];
    size_t done = 0, recorded = 0;
    int64_t start = clock_mono_us();
    for (; done < b->n && !g_stop && !g_recycle; done++) {
        const claimed_job_t *j = &b->jobs[done];
        /* Record what is done before a job that may be slow: one of another
         * type, or any job once the batch has run past its budget. Outcomes
         * are recorded per stream. */
        int may_be_slow = done == 0 ? b->n == 1
                                    : strcmp(j->type, b->jobs[done - 1].type) != 0 ||
                                      clock_mono_us() - start > w->cfg->batch_budget_us;
        int new_stream = done > 0 && j->stream_index != b->jobs[done - 1].stream_index;
        if (done > recorded && (may_be_slow || new_stream)) {
            record_range(w, b, out, recorded, done);
            recorded = done;
        }
        const task_def_t *t = task_find(j->type);
        if (t != NULL && t->async != NULL && t->async->capacity(t) > 1) {
            /* Several at once: it records its own outcomes. */
            record_range(w, b, out, recorded, done);
            recorded = done;
            size_t after = run_concurrent(w, b, done, t);
            if (after == done) /* a stop came before any started */
                break;
            for (size_t i = done; i < after; i++)
                out[i].payload = NULL;
            recorded = after;
            done = after - 1;
            continue;
        }
        run_job(w, j, may_be_slow, &out[done]);
    }
    record_range(w, b, out, recorded, done);
    for (size_t i = 0; i < done; i++)
        free((char *)out[i].payload);
    if (done > 0) {
        double per_job = (double)(clock_mono_us() - start) / (double)done;
        double *e = &w->ewma_us[b->jobs[0].stream_index];
        *e = *e > 0 ? 0.7 * *e + 0.3 * per_job : per_job;
    }
}

_Static_assert(QUEUE_LIST_MAX <= 64, "claim_batch_t.paused has a bit per stream");

/* The streams a blocking claim reads: cfg's, without those whose queue is
 * paused (bits of `paused`), into *out, with map[i] the index in cfg's list
 * of out's stream i. Returns out->n. */
static int unpaused_streams(const queue_list_t *all, uint64_t paused, queue_list_t *out, int *map)
{
    out->n = 0;
    for (int i = 0; i < all->n; i++) {
        if (paused & (UINT64_C(1) << i))
            continue;
        memcpy(out->name[out->n], all->name[i], sizeof out->name[0]);
        memcpy(out->key[out->n], all->key[i], sizeof out->key[0]);
        map[out->n++] = i;
    }
    return out->n;
}

static int batch_size(const worker_ctx_t *w)
{
    /* Claims across streams share one estimate: the stream is unknown
     * until the claim returns. Take the slowest seen, to stay safe. */
    double worst = 0;
    for (int i = 0; i < w->cfg->queues.n; i++)
        if (w->ewma_us[i] > worst)
            worst = w->ewma_us[i];
    if (worst <= 0)
        return 1;
    double n = (double)w->cfg->batch_budget_us / worst;
    return n < 1 ? 1 : n > CLAIM_MAX ? CLAIM_MAX : (int)n;
}

int worker_run(const config_t *cfg, slot_t *slot, const char *worker_id, const task_env_provider_t *envs)
{
    install_signals();
    log_set_buffered(1);
    worker_ctx_t w;
    memset(&w, 0, sizeof w);
    w.cfg = cfg;
    w.slot = slot;
    w.id = worker_id;
    w.env = envs->open(cfg);
    if (w.env == NULL) {
        log_error("cannot start a worker child: out of memory", LF_S("worker_id", worker_id));
        return EX_OSERR;
    }
    next_consumer(&w);
    task_families_child_start();
    queue_init(&w.q, NULL);
    config_apply(cfg, &w.q);
    for (int i = 0; i < cfg->queues.n; i++)
        queue_logical(cfg->queues.name[i], w.logical[i], sizeof w.logical[i]);

    claim_batch_t batch;
    memset(&batch, 0, sizeof batch);
    int status = 0;
    refusals_t claims_refused = { 0, 0, 0 }; /* for lack of memory */
    while (!g_stop && !g_recycle) {
        task_families_child_idle(); /* before each claim: after a batch, and each wait for jobs */
        if (ensure_connected(&w, 1) != 0)
            break;
        if (cfg->burst) { /* busy from before the claim: see burst_done */
            atomic_store(&slot->burst_idle, 0);
            atomic_fetch_add(&slot->burst_claims, 1);
        }
        queue_status_t st = queue_claim(&w.q, &cfg->queues, w.consumer, batch_size(&w), &batch, w.err,
                                        sizeof w.err);
        if (st == QUEUE_ERR_PROTOCOL) {
            log_error("stopping: protocol mismatch", LF_S("worker_id", w.id), LF_S("error", w.err));
            status = WORKER_EXIT_PROTOCOL;
            break;
        }
        if (st == QUEUE_ERR_OOM) {
            /* Nothing to hold: wait, growing, and say so once a spell. */
            if (refusal_noted(&claims_refused))
                log_warn("Redis is out of memory: cannot claim jobs; retrying", LF_S("worker_id", w.id),
                         LF_I("retry_ms", claims_refused.wait_ms), LF_S("error", w.err));
            refusal_wait(&claims_refused, &g_stop);
            continue;
        }
        claims_refused = (refusals_t){ 0, 0, 0 };
        if (st != QUEUE_OK) {
            if (st != QUEUE_ERR_IO) {
                log_error("claim failed", LF_S("worker_id", w.id), LF_S("error", w.err));
                clock_sleep_ms(1000, &g_stop);
            }
            continue;
        }
        if (batch.n == 0) {
            /* Nothing ready: block until an entry arrives (Redis hands it
             * to exactly one blocked worker) or the next retry is due.
             * COUNT 1: a wake-up takes one job; should entries have landed
             * in several streams since the claim, it holds at most one per
             * stream (run in priority order), and the next claim goes
             * through the priority script again. */
            atomic_store(&slot->burst_idle, cfg->burst && batch.retrying == 0);
            int64_t block = cfg->burst ? 100 : 1000;
            if (batch.next_due_ms > 0) {
                int64_t until = batch.next_due_ms - clock_now_ms();
                if (until < block)
                    block = until < 1 ? 1 : until;
            }
            if (cfg->burst) {
                /* No blocking read: a job it handed over would be held by a
                 * child that still reads as idle, and the burst could end
                 * with it unrun. Look again after the wait. */
                log_flush();
                clock_sleep_ms(block, &g_stop);
                continue;
            }
            int gates = batch.gates; /* the blocking read's jobs pass them (queue_admit) */
            const queue_list_t *streams = &cfg->queues;
            static queue_list_t unpaused;
            int map[QUEUE_LIST_MAX];
            if (batch.paused != 0) {
                unpaused_streams(&cfg->queues, batch.paused, &unpaused, map);
                streams = &unpaused;
            }
            log_flush();
            g_waiting = 1;
            if (!g_stop && !g_recycle && streams->n == 0) /* every queue paused: look again later */
                clock_sleep_ms(block, &g_stop);
            else if (!g_stop && !g_recycle)
                st = queue_claim_blocking(&w.q, streams, w.consumer, 1, block, &batch, w.err, sizeof w.err);
            g_waiting = 0;
            if (g_stop || st != QUEUE_OK || batch.n == 0)
                continue;
            if (!gates) {
                queue_send_started(&w.q, &batch, w.consumer);
            } else if ((st = queue_admit(&w.q, streams, w.consumer, &batch, w.err, sizeof w.err)) != QUEUE_OK) {
                /* Never left pending unrun: they run as before gates existed. */
                log_warn("cannot check paused queues, limits and expiries of claimed jobs; running them",
                         LF_S("worker_id", w.id), LF_S("error", w.err));
                queue_send_started(&w.q, &batch, w.consumer);
            } else if (batch.n == 0) {
                claim_batch_clear(&batch);
                continue;
            }
            for (size_t i = 0; streams != &cfg->queues && i < batch.n; i++)
                batch.jobs[i].stream_index = map[batch.jobs[i].stream_index];
        }
        atomic_store(&slot->burst_idle, 0);
        run_batch(&w, &batch);
        claim_batch_clear(&batch);
        log_flush();
        const char *refused = rconn_deferred_error(w.conn), *why = NULL;
        if (refused != NULL && queue_error_status(refused, &why) == QUEUE_ERR_PROTOCOL) {
            log_error("stopping: protocol mismatch", LF_S("worker_id", w.id), LF_S("error", why));
            status = WORKER_EXIT_PROTOCOL;
            break;
        } else if (refused != NULL) {
            log_warn("Redis refused a running-result write", LF_S("worker_id", w.id), LF_S("error", refused));
        }
    }
    claim_batch_clear(&batch);
    task_families_child_stop();
    log_flush();
    rconn_free(w.conn);
    envs->close(w.env);
    return status;
}
