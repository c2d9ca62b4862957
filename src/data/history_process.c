/* history_process.c — reads job history from the Redis history stream and
 * writes it to the database, in a process of its own (history_process.h).
 *
 * (1) Rows are acknowledged only after they are committed; a batch whose
 *     write failed is kept, and nothing more is read until it is written.
 * (2) A row the database refuses (db.h, DB_REFUSED: a value it cannot
 *     store) is skipped, logged and counted (history_refused), and the rest
 *     of its batch written (history_batch_write): one bad row never stalls
 *     the history behind it.
 * (3) Entries delivered to this consumer before it (re)connected are read
 *     first (XREADGROUP ... 0): a history process killed after its commit
 *     and before its acknowledgement is followed by one that writes the same
 *     rows again, which the database skips (history.h). */
#include "data/history_process.h"

#include "core/clock.h"
#include "data/db.h"
#include "data/history.h"
#include "core/log.h"
#include "core/queue.h"
#include "core/rconn.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#define FLUSH_MS 250
#define BATCH_ROWS 5000
#define READ_COUNT 100           /* entries per XREADGROUP */
#define NICE 10 /* CPU goes to Redis and the workers first; measured best of 5 and 10 */
#define CONNECT_EVERY_MS 1000
#define RETRY_MS 1000
#define WARN_EVERY_MS 10000
#define REGISTER_EVERY_MS 10000
#define CLAIM_EVERY_MS 5000
#define LAST_FLUSH_TRIES_MS 10000 /* at the end, how long a database or Redis that is down gets */
#define READ_FD 3
#define PRUNE_EVERY_MS (3600 * 1000)

typedef struct {
    const config_t *cfg;
    const char *consumer;
    const char *stream;
    char where[DB_WHERE_MAX + 300];
    rconn_t *conn;
    queue_t q;
    db_t *db;
    history_batch_t *batch;
    int own_done;                /* entries delivered to us before (re)connecting are read */
    int full;                    /* the last batch was full: the next one starts at once */
    int failing;                 /* the batch could not be written: read nothing more */
    int64_t next_connect_ms, next_db_ms, next_register_ms, next_claim_ms;
    int64_t next_prune_ms;       /* 0: at the first connection */
    int64_t warned_ms;
    long long dropped_seen;      /* -1: not read yet */
    unsigned long long malformed_seen;
    char err[1024];
} recorder_t;

static void warn(recorder_t *r, const char *msg)
{
    int64_t now = clock_mono_ms();
    if (r->warned_ms != 0 && now - r->warned_ms < WARN_EVERY_MS)
        return;
    r->warned_ms = now;
    log_warn(msg, LF_S("stream", r->stream), LF_I("rows", (long long)history_batch_rows(r->batch)),
             LF_S("error", r->err));
}

/* Waits up to ms for the supervisor to be gone; 1 when it is. */
static int supervisor_gone(int ms)
{
    struct pollfd p = { READ_FD, POLLIN, 0 };
    int n;
    while ((n = poll(&p, 1, ms)) < 0 && errno == EINTR) {
    }
    if (n <= 0)
        return 0;
    char c;
    return read(READ_FD, &c, 1) <= 0; /* nothing is ever written: only the end */
}

/* Tells how many rows the stream's backlog dropped, when that changed. */
static void check_dropped(recorder_t *r)
{
    long long dropped = history_dropped(r->conn, r->stream, r->err, sizeof r->err);
    if (dropped < 0)
        return;
    if (r->dropped_seen < 0 && dropped > 0)
        log_warn("job history rows were dropped before this history process started: Redis held more than "
                 "--history-backlog rows waiting (tickq stats: history_dropped)",
                 LF_S("stream", r->stream), LF_I("history_dropped", dropped), LF_I("cap", r->cfg->history_backlog));
    else if (r->dropped_seen >= 0 && dropped > r->dropped_seen)
        log_warn("job history rows dropped: Redis held more than --history-backlog rows waiting for the "
                 "database (tickq stats: history_dropped)",
                 LF_S("stream", r->stream), LF_I("dropped", dropped - r->dropped_seen),
                 LF_I("history_dropped", dropped), LF_I("cap", r->cfg->history_backlog));
    r->dropped_seen = dropped;
}

/* The Redis connection, opened (and reopened) on need, at most once a
 * second. 0, or -1. */
static int redis_up(recorder_t *r)
{
    if (r->conn != NULL && !rconn_broken(r->conn))
        return 0;
    int64_t now = clock_mono_ms();
    if (now < r->next_connect_ms)
        return -1;
    r->next_connect_ms = now + CONNECT_EVERY_MS;
    int ok = r->conn ? rconn_reconnect(r->conn, r->err, sizeof r->err) == 0
                     : (r->conn = rconn_open(&r->cfg->url, r->cfg->command_timeout_ms, r->err, sizeof r->err)) != NULL;
    if (!ok) {
        warn(r, "cannot reach Redis for job history yet; it waits there");
        return -1;
    }
    char name[240];
    snprintf(name, sizeof name, "tickq-history:%s", r->consumer);
    rconn_set_name(r->conn, name);
    queue_init(&r->q, r->conn);
    config_apply(r->cfg, &r->q);
    r->own_done = 0; /* re-read what the lost connection was given (take: after a held batch) */
    r->next_register_ms = 0;
    return 0;
}

/* The database connection, opened on first need (and again after a failure
 * to open, at most once a second). 0, or -1. */
static int db_up(recorder_t *r)
{
    if (r->db != NULL && db_connection_lost(r->db)) {
        /* The server went away (restarted, failed over, or the connection
         * was cut): this handle would fail every write from now on, and
         * the rows would wait in Redis until the worker restarted. */
        db_close(r->db);
        r->db = NULL;
    }
    if (r->db != NULL)
        return 0;
    int64_t now = clock_mono_ms();
    if (now < r->next_db_ms)
        return -1;
    r->next_db_ms = now + CONNECT_EVERY_MS;
    if (db_open(r->cfg->database_url, r->cfg->db_path, &r->db, NULL, r->err, sizeof r->err) != 0) {
        r->db = NULL;
        warn(r, "cannot open the database for job history yet; it waits in Redis");
        return -1;
    }
    if (db_small_cache(r->db, r->err, sizeof r->err) != 0)
        warn(r, "cannot make the history database's page cache small; going on with the large one");
    return 0;
}

/* Retention: history older than --history-days goes, hourly. */
static void prune(recorder_t *r)
{
    int64_t now = clock_mono_ms();
    if (r->cfg->history_days <= 0 || now < r->next_prune_ms || db_up(r) != 0)
        return;
    r->next_prune_ms = now + PRUNE_EVERY_MS;
    int64_t before = clock_now_us() - (int64_t)r->cfg->history_days * 86400 * 1000000;
    if (db_history_prune(r->db, before, r->err, sizeof r->err) != 0)
        log_warn("cannot delete old job history; trying again in an hour", LF_I("days", r->cfg->history_days),
                 LF_S("error", r->err));
}

/* What runs every few seconds: the stream's registration (its cap and
 * database: Redis may have restarted empty), the dropped count, entries of
 * dead history processes, retention. */
static void housekeeping(recorder_t *r)
{
    int64_t now = clock_mono_ms();
    if (now >= r->next_register_ms) {
        r->next_register_ms = now + REGISTER_EVERY_MS;
        if (history_register(r->conn, r->cfg->prefix, r->stream, r->cfg->history_backlog, r->where, r->err,
                             sizeof r->err) != 0)
            warn(r, "cannot register the job history stream");
        check_dropped(r);
    }
    if (now >= r->next_claim_ms && history_batch_entries(r->batch) == 0) {
        r->next_claim_ms = now + CLAIM_EVERY_MS;
        int n = history_claim_idle(r->conn, r->stream, r->consumer, r->cfg->claim_timeout_ms, READ_COUNT,
                                   r->batch, r->err, sizeof r->err);
        if (n > 0)
            log_info("took over job history a stopped history process had read", LF_S("stream", r->stream),
                     LF_I("entries", n));
        else if (n < 0)
            r->own_done = 0; /* what it took over (ours now) is read again */
    }
    prune(r);
}

/* Reads into the batch: first what was delivered to us before, then new
 * entries (waiting up to block_ms when the batch is empty). Our pending
 * entries are read from the start of our pending list each time, so only
 * into an empty batch: those of the batch leave the list when it is
 * acknowledged, and the next read returns the next ones. Returns the number
 * of entries read, 0, or -1 (Redis is gone). */
static int take(recorder_t *r, int64_t block_ms)
{
    int n;
    if (!r->own_done) {
        if (history_batch_entries(r->batch) > 0)
            return 0;
        n = history_read(r->conn, r->stream, r->consumer, HISTORY_READ_OWN, READ_COUNT, 0, r->batch, r->err,
                         sizeof r->err);
        if (n >= 0 && n < READ_COUNT)
            r->own_done = 1;
        if (n != 0)
            return n;
    }
    n = history_read(r->conn, r->stream, r->consumer, HISTORY_READ_NEW, READ_COUNT,
                     history_batch_entries(r->batch) == 0 ? block_ms : 0, r->batch, r->err, sizeof r->err);
    if (n < 0)
        r->own_done = 0; /* entries delivered to us but not kept (a lost reply, no memory): read them again */
    if (n < 0 && !rconn_broken(r->conn))
        warn(r, "cannot read the job history stream");
    unsigned long long bad = history_batch_malformed(r->batch);
    if (bad > r->malformed_seen) {
        log_warn("job history stream entries that tickq did not write: skipped", LF_S("stream", r->stream),
                 LF_I("rows", (long long)(bad - r->malformed_seen)));
        r->malformed_seen = bad;
    }
    return n;
}

/* A row the database refused (history_refused_fn): logged, then skipped. */
static void refused_row(void *user, const history_rec_t *job, const retry_rec_t *retry, const char *error)
{
    recorder_t *r = user;
    log_error("job history row refused by the database: skipped (tickq stats: history_refused)",
              LF_S("stream", r->stream), LF_S("row", job ? "job_history" : "job_retries"),
              LF_S("job_id", job ? job->job_id : retry->job_id), LF_I("run", job ? job->run : retry->run),
              LF_I("attempt", job ? job->attempts : retry->attempt), LF_S("error", error));
}

/* Writes the batch, then acknowledges it. 0, or -1 (the batch is kept: its
 * rows are written again later, which the database skips if they are). */
static int flush(recorder_t *r)
{
    if (history_batch_entries(r->batch) == 0)
        return 0;
    if (db_up(r) != 0)
        return -1;
    long long refused = history_batch_write(r->db, r->batch, refused_row, r, r->err, sizeof r->err);
    if (refused < 0) {
        warn(r, "cannot write job history yet; it waits in Redis");
        return -1;
    }
    if (redis_up(r) != 0 || history_batch_ack(&r->q, r->stream, r->batch, r->err, sizeof r->err) != 0) {
        warn(r, "cannot acknowledge written job history yet");
        return -1;
    }
    /* Counted once its entries are acknowledged (a batch written again
     * would count them twice); a process killed in between leaves them
     * logged and uncounted. */
    if (refused > 0 && history_count_refused(r->conn, r->stream, refused, r->err, sizeof r->err) != 0)
        log_warn("cannot count the refused job history rows", LF_S("stream", r->stream), LF_I("rows", refused),
                 LF_S("error", r->err));
    return 0;
}

/* Every writer is gone: writes what the stream holds up to its newest entry
 * now, with some patience for a database or Redis that is down just now.
 * Returns 0 when everything is written. */
static int drain(recorder_t *r)
{
    int64_t give_up = clock_mono_ms() + LAST_FLUSH_TRIES_MS;
    char end[64];
    int have_end = 0, reached = 0;
    while (clock_mono_ms() < give_up) {
        if (history_batch_entries(r->batch) > 0) {
            if (flush(r) != 0) {
                clock_sleep_ms(200, NULL);
                continue;
            }
            if (reached)
                return 0;
        }
        if (redis_up(r) != 0) {
            clock_sleep_ms(200, NULL);
            continue;
        }
        if (!have_end) {
            if (history_last_id(r->conn, r->stream, end, sizeof end, r->err, sizeof r->err) != 0)
                continue;
            have_end = 1;
        }
        int n = 0;
        while (history_batch_rows(r->batch) < BATCH_ROWS && (n = take(r, 0)) > 0) {
        }
        if (n < 0) {
            clock_sleep_ms(200, NULL);
            continue;
        }
        if (history_batch_entries(r->batch) == 0)
            return 0;
        /* Other hosts may go on adding: stop at what was there at the end. */
        reached = end[0] == '\0' || history_batch_reaches(r->batch, end);
    }
    return -1;
}

static int run(const config_t *cfg, const char *consumer)
{
    recorder_t r;
    memset(&r, 0, sizeof r);
    r.cfg = cfg;
    r.consumer = consumer;
    r.stream = cfg->history_stream;
    r.dropped_seen = -1;
    r.batch = history_batch_new();
    char key[HISTORY_KEY_MAX];
    if (r.batch == NULL ||
        history_stream_key(cfg->prefix, cfg->database_url, cfg->db_path, key, sizeof key, r.where, sizeof r.where,
                           NULL, r.err, sizeof r.err) != 0) {
        log_error("cannot start the job history process", LF_S("error", r.batch ? r.err : "out of memory"));
        return 1;
    }
    prune(&r);
    while (!supervisor_gone(0)) {
        if (redis_up(&r) != 0) {
            supervisor_gone(200);
            continue;
        }
        housekeeping(&r);
        if (history_batch_entries(r.batch) == 0) {
            int n = take(&r, FLUSH_MS);
            if (n < 0 && !rconn_broken(r.conn)) {
                r.next_register_ms = 0; /* the group may be gone with the stream: register again */
                if (supervisor_gone(RETRY_MS))
                    break;
            }
            if (n <= 0)
                continue;
            /* Rows come in: let more come for one transaction (unless a
             * backlog is waiting). */
            if (!r.full && supervisor_gone(FLUSH_MS))
                break;
        }
        while (!r.failing && history_batch_rows(r.batch) < BATCH_ROWS && take(&r, 0) > 0) {
        }
        r.full = history_batch_rows(r.batch) >= BATCH_ROWS;
        r.failing = flush(&r) != 0;
        if (r.failing && supervisor_gone(RETRY_MS))
            break;
    }
    int status = 0;
    if (drain(&r) != 0) {
        log_error("job history not all written; the rows wait in Redis for the next history process",
                  LF_S("stream", r.stream), LF_I("rows", (long long)history_batch_rows(r.batch)),
                  LF_S("error", r.err));
        status = 1;
    } else if (r.conn != NULL) {
        check_dropped(&r);
        history_retire(r.conn, r.stream, r.consumer);
    }
    log_flush();
    history_batch_free(r.batch);
    rconn_free(r.conn);
    db_close(r.db);
    return status;
}

pid_t history_process_start(const config_t *cfg, int read_fd, const char *consumer)
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
    _exit(run(cfg, consumer));
}
