/* handler_config.h — the [handler NAME] sections of tickq's configuration
 * file: which command serves which task types (docs/handlers.md).
 *
 * The reader takes only [handler NAME] sections; the other known kinds are
 * left to their readers and an unknown kind is refused (config_file.h).
 * Everything is checked here, before any process starts: the keys, the
 * durations, the type names (valid, not a built-in, each served by one
 * handler only). */
#ifndef TICKQ_HANDLER_CONFIG_H
#define TICKQ_HANDLER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define HANDLER_NAME_MAX 64
#define HANDLER_TYPES_MAX 64

/* The bounds of a handler's durations (docs/handlers.md).
 * cancel_grace: a job that ignores its cancel holds its worker child's
 * slot that long past its timeout or `tickq cancel` (and the supervisor's
 * backstop waits for it): a minute is time enough to stop cleanly.
 * start_timeout: the worker child waits that long for the announcement,
 * serving nothing meanwhile: ten minutes let a handler load a large model;
 * one silent longer is stuck. */
#define HANDLER_CANCEL_GRACE_MAX_MS (60 * 1000)
#define HANDLER_START_TIMEOUT_MIN_MS 100
#define HANDLER_START_TIMEOUT_MAX_MS (10 * 60 * 1000)

typedef struct {
    char name[HANDLER_NAME_MAX + 1];
    char *command;               /* run as /bin/sh -c 'exec COMMAND' */
    char *types[HANDLER_TYPES_MAX];
    size_t ntypes;
    int64_t cancel_grace_ms;     /* after a cancel message, before the kill */
    int64_t start_timeout_ms;    /* for the announcement */
    int cancel_grace_set, start_timeout_set; /* given in the section (each key once) */
    int line;                    /* of the section header */
} handler_def_t;

typedef struct {
    handler_def_t *items;
    size_t n;
    char *path;                  /* the file they came from ("" when none) */
} handler_set_t;

/* Says whether `type` is a task compiled into tickq (it may not be a
 * handler type too). */
typedef int (*handler_builtin_fn)(const char *type);

/* Reads the [handler NAME] sections of the file at path into set (zeroed
 * first). 0, or -1 with err naming the file, the line and what is wrong;
 * set is then empty. */
int handler_config_load(handler_set_t *set, const char *path, handler_builtin_fn builtin, char *err,
                        size_t errlen);
/* The same from text; path names it in messages. */
int handler_config_parse(handler_set_t *set, const char *text, const char *path, handler_builtin_fn builtin,
                         char *err, size_t errlen);
void handler_config_free(handler_set_t *set);

/* The handler serving `type`, or NULL. */
const handler_def_t *handler_config_for_type(const handler_set_t *set, const char *type);

/* Writes "a, b, c" (the types it serves) into out. */
void handler_types_text(const handler_def_t *h, char *out, size_t outlen);

#endif
