/* pool_config.h — the [pool NAME] sections of tickq's configuration file:
 * a worker pool's queues, worker count, task types, handlers and the
 * timeout of its jobs that set none (docs/handlers.md, "Worker pools").
 * `tickq worker --pool NAME` runs one.
 *
 * Checked here: the keys, the numbers, the duration, the queue list, the
 * handler names (each a [handler NAME] of the same file) and the types
 * (each built in or served by one of the pool's handlers). */
#ifndef TICKQ_POOL_CONFIG_H
#define TICKQ_POOL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "handlers/handler_config.h"

#define POOL_TYPES_MAX 256

typedef struct {
    char name[HANDLER_NAME_MAX + 1];
    char *queues;                /* as --queues takes them */
    int workers;                 /* 0: not set */
    int64_t job_timeout_ms;      /* for its jobs enqueued without a timeout; 0: not set */
    char *handlers[HANDLER_TYPES_MAX]; /* names of [handler NAME] sections */
    size_t nhandlers;
    char *types[POOL_TYPES_MAX]; /* the task types it may run; none listed: every
                                  * built-in one and its handlers' types */
    size_t ntypes;
    int line;
    int types_line;              /* of its types key */
} pool_def_t;

typedef struct {
    pool_def_t *items;
    size_t n;
    const handler_set_t *handlers; /* what the pools were checked against */
    handler_builtin_fn builtin;
} pool_set_t;

/* Reads the [pool NAME] sections of text (path names it in messages),
 * checking handler names against `handlers` and types with builtin and
 * the pool's handlers. 0, or -1 with err naming the file and the line. */
int pool_config_parse(pool_set_t *set, const char *text, const char *path, const handler_set_t *handlers,
                      handler_builtin_fn builtin, int workers_max, char *err, size_t errlen);
int pool_config_load(pool_set_t *set, const char *path, const handler_set_t *handlers, handler_builtin_fn builtin,
                     int workers_max, char *err, size_t errlen);
void pool_config_free(pool_set_t *set);

/* The pool named `name`, or NULL. */
const pool_def_t *pool_config_find(const pool_set_t *set, const char *name);
/* Whether the pool runs `type`. */
int pool_serves(const pool_set_t *set, const pool_def_t *pool, const char *type);
/* Writes "a, b, c" (the types it runs, or "every built-in task, and a, b"
 * without a types key) into out. */
void pool_types_text(const pool_set_t *set, const pool_def_t *pool, char *out, size_t outlen);
/* Whether the pool uses [handler NAME]. */
int pool_uses_handler(const pool_def_t *pool, const char *name);

#endif
