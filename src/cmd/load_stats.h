/* load_stats.h — the figures of a load test (`tickq load-test`): what each
 * job's record said when it finished, and from those the counts,
 * throughput and latency percentiles the command prints.
 *
 * Times are the records' epoch microseconds (enqueued_us written by the
 * producer, started_us and finished_us by the worker): latencies across
 * hosts include their clocks' skew. A percentile is the nearest rank, the
 * smallest value with at least p of the values at or below it, so
 * p50 <= p90 <= p99 <= max always holds. */
#ifndef TICKQ_LOAD_STATS_H
#define TICKQ_LOAD_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef enum { LOAD_PENDING = 0, LOAD_COMPLETED, LOAD_FAILED } load_outcome_t;

/* One job of a load test. A time the record did not give is 0. */
typedef struct {
    int64_t enqueued_us;
    int64_t started_us;
    int64_t finished_us;
    load_outcome_t outcome;
} load_job_t;

typedef struct {
    double p50, p90, p99, max;   /* milliseconds */
} load_percentiles_t;

typedef struct {
    size_t completed;
    size_t failed;               /* every job that ended otherwise: failed, dead, cancelled */
    double seconds;              /* first enqueue to last finish of the finished jobs; 0: none */
    double throughput;           /* the finished jobs with their times / seconds; 0 when seconds is 0 */
    int has_finish;              /* finish: enqueue to finish of the finished jobs */
    load_percentiles_t finish;
    int has_start;               /* start: enqueue to start of those whose record gives a start */
    load_percentiles_t start;
} load_summary_t;

/* The index of the nearest-rank percentile of `permille` (1 to 1000: 990
 * is p99) among n > 0 sorted values: ceil(permille * n / 1000) - 1. */
size_t load_rank(size_t n, unsigned permille);

/* Sorts the n > 0 durations us[] (microseconds) in place and fills *out. */
void load_percentiles(int64_t *us, size_t n, load_percentiles_t *out);

/* Sums up jobs[0..n): counts, throughput and percentiles of the finished
 * ones (LOAD_PENDING ones are left out). 0, or -1 when out of memory. */
int load_summarize(const load_job_t *jobs, size_t n, load_summary_t *out);

#endif
