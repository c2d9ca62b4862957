/* cmd_jobs.c — `tickq jobs`: jobs by state, failed and dead first, from
 * Redis (core/job_list.h) and, for finished runs older than the record TTL,
 * from the job history database (data/db.h, db_history_list). */
#include "cmd/commands.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/db_exit.h"
#include "cmd/text_table.h"
#include "core/clock.h"
#include "core/job_list.h"
#include "data/db.h"

static const char usage[] =
    "usage: tickq jobs [--state S] [--queue Q] [--type T] [--since T] [--limit N] [--json]\n"
    "                  [--db PATH]\n"
    "\n"
    "Lists jobs: ID, TYPE, QUEUE, STATE, ATTEMPTS, AGE (time in that state) and\n"
    "ERROR (cut to fit the line). Without --state: failed, dead, retrying, running,\n"
    "queued, delayed, held (waiting for a slot of its type's limit), deferred\n"
    "(waiting for the jobs it depends on: enqueue --after), cancelled, in that\n"
    "order; finished and retrying jobs newest first, the others in the order\n"
    "workers take them. Completed jobs are not listed (tickq job ID shows one).\n"
    "Failed, dead and cancelled runs older than the record TTL (TICKQ_RESULT_TTL)\n"
    "come from the job history database when --since reaches past it.\n"
    "\n"
    "  --state S            failed, dead, retrying, running, queued, delayed, held,\n"
    "                       deferred or cancelled\n"
    "  --queue Q            one logical queue (all its priorities)\n"
    "  --type T             one task type\n"
    "  --since T            jobs that entered their state since T: a duration back\n"
    "                       from now (90s, 30m, 6h, 2d) or an ISO 8601 time\n"
    "                       (2026-01-15T10:00:00Z, 2026-01-15)\n"
    "  --limit N            at most N jobs (default: 50)\n"
    "  --json               one JSON object per job\n"
    "  --db PATH            the SQLite job history for --since (default: $TICKQ_DB;\n"
    "                       DATABASE_URL: PostgreSQL)\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 ok, 64 bad usage (an unknown state, a bad duration or time),\n"
    "69 Redis or PostgreSQL unavailable, 73 the SQLite file cannot be opened, 78\n"
    "configuration error.\n";

enum { OPT_STATE = OPT_FIRST_COMMAND_OPTION, OPT_QUEUE, OPT_TYPE, OPT_SINCE, OPT_LIMIT, OPT_DB };

static const struct option options[] = {
    { "state", required_argument, 0, OPT_STATE },
    { "queue", required_argument, 0, OPT_QUEUE },
    { "type", required_argument, 0, OPT_TYPE },
    { "since", required_argument, 0, OPT_SINCE },
    { "limit", required_argument, 0, OPT_LIMIT },
    { "json", no_argument, 0, OPT_JSON },
    { "db", required_argument, 0, OPT_DB },
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

#define JOBS_LIMIT_MAX 100000

typedef struct {
    config_t *cfg;
    const char *state;
    job_filter_t f;
    int as_json;
    int64_t now_ms;
} jobs_flags_t;

/* --since: a duration back from now (clock_parse_duration's units, and d
 * for days) or an ISO 8601 date or time. 0 and *since_ms, or -1. */
static int parse_since(const char *arg, int64_t now_ms, int64_t *since_ms)
{
    int64_t ms, epoch_s;
    int date_only;
    size_t len = strlen(arg);
    if (len > 1 && arg[len - 1] == 'd') {
        char days[64];
        snprintf(days, sizeof days, "%.*s", (int)(len - 1), arg);
        if (strchr(days, 'm') == NULL && strchr(days, 's') == NULL && strchr(days, 'h') == NULL &&
            clock_parse_duration(days, 86400000, &ms) == 0) {
            *since_ms = now_ms - ms;
            return 0;
        }
        return -1;
    }
    if (clock_parse_duration(arg, 1000, &ms) == 0) {
        *since_ms = now_ms - ms;
        return 0;
    }
    if (clock_parse_iso8601(arg, &epoch_s, &date_only) == 0) {
        *since_ms = epoch_s * 1000;
        return 0;
    }
    return -1;
}

static int on_flag(int opt, const char *arg, void *ctx)
{
    jobs_flags_t *j = ctx;
    char err[256];
    long long n;
    switch (opt) {
    case OPT_STATE:
        if (strcmp(arg, "completed") == 0)
            return cli_usage_error(usage, "--state completed: completed jobs are not listed (Redis keeps no index "
                                   "of them; tickq job ID shows one, the job history database keeps them all)");
        if (!job_list_state_known(arg))
            return cli_usage_error(usage, "unknown state '%s' for --state: use failed, dead, retrying, running, "
                                   "queued, delayed, held, deferred or cancelled", arg);
        j->state = arg;
        return 0;
    case OPT_QUEUE:
        if (queue_name_check(arg, err, sizeof err) != 0)
            return cli_usage_error(usage, "--queue: %s", err);
        j->f.queue = arg;
        return 0;
    case OPT_TYPE:
        if (!job_name_valid(arg, JOB_TYPE_MAX))
            return cli_usage_error(usage, "--type '%s' is not a task type name (1 to %d letters, digits, '_', '-' "
                                   "or '.')", arg, JOB_TYPE_MAX);
        j->f.type = arg;
        return 0;
    case OPT_SINCE:
        if (parse_since(arg, j->now_ms, &j->f.since_ms) != 0)
            return cli_usage_error(usage, "--since '%s' is neither a duration (90s, 30m, 6h, 2d) nor an ISO 8601 "
                                   "time (2026-01-15T10:00:00Z, 2026-01-15)", arg);
        if (j->f.since_ms > j->now_ms)
            return cli_usage_error(usage, "--since '%s' is in the future", arg);
        if (j->f.since_ms <= 0)
            j->f.since_ms = 1; /* since the epoch: every job */
        return 0;
    case OPT_LIMIT:
        if (cli_parse_int(arg, 1, JOBS_LIMIT_MAX, &n) != 0)
            return cli_usage_error(usage, "--limit '%s' is not a number from 1 to %d", arg, JOBS_LIMIT_MAX);
        j->f.limit = (size_t)n;
        return 0;
    case OPT_DB:
        j->cfg->db_path = arg;
        return 0;
    default: /* OPT_JSON */
        j->as_json = 1;
        return 0;
    }
}

/* Appends the job history's runs in `state` that finished from f->since_ms
 * up to `before_ms` (when the Redis records went), opening *db on first
 * use. 0, or an exit status after saying why. */
static int add_history(config_t *cfg, db_t **db, const char *state, const job_filter_t *f, int64_t before_ms,
                       job_rows_t *rows)
{
    char err[1024];
    if (*db == NULL) {
        db_failure_t failure;
        if (db_open(cfg->database_url, cfg->db_path, db, &failure, err, sizeof err) != 0)
            return cli_fail(db_exit_status(failure), "cannot read the job history: %s", err);
    }
    history_query_t hq = { state, f->queue, f->type, f->since_ms * 1000, before_ms * 1000, f->limit - rows->n };
    history_row_t *h = NULL;
    size_t n = 0;
    if (db_history_list(*db, &hq, &h, &n, err, sizeof err) != 0)
        return cli_fail(EX_UNAVAILABLE, "cannot read the job history in %s: %s", db_where(*db), err);
    int st = 0;
    for (size_t i = 0; st == 0 && i < n; i++) {
        job_row_t row;
        memset(&row, 0, sizeof row);
        snprintf(row.id, sizeof row.id, "%s", h[i].job_id);
        snprintf(row.type, sizeof row.type, "%s", h[i].type);
        snprintf(row.queue, sizeof row.queue, "%s", h[i].queue);
        snprintf(row.state, sizeof row.state, "%s", h[i].state);
        row.attempts = h[i].attempts;
        row.run = h[i].run;
        row.since_ms = h[i].finished_ms;
        row.from_history = 1;
        if (job_rows_add(rows, &row, h[i].error) == NULL)
            st = cli_fail(EX_OSERR, "out of memory listing jobs");
    }
    db_history_rows_free(h, n);
    return st;
}

/* "42s", "17m", "5h", "3d": the largest whole unit. */
static void format_age(int64_t ms, char *out, size_t cap)
{
    int64_t s = ms < 0 ? 0 : ms / 1000;
    if (s < 60)
        snprintf(out, cap, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(out, cap, "%lldm", (long long)(s / 60));
    else if (s < 86400)
        snprintf(out, cap, "%lldh", (long long)(s / 3600));
    else
        snprintf(out, cap, "%lldd", (long long)(s / 86400));
}

/* The width lines may take: the terminal's, else $COLUMNS, else 120. */
static size_t line_width(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *cols = getenv("COLUMNS");
    long long n;
    if (cols != NULL && cli_parse_int(cols, 20, 10000, &n) == 0)
        return (size_t)n;
    return 120;
}

/* The first `width` characters of UTF-8 text s, on one line (control
 * characters as blanks), "…" at the end when cut, into out. */
static void fit(const char *s, size_t width, char *out, size_t cap)
{
    size_t chars = 0, o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 8 < cap; p++) {
        int starts = (*p & 0xC0) != 0x80;
        if (starts && chars == width - 1 && p[1] != '\0') {
            const unsigned char *q = p + 1;
            while (*q && (*q & 0xC0) == 0x80)
                q++;
            if (*q) { /* more follows: end with an ellipsis */
                memcpy(out + o, "\xE2\x80\xA6", 3);
                o += 3;
                break;
            }
        }
        chars += starts;
        out[o++] = *p < 0x20 || *p == 0x7F ? ' ' : (char)*p;
    }
    out[o] = '\0';
}

static int print_table(const job_rows_t *rows, int64_t now_ms)
{
    static const char *const head[] = { "ID", "TYPE", "QUEUE", "STATE", "ATTEMPTS", "AGE", "ERROR" };
    size_t used[6] = { 2, 4, 5, 5, 8, 3 };
    char (*ages)[16] = calloc(rows->n + 1, sizeof *ages);
    char (*attempts)[16] = calloc(rows->n + 1, sizeof *attempts);
    text_table_t *t = text_table_new(7, "llllrrl");
    int st = ages == NULL || attempts == NULL || t == NULL || text_table_add(t, head) != 0;
    for (size_t i = 0; !st && i < rows->n; i++) {
        const job_row_t *r = &rows->rows[i];
        format_age(now_ms - r->since_ms, ages[i], sizeof ages[i]);
        snprintf(attempts[i], sizeof attempts[i], "%d", r->attempts);
        size_t w[6] = { strlen(r->id), strlen(r->type), strlen(r->queue), strlen(r->state), strlen(attempts[i]),
                        strlen(ages[i]) };
        for (int c = 0; c < 6; c++)
            used[c] = w[c] > used[c] ? w[c] : used[c];
    }
    size_t width = line_width(), taken = 6 * 2;
    for (int c = 0; c < 6; c++)
        taken += used[c];
    size_t room = width > taken + 20 ? width - taken : 20;
    for (size_t i = 0; !st && i < rows->n; i++) {
        const job_row_t *r = &rows->rows[i];
        char error[1024];
        fit(r->error ? r->error : "", room, error, sizeof error);
        const char *row[] = { r->id, r->type, r->queue, r->state, attempts[i], ages[i], error };
        st = text_table_add(t, row) != 0;
    }
    if (!st)
        text_table_print(t, stdout);
    text_table_free(t);
    free(ages);
    free(attempts);
    return st ? cli_fail(EX_OSERR, "out of memory listing jobs") : 0;
}

static void print_json(const job_rows_t *rows, int64_t now_ms)
{
    for (size_t i = 0; i < rows->n; i++)
        cli_print_json_line_digits(job_row_json(&rows->rows[i], now_ms), JOB_ROW_REAL_DIGITS);
}

int cmd_jobs(int argc, char **argv)
{
    char err[1024];
    cli_session_t cli;
    memset(&cli, 0, sizeof cli);
    jobs_flags_t j = { &cli.cfg, NULL, { NULL, NULL, 0, 50 }, 0, clock_now_ms() };
    int st = cli_parse(argc, argv, options, usage, &cli.cfg, on_flag, &j);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    if (optind < argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if ((st = cli_connect(&cli.cfg, &cli.conn, &cli.q)) != 0)
        return st;
    /* Finished runs older than this are no longer in Redis: the history has them. */
    int64_t records_from_ms = j.now_ms - cli.q.result_ttl_s * 1000;
    job_rows_t rows = { NULL, 0, 0 };
    db_t *db = NULL;
    int history_rows = 0;
    for (int i = 0; st == 0 && i < JOB_LIST_STATES && rows.n < j.f.limit; i++) {
        const char *state = job_list_states[i];
        if (j.state != NULL && strcmp(j.state, state) != 0)
            continue;
        if (job_list_state(&cli.q, state, &j.f, &rows, err, sizeof err) != 0) {
            st = cli_fail(EX_UNAVAILABLE, "cannot list %s jobs: %s", state, err);
            break;
        }
        if (job_list_state_in_history(state) && j.f.since_ms > 0 && j.f.since_ms < records_from_ms &&
            rows.n < j.f.limit) {
            size_t before = rows.n;
            st = add_history(&cli.cfg, &db, state, &j.f, records_from_ms, &rows);
            history_rows += rows.n > before;
        }
    }
    cli_close(&cli);
    if (st == 0 && j.as_json) {
        print_json(&rows, j.now_ms);
    } else if (st == 0 && rows.n == 0) {
        fprintf(stderr, "no jobs match\n");
    } else if (st == 0) {
        st = print_table(&rows, j.now_ms);
        if (history_rows)
            fprintf(stderr, "(runs that finished over %lld s ago come from the job history in %s)\n",
                   (long long)cli.q.result_ttl_s, db_where(db));
    }
    if (db != NULL)
        db_close(db);
    job_rows_free(&rows);
    return st;
}
