/* queue_names.h — logical and physical queue names, worker queue lists, and
 * the ids that name a process's Redis consumers and leases.
 *
 * A logical queue ("backtest") has three physical queues, one per priority:
 * backtest_high, backtest_normal, backtest_low. Each physical queue is one
 * Redis stream with the key "<prefix>:queue:<physical>". */
#ifndef TICKQ_QUEUE_NAMES_H
#define TICKQ_QUEUE_NAMES_H

#include <stddef.h>

#define QUEUE_NAME_MAX 100       /* logical name length */
#define QUEUE_PHYS_MAX (QUEUE_NAME_MAX + 8)
#define QUEUE_KEY_MAX (QUEUE_PHYS_MAX + 80)
#define QUEUE_LIST_MAX 64
#define QUEUE_DEFAULT "backtest"

/* Priorities in the order a worker drains them. */
extern const char *const queue_priorities[3]; /* "high", "normal", "low" */

typedef struct {
    int n;
    char name[QUEUE_LIST_MAX][QUEUE_PHYS_MAX]; /* physical names, in order */
    char key[QUEUE_LIST_MAX][QUEUE_KEY_MAX];   /* their stream keys */
} queue_list_t;

/* 0 when `name` is a valid logical queue name: 1-100 of [A-Za-z0-9_.-] and
 * not ending in _high, _normal or _low. Else -1 with a message. */
int queue_name_check(const char *name, char *err, size_t errlen);
/* 0 when `p` is "high", "normal" or "low". */
int queue_priority_check(const char *p);
/* Writes "<queue>_<priority>". */
void queue_physical(const char *queue, const char *priority, char out[QUEUE_PHYS_MAX]);
/* Writes the logical queue of a physical one, the name before its last
 * '_' ("backtest_high": "backtest"; the whole name when it has none), to
 * out; returns the priority after that '_' (into `physical`; "" for none). */
const char *queue_logical(const char *physical, char *out, size_t cap);
/* Writes "<prefix>:queue:<physical>". */
void queue_stream_key(const char *prefix, const char *physical, char out[QUEUE_KEY_MAX]);
/* The physical queue of a stream key (queue_stream_key's inverse); a key
 * not under "<prefix>:queue:" is written whole. */
void queue_stream_physical(const char *prefix, const char *stream, char out[QUEUE_PHYS_MAX]);

/* Parses a comma-separated list: a bare logical name expands to its three
 * priorities (high, normal, low); a name ending in _high/_normal/_low is
 * taken as one physical queue. Order is kept, duplicates dropped, blanks
 * around commas ignored. A NULL spec gives the default queue; an empty
 * one, or an empty name between commas, is refused. */
int queue_list_parse(const char *spec, const char *prefix, queue_list_t *out,
                     char *err, size_t errlen);
/* Writes the list as "a_high,a_normal,..." for logs. */
void queue_list_describe(const queue_list_t *l, char *out, size_t outlen);

/* "<host>:<pid>.<tag>", the id of this process among all on one Redis
 * (consumer names and lease holders derive from it). host:pid alone can
 * repeat across hosts (containers often run tickq as PID 1 under one host
 * name), so a random 16-bit tag keeps it unique. */
void queue_instance_id(char *out, size_t cap);
/* A worker child's id: "<instance id>:<slot>", stable per slot. */
void queue_worker_id(const char *instance, int slot, char *out, size_t cap);
/* The instance id of a worker id into out; -1 for a worker id of another
 * form. */
int queue_worker_instance(const char *worker_id, char *out, size_t cap);

/* A worker child's consumer name: "<worker id>#<generation>", the worker id
 * being "<instance id>:<slot>" (so it never ends in '#' and digits). A child
 * takes a new generation whenever it reconnects holding nothing, so a call
 * sent on a connection it gave up on lands, should Redis run it late, on a
 * name that no live child renews (slot.h). What Redis records as the worker
 * (job records, results, retries) is the worker id: src/lua/common.lua's
 * consumer_parts splits names by the same rule. */
#define QUEUE_CONSUMER_SEP '#'
#define QUEUE_CONSUMER_MAX 224
void queue_consumer_name(const char *worker_id, unsigned long generation, char *out, size_t cap);
/* The worker id of a consumer name; a name without a generation (another
 * tickq version's, a foreign client's) is its own worker id. */
void queue_consumer_worker(const char *consumer, char *out, size_t cap);

#endif
