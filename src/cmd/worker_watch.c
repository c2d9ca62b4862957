/* worker_watch.c — reloads on file changes (worker_watch.h). */
#include "cmd/worker_watch.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/handler_setup.h"
#include "core/log.h"

#define SETTLE_MS 300 /* editors write in several steps: act once they are done */

/* A watched folder, and for a watched file the name it has there. */
typedef struct {
    int wd;
    char dir[PATH_MAX];
    char name[NAME_MAX + 1];     /* "" when the whole folder is watched */
} watch_t;

struct worker_watch {
    int fd;
    watch_t watches[WATCH_PATHS_MAX];
    size_t n;
    int64_t due_ms;              /* a change seen: reload at this time; 0: none */
    char changed[PATH_MAX];
    int recycle;                 /* a reload is ready: children to be replaced */
    worker_watch_reloaded_fn reloaded;
    void *reloaded_ctx;
};

worker_watch_t *worker_watch_new(const char *const *paths, size_t n, worker_watch_reloaded_fn reloaded, void *ctx,
                                 char *err, size_t errlen)
{
    worker_watch_t *w = calloc(1, sizeof *w);
    if (w == NULL || n > WATCH_PATHS_MAX) {
        snprintf(err, errlen, w ? "--watch: at most %d paths" : "out of memory", WATCH_PATHS_MAX);
        free(w);
        return NULL;
    }
    w->reloaded = reloaded;
    w->reloaded_ctx = ctx;
    if ((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
        snprintf(err, errlen, "--watch: inotify: %s", strerror(errno));
        free(w);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        watch_t *x = &w->watches[w->n];
        if (stat(paths[i], &st) != 0) {
            snprintf(err, errlen, "--watch %s: %s", paths[i], strerror(errno));
            worker_watch_free(w);
            return NULL;
        }
        /* A file is watched through its folder: an editor that saves by
         * renaming a new file over it replaces the file watched. */
        if (S_ISDIR(st.st_mode)) {
            snprintf(x->dir, sizeof x->dir, "%s", paths[i]);
        } else {
            const char *slash = strrchr(paths[i], '/');
            snprintf(x->name, sizeof x->name, "%s", slash ? slash + 1 : paths[i]);
            if (slash == NULL)
                snprintf(x->dir, sizeof x->dir, ".");
            else if (slash == paths[i])
                snprintf(x->dir, sizeof x->dir, "/");
            else
                snprintf(x->dir, sizeof x->dir, "%.*s", (int)(slash - paths[i]), paths[i]);
        }
        /* A file written counts when it is closed (IN_CLOSE_WRITE), not at
         * every write: a log file kept open in a watched folder is no
         * stream of changes. */
        x->wd = inotify_add_watch(w->fd, x->dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
                                                 IN_MOVED_FROM);
        if (x->wd < 0) {
            snprintf(err, errlen, "--watch %s: cannot watch %s: %s", paths[i], x->dir, strerror(errno));
            worker_watch_free(w);
            return NULL;
        }
        w->n++;
    }
    return w;
}

void worker_watch_free(worker_watch_t *w)
{
    if (w == NULL)
        return;
    if (w->fd >= 0)
        close(w->fd);
    free(w);
}

/* Reads the pending events; a change to a watched path sets due_ms. */
static void read_events(worker_watch_t *w, int64_t now)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t len;
    while ((len = read(w->fd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + len;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            for (size_t i = 0; i < w->n; i++) {
                const watch_t *x = &w->watches[i];
                if (x->wd != ev->wd || (x->name[0] && (ev->len == 0 || strcmp(ev->name, x->name) != 0)))
                    continue;
                /* Python's caches are no change of the users' code. */
                if (ev->len > 0 && (strstr(ev->name, ".pyc") != NULL || strcmp(ev->name, "__pycache__") == 0))
                    continue;
                snprintf(w->changed, sizeof w->changed, "%s/%s", x->dir, ev->len ? ev->name : "");
                if (w->due_ms == 0) /* the first change of a burst sets the time: later ones do not put it off */
                    w->due_ms = now + SETTLE_MS;
            }
        }
    }
}

static void on_tick(void *ctx, int64_t now_ms, int stopping)
{
    worker_watch_t *w = ctx;
    if (stopping)
        return;
    read_events(w, now_ms);
    if (w->due_ms == 0 || now_ms < w->due_ms)
        return;
    w->due_ms = 0;
    char err[1024];
    if (handler_setup_reload(err, sizeof err) != 0) {
        log_error("reload refused: the configuration does not read; the old one keeps running",
                  LF_S("changed", w->changed), LF_S("error", err));
        return;
    }
    log_info("reload: configuration read again", LF_S("changed", w->changed),
             LF_S("config", handler_setup_path() ? handler_setup_path() : ""));
    if (w->reloaded != NULL)
        w->reloaded(w->reloaded_ctx);
    w->recycle = 1;
}

static int wants_recycle(void *ctx)
{
    worker_watch_t *w = ctx;
    int r = w->recycle;
    w->recycle = 0;
    return r;
}

static void on_forked(void *ctx)
{
    worker_watch_t *w = ctx;
    close(w->fd);
    w->fd = -1;
}

supervisor_companion_t worker_watch_companion(worker_watch_t *w)
{
    return (supervisor_companion_t){ .ctx = w, .tick = on_tick, .forked = on_forked, .wants_recycle = wants_recycle };
}
