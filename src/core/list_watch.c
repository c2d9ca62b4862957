/* list_watch.c — a blocking wait on the users' list, polled by the
 * supervisor (see list_watch.h). */
#include "core/list_watch.h"

#include "core/log.h"
#include "core/rconn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_SECONDS "5"          /* BLMOVE timeout: a nil reply, then a new wait */
#define STALE_MS 15000            /* no reply this long: a dead socket, reconnect */
#define RECONNECT_EVERY_MS 1000
#define WARN_EVERY_MS 60000

struct list_watch {
    redis_url_t url;
    char list[256];
    int timeout_ms;
    rconn_t *conn;
    int armed;                    /* a BLMOVE is in flight */
    int64_t armed_ms;
    int64_t next_connect_ms;
    int64_t warned_ms;
    int refused;                  /* Redis refused BLMOVE: stay off */
};

list_watch_t *list_watch_new(const redis_url_t *url, const char *list, int command_timeout_ms)
{
    list_watch_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->url = *url;
    snprintf(w->list, sizeof w->list, "%s", list);
    w->timeout_ms = command_timeout_ms;
    return w;
}

void list_watch_free(list_watch_t *w)
{
    if (w == NULL)
        return;
    rconn_free(w->conn);
    free(w);
}

static void warn(list_watch_t *w, int64_t now_ms, const char *msg, const char *err)
{
    if (w->warned_ms != 0 && now_ms - w->warned_ms < WARN_EVERY_MS)
        return;
    w->warned_ms = now_ms;
    log_warn(msg, LF_S("list", w->list), LF_S("error", err));
}

static void drop(list_watch_t *w)
{
    rconn_free(w->conn);
    w->conn = NULL;
    w->armed = 0;
}

void list_watch_arm(list_watch_t *w, int64_t now_ms)
{
    if (w->refused)
        return;
    if (w->armed && now_ms - w->armed_ms > STALE_MS)
        drop(w);
    if (w->armed)
        return;
    char err[512];
    if (w->conn == NULL || rconn_broken(w->conn)) {
        if (now_ms < w->next_connect_ms)
            return;
        w->next_connect_ms = now_ms + RECONNECT_EVERY_MS;
        drop(w);
        w->conn = rconn_open(&w->url, w->timeout_ms, err, sizeof err);
        if (w->conn == NULL) {
            warn(w, now_ms, "cannot watch the task list; taking tasks at each tick", err);
            return;
        }
        rconn_set_name(w->conn, "tickq-list-watch");
    }
    const char *argv[] = { "BLMOVE", w->list, w->list, "LEFT", "LEFT", WAIT_SECONDS };
    if (rconn_send_argv(w->conn, 6, argv, NULL) != 0) {
        warn(w, now_ms, "cannot watch the task list; taking tasks at each tick", "write failed");
        return;
    }
    w->armed = 1;
    w->armed_ms = now_ms;
}

int list_watch_fd(const list_watch_t *w)
{
    return w->armed && w->conn != NULL ? rconn_fd(w->conn) : -1;
}

int list_watch_wake(list_watch_t *w)
{
    if (!w->armed)
        return 0;
    w->armed = 0;
    char err[512];
    if (rconn_drain(w->conn, err, sizeof err) != 0)
        return 1; /* the connection broke: look at the list anyway */
    const char *refused = rconn_deferred_error(w->conn);
    if (refused != NULL) {
        /* NOPERM, WRONGTYPE...: the import reports the list's own problems. */
        w->refused = 1;
        log_warn("cannot watch the task list; taking tasks at each tick", LF_S("list", w->list),
                 LF_S("error", refused));
        drop(w);
    }
    return 1;
}
