/* bench_queue.c — the queue benchmark (`make bench-queue`): enqueue rate one
 * call at a time and in batches (queue_enqueue_batch: 400 jobs a Redis
 * call; the enqueue_bulk_per_s figure), processing rate of `tickq worker --burst`
 * over a full queue (the mean of two runs, and of two more without job
 * history: history_cost_pct is what the database's write-behind costs),
 * end-to-end rate with producer and workers together, and enqueue-to-start
 * latency at a fixed offered rate, also through the users' strategy_queue
 * list. With the processing rate, the Redis CPU time per job (INFO cpu
 * around the worker's run, over the job count), with and without history.
 * Prints one JSON line.
 *
 * Needs REDIS_URL (scripts/with-redis provides a private server) and the
 * tickq binary (--tickq PATH). Completion and start times are read back from
 * the job records (started_us, finished_us), so nothing is timed from logs. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/job.h"
#include "core/queue.h"
#include "core/rconn.h"
#include "core/redis_url.h"

#define BULK 1000

typedef struct {
    const char *tickq;
    long jobs;
    int workers;
    long latency_jobs;
    const char *log_level;
    const char *only;        /* run one phase (enqueue, process, e2e, latency) */
    const char *type;        /* the jobs' task type (default noop) */
    const char *config;      /* the workers' --config FILE (handlers), or NULL */
    const char *http;        /* the workers' --http ADDR:PORT (with --cluster-metrics), or NULL */
    rconn_t *conn;
    queue_t q;
    char err[1024];
} bench_t;

static void die(const char *what, const char *err)
{
    fprintf(stderr, "bench_queue: %s: %s\n", what, err);
    exit(1);
}

static void flush_redis(bench_t *b)
{
    redisReply *r = rconn_cmd(b->conn, b->err, sizeof b->err, "FLUSHALL");
    if (r == NULL)
        die("FLUSHALL", b->err);
    freeReplyObject(r);
}

static const char *g_type = "noop";

static void make_spec(job_spec_t *s, char *id, size_t cap, const char *tag, long i)
{
    job_spec_init(s);
    snprintf(id, cap, "%s-%ld", tag, i);
    s->id = id;
    s->type = g_type;
}

static double enqueue_single(bench_t *b, const char *tag, long n)
{
    int64_t t0 = clock_mono_us();
    for (long i = 0; i < n; i++) {
        job_spec_t s;
        char id[64];
        make_spec(&s, id, sizeof id, tag, i);
        enqueue_result_t res;
        if (queue_enqueue(&b->q, &s, &res, b->err, sizeof b->err) != QUEUE_OK)
            die("enqueue", b->err);
    }
    return (double)n / ((double)(clock_mono_us() - t0) / 1e6);
}

static double enqueue_bulk(bench_t *b, const char *tag, long n)
{
    static job_spec_t specs[BULK];
    static char ids[BULK][64];
    static enqueue_result_t res[BULK];
    int64_t t0 = clock_mono_us();
    for (long done = 0; done < n;) {
        long chunk = n - done < BULK ? n - done : BULK;
        for (long i = 0; i < chunk; i++)
            make_spec(&specs[i], ids[i], sizeof ids[i], tag, done + i);
        size_t went, refused;
        if (queue_enqueue_batch(&b->q, specs, (size_t)chunk, res, &went, &refused, b->err, sizeof b->err) != QUEUE_OK)
            die("enqueue_batch", b->err);
        done += chunk;
    }
    return (double)n / ((double)(clock_mono_us() - t0) / 1e6);
}

static pid_t start_worker(bench_t *b, int burst, int history)
{
    char workers[16];
    snprintf(workers, sizeof workers, "%d", b->workers);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        const char *argv[14] = { b->tickq, "worker", "--workers", workers, "--log-level", b->log_level };
        int argc = 6;
        if (b->config != NULL) {
            argv[argc++] = "--config";
            argv[argc++] = b->config;
        }
        if (b->http != NULL) {
            argv[argc++] = "--http";
            argv[argc++] = b->http;
            argv[argc++] = "--cluster-metrics";
        }
        if (!history)
            argv[argc++] = "--no-history";
        if (burst)
            argv[argc++] = "--burst";
        argv[argc] = NULL;
        execv(b->tickq, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int wait_worker(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static long long completed_count(bench_t *b)
{
    redisReply *r = rconn_cmd(b->conn, b->err, sizeof b->err, "HGET tickq:stats:backtest completed");
    if (r == NULL)
        die("HGET", b->err);
    long long n = r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
    freeReplyObject(r);
    return n;
}

/* Reads enqueued_us, started_us, finished_us of jobs tag-0..tag-(n-1). */
static void read_times(bench_t *b, const char *tag, long n, int64_t *enq, int64_t *start, int64_t *fin)
{
    for (long done = 0; done < n;) {
        long chunk = n - done < BULK ? n - done : BULK;
        for (long i = 0; i < chunk; i++) {
            char key[96];
            snprintf(key, sizeof key, "tickq:job:%s-%ld", tag, done + i);
            const char *argv[5] = { "HMGET", key, "enqueued_us", "started_us", "finished_us" };
            rconn_append_argv(b->conn, 5, argv, NULL);
        }
        for (long i = 0; i < chunk; i++) {
            redisReply *r = rconn_read(b->conn, b->err, sizeof b->err);
            if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3)
                die("HMGET", b->err);
            for (int k = 0; k < 3; k++) {
                int64_t v = r->element[k]->type == REDIS_REPLY_STRING ? atoll(r->element[k]->str) : 0;
                int64_t *dst = k == 0 ? enq : k == 1 ? start : fin;
                if (dst)
                    dst[done + i] = v;
            }
            freeReplyObject(r);
        }
        done += chunk;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void span(const int64_t *v, long n, int64_t *lo, int64_t *hi)
{
    *lo = INT64_MAX;
    *hi = 0;
    for (long i = 0; i < n; i++) {
        if (v[i] == 0)
            die("timing", "a job has no completion time (did every job finish?)");
        if (v[i] < *lo) *lo = v[i];
        if (v[i] > *hi) *hi = v[i];
    }
}

/* The CPU time of Redis's main thread so far, in microseconds (INFO cpu:
 * CPU time, not wall time, so a busy host inflates it less than commandstats'
 * usec, which also counts a script's commands twice). */
static double redis_cpu_us(bench_t *b)
{
    redisReply *r = rconn_cmd(b->conn, b->err, sizeof b->err, "INFO cpu");
    if (r == NULL || r->type != REDIS_REPLY_STRING)
        die("INFO cpu", b->err);
    const char *u = strstr(r->str, "used_cpu_user_main_thread:"), *s = strstr(r->str, "used_cpu_sys_main_thread:");
    if (u == NULL || s == NULL)
        die("INFO cpu", "no used_cpu_*_main_thread (Redis 6.2 or later has them)");
    double total = (strtod(u + 26, NULL) + strtod(s + 25, NULL)) * 1e6;
    freeReplyObject(r);
    return total;
}

/* history 0: the worker records no job history (--no-history), to measure
 * what the database's write-behind costs the queue. *redis_us gets the
 * Redis CPU time per job. */
static double process_rate(bench_t *b, int history, double *redis_us)
{
    flush_redis(b);
    enqueue_bulk(b, "p", b->jobs);
    double cpu0 = redis_cpu_us(b);
    pid_t w = start_worker(b, 1, history);
    if (wait_worker(w) != 0)
        die("worker", "tickq worker --burst failed");
    *redis_us = (redis_cpu_us(b) - cpu0) / (double)b->jobs;
    int64_t *fin = calloc((size_t)b->jobs, sizeof *fin);
    read_times(b, "p", b->jobs, NULL, NULL, fin);
    int64_t lo, hi;
    span(fin, b->jobs, &lo, &hi);
    free(fin);
    return (double)(b->jobs - 1) / ((double)(hi - lo) / 1e6);
}

static void stop_worker(pid_t w)
{
    kill(w, SIGTERM);
    wait_worker(w);
}

static void wait_completed(bench_t *b, long long n)
{
    int64_t deadline = clock_mono_ms() + 300000;
    while (completed_count(b) < n) {
        if (clock_mono_ms() > deadline)
            die("wait", "jobs did not complete within 300 s");
        clock_sleep_ms(20, NULL);
    }
}

static double e2e_rate(bench_t *b)
{
    flush_redis(b);
    pid_t w = start_worker(b, 0, 1);
    clock_sleep_ms(300, NULL); /* let the children start */
    int64_t t0 = clock_now_us();
    enqueue_bulk(b, "e", b->jobs);
    wait_completed(b, b->jobs);
    stop_worker(w);
    int64_t *fin = calloc((size_t)b->jobs, sizeof *fin);
    read_times(b, "e", b->jobs, NULL, NULL, fin);
    int64_t lo, hi;
    span(fin, b->jobs, &lo, &hi);
    free(fin);
    return (double)b->jobs / ((double)(hi - t0) / 1e6);
}

/* Offers `rate` jobs/s one at a time; fills p50/p99 of start - enqueue in
 * ms. via_list: the jobs are LPUSHed onto the users' strategy_queue list
 * instead (the time counted from the push). */
static void latency(bench_t *b, const char *tag, double rate, long n, int via_list, double *p50, double *p99,
                    double *done50, double *done99)
{
    if (n < 1 || n > 100000000)
        die("latency", "job count out of range");
    flush_redis(b);
    pid_t w = start_worker(b, 0, 1);
    clock_sleep_ms(300, NULL);
    int64_t *pushed = calloc((size_t)n, sizeof *pushed);
    int64_t t0 = clock_mono_us();
    for (long i = 0; i < n; i++) {
        int64_t due = t0 + (int64_t)((double)i * 1e6 / rate);
        int64_t now = clock_mono_us();
        if (due > now)
            usleep((useconds_t)(due - now));
        job_spec_t s;
        char id[64];
        make_spec(&s, id, sizeof id, tag, i);
        if (via_list) {
            char task[160];
            snprintf(task, sizeof task, "{\"task_id\":\"%s\",\"task_type\":\"%s\",\"args\":{}}", id, g_type);
            pushed[i] = clock_now_us();
            redisReply *r = rconn_cmd(b->conn, b->err, sizeof b->err, "LPUSH strategy_queue %s", task);
            if (r == NULL || r->type != REDIS_REPLY_INTEGER)
                die("LPUSH", b->err);
            freeReplyObject(r);
            continue;
        }
        enqueue_result_t res;
        if (queue_enqueue(&b->q, &s, &res, b->err, sizeof b->err) != QUEUE_OK)
            die("enqueue", b->err);
    }
    wait_completed(b, n);
    stop_worker(w);
    int64_t *enq = calloc((size_t)n, sizeof *enq), *start = calloc((size_t)n, sizeof *start);
    int64_t *fin = calloc((size_t)n, sizeof *fin);
    read_times(b, tag, n, enq, start, fin);
    if (via_list)
        memcpy(enq, pushed, (size_t)n * sizeof *enq);
    free(pushed);
    int64_t *d = calloc((size_t)n, sizeof *d);
    for (long i = 0; i < n; i++)
        d[i] = start[i] - enq[i];
    qsort(d, (size_t)n, sizeof *d, cmp_i64);
    *p50 = (double)d[n / 2] / 1000.0;
    *p99 = (double)d[(long)((double)n * 0.99)] / 1000.0;
    for (long i = 0; i < n; i++)
        d[i] = fin[i] - enq[i];
    qsort(d, (size_t)n, sizeof *d, cmp_i64);
    *done50 = (double)d[n / 2] / 1000.0;
    *done99 = (double)d[(long)((double)n * 0.99)] / 1000.0;
    free(fin);
    free(enq);
    free(start);
    free(d);
}

int main(int argc, char **argv)
{
    static bench_t b;
    b.tickq = "build/tickq";
    b.jobs = 100000;
    b.workers = 2;
    b.latency_jobs = 2000;
    b.log_level = "info";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tickq") == 0 && i + 1 < argc) b.tickq = argv[++i];
        else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) b.jobs = atol(argv[++i]);
        else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) b.workers = atoi(argv[++i]);
        else if (strcmp(argv[i], "--latency-jobs") == 0 && i + 1 < argc) b.latency_jobs = atol(argv[++i]);
        else if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) b.log_level = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) b.only = argv[++i];
        else if (strcmp(argv[i], "--type") == 0 && i + 1 < argc) b.type = argv[++i];
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) b.config = argv[++i];
        else if (strcmp(argv[i], "--http") == 0 && i + 1 < argc) b.http = argv[++i];
        else {
            fprintf(stderr, "usage: bench_queue [--tickq PATH] [--jobs N] [--workers N] "
                            "[--latency-jobs N] [--log-level L] [--only enqueue|process|e2e|latency]\n"
                            "       [--type TYPE] [--config FILE] [--http ADDR:PORT]\n");
            return 64;
        }
    }
    if (b.jobs < 2 || b.jobs > 100000000 || b.latency_jobs < 1 || b.latency_jobs > 10000000 ||
        b.workers < 1) {
        fprintf(stderr, "bench_queue: --jobs must be 2..1e8, --latency-jobs 1..1e7, --workers >= 1\n");
        return 64;
    }
    if (b.type != NULL)
        g_type = b.type;
    const char *url = getenv("REDIS_URL");
    redis_url_t u;
    if (url == NULL || redis_url_parse(url, &u, b.err, sizeof b.err) != 0)
        die("REDIS_URL", url ? b.err : "not set (run through scripts/with-redis)");
    if ((b.conn = rconn_open(&u, 30000, b.err, sizeof b.err)) == NULL)
        die("connect", b.err);
    config_t defaults; /* the queue's settings as a worker's without flags or environment */
    config_defaults(&defaults);
    queue_init(&b.q, b.conn);
    config_apply(&defaults, &b.q);

#define PHASE(name) (b.only == NULL || strcmp(b.only, name) == 0)
    double enq = 0, bulk = 0, proc = 0, e2e = 0, p50 = 0, p99 = 0, p50k = 0, p99k = 0, p50l = 0, p99l = 0;
    double d50 = 0, d99 = 0, d50k = 0, d99k = 0, d50l = 0, d99l = 0;
    if (PHASE("enqueue")) {
        flush_redis(&b);
        enq = enqueue_single(&b, "s", b.jobs);
        flush_redis(&b);
        bulk = enqueue_bulk(&b, "b", b.jobs);
    }
    double proc_no_history = 0, history_cost = 0, redis_us = 0, redis_us_off = 0;
    if (PHASE("process")) {
        /* With and without job history, interleaved: the VM's drift hits both. */
        double us[4];
        double on = process_rate(&b, 1, &us[0]), off = process_rate(&b, 0, &us[1]);
        on += process_rate(&b, 1, &us[2]);
        off += process_rate(&b, 0, &us[3]);
        proc = on / 2;
        proc_no_history = off / 2;
        history_cost = 100.0 * (1.0 - on / off);
        redis_us = (us[0] + us[2]) / 2;
        redis_us_off = (us[1] + us[3]) / 2;
    }
    if (PHASE("e2e"))
        e2e = e2e_rate(&b);
    if (PHASE("latency")) {
        latency(&b, "l", 200, b.latency_jobs, 0, &p50, &p99, &d50, &d99);
        latency(&b, "k", 1000, b.latency_jobs * 2, 0, &p50k, &p99k, &d50k, &d99k);
        latency(&b, "q", 200, b.latency_jobs, 1, &p50l, &p99l, &d50l, &d99l);
    }
    flush_redis(&b);
    printf("{\"bench\":\"queue\",\"jobs\":%ld,\"workers\":%d,\"enqueue_per_s\":%.0f,"
           "\"enqueue_bulk_per_s\":%.0f,\"process_per_s\":%.0f,\"e2e_per_s\":%.0f,"
           "\"latency_p50_ms\":%.3f,\"latency_p99_ms\":%.3f,\"latency_1k_p50_ms\":%.3f,"
           "\"latency_1k_p99_ms\":%.3f,\"latency_list_p50_ms\":%.3f,\"latency_list_p99_ms\":%.3f,"
           "\"process_no_history_per_s\":%.0f,\"history_cost_pct\":%.1f,\"redis_us_per_job\":%.2f,"
           "\"redis_us_per_job_no_history\":%.2f,\"log_level\":\"%s\",\"type\":\"%s\","
           "\"done_latency_p50_ms\":%.3f,\"done_latency_p99_ms\":%.3f}\n",
           b.jobs, b.workers, enq, bulk, proc, e2e, p50, p99, p50k, p99k, p50l, p99l, proc_no_history,
           history_cost, redis_us, redis_us_off, b.log_level, g_type, d50, d99);
    rconn_free(b.conn);
    return 0;
}
