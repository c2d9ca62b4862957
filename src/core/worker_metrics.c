/* worker_metrics.c — a worker's own numbers in shared memory
 * (worker_metrics.h). */
#include "core/worker_metrics.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "core/clock.h"

const double worker_metrics_bucket_s[WORKER_METRICS_BUCKETS] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                                  0.25, 0.5, 1, 2.5, 10, 60, 300 };

static worker_metrics_t *g_page;

int worker_metrics_open(void)
{
    if (g_page != NULL)
        return 0;
    void *p = mmap(NULL, sizeof *g_page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    g_page = p; /* zeroed by the kernel */
    atomic_store(&g_page->started_ms, clock_now_ms());
    return 0;
}

void worker_metrics_forget(void)
{
    if (g_page != NULL)
        munmap(g_page, sizeof *g_page);
    g_page = NULL;
}

worker_metrics_t *worker_metrics_page(void)
{
    return g_page;
}

static uint32_t hash_of(const char *queue, const char *type)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *s = queue; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
    for (const char *s = type; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The series of (queue, type): found, or claimed and published; NULL when
 * every series is taken. */
static worker_metrics_series_t *series_of(const char *queue, const char *type)
{
    uint32_t start = hash_of(queue, type) % WORKER_METRICS_SERIES;
    for (uint32_t k = 0; k < WORKER_METRICS_SERIES; k++) {
        worker_metrics_series_t *s = &g_page->series[(start + k) % WORKER_METRICS_SERIES];
        int state = atomic_load(&s->state);
        if (state == 0) {
            int expected = 0;
            if (atomic_compare_exchange_strong(&s->state, &expected, 1)) {
                snprintf(s->queue, sizeof s->queue, "%s", queue);
                snprintf(s->type, sizeof s->type, "%s", type);
                atomic_store(&s->state, 2);
                return s;
            }
            state = expected;
        }
        /* Another process is claiming it: it publishes within
         * nanoseconds, unless it was killed doing so (then never). */
        for (int spin = 0; state == 1 && spin < 1000; spin++)
            state = atomic_load(&s->state);
        if (state == 2 && strcmp(s->queue, queue) == 0 && strcmp(s->type, type) == 0)
            return s;
    }
    return NULL;
}

void worker_metrics_job(const char *queue, const char *type, job_outcome_kind_t kind, int64_t duration_us)
{
    /* A shutdown's job goes back uncharged: no attempt, nothing counted. */
    if (g_page == NULL || (int)kind < 0 || kind >= WORKER_METRICS_OUTCOMES || kind == OUTCOME_SHUTDOWN)
        return;
    atomic_store(&g_page->last_finished_us, clock_now_us());
    worker_metrics_series_t *s = series_of(queue, type);
    if (s == NULL) {
        atomic_fetch_add(&g_page->dropped, 1);
        return;
    }
    if (duration_us < 0)
        duration_us = 0;
    int b = 0;
    while (b < WORKER_METRICS_BUCKETS && (double)duration_us / 1e6 > worker_metrics_bucket_s[b])
        b++;
    atomic_fetch_add(&s->buckets[b], 1);
    atomic_fetch_add(&s->duration_us, duration_us);
    atomic_fetch_add(&s->outcomes[kind], 1); /* last: a reader sees a count only with its duration */
}

void worker_metrics_sandbox_kill(sandbox_kill_reason_t reason)
{
    if (g_page != NULL && (int)reason >= 0 && reason < SANDBOX_KILL_REASONS)
        atomic_fetch_add(&g_page->kills[reason], 1);
}

void worker_metrics_supervisor(int children, int busy, int wanted, int stopping, int64_t now_mono_ms)
{
    if (g_page == NULL)
        return;
    atomic_store(&g_page->children, children);
    atomic_store(&g_page->busy, busy);
    atomic_store(&g_page->wanted, wanted);
    atomic_store(&g_page->stopping, stopping);
    atomic_store(&g_page->turned_ms, now_mono_ms);
}

void worker_metrics_autoscale(int desired, long long backlog, double oldest_ready_age_s, int change)
{
    if (g_page == NULL)
        return;
    atomic_store(&g_page->autoscale_desired, desired);
    atomic_store(&g_page->autoscale_backlog, backlog);
    atomic_store(&g_page->autoscale_oldest_ready_ms, (long long)(oldest_ready_age_s * 1000.0));
    if (change > 0)
        atomic_fetch_add(&g_page->autoscale_up, 1);
    else if (change < 0)
        atomic_fetch_add(&g_page->autoscale_down, 1);
    atomic_store(&g_page->autoscaled, 1); /* last: a reader that sees it sees the rest */
}

const char *sandbox_kill_reason_name(sandbox_kill_reason_t reason)
{
    switch (reason) {
    case SANDBOX_KILL_TIME: return "time";
    case SANDBOX_KILL_MEMORY: return "memory";
    case SANDBOX_KILL_SYSCALL: return "syscall";
    default: return "other";
    }
}
