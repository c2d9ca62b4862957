/* autoscaler.c — the autoscaler at work in a supervisor (autoscaler.h). */
#include "core/autoscaler.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/worker_metrics.h"

void autoscaler_init(autoscaler_t *a, const autoscale_settings_t *s, int64_t now_ms)
{
    memset(a, 0, sizeof *a);
    autoscale_init(&a->policy, s);
    backlog_probe_init(&a->probe);
    a->last_ms = now_ms;
    a->next_ms = now_ms + s->interval_ms;
    worker_metrics_autoscale(a->policy.desired, 0, 0, 0);
}

void autoscaler_turned(autoscaler_t *a, int busy, int64_t elapsed_ms)
{
    if (elapsed_ms > 0)
        a->busy_child_ms += (double)busy * (double)elapsed_ms;
}

int autoscaler_due(const autoscaler_t *a, int64_t now_ms)
{
    return now_ms >= a->next_ms;
}

int autoscaler_decide(autoscaler_t *a, queue_t *q, const queue_list_t *queues, const char *worker,
                      long long finished_total, int busy, int idle, int64_t now_ms, autoscale_decision_t *d,
                      char *err, size_t errlen)
{
    double busy_child_s = a->busy_child_ms / 1000.0, span_s = (double)(now_ms - a->last_ms) / 1000.0;
    a->busy_child_ms = 0;
    a->last_ms = now_ms;
    a->next_ms = now_ms + a->policy.set.interval_ms;
    backlog_t b;
    if (rconn_broken(q->conn))
        snprintf(err, errlen, "not connected to Redis");
    if (rconn_broken(q->conn) || backlog_sample(&a->probe, q, queues, clock_now_ms(), &b, err, errlen) != 0) {
        if (!a->failing)
            log_warn("autoscale: cannot read the backlog from Redis; holding at the current count until it can",
                     LF_S("worker", worker), LF_I("children", a->policy.desired), LF_S("error", err));
        a->failing = 1;
        return -1;
    }
    a->failing = 0;
    autoscale_observe(&a->policy, finished_total, busy_child_s);
    a->sample = (autoscale_sample_t){ b.ready + b.due, b.oldest_ready_age_s, busy, idle,
                                      span_s > 0 ? busy_child_s / span_s : 0 };
    *d = autoscale_step(&a->policy, &a->sample, now_ms);
    return 0;
}

void autoscaler_done(autoscaler_t *a, autoscale_decision_t *d, int applied, const char *worker, int64_t now_ms)
{
    int change = 0;
    if (d->direction != AUTOSCALE_HOLD && applied) {
        autoscale_applied(&a->policy, d, now_ms);
        change = d->direction == AUTOSCALE_UP ? 1 : -1;
    } else if (d->direction != AUTOSCALE_HOLD) {
        *d = (autoscale_decision_t){ AUTOSCALE_HOLD, d->from, d->from, "no_idle_child", 1 };
    }
    const autoscale_sample_t *in = &a->sample;
    if (change != 0 || d->held)
        log_emit(change != 0 ? LOG_INFO : LOG_DEBUG, change != 0 ? "autoscale" : "autoscale held",
                 LF_S("worker", worker), LF_I("from", d->from), LF_I("to", d->to),
                 LF_S("direction", autoscale_direction_name(d->direction)), LF_S("reason", d->reason),
                 LF_I("backlog", in->backlog), LF_F("oldest_ready_age_s", in->oldest_ready_age_s),
                 LF_I("busy", in->busy), LF_F("rate", a->policy.rate), LF_END);
    worker_metrics_autoscale(a->policy.desired, in->backlog, in->oldest_ready_age_s, change);
}
