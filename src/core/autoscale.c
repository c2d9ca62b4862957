/* autoscale.c — the autoscaler's policy (autoscale.h). */
#include "core/autoscale.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "core/config.h"

/* Weight the rate estimate keeps of the intervals before: 0.7 halves an
 * interval's say in about two intervals. */
#define RATE_DECAY 0.7

void autoscale_defaults(autoscale_settings_t *s, long cpus)
{
    memset(s, 0, sizeof *s);
    s->min_children = AUTOSCALE_MIN_DEFAULT;
    s->max_children = cpus < 1 ? 2 : cpus > WORKERS_MAX / 2 ? WORKERS_MAX : (int)cpus * 2;
    s->interval_ms = AUTOSCALE_INTERVAL_MS_DEFAULT;
    s->cooldown_ms = AUTOSCALE_COOLDOWN_MS_DEFAULT;
    s->target_wait_ms = AUTOSCALE_TARGET_WAIT_MS_DEFAULT;
}

void autoscale_init(autoscale_t *a, const autoscale_settings_t *s)
{
    memset(a, 0, sizeof *a);
    a->set = *s;
    a->desired = s->min_children;
    a->last_direction = AUTOSCALE_HOLD;
    a->quiet_since_ms = -1;
}

void autoscale_observe(autoscale_t *a, long long finished_total, double busy_child_s)
{
    long long delta = finished_total - a->finished_seen;
    a->finished_seen = finished_total;
    a->finished_w = a->finished_w * RATE_DECAY + (double)(delta > 0 ? delta : 0);
    a->busy_w = a->busy_w * RATE_DECAY + (busy_child_s > 0 ? busy_child_s : 0);
    /* Jobs so short that no turn saw a child busy tell no rate either. */
    a->rate = a->finished_w > 0 && a->busy_w > 0 ? a->finished_w / a->busy_w : 0;
}

static int within_cooldown(const autoscale_t *a, autoscale_direction_t previous, int64_t now_ms)
{
    return a->last_direction == previous && now_ms - a->last_change_ms < a->set.cooldown_ms;
}

static autoscale_decision_t held(autoscale_decision_t d, const char *reason)
{
    d.held = 1;
    d.reason = reason;
    return d;
}

/* (1): the children the backlog asks for, and why; NULL when it asks for
 * no more than there are. Only jobs no idle child is there to take wait:
 * with fewer waiting, more children would not start them sooner. */
static const char *wanted_up(const autoscale_t *a, const autoscale_sample_t *in, int late, int *want)
{
    int cur = a->desired;
    double tw_s = (double)a->set.target_wait_ms / 1000.0;
    const char *why = NULL;
    *want = cur;
    if (in->backlog <= in->idle)
        return NULL;
    if (a->rate > 0) {
        double need = ceil((double)in->backlog / (a->rate * tw_s));
        if (need > cur) {
            *want = need > a->set.max_children ? a->set.max_children : (int)need;
            why = "backlog";
        }
    } else {
        *want = cur * 2;
        why = "backlog_rate_unknown";
    }
    if (late) {
        if (*want < cur * 2)
            *want = cur * 2;
        why = "oldest_ready_age";
    }
    if (*want > a->set.max_children)
        *want = a->set.max_children;
    return why;
}

autoscale_decision_t autoscale_step(autoscale_t *a, const autoscale_sample_t *in, int64_t now_ms)
{
    int cur = a->desired;
    autoscale_decision_t d = { AUTOSCALE_HOLD, cur, cur, "steady", 0 };
    int late = in->backlog > 0 && in->oldest_ready_age_s * 1000.0 > (double)a->set.target_wait_ms;
    int quiet = in->backlog <= in->idle && !late && in->busy_children <= (double)(cur - 1);
    if (!quiet)
        a->quiet_since_ms = -1;
    else if (a->quiet_since_ms < 0)
        a->quiet_since_ms = now_ms;

    int want;
    const char *why = wanted_up(a, in, late, &want);
    if (why != NULL) {
        d.reason = why;
        if (want <= cur)
            return held(d, "at_max");
        if (within_cooldown(a, AUTOSCALE_DOWN, now_ms))
            return held(d, "cooldown");
        d.direction = AUTOSCALE_UP;
        d.to = want;
        return d;
    }
    if (!quiet || cur <= a->set.min_children || now_ms - a->quiet_since_ms < a->set.cooldown_ms)
        return d;
    /* The quiet spell began after the last up (an up needs jobs waiting),
     * so a whole cooldown has passed since. */
    assert(!within_cooldown(a, AUTOSCALE_UP, now_ms));
    if (in->idle < 1)
        return held(d, "no_idle_child");
    d.direction = AUTOSCALE_DOWN;
    d.to = cur - 1;
    d.reason = "quiet";
    return d;
}

void autoscale_applied(autoscale_t *a, const autoscale_decision_t *d, int64_t now_ms)
{
    if (d->direction == AUTOSCALE_HOLD)
        return;
    a->desired = d->to;
    a->last_direction = d->direction;
    a->last_change_ms = now_ms;
}

const char *autoscale_direction_name(autoscale_direction_t d)
{
    switch (d) {
    case AUTOSCALE_UP: return "up";
    case AUTOSCALE_DOWN: return "down";
    default: return "hold";
    }
}
