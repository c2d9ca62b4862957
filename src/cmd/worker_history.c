/* worker_history.c — `tickq worker`'s job history process
 * (worker_history.h). */
#include "cmd/worker_history.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "data/db.h"
#include "data/history.h"
#include "data/history_process.h"

#define HISTORY_DRAIN_MS 30000
#define HISTORY_RESTART_MS 1000

struct worker_history {
    const config_t *cfg;
    int fd[2];                  /* the history process's lifetime: it reads, we hold the write end */
    char consumer[200];         /* the history process's consumer name */
    pid_t pid;                  /* the history process; 0: not running */
    int64_t restart_ms;
};

/* Started before the workers, again if it dies while the supervisor runs. */
static void start(worker_history_t *h)
{
    h->pid = history_process_start(h->cfg, h->fd[0], h->consumer);
    if (h->pid < 0) {
        log_error("cannot start the job history process; trying again", LF_S("error", strerror(errno)));
        h->pid = 0;
        h->restart_ms = clock_mono_ms() + HISTORY_RESTART_MS;
    }
}

worker_history_t *worker_history_start(const config_t *cfg, rconn_t *conn, const char *supervisor_id,
                                       const char *where, int *status)
{
    char err[1024];
    if (history_register(conn, cfg->prefix, cfg->history_stream, cfg->history_backlog, where, err,
                         sizeof err) != 0) {
        log_error("cannot set up the job history stream", LF_S("error", err));
        *status = EX_UNAVAILABLE;
        return NULL;
    }
    worker_history_t *h = calloc(1, sizeof *h);
    if (h == NULL) {
        log_error("cannot set up the job history process: out of memory");
        *status = EX_OSERR;
        return NULL;
    }
    h->cfg = cfg;
    if (pipe2(h->fd, O_CLOEXEC) != 0) {
        log_error("cannot set up the job history process's pipe", LF_S("error", strerror(errno)));
        free(h);
        *status = EX_OSERR;
        return NULL;
    }
    snprintf(h->consumer, sizeof h->consumer, "%s:history", supervisor_id);
    start(h);
    return h;
}

static void on_tick(void *ctx, int64_t now_ms, int stopping)
{
    (void)stopping; /* it runs to the end, and after: restarted even while stopping */
    worker_history_t *h = ctx;
    if (h->pid == 0 && h->fd[1] >= 0 && now_ms >= h->restart_ms)
        start(h);
}

static int on_reaped(void *ctx, pid_t pid, int wstatus)
{
    worker_history_t *h = ctx;
    if (pid != h->pid)
        return 0;
    /* Not while we run: it ends only after us. */
    h->pid = 0;
    h->restart_ms = clock_mono_ms() + HISTORY_RESTART_MS;
    log_error("the job history process stopped; starting another",
              LF_S("how", WIFSIGNALED(wstatus) ? "killed by a signal" : "exited"),
              LF_I("status", WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus)));
    return 1;
}

static void on_forked(void *ctx)
{
    worker_history_t *h = ctx;
    for (int e = 0; e < 2; e++)
        if (h->fd[e] >= 0)
            close(h->fd[e]);
}

/* Every worker is gone, and what they and the supervisor settled is in the
 * history stream: closing the pipe's write end lets the history process
 * write what the stream holds and exit. */
static void on_finish(void *ctx)
{
    worker_history_t *h = ctx;
    close(h->fd[1]);
    h->fd[1] = -1;
    if (h->pid == 0)
        start(h); /* it died just before: one more to drain the stream */
    int64_t give_up = clock_mono_ms() + HISTORY_DRAIN_MS;
    int restarts = 0;
    while (h->pid > 0) {
        int wstatus;
        pid_t pid = waitpid(h->pid, &wstatus, WNOHANG);
        if (pid == h->pid || (pid < 0 && errno != EINTR)) {
            h->pid = 0;
            if (pid > 0 && WIFSIGNALED(wstatus) && restarts++ < 3) {
                /* Killed on its way: the stream may still hold rows. */
                log_error("the job history process stopped before the end; starting another to drain the stream");
                start(h);
            } else if (pid > 0 && !(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)) {
                log_error("the job history process did not write everything (see its log line above)");
            }
        } else if (clock_mono_ms() > give_up) {
            log_error("the job history process did not finish in time; stopping it",
                      LF_I("waited_ms", HISTORY_DRAIN_MS));
            kill(h->pid, SIGKILL);
            waitpid(h->pid, NULL, 0);
            h->pid = 0;
        } else {
            clock_sleep_ms(10, NULL);
        }
    }
}

supervisor_companion_t worker_history_companion(worker_history_t *h)
{
    return (supervisor_companion_t){ .ctx = h, .tick = on_tick, .reaped = on_reaped, .forked = on_forked,
                                     .finish = on_finish };
}

void worker_history_free(worker_history_t *h)
{
    if (h == NULL)
        return;
    for (int e = 0; e < 2; e++)
        if (h->fd[e] >= 0)
            close(h->fd[e]);
    free(h);
}
