/* test_load_stats.c — the load test's figures: nearest-rank percentiles
 * (against a plain count of the values at or below each), their order, and
 * the summary's counts, span and throughput. */
#include <stdint.h>
#include <stdlib.h>

#include "cmd/load_stats.h"
#include "unit.h"

TEST(load_rank_nearest_rank)
{
    CHECK_INT(load_rank(1, 500), 0);
    CHECK_INT(load_rank(1, 990), 0);
    CHECK_INT(load_rank(2, 500), 0);
    CHECK_INT(load_rank(2, 900), 1);
    CHECK_INT(load_rank(10, 500), 4);
    CHECK_INT(load_rank(10, 900), 8);
    CHECK_INT(load_rank(10, 990), 9);
    CHECK_INT(load_rank(100, 990), 98);
    CHECK_INT(load_rank(100, 290), 28);  /* 0.29 * 100 is 28.999...96 in doubles */
    CHECK_INT(load_rank(101, 990), 99);
    CHECK_INT(load_rank(1000, 1000), 999);
    /* The definition: the smallest rank with at least p of the values at or below it. */
    for (size_t n = 1; n <= 300; n++)
        for (unsigned pm = 1; pm <= 1000; pm += 7) {
            size_t k = load_rank(n, pm);
            CHECK((k + 1) * 1000 >= n * pm);
            CHECK(k == 0 || k * 1000 < n * pm);
        }
}

TEST(load_percentiles_sorted_and_ordered)
{
    int64_t us[100];
    for (int i = 0; i < 100; i++)
        us[i] = (int64_t)((i * 37) % 100 + 1) * 1000; /* 1..100 ms, shuffled */
    load_percentiles_t p;
    load_percentiles(us, 100, &p);
    CHECK(p.p50 == 50.0);
    CHECK(p.p90 == 90.0);
    CHECK(p.p99 == 99.0);
    CHECK(p.max == 100.0);
    int64_t one = 1500;
    load_percentiles(&one, 1, &p);
    CHECK(p.p50 == 1.5 && p.p90 == 1.5 && p.p99 == 1.5 && p.max == 1.5);
    srand(7);
    for (int round = 0; round < 50; round++) {
        size_t n = (size_t)(rand() % 500) + 1;
        int64_t *v = malloc(n * sizeof *v);
        for (size_t i = 0; i < n; i++)
            v[i] = rand() % 1000000;
        load_percentiles(v, n, &p);
        CHECK(p.p50 <= p.p90 && p.p90 <= p.p99 && p.p99 <= p.max);
        for (size_t i = 1; i < n; i++)
            CHECK(v[i - 1] <= v[i]);
        free(v);
    }
}

TEST(load_summarize_counts_and_throughput)
{
    load_job_t jobs[5] = {
        { 1000000, 1100000, 1200000, LOAD_COMPLETED },   /* 200 ms, started after 100 */
        { 1000000, 0, 1500000, LOAD_FAILED },            /* 500 ms, no start */
        { 1500000, 1600000, 3000000, LOAD_COMPLETED },   /* 1500 ms; the last finish */
        { 2000000, 0, 0, LOAD_PENDING },                 /* left out */
        { 0, 0, 0, LOAD_FAILED },                        /* a record gone: counted, no times */
    };
    load_summary_t s;
    CHECK(load_summarize(jobs, 5, &s) == 0);
    CHECK_INT(s.completed, 2);
    CHECK_INT(s.failed, 2);
    CHECK(s.has_finish && s.has_start);
    CHECK(s.seconds == 2.0);            /* 1.0 s to 3.0 s */
    CHECK(s.throughput == 1.5);         /* the three jobs with times over 2 s */
    CHECK(s.finish.p50 == 500.0 && s.finish.max == 1500.0);
    CHECK(s.start.p50 == 100.0 && s.start.max == 100.0);
    CHECK(load_summarize(jobs + 3, 1, &s) == 0);
    CHECK_INT(s.completed + s.failed, 0);
    CHECK(!s.has_finish && !s.has_start && s.seconds == 0 && s.throughput == 0);
    CHECK(load_summarize(NULL, 0, &s) == 0);
    CHECK(!s.has_finish);
    /* One finished job: its time is a latency, not a rate (it was printed
     * as thousands of jobs/s). */
    CHECK(load_summarize(jobs, 1, &s) == 0);
    CHECK(s.has_finish && s.throughput == 0);
}
