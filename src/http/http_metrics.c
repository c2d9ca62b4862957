/* http_metrics.c — the Prometheus text of GET /metrics (http_metrics.h). */
#include "http/http_metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/history_keys.h"
#include "core/log.h"
#include "core/queue.h"
#include "core/stats.h"
#include "core/stream_info.h"
#include "core/worker_metrics.h"
#include "http/http_app.h"

/* --- the text ------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len, cap;
    int failed;
} text_t;

static void add(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(text_t *t, const char *fmt, ...)
{
    for (int tries = 0; tries < 2 && !t->failed; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->buf != NULL && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap + (size_t)n + 1) * 2;
        char *grown = realloc(t->buf, cap);
        if (grown == NULL) {
            t->failed = 1;
            return;
        }
        t->buf = grown;
        t->cap = cap;
    }
}

/* A label value with \, " and newlines escaped (Prometheus text format). */
static const char *label(const char *s, char *out, size_t outlen)
{
    size_t o = 0;
    for (; *s && o + 3 < outlen; s++) {
        if (*s == '\\' || *s == '"') {
            out[o++] = '\\';
            out[o++] = *s;
        } else if (*s == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
    return out;
}

static void family(text_t *t, const char *name, const char *type, const char *help)
{
    add(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* --- this worker's series ------------------------------------------------- */

static int published(const worker_metrics_series_t *s)
{
    return atomic_load(&s->state) == 2;
}

/* One (queue, type) pair's numbers. A pair may have two series on the page
 * (a process paused between claiming a series and publishing it, while
 * another claimed the next free one for the same pair): their sum. */
typedef struct {
    const worker_metrics_series_t *first;
    long long outcomes[WORKER_METRICS_OUTCOMES];
    long long buckets[WORKER_METRICS_BUCKETS + 1];
    long long duration_us;
} pair_t;

/* The pairs of the page, each once; returns how many (out has room for all). */
static int pairs_of(worker_metrics_t *m, pair_t *out)
{
    int n = 0;
    for (int i = 0; i < WORKER_METRICS_SERIES; i++) {
        worker_metrics_series_t *s = &m->series[i];
        if (!published(s))
            continue;
        pair_t *p = NULL;
        for (int k = 0; k < n && p == NULL; k++)
            if (strcmp(out[k].first->queue, s->queue) == 0 && strcmp(out[k].first->type, s->type) == 0)
                p = &out[k];
        if (p == NULL) {
            p = &out[n++];
            memset(p, 0, sizeof *p);
            p->first = s;
        }
        /* An attempt being recorded shows in the buckets before its
         * outcome (worker_metrics_job adds the outcome last). */
        for (int o = 0; o < WORKER_METRICS_OUTCOMES; o++)
            p->outcomes[o] += atomic_load(&s->outcomes[o]);
        for (int b = 0; b <= WORKER_METRICS_BUCKETS; b++)
            p->buckets[b] += atomic_load(&s->buckets[b]);
        p->duration_us += atomic_load(&s->duration_us);
    }
    return n;
}

static void process_series(text_t *t, worker_metrics_t *m)
{
    static pair_t pairs[WORKER_METRICS_SERIES]; /* one scrape at a time (the app's lock) */
    int n = pairs_of(m, pairs);
    char q[256], ty[256];
    family(t, "tickq_worker_jobs_total", "counter",
           "Job attempts this worker ran, by logical queue, task type and outcome (ok, transient, permanent, "
           "timeout, crash, cancel).");
    for (int i = 0; i < n; i++) {
        label(pairs[i].first->queue, q, sizeof q);
        label(pairs[i].first->type, ty, sizeof ty);
        for (int o = 0; o < WORKER_METRICS_OUTCOMES; o++)
            if (o != OUTCOME_SHUTDOWN) /* not an attempt: never recorded */
                add(t, "tickq_worker_jobs_total{queue=\"%s\",type=\"%s\",outcome=\"%s\"} %lld\n", q, ty,
                    job_outcome_name((job_outcome_kind_t)o), pairs[i].outcomes[o]);
    }
    family(t, "tickq_worker_job_duration_seconds", "histogram",
           "How long this worker's job attempts ran, by logical queue and task type.");
    for (int i = 0; i < n; i++) {
        label(pairs[i].first->queue, q, sizeof q);
        label(pairs[i].first->type, ty, sizeof ty);
        long long cumulative = 0;
        for (int b = 0; b <= WORKER_METRICS_BUCKETS; b++) {
            cumulative += pairs[i].buckets[b];
            if (b < WORKER_METRICS_BUCKETS)
                add(t, "tickq_worker_job_duration_seconds_bucket{queue=\"%s\",type=\"%s\",le=\"%g\"} %lld\n", q, ty,
                    worker_metrics_bucket_s[b], cumulative);
            else
                add(t, "tickq_worker_job_duration_seconds_bucket{queue=\"%s\",type=\"%s\",le=\"+Inf\"} %lld\n", q,
                    ty, cumulative);
        }
        add(t, "tickq_worker_job_duration_seconds_sum{queue=\"%s\",type=\"%s\"} %.6f\n", q, ty,
            (double)pairs[i].duration_us / 1e6);
        add(t, "tickq_worker_job_duration_seconds_count{queue=\"%s\",type=\"%s\"} %lld\n", q, ty, cumulative);
    }
    family(t, "tickq_worker_children", "gauge", "Worker children of this worker that are alive.");
    add(t, "tickq_worker_children %d\n", atomic_load(&m->children));
    family(t, "tickq_worker_busy_children", "gauge", "Worker children of this worker running a job now.");
    add(t, "tickq_worker_busy_children %d\n", atomic_load(&m->busy));
    family(t, "tickq_worker_desired_children", "gauge", "Worker children this worker runs when not stopping.");
    add(t, "tickq_worker_desired_children %d\n", atomic_load(&m->wanted));
    family(t, "tickq_worker_stopping", "gauge", "1 while this worker shuts down.");
    add(t, "tickq_worker_stopping %d\n", atomic_load(&m->stopping));
    family(t, "tickq_worker_start_time_seconds", "gauge", "When this worker started (Unix time).");
    add(t, "tickq_worker_start_time_seconds %.3f\n", (double)atomic_load(&m->started_ms) / 1000.0);
    family(t, "tickq_worker_last_job_finished_time_seconds", "gauge",
           "When an attempt of a job last ended on this worker (Unix time; 0: none yet).");
    add(t, "tickq_worker_last_job_finished_time_seconds %.3f\n", (double)atomic_load(&m->last_finished_us) / 1e6);
    family(t, "tickq_sandbox_kills_total", "counter",
           "Strategies this worker's sandbox stopped, by reason (time, memory, syscall, other).");
    for (int r = 0; r < SANDBOX_KILL_REASONS; r++)
        add(t, "tickq_sandbox_kills_total{reason=\"%s\"} %lld\n", sandbox_kill_reason_name((sandbox_kill_reason_t)r),
            atomic_load(&m->kills[r]));
    family(t, "tickq_worker_metrics_dropped_total", "counter",
           "Job attempts not in tickq_worker_jobs_total: more queue and type pairs than the worker keeps series for.");
    add(t, "tickq_worker_metrics_dropped_total %lld\n", atomic_load(&m->dropped));
    if (!atomic_load(&m->autoscaled))
        return; /* a fixed --workers N: no autoscaler series */
    family(t, "tickq_autoscaler_desired_children", "gauge",
           "Worker children the autoscaler wants now (--autoscale; between --min-workers and --max-workers).");
    add(t, "tickq_autoscaler_desired_children %d\n", atomic_load(&m->autoscale_desired));
    family(t, "tickq_autoscaler_decisions_total", "counter",
           "Changes the autoscaler made to the number of worker children, by direction (up, down).");
    add(t, "tickq_autoscaler_decisions_total{direction=\"up\"} %lld\n", atomic_load(&m->autoscale_up));
    add(t, "tickq_autoscaler_decisions_total{direction=\"down\"} %lld\n", atomic_load(&m->autoscale_down));
    family(t, "tickq_autoscaler_backlog", "gauge",
           "Jobs waiting on this worker's queues at the autoscaler's last sample: ready, plus retries and delayed "
           "jobs due.");
    add(t, "tickq_autoscaler_backlog %lld\n", atomic_load(&m->autoscale_backlog));
    family(t, "tickq_autoscaler_oldest_ready_age_seconds", "gauge",
           "How long the oldest ready job of this worker's queues had waited at the autoscaler's last sample "
           "(0: none).");
    add(t, "tickq_autoscaler_oldest_ready_age_seconds %.3f\n",
        (double)atomic_load(&m->autoscale_oldest_ready_ms) / 1000.0);
}

/* --- the cluster's series ------------------------------------------------- */

/* Reads n pipelined replies into r; 0, or -1 (all freed). */
static int read_replies(rconn_t *c, redisReply **r, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if ((r[i] = rconn_read(c, err, errlen)) == NULL) {
            for (size_t k = 0; k < i; k++)
                freeReplyObject(r[k]);
            return -1;
        }
    return 0;
}

static void free_replies(redisReply **r, size_t n)
{
    for (size_t i = 0; r != NULL && i < n; i++)
        freeReplyObject(r[i]);
}

/* Replies per physical queue in round trip 2: XINFO GROUPS, ZCARD delayed,
 * ZCARD retry, XLEN, ZCARD deferred. */
#define PER_QUEUE 5

typedef struct {
    const char *name;            /* physical */
    char logical[QUEUE_PHYS_MAX];
    const char *priority;
    long long ready, running, delayed, retrying, deferred;
    char last_delivered[64];
    double oldest_s;             /* -1: no ready job */
} phys_t;

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const phys_t *)a)->name, ((const phys_t *)b)->name);
}

/* The round trips: names, then everything per name, then the oldest ready
 * entry of each queue that has one. Returns 0, or -1 with err. */
static int cluster_series(text_t *t, queue_t *q, char *err, size_t errlen)
{
    rconn_t *c = q->conn;
    char queues_key[256], dead_key[256], workers_key[256], streams_key[256], fires_key[256], misfires_key[256];
    queue_queues_key(q, queues_key, sizeof queues_key);
    queue_dead_key(q, dead_key, sizeof dead_key);
    queue_workers_key(q, workers_key, sizeof workers_key);
    history_streams_key(q->prefix, streams_key, sizeof streams_key);
    queue_scheduler_fires_key(q, fires_key, sizeof fires_key);
    queue_scheduler_misfires_key(q, misfires_key, sizeof misfires_key);
    /* fires before misfires: the scheduler counts them in the other order
     * (count_runs), so a fire seen comes with its misfires. */
    const char *first[6][4] = {
        { "SMEMBERS", queues_key }, { "XLEN", dead_key }, { "ZRANGE", workers_key, "0", "-1" },
        { "SMEMBERS", streams_key }, { "HGETALL", fires_key }, { "HGETALL", misfires_key },
    };
    int first_argc[6] = { 2, 2, 4, 2, 2, 2 };
    for (int i = 0; i < 6; i++)
        rconn_append_argv(c, first_argc[i], first[i], NULL);
    redisReply *r1[6];
    if (read_replies(c, r1, 6, err, errlen) != 0)
        return -1;
    redisReply *names = r1[0], *workers = r1[2], *streams = r1[3];
    size_t nq = names->type == REDIS_REPLY_ARRAY ? names->elements : 0;
    size_t nw = workers->type == REDIS_REPLY_ARRAY ? workers->elements : 0;
    size_t nh = streams->type == REDIS_REPLY_ARRAY ? streams->elements : 0;
    phys_t *ph = calloc(nq + 1, sizeof *ph);
    const char **logicals = calloc(nq + 1, sizeof *logicals);
    size_t nl = 0, n2 = nq * PER_QUEUE + nw + nh * 2, n3 = 0;
    redisReply **r2 = calloc(n2 + 1, sizeof *r2), **r3 = calloc(nq + 1, sizeof *r3), **rs = NULL;
    int rc = -1;
    if (ph == NULL || logicals == NULL || r2 == NULL || r3 == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nq; i++) {
        ph[i].name = names->element[i]->str;
        ph[i].priority = queue_logical(ph[i].name, ph[i].logical, sizeof ph[i].logical);
        ph[i].oldest_s = -1;
    }
    qsort(ph, nq, sizeof *ph, cmp_name);
    for (size_t i = 0; i < nq; i++) {
        int seen = 0;
        for (size_t k = 0; k < nl && !seen; k++)
            seen = strcmp(logicals[k], ph[i].logical) == 0;
        if (!seen)
            logicals[nl++] = ph[i].logical;
    }
    if ((rs = calloc(nl + 1, sizeof *rs)) == NULL) { /* before anything is sent: no reply left unread */
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    /* Round trip 2. */
    for (size_t i = 0; i < nq; i++) {
        char stream[QUEUE_KEY_MAX], delayed[256], retry[256], deferred[256];
        queue_stream_key(q->prefix, ph[i].name, stream);
        queue_delayed_key(q, ph[i].name, delayed, sizeof delayed);
        queue_retry_key(q, ph[i].name, retry, sizeof retry);
        queue_deferred_key(q, ph[i].name, deferred, sizeof deferred);
        const char *a[3] = { "XINFO", "GROUPS", stream }, *b[2] = { "ZCARD", delayed }, *d[2] = { "ZCARD", retry };
        const char *e[2] = { "XLEN", stream }, *f[2] = { "ZCARD", deferred };
        rconn_append_argv(c, 3, a, NULL);
        rconn_append_argv(c, 2, b, NULL);
        rconn_append_argv(c, 2, d, NULL);
        rconn_append_argv(c, 2, e, NULL);
        rconn_append_argv(c, 2, f, NULL);
    }
    for (size_t i = 0; i < nw; i++) {
        char key[300];
        queue_worker_key(q, workers->element[i]->str, key, sizeof key);
        const char *a[2] = { "GET", key };
        rconn_append_argv(c, 2, a, NULL);
    }
    for (size_t i = 0; i < nh; i++) {
        char state[HISTORY_KEY_MAX + 16];
        history_state_key(streams->element[i]->str, state, sizeof state);
        const char *a[6] = { "HMGET", state, "database", "waiting", "dropped", "refused" };
        const char *b[6] = { "XRANGE", streams->element[i]->str, "-", "+", "COUNT", "1" };
        rconn_append_argv(c, 6, a, NULL);
        rconn_append_argv(c, 6, b, NULL);
    }
    for (size_t i = 0; i < nl; i++) {
        char key[256];
        queue_stats_key(q, logicals[i], key, sizeof key);
        const char *a[2] = { "HGETALL", key };
        rconn_append_argv(c, 2, a, NULL);
    }
    if (read_replies(c, r2, n2, err, errlen) != 0) {
        free(r2);
        r2 = NULL;
        goto out;
    }
    if (read_replies(c, rs, nl, err, errlen) != 0) {
        free(rs);
        rs = NULL;
        goto out;
    }
    /* Round trip 3: the first entry after the group's last delivered one. */
    for (size_t i = 0; i < nq; i++) {
        const redisReply *g = stream_group_of(r2[i * PER_QUEUE], q->group);
        const redisReply *last = stream_reply_field(g, "last-delivered-id");
        ph[i].running = rconn_reply_integer(stream_reply_field(g, "pending"));
        ph[i].ready = stream_ready(g, rconn_reply_integer(r2[i * PER_QUEUE + 3]));
        ph[i].delayed = rconn_reply_integer(r2[i * PER_QUEUE + 1]);
        ph[i].retrying = rconn_reply_integer(r2[i * PER_QUEUE + 2]);
        ph[i].deferred = rconn_reply_integer(r2[i * PER_QUEUE + 4]);
        if (last != NULL && last->type == REDIS_REPLY_STRING)
            snprintf(ph[i].last_delivered, sizeof ph[i].last_delivered, "(%s", last->str);
        else if (g == NULL)
            snprintf(ph[i].last_delivered, sizeof ph[i].last_delivered, "-");
        if (ph[i].ready > 0 && ph[i].last_delivered[0]) {
            char stream[QUEUE_KEY_MAX];
            queue_stream_key(q->prefix, ph[i].name, stream);
            const char *a[6] = { "XRANGE", stream, ph[i].last_delivered, "+", "COUNT", "1" };
            rconn_append_argv(c, 6, a, NULL);
            n3++;
        }
    }
    if (read_replies(c, r3, n3, err, errlen) != 0) {
        n3 = 0;
        goto out;
    }
    long long now_ms = clock_now_ms();
    for (size_t i = 0, k = 0; i < nq; i++) {
        if (!(ph[i].ready > 0 && ph[i].last_delivered[0]))
            continue;
        const char *oldest = stream_first_id(r3[k++]);
        if (oldest != NULL) {
            long long ms = stream_id_ms(oldest);
            ph[i].oldest_s = ms < now_ms ? (double)(now_ms - ms) / 1000.0 : 0;
        }
    }

    char l1[256], l2[256];
    family(t, "tickq_queue_jobs", "gauge",
           "Jobs in each physical queue by state: ready (waiting for a worker), running, delayed, retrying "
           "(waiting for their backoff), deferred (waiting for the jobs they depend on).");
    for (size_t i = 0; i < nq; i++) {
        static const char *const states[] = { "ready", "running", "delayed", "retrying", "deferred" };
        long long v[5] = { ph[i].ready, ph[i].running, ph[i].delayed, ph[i].retrying, ph[i].deferred };
        for (int s = 0; s < 5; s++)
            add(t, "tickq_queue_jobs{queue=\"%s\",priority=\"%s\",state=\"%s\"} %lld\n",
                label(ph[i].logical, l1, sizeof l1), label(ph[i].priority, l2, sizeof l2), states[s], v[s]);
    }
    family(t, "tickq_queue_oldest_ready_age_seconds", "gauge",
           "How long the oldest ready job of each physical queue has waited for a worker (0: none ready).");
    for (size_t i = 0; i < nq; i++)
        add(t, "tickq_queue_oldest_ready_age_seconds{queue=\"%s\",priority=\"%s\"} %.3f\n",
            label(ph[i].logical, l1, sizeof l1), label(ph[i].priority, l2, sizeof l2),
            ph[i].oldest_s > 0 ? ph[i].oldest_s : 0.0);
    static const char *const events[] = { "submitted", "completed", "failed", "timeout", "retried", "dead",
                                          "cancelled", "failed_attempts", "reruns" };
    family(t, "tickq_queue_events_total", "counter",
           "Job events of each logical queue across the cluster: submitted, completed, failed (for good), "
           "timeout, retried, dead, cancelled, failed_attempts, reruns.");
    for (size_t i = 0; i < nl; i++)
        for (size_t e = 0; e < sizeof events / sizeof events[0]; e++)
            add(t, "tickq_queue_events_total{queue=\"%s\",event=\"%s\"} %lld\n", label(logicals[i], l1, sizeof l1),
                events[e], rconn_reply_integer(stream_reply_field(rs[i], events[e])));
    static const char *const list_names[3][3] = {
        { "tickq_list_imports_total", "list_imported", "Tasks imported from the users' list protocol, by the queue they joined." },
        { "tickq_list_rejections_total", "list_rejected", "List protocol entries refused (malformed), by queue." },
        { "tickq_list_duplicates_total", "list_duplicates", "List protocol entries whose id was already a job, by queue." },
    };
    for (int f = 0; f < 3; f++) {
        family(t, list_names[f][0], "counter", list_names[f][2]);
        for (size_t i = 0; i < nl; i++)
            add(t, "%s{queue=\"%s\"} %lld\n", list_names[f][0], label(logicals[i], l1, sizeof l1),
                rconn_reply_integer(stream_reply_field(rs[i], list_names[f][1])));
    }
    family(t, "tickq_dead_letter_jobs", "gauge", "Entries in the dead-letter stream.");
    add(t, "tickq_dead_letter_jobs %lld\n", rconn_reply_integer(r1[1]));
    long long live = 0, children = 0, busy = 0;
    for (size_t i = 0; i < nw; i++) {
        const redisReply *hb = r2[nq * PER_QUEUE + i];
        if (hb->type != REDIS_REPLY_STRING)
            continue; /* its heartbeat expired */
        json_t *w = json_loads(hb->str, 0, NULL);
        if (w == NULL)
            continue;
        live++;
        children += json_integer_value(json_object_get(w, "workers"));
        busy += json_integer_value(json_object_get(w, "busy"));
        json_decref(w);
    }
    family(t, "tickq_workers_live", "gauge", "Workers (supervisors) whose heartbeat is current.");
    add(t, "tickq_workers_live %lld\n", live);
    family(t, "tickq_workers_children", "gauge",
           "Worker children all live workers run (each one's current count as its heartbeat says).");
    add(t, "tickq_workers_children %lld\n", children);
    family(t, "tickq_workers_busy_children", "gauge", "Worker children of all live workers running a job.");
    add(t, "tickq_workers_busy_children %lld\n", busy);
    family(t, "tickq_scheduler_fires_total", "counter", "Runs the scheduler fired, by schedule.");
    for (size_t j = 0; r1[4]->type == REDIS_REPLY_ARRAY && j + 1 < r1[4]->elements; j += 2)
        add(t, "tickq_scheduler_fires_total{schedule=\"%s\"} %lld\n", label(r1[4]->element[j]->str, l1, sizeof l1),
            rconn_reply_integer(r1[4]->element[j + 1]));
    family(t, "tickq_scheduler_misfires_total", "counter",
           "Runs the scheduler missed (it was down, or behind) and did not make up, by schedule.");
    for (size_t j = 0; r1[5]->type == REDIS_REPLY_ARRAY && j + 1 < r1[5]->elements; j += 2)
        add(t, "tickq_scheduler_misfires_total{schedule=\"%s\"} %lld\n", label(r1[5]->element[j]->str, l1, sizeof l1),
            rconn_reply_integer(r1[5]->element[j + 1]));
    family(t, "tickq_history_rows_waiting", "gauge", "Job history rows in Redis not yet written to the database.");
    for (size_t i = 0; i < nh; i++) {
        const redisReply *st = r2[nq * PER_QUEUE + nw + i * 2];
        const char *db = st->type == REDIS_REPLY_ARRAY && st->elements == 4 && st->element[0]->str ?
                         st->element[0]->str : "";
        add(t, "tickq_history_rows_waiting{database=\"%s\"} %lld\n", label(db, l1, sizeof l1),
            st->type == REDIS_REPLY_ARRAY && st->elements == 4 ? rconn_reply_integer(st->element[1]) : 0);
    }
    family(t, "tickq_history_rows_dropped_total", "counter",
           "Job history rows dropped because the backlog passed its cap (the database was behind or down).");
    for (size_t i = 0; i < nh; i++) {
        const redisReply *st = r2[nq * PER_QUEUE + nw + i * 2];
        const char *db = st->type == REDIS_REPLY_ARRAY && st->elements == 4 && st->element[0]->str ?
                         st->element[0]->str : "";
        add(t, "tickq_history_rows_dropped_total{database=\"%s\"} %lld\n", label(db, l1, sizeof l1),
            st->type == REDIS_REPLY_ARRAY && st->elements == 4 ? rconn_reply_integer(st->element[2]) : 0);
    }
    family(t, "tickq_history_rows_refused_total", "counter",
           "Job history rows the database refused (a value it cannot store), skipped and logged.");
    for (size_t i = 0; i < nh; i++) {
        const redisReply *st = r2[nq * PER_QUEUE + nw + i * 2];
        const char *db = st->type == REDIS_REPLY_ARRAY && st->elements == 4 && st->element[0]->str ?
                         st->element[0]->str : "";
        add(t, "tickq_history_rows_refused_total{database=\"%s\"} %lld\n", label(db, l1, sizeof l1),
            st->type == REDIS_REPLY_ARRAY && st->elements == 4 ? rconn_reply_integer(st->element[3]) : 0);
    }
    family(t, "tickq_history_write_lag_seconds", "gauge",
           "Age of the oldest job history row not yet written to the database (0: none waiting).");
    for (size_t i = 0; i < nh; i++) {
        const redisReply *st = r2[nq * PER_QUEUE + nw + i * 2], *e = r2[nq * PER_QUEUE + nw + i * 2 + 1];
        const char *db = st->type == REDIS_REPLY_ARRAY && st->elements == 4 && st->element[0]->str ?
                         st->element[0]->str : "";
        double lag = 0;
        const char *oldest = stream_first_id(e);
        if (oldest != NULL) {
            long long ms = stream_id_ms(oldest);
            lag = ms < now_ms ? (double)(now_ms - ms) / 1000.0 : 0;
        }
        add(t, "tickq_history_write_lag_seconds{database=\"%s\"} %.3f\n", label(db, l1, sizeof l1), lag);
    }
    rc = 0;
out:
    free_replies(r3, n3);
    free_replies(r2, r2 ? n2 : 0);
    free_replies(rs, rs ? nl : 0);
    free(r2);
    free(r3);
    free(rs);
    free(logicals);
    free(ph);
    free_replies(r1, 6);
    return rc;
}

void http_metrics(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { NULL };
    if (http_query_only(req, known, rep) != 0)
        return;
    http_app_t *a = app;
    int64_t start = clock_mono_us();
    text_t t = { 0 };
    worker_metrics_t *m = worker_metrics_page();
    if (m != NULL)
        process_series(&t, m);
    if (a->cluster_metrics) {
        char err[512];
        text_t cluster = { 0 };
        queue_t *q = http_app_queue(a, err, sizeof err);
        int ok = q != NULL && cluster_series(&cluster, q, err, sizeof err) == 0;
        if (!ok) {
            http_app_drop_broken(a);
            log_warn("metrics: cannot read the cluster's series from Redis", LF_S("error", err));
        } else if (!cluster.failed && cluster.buf != NULL) {
            add(&t, "%s", cluster.buf);
        }
        free(cluster.buf);
        family(&t, "tickq_redis_up", "gauge", "1 when this scrape could read the cluster's series from Redis.");
        add(&t, "tickq_redis_up %d\n", ok);
    }
    family(&t, "tickq_scrape_duration_seconds", "gauge", "How long this process took to build this page.");
    add(&t, "tickq_scrape_duration_seconds %.6f\n", (double)(clock_mono_us() - start) / 1e6);
    if (t.failed || t.buf == NULL) {
        free(t.buf);
        http_reply_error(rep, 500, "out of memory building the metrics");
        return;
    }
    http_reply_body(rep, 200, "text/plain; version=0.0.4; charset=utf-8", t.buf, t.len);
}
