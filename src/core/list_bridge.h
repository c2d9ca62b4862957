/* list_bridge.h — the users' list protocol, C side: tasks LPUSHed as JSON
 * onto a plain Redis list (--list-queue, default strategy_queue) become jobs
 * of the normal level of the target queue (--list-target, default
 * backtest), atomically (src/lua/list_import.lua, queue_list_import).
 *
 * The supervisor of a worker that serves <target>_normal runs the bridge in
 * its loop: an import at most once a loop tick, and at once again while the
 * list holds more than one call takes; the watch (list_watch.h) wakes the
 * loop the moment the list gets a task. A worker that does not serve the
 * target leaves the list to those that do. */
#ifndef TICKQ_LIST_BRIDGE_H
#define TICKQ_LIST_BRIDGE_H

#include <stdint.h>

#include "core/config.h"
#include "core/queue.h"

typedef struct list_bridge list_bridge_t;

/* The bridge of cfg's list into cfg->list_target, or NULL when the list is
 * off, when this worker does not serve <list_target>_normal (said in a log
 * line), or when out of memory (logged). */
list_bridge_t *list_bridge_new(const config_t *cfg);
/* Accepts NULL. Closes the watch's connection; makes no Redis call, so a
 * freshly forked child may call it on its copy. */
void list_bridge_free(list_bridge_t *b);

/* One turn of the supervisor's loop while it is not stopping: imports when
 * due (every `tick_ms` at most) and q's connection is up, then puts the
 * watch's wait in flight when the last import worked. `now_ms` is
 * monotonic. */
void list_bridge_turn(list_bridge_t *b, queue_t *q, int64_t now_ms, int64_t tick_ms);

/* The descriptor to poll for POLLIN, or -1. */
int list_bridge_fd(const list_bridge_t *b);

/* After poll reported the descriptor readable: when the watch's wait
 * ended, the next turn imports at once. */
void list_bridge_woken(list_bridge_t *b);

/* 1 while tasks the bridge just took from the list may not have reached a
 * child's claim yet (a --burst worker waits for them). Accepts NULL. */
int list_bridge_holds_burst(const list_bridge_t *b, int64_t now_ms);

#endif
