/* refusals.c — a spell of refusals from Redis (refusals.h). */
#include "core/refusals.h"

#include "core/clock.h"

int refusal_noted(refusals_t *r)
{
    int64_t now = clock_mono_ms();
    if (r->since_ms == 0) {
        r->since_ms = now;
        r->wait_ms = REFUSED_WAIT_MIN_MS;
    }
    if (r->warned_ms != 0 && now - r->warned_ms < REFUSED_WARN_EVERY_MS)
        return 0;
    r->warned_ms = now;
    return 1;
}

void refusal_wait(refusals_t *r, volatile sig_atomic_t *stop)
{
    clock_sleep_ms(r->wait_ms, stop);
    r->wait_ms = r->wait_ms * 2 > REFUSED_WAIT_MAX_MS ? REFUSED_WAIT_MAX_MS : r->wait_ms * 2;
}
