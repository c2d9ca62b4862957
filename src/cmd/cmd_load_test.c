/* cmd_load_test.c — `tickq load-test`: enqueue synthetic jobs against the
 * workers of a queue, wait for them, and print what finished, the
 * throughput and the latency percentiles (load_stats.h).
 *
 * The command starts no worker: the user's workers serve the queue. Its
 * jobs are ids "load-<run>-<i>" (one random run id per test), one attempt
 * each (max_retries 0, so a failure is counted at once), on a queue of
 * their own (default `loadtest`). It enqueues and watches in one loop:
 * due jobs go out in pipelines of at most --concurrency calls (paced by
 * --rate), and every LOAD_POLL_MS the records of the unfinished jobs are read,
 * pipelined, oldest first, stopping at the first chunk in which none has
 * finished (jobs run about in the order they were enqueued, so the cost of
 * a poll follows what finished rather than what is waiting). A final poll
 * reads every unfinished record. Latencies come from the records' times,
 * never from when a poll saw them. */
#include "cmd/commands.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/load_stats.h"
#include "core/clock.h"
#include "core/decimal.h"
#include "core/task.h"
#include "core/uuid.h"

static const char usage[] =
    "usage: tickq load-test --tasks N [--type noop|io|cpu] [--rate R] [--queue Q]\n"
    "                       [--concurrency C] [--io-ms MS] [--cpu-ms MS] [--timeout S] [--json]\n"
    "\n"
    "Enqueues N synthetic jobs on queue Q, waits for the workers serving Q to run\n"
    "them, and prints how many completed and failed, the throughput and the latency\n"
    "percentiles (enqueue to finish, enqueue to start). It starts no worker: run\n"
    "`tickq worker --queues Q` yourself. Each job runs once (no retries).\n"
    "\n"
    "  --tasks N            jobs to enqueue, 1 to 1000000 (required)\n"
    "  --type T             noop (the noop task; default), io (sleep --io-ms each) or\n"
    "                       cpu (spin: --cpu-ms of CPU time each)\n"
    "  --io-ms MS           with --type io: milliseconds each job sleeps (default: 10)\n"
    "  --cpu-ms MS          with --type cpu: CPU milliseconds each job burns (default: 10)\n"
    "  --rate R             enqueue R jobs a second, evenly paced (fractions allowed);\n"
    "                       default: as fast as Redis takes them\n"
    "  --queue Q            logical queue (default: loadtest, apart from real work)\n"
    "  --concurrency C      enqueue calls in flight at once: sent together in one\n"
    "                       pipeline, 1 to 1000 (default: 100; 1: one round trip per job)\n"
    "  --timeout S          give up after S seconds in all (default: 600)\n"
    "  --json               print one JSON object\n"
    CLI_COMMON_HELP
    "\n"
    "On a terminal, stderr shows a progress line. Ctrl-C stops enqueueing and reports\n"
    "what finished. Jobs not finished stay on the queue (the workers run them later).\n"
    "\n"
    "Exit status: 0 every job completed, 1 some failed, 3 not all finished within\n"
    "--timeout, 64 bad usage, 69 Redis unavailable, 75 Redis out of memory,\n"
    "78 configuration error, 130 interrupted (SIGINT; 143 SIGTERM).\n";

enum {
    OPT_TASKS = OPT_FIRST_COMMAND_OPTION, OPT_TYPE, OPT_RATE, OPT_QUEUE, OPT_CONCURRENCY, OPT_IO_MS, OPT_CPU_MS,
    OPT_TIMEOUT
};

static const struct option options[] = {
    { "tasks", required_argument, 0, OPT_TASKS },
    { "type", required_argument, 0, OPT_TYPE },
    { "rate", required_argument, 0, OPT_RATE },
    { "queue", required_argument, 0, OPT_QUEUE },
    { "concurrency", required_argument, 0, OPT_CONCURRENCY },
    { "io-ms", required_argument, 0, OPT_IO_MS },
    { "cpu-ms", required_argument, 0, OPT_CPU_MS },
    { "timeout", required_argument, 0, OPT_TIMEOUT },
    { "json", no_argument, 0, OPT_JSON },
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

#define LOAD_TASKS_MAX 1000000
#define LOAD_CONCURRENCY_MAX 1000
#define LOAD_JOB_MS_MAX 600000            /* --io-ms and --cpu-ms: 10 minutes */
#define LOAD_RATE_MAX 1e6
#define LOAD_POLL_MS 200
#define LOAD_POLL_CHUNK 1000              /* records read per pipeline */
#define LOAD_POLL_SCAN_MAX 50000          /* records one poll reads at most (the final one: all) */
#define LOAD_NO_START_WARN_MS 5000
#define EXIT_FAILED 1
#define EXIT_TIMEOUT 3

/* The load test's kinds of job and the task each runs. */
static const struct {
    const char *name;
    const char *task;
} kinds[] = { { "noop", "noop" }, { "io", "sleep" }, { "cpu", "spin" } };

typedef struct {
    int kind;                    /* index in kinds */
    long long tasks;             /* 0: not given */
    double rate;                 /* 0: as fast as possible */
    const char *queue;
    int concurrency;
    long long io_ms, cpu_ms;
    int io_given, cpu_given;
    int64_t timeout_ms;
    int as_json;
} load_flags_t;

static int on_flag(int opt, const char *arg, void *ctx)
{
    load_flags_t *f = ctx;
    long long v;
    char err[256];
    switch (opt) {
    case OPT_TASKS:
        if (cli_parse_int(arg, 1, LOAD_TASKS_MAX, &v) != 0)
            return cli_usage_error(usage, "invalid --tasks '%s': give a number of jobs from 1 to %d", arg,
                                   LOAD_TASKS_MAX);
        f->tasks = v;
        return 0;
    case OPT_TYPE:
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (strcmp(arg, kinds[i].name) == 0) {
                f->kind = (int)i;
                return 0;
            }
        return cli_usage_error(usage, "unknown --type '%s': use noop, io or cpu", arg);
    case OPT_RATE: {
        double r;
        if (decimal_parse(arg, &r) != 0 || r <= 0 || r > LOAD_RATE_MAX)
            return cli_usage_error(usage, "invalid --rate '%s': give jobs a second, more than 0 and at most %.0f "
                                   "(leave it out to enqueue as fast as possible)", arg, LOAD_RATE_MAX);
        f->rate = r;
        return 0;
    }
    case OPT_QUEUE:
        if (queue_name_check(arg, err, sizeof err) != 0)
            return cli_usage_error(usage, "--queue: %s", err);
        f->queue = arg;
        return 0;
    case OPT_CONCURRENCY:
        if (cli_parse_int(arg, 1, LOAD_CONCURRENCY_MAX, &v) != 0)
            return cli_usage_error(usage, "invalid --concurrency '%s': give a number from 1 to %d", arg,
                                   LOAD_CONCURRENCY_MAX);
        f->concurrency = (int)v;
        return 0;
    case OPT_IO_MS:
    case OPT_CPU_MS: {
        const char *flag = opt == OPT_IO_MS ? "--io-ms" : "--cpu-ms";
        if (cli_parse_int(arg, 0, LOAD_JOB_MS_MAX, &v) != 0)
            return cli_usage_error(usage, "invalid %s '%s': give milliseconds from 0 to %d", flag, arg,
                                   LOAD_JOB_MS_MAX);
        *(opt == OPT_IO_MS ? &f->io_ms : &f->cpu_ms) = v;
        *(opt == OPT_IO_MS ? &f->io_given : &f->cpu_given) = 1;
        return 0;
    }
    case OPT_TIMEOUT:
        if (cli_seconds(usage, "--timeout", arg, &f->timeout_ms) != 0)
            return EX_USAGE;
        if (f->timeout_ms <= 0)
            return cli_usage_error(usage, "invalid --timeout '%s': it must be more than 0 seconds", arg);
        return 0;
    case OPT_JSON: f->as_json = 1; return 0;
    default: return cli_unhandled_option(opt);
    }
}

/* What the flags cannot say one at a time: 0 or 64. */
static int check_flags(const load_flags_t *f)
{
    if (f->tasks == 0)
        return cli_usage_error(usage, "missing --tasks N: how many jobs to enqueue");
    if (f->io_given && strcmp(kinds[f->kind].name, "io") != 0)
        return cli_usage_error(usage, "--io-ms is for --type io (this is --type %s)", kinds[f->kind].name);
    if (f->cpu_given && strcmp(kinds[f->kind].name, "cpu") != 0)
        return cli_usage_error(usage, "--cpu-ms is for --type cpu (this is --type %s)", kinds[f->kind].name);
    return 0;
}

/* A load test under way. */
typedef struct {
    const load_flags_t *f;
    queue_t *q;
    char run_id[16];             /* 12 hex digits */
    char args[64];               /* every job's args */
    load_job_t *jobs;            /* [f->tasks] */
    size_t enqueued;
    size_t *pending;             /* the enqueued jobs not seen finished, oldest first */
    size_t npending;
    size_t completed, failed;
    char first_error[400];
    int started;                 /* a job has started */
    int warned;                  /* the "no job has started" line was printed */
    int64_t enqueue_start_us, enqueue_end_us; /* monotonic: the first call sent, the last reply */
    int progress_shown;
    char err[1024];
} load_run_t;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    g_stop = sig;
}

static void job_id(const load_run_t *r, size_t i, char *out, size_t cap)
{
    snprintf(out, cap, "load-%s-%zu", r->run_id, i);
}

/* Enqueues the next n jobs in one pipeline: QUEUE_OK, or the failure with
 * r->err (the jobs before the failed one are enqueued and watched). */
static queue_status_t enqueue_batch(load_run_t *r, size_t n)
{
    static job_spec_t specs[LOAD_CONCURRENCY_MAX];
    static char ids[LOAD_CONCURRENCY_MAX][JOB_ID_MAX + 1];
    static enqueue_result_t res[LOAD_CONCURRENCY_MAX];
    static queue_status_t st[LOAD_CONCURRENCY_MAX];
    for (size_t k = 0; k < n; k++) {
        job_spec_init(&specs[k]);
        job_id(r, r->enqueued + k, ids[k], sizeof ids[k]);
        specs[k].id = ids[k];
        specs[k].type = kinds[r->f->kind].task;
        specs[k].args = r->args;
        specs[k].args_len = strlen(r->args);
        specs[k].queue = r->f->queue;
        specs[k].max_retries = 0;
    }
    for (size_t k = 0; k < n; k++)
        st[k] = QUEUE_ERR_IO; /* a reply not read (the connection failed) */
    if (r->enqueued == 0)
        r->enqueue_start_us = clock_mono_us();
    queue_status_t qs = queue_enqueue_many(r->q, specs, n, res, st, r->err, sizeof r->err);
    r->enqueue_end_us = clock_mono_us();
    for (size_t k = 0; k < n && st[k] == QUEUE_OK; k++) {
        if (!res[k].created) {  /* a random run id met an old run's ids */
            snprintf(r->err, sizeof r->err, "job %s already exists (state %s)", ids[k], res[k].state);
            return QUEUE_ERR_REPLY;
        }
        r->pending[r->npending++] = r->enqueued++;
    }
    return qs;
}

static int64_t field_us(const redisReply *e)
{
    return e->type == REDIS_REPLY_STRING ? strtoll(e->str, NULL, 10) : 0;
}

/* Takes job i's record (HMGET state enqueued_us started_us finished_us
 * error): 1 when the job has finished, else 0. */
static int take_record(load_run_t *r, size_t i, const redisReply *rec)
{
    const char *state = rec->element[0]->type == REDIS_REPLY_STRING ? rec->element[0]->str : NULL;
    const char *error = rec->element[4]->type == REDIS_REPLY_STRING ? rec->element[4]->str : NULL;
    load_job_t *j = &r->jobs[i];
    if (state == NULL) {
        /* Nothing expires a record before its job finishes: it was deleted. */
        j->outcome = LOAD_FAILED;
        error = "the job's record is gone (deleted by hand, or Redis flushed)";
    } else if (strcmp(state, "completed") == 0) {
        j->outcome = LOAD_COMPLETED;
    } else if (job_state_is_final(state)) {
        j->outcome = LOAD_FAILED;
    } else {
        return 0;
    }
    j->enqueued_us = field_us(rec->element[1]);
    j->started_us = field_us(rec->element[2]);
    j->finished_us = field_us(rec->element[3]);
    if (j->outcome == LOAD_COMPLETED) {
        r->completed++;
    } else {
        if (r->failed++ == 0) {
            char id[JOB_ID_MAX + 1];
            job_id(r, i, id, sizeof id);
            snprintf(r->first_error, sizeof r->first_error, "job %.128s %.16s: %.200s", id, state ? state : "lost",
                     error ? error : "(no error text)");
        }
    }
    if (j->started_us > 0) /* not one cancelled while it waited */
        r->started = 1;
    return 1;
}

/* Reads the records of pending[from, from + n) in one pipeline; moves the
 * unfinished ones down to pending[*keep...]. Returns how many finished, or
 * -1 with r->err when the connection failed. */
static long poll_chunk(load_run_t *r, size_t from, size_t n, size_t *keep)
{
    static char keys[LOAD_POLL_CHUNK][QUEUE_JOB_KEY_MAX];
    for (size_t k = 0; k < n; k++) {
        char id[JOB_ID_MAX + 1];
        job_id(r, r->pending[from + k], id, sizeof id);
        queue_job_key(r->q, id, keys[k], sizeof keys[k]);
        const char *argv[] = { "HMGET", keys[k], "state", "enqueued_us", "started_us", "finished_us", "error" };
        if (rconn_append_argv(r->q->conn, 7, argv, NULL) != 0) {
            snprintf(r->err, sizeof r->err, "cannot queue a pipelined command");
            return -1;
        }
    }
    long finished = 0;
    int failed = 0;
    for (size_t k = 0; k < n; k++) {
        redisReply *rec = rconn_read(r->q->conn, r->err, sizeof r->err);
        if (rec == NULL)
            return -1;
        if (!failed && (rec->type != REDIS_REPLY_ARRAY || rec->elements != 5)) {
            snprintf(r->err, sizeof r->err, "HMGET %.200s: %.500s", keys[k],
                     rec->type == REDIS_REPLY_ERROR ? rec->str : "unexpected reply");
            failed = 1; /* the rest are read all the same: the pipeline stays in step */
        }
        size_t i = r->pending[from + k];
        if (!failed && take_record(r, i, rec))
            finished++;
        else
            r->pending[(*keep)++] = i;
        freeReplyObject(rec);
    }
    return failed ? -1 : finished;
}

/* Reads the unfinished jobs' records, oldest first; `all`: every one, else
 * up to the first chunk in which none finished (at most LOAD_POLL_SCAN_MAX).
 * 0, or -1 with r->err. */
static int poll_jobs(load_run_t *r, int all)
{
    size_t at = 0, keep = 0;
    while (at < r->npending && (all || at < LOAD_POLL_SCAN_MAX)) {
        size_t n = r->npending - at < LOAD_POLL_CHUNK ? r->npending - at : LOAD_POLL_CHUNK;
        long finished = poll_chunk(r, at, n, &keep);
        at += n;
        if (finished < 0) {
            r->npending = 0; /* the connection is gone: nothing more is read */
            return -1;
        }
        if (finished == 0 && !all)
            break;
    }
    memmove(r->pending + keep, r->pending + at, (r->npending - at) * sizeof *r->pending);
    r->npending = keep + (r->npending - at);
    if (!r->started && r->npending > 0) {
        /* A running job has a running result before its record changes;
         * the oldest waiting job is the first to start. */
        char id[JOB_ID_MAX + 1], key[300];
        job_id(r, r->pending[0], id, sizeof id);
        queue_result_key(id, key, sizeof key);
        redisReply *rep = rconn_cmd(r->q->conn, r->err, sizeof r->err, "EXISTS %s", key);
        if (rep == NULL)
            return -1;
        r->started = rconn_reply_integer(rep) > 0;
        freeReplyObject(rep);
    }
    return 0;
}

static void progress_line(load_run_t *r, int64_t start_ms)
{
    fprintf(stderr, "\rtickq load-test: enqueued %zu/%lld, finished %zu (failed %zu), %.1f s\033[K",
            r->enqueued, r->f->tasks, r->completed + r->failed, r->failed,
            (double)(clock_mono_ms() - start_ms) / 1000.0);
    fflush(stderr);
    r->progress_shown = 1;
}

static void progress_clear(load_run_t *r)
{
    if (r->progress_shown)
        fputs("\r\033[K", stderr);
    r->progress_shown = 0;
}

/* How many jobs are due by now: all of them without --rate. */
static size_t due_now(const load_run_t *r)
{
    size_t n = (size_t)r->f->tasks;
    if (r->f->rate <= 0 || r->enqueued == 0)
        return r->f->rate <= 0 ? n : 1;
    double elapsed_s = (double)(clock_mono_us() - r->enqueue_start_us) / 1e6;
    double due = floor(elapsed_s * r->f->rate) + 1;
    return due >= (double)n ? n : (size_t)due;
}

/* Milliseconds until job `next` is due under --rate (at least 1). */
static int64_t ms_until_due(const load_run_t *r, size_t next)
{
    int64_t at = r->enqueue_start_us + (int64_t)((double)next * 1e6 / r->f->rate);
    int64_t ms = (at - clock_mono_us() + 999) / 1000;
    return ms < 1 ? 1 : ms;
}

typedef enum { END_DONE, END_TIMEOUT, END_SIGNAL, END_ERROR } load_end_t;

/* The loop: enqueue what is due, poll, show progress, until every job has
 * finished, the timeout, a signal or an error (*status gets its exit). */
static load_end_t run_loop(load_run_t *r, int *status)
{
    const load_flags_t *f = r->f;
    int64_t start_ms = clock_mono_ms(), deadline = start_ms + f->timeout_ms, next_poll = start_ms + LOAD_POLL_MS;
    int tty = isatty(STDERR_FILENO);
    for (;;) {
        if (g_stop)
            return END_SIGNAL;
        int64_t now = clock_mono_ms();
        if (now >= deadline)
            return END_TIMEOUT;
        size_t due = r->enqueued < (size_t)f->tasks ? due_now(r) : r->enqueued;
        if (due > r->enqueued) {
            size_t n = due - r->enqueued < (size_t)f->concurrency ? due - r->enqueued : (size_t)f->concurrency;
            queue_status_t qs = enqueue_batch(r, n);
            if (qs != QUEUE_OK) {
                progress_clear(r);
                *status = cli_fail(cli_queue_exit(qs), "cannot enqueue job %zu of %lld: %s", r->enqueued + 1,
                                   f->tasks, r->err);
                return END_ERROR;
            }
        }
        if (now >= next_poll) {
            if (poll_jobs(r, 0) != 0) {
                progress_clear(r);
                *status = cli_fail(EX_UNAVAILABLE, "cannot read the jobs' records: %s", r->err);
                return END_ERROR;
            }
            next_poll = clock_mono_ms() + LOAD_POLL_MS;
            if (!r->started && !r->warned && r->enqueued > 0 &&
                clock_mono_us() - r->enqueue_start_us >= LOAD_NO_START_WARN_MS * 1000LL) {
                progress_clear(r);
                fprintf(stderr, "tickq load-test: no job has started in %d s: is a worker serving queue %s? "
                        "(tickq worker --queues %s)\n", LOAD_NO_START_WARN_MS / 1000, f->queue, f->queue);
                r->warned = 1;
            }
            if (tty)
                progress_line(r, start_ms);
        }
        if (r->enqueued == (size_t)f->tasks && r->npending == 0)
            return END_DONE;
        /* Sleep until the next thing to do: a poll, a job due, the deadline. */
        int64_t wake = next_poll < deadline ? next_poll : deadline;
        if (r->enqueued < (size_t)f->tasks) {
            if (f->rate <= 0)
                continue;
            int64_t due_at = clock_mono_ms() + ms_until_due(r, r->enqueued);
            wake = due_at < wake ? due_at : wake;
        }
        int64_t ms = wake - clock_mono_ms();
        if (ms > 0)
            clock_sleep_ms(ms, &g_stop);
    }
}

static json_t *percentiles_json(int has, const load_percentiles_t *p)
{
    if (!has)
        return json_null();
    return json_pack("{s:f, s:f, s:f, s:f}", "p50", p->p50, "p90", p->p90, "p99", p->p99, "max", p->max);
}

static double enqueue_seconds(const load_run_t *r)
{
    return r->enqueued > 0 ? (double)(r->enqueue_end_us - r->enqueue_start_us) / 1e6 : 0;
}

static void report_json(const load_run_t *r, const load_summary_t *s, load_end_t end, double elapsed_s)
{
    const load_flags_t *f = r->f;
    double enq_s = enqueue_seconds(r);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:i, s:I, s:I, s:I, s:I, s:b, s:b, s:f, s:o, s:o, s:o, "
                          "s:f, s:o, s:o, s:o}",
                          "type", kinds[f->kind].name, "task", kinds[f->kind].task, "queue", f->queue,
                          "run_id", r->run_id, "tasks", (json_int_t)f->tasks,
                          "rate", f->rate > 0 ? json_real(f->rate) : json_null(), "concurrency", f->concurrency,
                          "enqueued", (json_int_t)r->enqueued, "completed", (json_int_t)s->completed,
                          "failed", (json_int_t)s->failed,
                          "unfinished", (json_int_t)(r->enqueued - s->completed - s->failed),
                          "timed_out", end == END_TIMEOUT, "interrupted", end == END_SIGNAL,
                          "enqueue_seconds", enq_s,
                          "enqueue_per_s", enq_s > 0 ? json_real((double)r->enqueued / enq_s) : json_null(),
                          "seconds", s->has_finish ? json_real(s->seconds) : json_null(),
                          "throughput_per_s", s->throughput > 0 ? json_real(s->throughput) : json_null(),
                          "elapsed_seconds", elapsed_s,
                          "latency_ms", percentiles_json(s->has_finish, &s->finish),
                          "start_latency_ms", percentiles_json(s->has_start, &s->start),
                          "first_error", r->first_error[0] ? json_string(r->first_error) : json_null());
    /* 15 digits: 0.498011, not the 0.49801099999999998 that 17 print. */
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    if (text != NULL)
        printf("%s\n", text);
    free(text);
    json_decref(o);
}

static void percentiles_row(const char *name, int has, const load_percentiles_t *p)
{
    if (has)
        printf("  %-16s %10.3f %10.3f %10.3f %10.3f\n", name, p->p50, p->p90, p->p99, p->max);
    else
        printf("  %-16s %10s %10s %10s %10s\n", name, "-", "-", "-", "-");
}

static void report_text(const load_run_t *r, const load_summary_t *s)
{
    const load_flags_t *f = r->f;
    double enq_s = enqueue_seconds(r);
    printf("load test %s: %lld %s jobs (task %s) on queue %s\n", r->run_id, f->tasks, kinds[f->kind].name,
           kinds[f->kind].task, f->queue);
    if (enq_s > 0)
        printf("enqueued    %zu in %.3f s (%.*f jobs/s)\n", r->enqueued, enq_s, /* a paced 0.2 a second is not 0 */
               (double)r->enqueued / enq_s < 10 ? 2 : 0, (double)r->enqueued / enq_s);
    else
        printf("enqueued    %zu\n", r->enqueued);
    printf("completed   %zu\n", s->completed);
    printf("failed      %zu\n", s->failed);
    size_t unfinished = r->enqueued - s->completed - s->failed;
    if (unfinished > 0)
        printf("unfinished  %zu (still on queue %s)\n", unfinished, f->queue);
    if (s->throughput > 0)
        printf("throughput  %.1f jobs/s (first enqueue to last finish: %.3f s)\n", s->throughput, s->seconds);
    else
        printf("throughput  -\n");
    printf("latency (ms)            p50        p90        p99        max\n");
    percentiles_row("enqueue->finish", s->has_finish, &s->finish);
    percentiles_row("enqueue->start", s->has_start, &s->start);
    if (r->first_error[0])
        printf("first error %s\n", r->first_error);
}

/* Why the test ended short, on stderr; returns the exit status. */
static int end_status(const load_run_t *r, const load_summary_t *s, load_end_t end)
{
    const load_flags_t *f = r->f;
    size_t unfinished = r->enqueued - s->completed - s->failed;
    if (end == END_SIGNAL || end == END_TIMEOUT) {
        if (end == END_SIGNAL)
            fprintf(stderr, "tickq load-test: interrupted: ");
        else
            fprintf(stderr, "tickq load-test: timed out after %g s: ", (double)f->timeout_ms / 1000.0);
        fprintf(stderr, "%zu of %lld jobs finished, %lld never enqueued", s->completed + s->failed, f->tasks,
                f->tasks - (long long)r->enqueued);
        if (unfinished > 0)
            fprintf(stderr, "; %zu stay on queue %s (the workers will run them)", unfinished, f->queue);
        fputc('\n', stderr);
        if (!r->started && !r->warned && r->enqueued > 0)
            fprintf(stderr, "tickq load-test: no job has started: is a worker serving queue %s? "
                    "(tickq worker --queues %s)\n", f->queue, f->queue);
        return end == END_SIGNAL ? 128 + (int)g_stop : EXIT_TIMEOUT;
    }
    if (s->failed > 0) {
        fprintf(stderr, "tickq load-test: %zu of %lld jobs failed (first: %s)\n", s->failed, f->tasks,
                r->first_error);
        return EXIT_FAILED;
    }
    return 0;
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C ends it at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int cmd_load_test(int argc, char **argv)
{
    load_flags_t f = { .kind = 0, .queue = "loadtest", .concurrency = 100, .io_ms = 10, .cpu_ms = 10,
                       .timeout_ms = 600000 };
    cli_session_t cli;
    memset(&cli, 0, sizeof cli);
    int st = cli_parse(argc, argv, options, usage, &cli.cfg, on_flag, &f);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    if (optind < argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    /* Every flag checked before connecting: a bad one is 64 whatever Redis does. */
    if ((st = check_flags(&f)) != 0 || (st = cli_connect(&cli.cfg, &cli.conn, &cli.q)) != 0)
        return st;
    rconn_set_name(cli.conn, "tickq-load-test");
    load_run_t *r = calloc(1, sizeof *r);
    if (r != NULL) {
        r->jobs = calloc((size_t)f.tasks, sizeof *r->jobs);
        r->pending = calloc((size_t)f.tasks, sizeof *r->pending);
    }
    if (r == NULL || r->jobs == NULL || r->pending == NULL) {
        st = cli_fail(EX_OSERR, "out of memory for %lld jobs", f.tasks);
        goto done;
    }
    r->f = &f;
    r->q = &cli.q;
    char uuid[UUID_STR_LEN];
    uuid_v4(uuid);
    snprintf(r->run_id, sizeof r->run_id, "%.8s%.4s", uuid, uuid + 9);
    const char *kind = kinds[f.kind].name;
    assert(task_find(kinds[f.kind].task) != NULL); /* each kind runs a built-in task */
    if (strcmp(kind, "noop") == 0)
        snprintf(r->args, sizeof r->args, "{}");
    else
        snprintf(r->args, sizeof r->args, "{\"ms\": %lld}", strcmp(kind, "io") == 0 ? f.io_ms : f.cpu_ms);
    catch_signals();
    int64_t t0 = clock_mono_ms();
    int loop_status = 0;
    load_end_t end = run_loop(r, &loop_status);
    progress_clear(r);
    if (end == END_ERROR) {
        st = loop_status;
        if (r->enqueued > 0)
            fprintf(stderr, "tickq load-test: %zu jobs enqueued by run %s stay on queue %s\n", r->enqueued,
                    r->run_id, f.queue);
        goto done;
    }
    if (end != END_DONE && poll_jobs(r, 1) != 0) {
        st = cli_fail(EX_UNAVAILABLE, "cannot read the jobs' records: %s", r->err);
        goto done;
    }
    load_summary_t s;
    if (load_summarize(r->jobs, r->enqueued, &s) != 0) {
        st = cli_fail(EX_OSERR, "out of memory");
        goto done;
    }
    double elapsed_s = (double)(clock_mono_ms() - t0) / 1000.0;
    if (f.as_json)
        report_json(r, &s, end, elapsed_s);
    else
        report_text(r, &s);
    fflush(stdout);
    st = end_status(r, &s, end);
done:
    if (r != NULL) {
        free(r->jobs);
        free(r->pending);
    }
    free(r);
    cli_close(&cli);
    return st;
}
