/* refusals.h — a spell of refusals from Redis (out of memory, read-only,
 * ...) to a worker child's writes or claims: the wait before the next try
 * grows from REFUSED_WAIT_MIN_MS to REFUSED_WAIT_MAX_MS, and a warning is
 * due once a spell and then every REFUSED_WARN_EVERY_MS. */
#ifndef TICKQ_REFUSALS_H
#define TICKQ_REFUSALS_H

#include <signal.h>
#include <stdint.h>

#define REFUSED_WAIT_MIN_MS 100    /* first wait after Redis refused a write (out of memory, ...) */
#define REFUSED_WAIT_MAX_MS 5000   /* the longest, reached after six refusals */
#define REFUSED_WARN_EVERY_MS 30000 /* one warning per refusal spell, repeated this often */

/* Zeroed = no spell. */
typedef struct {
    int64_t since_ms;   /* mono time of the first refusal; 0: none */
    int64_t warned_ms;  /* of the last warning; 0: none this spell */
    int64_t wait_ms;    /* before the next try */
} refusals_t;

/* Notes a refusal; 1 when a warning is due now. */
int refusal_noted(refusals_t *r);

/* Waits before the next try (cut short by a stop), and doubles the wait. */
void refusal_wait(refusals_t *r, volatile sig_atomic_t *stop);

#endif
