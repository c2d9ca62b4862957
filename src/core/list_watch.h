/* list_watch.h — wakes the supervisor the moment tasks arrive in the users'
 * list (strategy_queue), instead of at its next tick.
 *
 * A connection of its own keeps one `BLMOVE list list LEFT LEFT timeout` in
 * flight: moving the head back onto the same end leaves the list as it was,
 * so the command only waits until the list is non-empty. Its socket turns
 * readable then; the supervisor polls it beside its other descriptors and
 * imports at once. The periodic import stays as the fallback, so a watch
 * that is down (Redis restarting, BLMOVE refused by an ACL) only costs
 * latency, never a task. */
#ifndef TICKQ_LIST_WATCH_H
#define TICKQ_LIST_WATCH_H

#include <stdint.h>

#include "core/redis_url.h"

typedef struct list_watch list_watch_t;

/* A watch of `list` on the Redis at `url`; connects lazily. NULL only when
 * out of memory. */
list_watch_t *list_watch_new(const redis_url_t *url, const char *list, int command_timeout_ms);
void list_watch_free(list_watch_t *w);

/* Puts a wait in flight unless one is, (re)connecting first when needed
 * (at most once a second). Call every turn; `now_ms` is monotonic. */
void list_watch_arm(list_watch_t *w, int64_t now_ms);

/* The descriptor to poll for POLLIN, or -1 when no wait is in flight. */
int list_watch_fd(const list_watch_t *w);

/* After poll reported the descriptor readable: takes the reply (the list
 * got a task, the wait timed out, or the connection failed and is reopened
 * by a later list_watch_arm). Returns 1 when a wait ended: import now, which
 * costs one call when the list is empty. */
int list_watch_wake(list_watch_t *w);

#endif
