/* history_process.c — reads job history from the pipe and writes it to the
 * database, in a process of its own (history_process.h). */
#include "history_process.h"

#include "clock.h"
#include "db.h"
#include "history.h"
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#define FLUSH_MS 250
#define FLUSH_RECORDS 2000
#define NICE 10 /* CPU goes to Redis and the workers first; measured best of 5 and 10 */
#define CONNECT_EVERY_MS 1000
#define WARN_EVERY_MS 10000
#define LAST_FLUSH_TRIES_MS 10000 /* at the end, how long a database that is down gets */
#define READ_FD 3
#define PRUNE_EVERY_MS (3600 * 1000)

typedef struct {
    const config_t *cfg;
    history_t *h;
    db_t *db;
    int64_t next_connect_ms;
    int64_t next_prune_ms;       /* 0: at the first connection */
    int64_t warned_ms;
    char err[1024];
} recorder_t;

static void warn(recorder_t *r, const char *msg)
{
    int64_t now = clock_mono_ms();
    if (r->warned_ms != 0 && now - r->warned_ms < WARN_EVERY_MS)
        return;
    r->warned_ms = now;
    log_warn(msg, LF_I("records", (long long)history_pending(r->h)), LF_S("error", r->err));
}

/* The database connection, opened on first need (and again after a
 * failure to open, at most once a second). 0, or -1. */
static int connect_db(recorder_t *r)
{
    if (r->db != NULL)
        return 0;
    int64_t now = clock_mono_ms();
    if (now < r->next_connect_ms)
        return -1;
    r->next_connect_ms = now + CONNECT_EVERY_MS;
    if (db_open(r->cfg->database_url, r->cfg->db_path, &r->db, r->err, sizeof r->err) != 0) {
        r->db = NULL;
        warn(r, "cannot open the database for job history yet; keeping it");
        return -1;
    }
    history_set_db(r->h, r->db);
    return 0;
}

/* Writes what is waiting. 0, or -1 (kept for the next try). */
static int flush(recorder_t *r)
{
    if (history_pending(r->h) == 0)
        return 0;
    if (connect_db(r) != 0)
        return -1;
    if (history_flush(r->h, r->err, sizeof r->err) != 0) {
        warn(r, "cannot write job history yet; keeping it");
        return -1;
    }
    return 0;
}

/* Retention: history older than --history-days goes, hourly. */
static void prune(recorder_t *r)
{
    int64_t now = clock_mono_ms();
    if (r->cfg->history_days <= 0 || now < r->next_prune_ms || connect_db(r) != 0)
        return;
    r->next_prune_ms = now + PRUNE_EVERY_MS;
    int64_t before = clock_now_us() - (int64_t)r->cfg->history_days * 86400 * 1000000;
    if (db_history_prune(r->db, before, r->err, sizeof r->err) != 0)
        log_warn("cannot delete old job history; trying again in an hour", LF_I("days", r->cfg->history_days),
                 LF_S("error", r->err));
}

static int run(const config_t *cfg)
{
    recorder_t r = { cfg, history_new(NULL), NULL, 0, 0, 0, "" };
    if (r.h == NULL)
        return 1;
    prune(&r);
    int64_t next_flush = clock_mono_ms() + FLUSH_MS;
    for (int open = 1; open;) {
        int64_t wait = next_flush - clock_mono_ms();
        struct pollfd p = { READ_FD, POLLIN, 0 };
        if (poll(&p, 1, wait < 0 ? 0 : (int)wait) < 0 && errno != EINTR)
            break;
        open = history_read(r.h, READ_FD);
        if (history_pending(r.h) >= FLUSH_RECORDS || clock_mono_ms() >= next_flush) {
            flush(&r);
            prune(&r);
            next_flush = clock_mono_ms() + FLUSH_MS;
        }
    }
    /* Every writer is gone: the last records, with some patience for a
     * database that is down just now. */
    int64_t give_up = clock_mono_ms() + LAST_FLUSH_TRIES_MS;
    while (flush(&r) != 0 && clock_mono_ms() < give_up)
        clock_sleep_ms(200, NULL);
    int status = 0;
    if (history_pending(r.h) > 0 || history_dropped(r.h) > 0) {
        log_error("job history not written", LF_I("records", (long long)history_pending(r.h)),
                  LF_I("dropped", (long long)history_dropped(r.h)), LF_S("error", r.err));
        status = 1;
    }
    log_flush();
    history_free(r.h);
    db_close(r.db);
    return status;
}

pid_t history_process_start(const config_t *cfg, int read_fd)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    /* Keep the pipe's read end (as fd 3) and stdio: a write end left open
     * here would keep the pipe from ever ending. */
    if (read_fd != READ_FD && dup2(read_fd, READ_FD) != READ_FD)
        _exit(1);
    close_range(READ_FD + 1, ~0U, 0);
    (void)setpriority(PRIO_PROCESS, 0, NICE); /* lowering is always allowed */
    prctl(PR_SET_NAME, "tickq-history");      /* for ps and top */
    _exit(run(cfg));
}
