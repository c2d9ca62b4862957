/* test_autoscale.c — the autoscaler's policy (core/autoscale.h): its
 * defaults, up fast (to the count the backlog needs at the observed rate,
 * doubling without a rate or past the target wait, capped), down slowly
 * (one per interval after a quiet cooldown, never below the minimum, never
 * without an idle child), no up within a cooldown of a down, and the rate
 * estimate. */
#include "core/autoscale.h"
#include "core/config.h"
#include "unit.h"

static autoscale_settings_t settings(int min, int max)
{
    autoscale_settings_t s;
    autoscale_defaults(&s, 1);
    s.min_children = min;
    s.max_children = max;
    s.interval_ms = 200;
    s.cooldown_ms = 1000;
    s.target_wait_ms = 200;
    return s;
}

/* A sample: `backlog` waiting, `busy` of `live` children busy all interval. */
static autoscale_sample_t sample(long long backlog, double age_s, int busy, int live)
{
    autoscale_sample_t in = { backlog, age_s, busy, live - busy, (double)busy };
    return in;
}

/* Steps and applies what it decides (as the supervisor does). */
static autoscale_decision_t step(autoscale_t *a, autoscale_sample_t in, int64_t now)
{
    autoscale_decision_t d = autoscale_step(a, &in, now);
    autoscale_applied(a, &d, now);
    return d;
}

TEST(autoscale_defaults)
{
    autoscale_settings_t s;
    autoscale_defaults(&s, 2);
    CHECK_INT(s.min_children, 1);
    CHECK_INT(s.max_children, 4);
    CHECK_INT(s.interval_ms, 30000);
    CHECK_INT(s.cooldown_ms, 60000);
    CHECK_INT(s.target_wait_ms, 5000);
    autoscale_defaults(&s, -1); /* unknown: as one CPU */
    CHECK_INT(s.max_children, 2);
    autoscale_defaults(&s, WORKERS_MAX);
    CHECK_INT(s.max_children, WORKERS_MAX);
    autoscale_defaults(&s, WORKERS_MAX / 2);
    CHECK_INT(s.max_children, WORKERS_MAX);
}

TEST(autoscale_up_doubles_without_a_rate_and_stops_at_max)
{
    autoscale_settings_t s = settings(1, 5);
    autoscale_t a;
    autoscale_init(&a, &s);
    CHECK_INT(a.desired, 1);
    autoscale_decision_t d = step(&a, sample(40, 0, 1, 1), 200);
    CHECK_INT(d.direction, AUTOSCALE_UP);
    CHECK_INT(d.from, 1);
    CHECK_INT(d.to, 2);
    CHECK_STR(d.reason, "backlog_rate_unknown");
    d = step(&a, sample(40, 0, 2, 2), 400);
    CHECK_INT(d.to, 4);
    d = step(&a, sample(40, 0, 4, 4), 600);
    CHECK_INT(d.to, 5); /* capped */
    d = step(&a, sample(40, 0, 5, 5), 800);
    CHECK_INT(d.direction, AUTOSCALE_HOLD);
    CHECK(d.held);
    CHECK_STR(d.reason, "at_max");
    CHECK_INT(a.desired, 5);
}

TEST(autoscale_up_to_what_drains_the_backlog_within_the_target_wait)
{
    autoscale_settings_t s = settings(1, 64);
    s.target_wait_ms = 1000;
    autoscale_t a;
    autoscale_init(&a, &s);
    autoscale_observe(&a, 10, 5.0); /* 2 jobs per busy child-second */
    CHECK(a.rate > 1.99 && a.rate < 2.01);
    /* 9 waiting at 2/s per child within 1 s: 5 children. */
    autoscale_decision_t d = step(&a, sample(9, 0.1, 1, 1), 200);
    CHECK_INT(d.direction, AUTOSCALE_UP);
    CHECK_INT(d.to, 5);
    CHECK_STR(d.reason, "backlog");
    /* As many as 5 children drain within the target wait: no more. */
    d = step(&a, sample(10, 0.1, 5, 5), 400);
    CHECK_INT(d.direction, AUTOSCALE_HOLD);
    CHECK(!d.held);
    /* Jobs older than the target wait: at least double. */
    d = step(&a, sample(10, 1.5, 5, 5), 600);
    CHECK_INT(d.direction, AUTOSCALE_UP);
    CHECK_INT(d.to, 10);
    CHECK_STR(d.reason, "oldest_ready_age");
    /* A huge backlog is capped at the maximum. */
    d = step(&a, sample(1000000000LL, 0.1, 10, 10), 800);
    CHECK_INT(d.to, 64);
}

TEST(autoscale_no_up_while_idle_children_can_take_the_backlog)
{
    autoscale_settings_t s = settings(1, 8);
    autoscale_t a;
    autoscale_init(&a, &s);
    step(&a, sample(10, 0, 1, 1), 200);
    step(&a, sample(10, 0, 2, 2), 400);
    CHECK_INT(a.desired, 4);
    /* 2 waiting, 2 idle children: they take them; more would not help. */
    autoscale_decision_t d = step(&a, sample(2, 0, 2, 4), 600);
    CHECK_INT(d.direction, AUTOSCALE_HOLD);
    CHECK_INT(a.desired, 4);
}

TEST(autoscale_down_one_per_interval_after_a_quiet_cooldown)
{
    autoscale_settings_t s = settings(1, 4);
    autoscale_t a;
    autoscale_init(&a, &s);
    int64_t t = 0;
    for (int i = 0; i < 3; i++)
        step(&a, sample(40, 0, a.desired, a.desired), t += 200);
    CHECK_INT(a.desired, 4);
    /* Quiet from here: nothing waits, nobody busy. Nothing for a cooldown. */
    int64_t quiet_from = t + 200;
    autoscale_decision_t d;
    for (t = quiet_from; t < quiet_from + s.cooldown_ms; t += 200) {
        d = step(&a, sample(0, 0, 0, a.desired), t);
        CHECK_INT(d.direction, AUTOSCALE_HOLD);
    }
    /* Then one child per interval, down to the minimum and no further. */
    for (int want = 3; want >= 1; want--, t += 200) {
        d = step(&a, sample(0, 0, 0, a.desired), t);
        CHECK_INT(d.direction, AUTOSCALE_DOWN);
        CHECK_INT(d.from, want + 1);
        CHECK_INT(d.to, want);
        CHECK_STR(d.reason, "quiet");
    }
    for (int i = 0; i < 10; i++, t += 200) {
        d = step(&a, sample(0, 0, 0, a.desired), t);
        CHECK_INT(d.direction, AUTOSCALE_HOLD);
    }
    CHECK_INT(a.desired, 1);
}

TEST(autoscale_quiet_breaks_and_restarts)
{
    autoscale_settings_t s = settings(1, 4);
    autoscale_t a;
    autoscale_init(&a, &s);
    int64_t t = 0;
    for (int i = 0; i < 3; i++)
        step(&a, sample(40, 0, a.desired, a.desired), t += 200);
    /* Quiet, but for less than a cooldown: then all four busy. */
    step(&a, sample(0, 0, 0, 4), t += 200);
    step(&a, sample(0, 0, 0, 4), t += 200);
    autoscale_decision_t d = step(&a, sample(0, 0, 4, 4), t += 200);
    CHECK_INT(d.direction, AUTOSCALE_HOLD);
    int64_t again = t + 200;
    for (t = again; t < again + s.cooldown_ms; t += 200)
        CHECK_INT(step(&a, sample(0, 0, 0, 4), t).direction, AUTOSCALE_HOLD);
    CHECK_INT(step(&a, sample(0, 0, 0, 4), t).direction, AUTOSCALE_DOWN);
    /* Three children busy all interval: one fewer (3) carried it, still
     * quiet; all three of the 3 busy: not. */
    CHECK_INT(step(&a, sample(0, 0, 2, 3), t += 200).direction, AUTOSCALE_DOWN);
    CHECK_INT(a.desired, 2);
    CHECK_INT(step(&a, sample(0, 0, 2, 2), t += 200).direction, AUTOSCALE_HOLD);
}

TEST(autoscale_never_retires_a_busy_child)
{
    autoscale_settings_t s = settings(1, 4);
    autoscale_t a;
    autoscale_init(&a, &s);
    int64_t t = 0;
    for (int i = 0; i < 3; i++)
        step(&a, sample(40, 0, a.desired, a.desired), t += 200);
    /* Quiet on average (the interval's busy time is low), but every child
     * runs a job at the sample: it holds, saying why. */
    autoscale_decision_t d;
    for (int i = 0; i < 20; i++, t += 200) {
        autoscale_sample_t in = { 0, 0, 4, 0, 1.0 };
        d = step(&a, in, t);
        CHECK_INT(d.direction, AUTOSCALE_HOLD);
    }
    CHECK(d.held);
    CHECK_STR(d.reason, "no_idle_child");
    CHECK_INT(a.desired, 4);
}

TEST(autoscale_no_up_within_a_cooldown_of_a_down)
{
    autoscale_settings_t s = settings(1, 4);
    autoscale_t a;
    autoscale_init(&a, &s);
    int64_t t = 0;
    for (int i = 0; i < 3; i++)
        step(&a, sample(40, 0, a.desired, a.desired), t += 200);
    while (a.desired == 4)
        step(&a, sample(0, 0, 0, a.desired), t += 200);
    int64_t down_at = t;
    /* A burst right after the down: held for the cooldown, then up. */
    autoscale_decision_t d = step(&a, sample(40, 5, 3, 3), t += 200);
    CHECK_INT(d.direction, AUTOSCALE_HOLD);
    CHECK(d.held);
    CHECK_STR(d.reason, "cooldown");
    while (t < down_at + s.cooldown_ms - 200)
        CHECK_INT(step(&a, sample(40, 5, 3, 3), t += 200).direction, AUTOSCALE_HOLD);
    d = step(&a, sample(40, 5, 3, 3), t += 200);
    CHECK_INT(d.direction, AUTOSCALE_UP);
    CHECK_INT(d.to, 4);
}

TEST(autoscale_rate_estimate)
{
    autoscale_settings_t s = settings(1, 4);
    autoscale_t a;
    autoscale_init(&a, &s);
    CHECK(a.rate == 0);
    autoscale_observe(&a, 0, 2.0); /* busy, nothing finished yet: unknown */
    CHECK(a.rate == 0);
    autoscale_observe(&a, 4, 2.0); /* 4 finished in 4 busy child-seconds, decayed */
    CHECK(a.rate > 0.5 && a.rate < 1.5);
    for (int i = 1; i <= 30; i++)
        autoscale_observe(&a, 4 + 10LL * i, 1.0); /* then 10 per busy child-second */
    CHECK(a.rate > 9.9 && a.rate < 10.1);
    autoscale_observe(&a, 304, 0); /* a quiet interval changes nothing much */
    CHECK(a.rate > 9.9 && a.rate < 10.1);
}
