/* worker_watch.h — `tickq worker --watch PATH`: a supervisor companion that
 * watches files and folders (inotify) and, when one changes, reads the
 * configuration file again and has every worker child replaced once its
 * current job is done, so that new children start new handler processes
 * (the users' new code) with the new handler sections. A configuration
 * that does not read is refused, logged, and the old one kept running. */
#ifndef TICKQ_WORKER_WATCH_H
#define TICKQ_WORKER_WATCH_H

#include <stddef.h>

#include "core/supervisor.h"

#define WATCH_PATHS_MAX 32

typedef struct worker_watch worker_watch_t;

/* Called after a reload that read well (in the supervisor's loop): the
 * worker announces the handler types it serves now. */
typedef void (*worker_watch_reloaded_fn)(void *ctx);

/* Watches paths (files or folders that exist). NULL with err when one
 * cannot be watched. */
worker_watch_t *worker_watch_new(const char *const *paths, size_t n, worker_watch_reloaded_fn reloaded, void *ctx,
                                 char *err, size_t errlen);
void worker_watch_free(worker_watch_t *w);
supervisor_companion_t worker_watch_companion(worker_watch_t *w);

#endif
