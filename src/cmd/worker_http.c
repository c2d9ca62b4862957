/* worker_http.c — the HTTP process beside a worker (worker_http.h). */
#include "cmd/worker_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

#define RESTART_MS 1000
#define STOP_WAIT_MS 5000

struct worker_http {
    http_app_t *app;
    const http_bind_t *bind;
    const char *token;
    pid_t pid;                   /* 0: not running */
    pid_t parent;
    int64_t restart_ms;
    int stopped;
};

worker_http_t *worker_http_new(http_app_t *app, const http_bind_t *bind, const char *token)
{
    worker_http_t *h = calloc(1, sizeof *h);
    if (h != NULL) {
        h->app = app;
        h->bind = bind;
        h->token = token;
    }
    return h;
}

/* PORT 0: the port the kernel picked for the probe, kept in `b`. */
static void keep_port(http_bind_t *b, int fd)
{
    struct sockaddr_storage got;
    socklen_t len = sizeof got;
    if (getsockname(fd, (struct sockaddr *)&got, &len) != 0)
        return;
    uint16_t port = got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                              : ((struct sockaddr_in *)&got)->sin_port;
    if (b->addr.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&b->addr)->sin6_port = port;
    else
        ((struct sockaddr_in *)&b->addr)->sin_port = port;
    char *colon = strrchr(b->text, ':');
    if (colon != NULL)
        snprintf(colon + 1, sizeof b->text - (size_t)(colon + 1 - b->text), "%u", (unsigned)ntohs(port));
}

int worker_http_probe(http_bind_t *where, char *err, size_t errlen)
{
    int fd = socket(where->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (const struct sockaddr *)&where->addr, where->len) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", where->text, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    uint16_t port = where->addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&where->addr)->sin6_port
                                                      : ((struct sockaddr_in *)&where->addr)->sin_port;
    if (port == 0)
        keep_port(where, fd);
    close(fd);
    return 0;
}

/* The HTTP process's body: TERM, INT and USR1 arrive blocked (start), so
 * none is lost to the supervisor's handlers before they are reset;
 * http_app_run waits for TERM and INT. */
static void serve(worker_http_t *h)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != h->parent)
        _exit(0);
    setpgid(0, 0);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGUSR1, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    int st = http_app_run(h->app, h->bind, h->token);
    http_app_close(h->app);
    log_flush();
    _exit(st);
}

static void start(worker_http_t *h)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    h->parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        serve(h);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        log_error("cannot start the HTTP process; trying again", LF_S("error", strerror(errno)));
        h->pid = 0;
        h->restart_ms = clock_mono_ms() + RESTART_MS;
        return;
    }
    h->pid = pid;
}

static int on_start(void *ctx)
{
    start(ctx);
    return 0;
}

static void on_tick(void *ctx, int64_t now_ms, int stopping)
{
    (void)stopping; /* it serves through the drain: readiness says "shutting down" */
    worker_http_t *h = ctx;
    if (h->pid == 0 && !h->stopped && now_ms >= h->restart_ms)
        start(h);
}

static int on_reaped(void *ctx, pid_t pid, int wstatus)
{
    worker_http_t *h = ctx;
    if (pid != h->pid)
        return 0;
    h->pid = 0;
    h->restart_ms = clock_mono_ms() + RESTART_MS;
    if (!h->stopped)
        log_error("the HTTP process stopped; starting another",
                  LF_S("how", WIFSIGNALED(wstatus) ? "killed by a signal" : "exited"),
                  LF_I("status", WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus)));
    return 1;
}

/* Every child is gone: the server stops last. */
static void on_finish(void *ctx)
{
    worker_http_t *h = ctx;
    h->stopped = 1;
    if (h->pid <= 0)
        return;
    kill(h->pid, SIGTERM);
    int64_t give_up = clock_mono_ms() + STOP_WAIT_MS;
    while (h->pid > 0) {
        pid_t pid = waitpid(h->pid, NULL, WNOHANG);
        if (pid == h->pid || (pid < 0 && errno != EINTR)) {
            h->pid = 0;
        } else if (clock_mono_ms() > give_up) {
            kill(h->pid, SIGKILL);
            waitpid(h->pid, NULL, 0);
            h->pid = 0;
        } else {
            clock_sleep_ms(10, NULL);
        }
    }
}

supervisor_companion_t worker_http_companion(worker_http_t *h)
{
    return (supervisor_companion_t){ .ctx = h, .start = on_start, .tick = on_tick, .reaped = on_reaped,
                                     .finish = on_finish };
}

void worker_http_free(worker_http_t *h)
{
    free(h);
}
