/* load_stats.c — a load test's counts, throughput and latency percentiles. */
#include "cmd/load_stats.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

size_t load_rank(size_t n, unsigned permille)
{
    assert(n > 0 && permille > 0 && permille <= 1000);
    /* In integers: p * n in floating point can land a hair above a whole
     * number (0.29 * 100) and ceil would then pick the next rank. */
    size_t k = (n * permille + 999) / 1000;
    return k - 1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

void load_percentiles(int64_t *us, size_t n, load_percentiles_t *out)
{
    assert(n > 0);
    qsort(us, n, sizeof *us, cmp_i64);
    out->p50 = (double)us[load_rank(n, 500)] / 1000.0;
    out->p90 = (double)us[load_rank(n, 900)] / 1000.0;
    out->p99 = (double)us[load_rank(n, 990)] / 1000.0;
    out->max = (double)us[n - 1] / 1000.0;
}

int load_summarize(const load_job_t *jobs, size_t n, load_summary_t *out)
{
    memset(out, 0, sizeof *out);
    int64_t *finish = malloc((n > 0 ? n : 1) * sizeof *finish);
    int64_t *start = malloc((n > 0 ? n : 1) * sizeof *start);
    if (finish == NULL || start == NULL) {
        free(finish);
        free(start);
        return -1;
    }
    size_t nfinish = 0, nstart = 0;
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        const load_job_t *j = &jobs[i];
        if (j->outcome == LOAD_PENDING)
            continue;
        if (j->outcome == LOAD_COMPLETED)
            out->completed++;
        else
            out->failed++;
        /* A failed job whose record lacks the times (its record is gone)
         * counts, but has no latency. */
        if (j->enqueued_us <= 0 || j->finished_us <= 0)
            continue;
        finish[nfinish++] = j->finished_us - j->enqueued_us;
        if (j->started_us > 0)
            start[nstart++] = j->started_us - j->enqueued_us;
        if (j->enqueued_us < first)
            first = j->enqueued_us;
        if (j->finished_us > last)
            last = j->finished_us;
    }
    if (nfinish > 0) {
        out->has_finish = 1;
        load_percentiles(finish, nfinish, &out->finish);
        out->seconds = (double)(last - first) / 1e6;
        if (out->seconds > 0 && nfinish > 1) /* one job's time is its latency, not a rate */
            out->throughput = (double)nfinish / out->seconds;
    }
    if (nstart > 0) {
        out->has_start = 1;
        load_percentiles(start, nstart, &out->start);
    }
    free(finish);
    free(start);
    return 0;
}
