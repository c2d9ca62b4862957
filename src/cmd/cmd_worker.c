/* cmd_worker.c — `tickq worker`: check the configuration, then run the
 * supervisor and its worker children (or only check, with --check). */
#include "cmd/commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/db_exit.h"
#include "cmd/handler_setup.h"
#include "cmd/worker_autoscale.h"
#include "cmd/worker_history.h"
#include "cmd/worker_http.h"
#include "cmd/worker_scheduler.h"
#include "cmd/worker_watch.h"
#include "cmd/schedule_check.h"
#include "strategy/strategy_python.h"
#include "core/clock.h"
#include "core/config_file.h"
#include "core/job.h"
#include "core/log.h"
#include "data/db.h"
#include "data/history.h"
#include "data/task_env_data.h"
#include "http/http_sampler.h"
#include "core/supervisor.h"
#include "core/worker_metrics.h"
#include "sched/schedule_config.h"
#include "handlers/handler_tasks.h"
#include "core/task.h"

static const char usage[] =
    "usage: tickq worker [options]\n"
    "\n"
    "Runs a supervisor that forks N worker children; each runs one job at a time.\n"
    "\n"
    "  --queues LIST        queues in strict priority order, comma-separated; a bare\n"
    "                       name expands to NAME_high,NAME_normal,NAME_low\n"
    "                       (default: $RQ_QUEUES, else backtest)\n"
    "  --workers N          worker children (default: number of CPUs)\n"
    WORKER_AUTOSCALE_HELP
    "  --burst              exit 0 once the queues and their pending retries are empty\n"
    "  --check              check configuration and Redis, print what was checked, exit\n"
    "  --grace S            seconds running jobs get to finish on SIGTERM (default: 30)\n"
    "  --job-timeout D      how long a job enqueued without a timeout may run, per\n"
    "                       attempt (default: the pool's job_timeout with --pool,\n"
    "                       else 1h; at most 7 days)\n"
    "  --log-format F       json (default) or logfmt\n"
    "  --log-level L        debug, info (default), warning or error\n"
    "  --result-ttl S       seconds results and job records are kept (default: 86400)\n"
    "  --retry-base D       first retry delay, doubling per attempt (default: 2s)\n"
    "  --retry-max D        longest retry delay (default: 1h)\n"
    "  --claim-timeout D    claims not renewed this long belong to a dead worker (default: 30s)\n"
    "  --heartbeat D        claim renewal and heartbeat interval (default: 5s)\n"
    "  --stats-interval D   interval of the worker stats log line (default: 10s)\n"
    "  --dlq-cap N          dead-letter stream length cap (default: 100000)\n"
    "  --scheduler          also fire the recurring jobs of the configuration file's\n"
    "                       schedules (default file: $TICKQ_CONFIG, else\n"
    "                       $TICKQ_SCHEDULES, else schedules.ini; one scheduler among\n"
    "                       all replicas fires; docs/scheduler.md)\n"
    "  --pool NAME          run the [pool NAME] of the configuration file: its queues,\n"
    "                       workers, job timeout, task types and handlers (flags win\n"
    "                       over it)\n"
    "  --watch PATH         a file or folder (repeat for more): when one changes, the\n"
    "                       configuration file is read again and each child is replaced\n"
    "                       after its current job, with new handler processes; a\n"
    "                       configuration that does not read is refused (logged)\n"
    "  --http ADDR:PORT     also serve health, metrics and the REST API (docs/http.md)\n"
    "                       from a process beside the children; PORT alone binds\n"
    "                       127.0.0.1; any other address needs $TICKQ_API_TOKEN\n"
    "  --cluster-metrics    with --http: /metrics also serves the cluster's series\n"
    "                       (queue depths, totals) read from Redis; enable on one\n"
    "                       worker, or run `tickq serve`, so they are not multiplied\n"
    "  --schedules FILE     deprecated: the old name of --config FILE\n"
    "  --list-queue NAME    also take tasks LPUSHed as JSON onto this Redis list\n"
    "                       (default: strategy_queue; '' turns it off)\n"
    "  --list-target QUEUE  the queue the list's tasks join, at normal priority; only\n"
    "                       workers serving QUEUE_normal take them (default:\n"
    "                       $TICKQ_LIST_TARGET, else backtest)\n"
    "  --db PATH            SQLite file for job history (default: $TICKQ_DB, else\n"
    "                       $XDG_DATA_HOME/tickq/tickq.db, else\n"
    "                       ~/.local/share/tickq/tickq.db); DATABASE_URL=postgresql://...\n"
    "                       uses PostgreSQL\n"
    "  --no-history         record no job history in the database (tasks still use it)\n"
    "  --history-days N     delete job history older than N days, hourly (default: 90;\n"
    "                       0 keeps it for ever)\n"
    "  --history-backlog N  rows of job history Redis keeps while the database is behind\n"
    "                       or down (default: 1000000); beyond, the oldest are dropped\n"
    "                       and counted (tickq stats: history_dropped)\n"
    CLI_COMMON_HELP
    "\n"
    "Durations take a unit (500ms, 2s, 5m, 1h); a bare number means seconds.\n"
    "Exit status: 0 ok, 64 bad usage, 69 Redis unavailable (or --http cannot listen),\n"
    "75 Redis out of memory (try again later), 78 configuration error.\n";

enum {
    OPT_QUEUES = OPT_FIRST_COMMAND_OPTION, OPT_WORKERS, OPT_BURST, OPT_CHECK, OPT_GRACE,
    OPT_LOG_FORMAT, OPT_LOG_LEVEL, OPT_RESULT_TTL, OPT_RETRY_BASE, OPT_RETRY_MAX,
    OPT_CLAIM_TIMEOUT, OPT_HEARTBEAT, OPT_STATS_INTERVAL, OPT_DLQ_CAP, OPT_BATCH_BUDGET, OPT_DB,
    OPT_LIST_QUEUE, OPT_SCHEDULER, OPT_SCHEDULES, OPT_NO_HISTORY, OPT_HISTORY_DAYS, OPT_HISTORY_BACKLOG,
    OPT_LIST_TARGET, OPT_POOL, OPT_WATCH, OPT_HTTP, OPT_CLUSTER_METRICS, OPT_JOB_TIMEOUT
};

static const struct option options[] = {
    { "queues", required_argument, 0, OPT_QUEUES },
    { "workers", required_argument, 0, OPT_WORKERS },
    { "burst", no_argument, 0, OPT_BURST },
    { "check", no_argument, 0, OPT_CHECK },
    { "grace", required_argument, 0, OPT_GRACE },
    { "job-timeout", required_argument, 0, OPT_JOB_TIMEOUT },
    { "log-format", required_argument, 0, OPT_LOG_FORMAT },
    { "log-level", required_argument, 0, OPT_LOG_LEVEL },
    { "result-ttl", required_argument, 0, OPT_RESULT_TTL },
    { "retry-base", required_argument, 0, OPT_RETRY_BASE },
    { "retry-max", required_argument, 0, OPT_RETRY_MAX },
    { "claim-timeout", required_argument, 0, OPT_CLAIM_TIMEOUT },
    { "heartbeat", required_argument, 0, OPT_HEARTBEAT },
    { "stats-interval", required_argument, 0, OPT_STATS_INTERVAL },
    { "dlq-cap", required_argument, 0, OPT_DLQ_CAP },
    { "batch-budget", required_argument, 0, OPT_BATCH_BUDGET },
    { "db", required_argument, 0, OPT_DB },
    { "list-queue", required_argument, 0, OPT_LIST_QUEUE },
    { "list-target", required_argument, 0, OPT_LIST_TARGET },
    { "scheduler", no_argument, 0, OPT_SCHEDULER },
    { "no-history", no_argument, 0, OPT_NO_HISTORY },
    { "history-days", required_argument, 0, OPT_HISTORY_DAYS },
    { "history-backlog", required_argument, 0, OPT_HISTORY_BACKLOG },
    { "schedules", required_argument, 0, OPT_SCHEDULES },
    { "pool", required_argument, 0, OPT_POOL },
    { "watch", required_argument, 0, OPT_WATCH },
    { "http", required_argument, 0, OPT_HTTP },
    { "cluster-metrics", no_argument, 0, OPT_CLUSTER_METRICS },
    WORKER_AUTOSCALE_OPTIONS,
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

/* A duration flag from min_ms to max_ms, or the usage error naming what
 * is wrong with it. */
static int duration_flag(const char *flag, const char *arg, int64_t min_ms, int64_t max_ms, int64_t *out)
{
    int64_t ms = 0;
    const char *problem = clock_duration_problem(arg, 1000, &ms);
    if (problem == NULL && ms >= min_ms && ms <= max_ms) {
        *out = ms;
        return 0;
    }
    char lo[32], hi[32];
    clock_describe_ms(min_ms, lo, sizeof lo);
    clock_describe_ms(max_ms, hi, sizeof hi);
    return cli_usage_error(usage, "%s '%s' is %s: give a duration from %s to %s (e.g. 30, 500ms, 2s, 5m)", flag,
                           arg, problem != NULL ? problem : ms < min_ms ? "too short" : "too long", lo, hi);
}

/* worker --pool NAME, and which of the pool's settings flags override. */
static const char *g_pool;
#define DAY_MS (86400 * 1000LL)
static int g_queues_flag, g_workers_flag, g_job_timeout_flag;
/* worker --watch PATH, repeated. */
static const char *g_watch[WATCH_PATHS_MAX];
static size_t g_nwatch;
/* worker --http ADDR:PORT, --cluster-metrics. */
static http_bind_t g_http;
static int g_http_on, g_cluster_metrics;

static int on_flag(int opt, const char *arg, void *ctx)
{
    config_t *cfg = ctx;
    long long v;
    int64_t ms = 0;
    int st = 0;
    if (worker_autoscale_owns(opt))
        return worker_autoscale_flag(opt, arg, usage, duration_flag);
    switch (opt) {
    case OPT_QUEUES: {
        queue_list_t list; /* checked here for a usage error; config_resolve parses it with the prefix */
        char why[600];
        if (queue_list_parse(arg, "tickq", &list, why, sizeof why) != 0)
            return cli_usage_error(usage, "--queues: %s", why);
        cfg->queues_spec = arg;
        g_queues_flag = 1;
        break;
    }
    case OPT_POOL: g_pool = arg; break;
    case OPT_HTTP: {
        char why[300];
        if (http_bind_parse(arg, &g_http, why, sizeof why) != 0)
            return cli_usage_error(usage, "--http: %s", why);
        g_http_on = 1;
        break;
    }
    case OPT_CLUSTER_METRICS: g_cluster_metrics = 1; break;
    case OPT_WATCH:
        if (g_nwatch == WATCH_PATHS_MAX)
            return cli_usage_error(usage, "--watch: at most %d paths", WATCH_PATHS_MAX);
        if (access(arg, F_OK) != 0)
            return cli_usage_error(usage, "--watch %s: %s", arg, strerror(errno));
        g_watch[g_nwatch++] = arg;
        break;
    case OPT_WORKERS:
        if (cli_parse_int(arg, 1, WORKERS_MAX, &v) != 0)
            return cli_usage_error(usage, "--workers '%s' is not a number from 1 to %d", arg, WORKERS_MAX);
        cfg->workers = (int)v;
        g_workers_flag = 1;
        break;
    case OPT_BURST: cfg->burst = 1; break;
    case OPT_CHECK: cfg->check = 1; break;
    case OPT_GRACE: st = duration_flag("--grace", arg, 0, JOB_MAX_TIMEOUT_MS, &cfg->grace_ms); break;
    case OPT_JOB_TIMEOUT:
        if ((st = duration_flag("--job-timeout", arg, 1, JOB_MAX_TIMEOUT_MS, &cfg->job_timeout_ms)) != 0)
            return st;
        g_job_timeout_flag = 1;
        break;
    case OPT_LOG_FORMAT:
        if (log_parse_format(arg, &cfg->log_format) != 0)
            return cli_usage_error(usage, "--log-format '%s' is unknown: use json or logfmt", arg);
        break;
    case OPT_LOG_LEVEL:
        if (log_parse_level(arg, &cfg->log_level) != 0)
            return cli_usage_error(usage, "--log-level '%s' is unknown: use debug, info, warning or error", arg);
        break;
    case OPT_RESULT_TTL:
        if ((st = duration_flag("--result-ttl", arg, 1000, CONFIG_RESULT_TTL_MAX_MS, &ms)) == 0)
            cfg->result_ttl_s = ms / 1000;
        break;
    case OPT_RETRY_BASE:
        st = duration_flag("--retry-base", arg, 1, CONFIG_RETRY_DELAY_MAX_MS, &cfg->retry_base_ms);
        break;
    case OPT_RETRY_MAX: st = duration_flag("--retry-max", arg, 1, CONFIG_RETRY_DELAY_MAX_MS, &cfg->retry_max_ms); break;
    case OPT_CLAIM_TIMEOUT: st = duration_flag("--claim-timeout", arg, 100, DAY_MS, &cfg->claim_timeout_ms); break;
    case OPT_HEARTBEAT: st = duration_flag("--heartbeat", arg, 50, DAY_MS, &cfg->heartbeat_ms); break;
    case OPT_STATS_INTERVAL: st = duration_flag("--stats-interval", arg, 100, DAY_MS, &cfg->stats_interval_ms); break;
    case OPT_DLQ_CAP:
        if (cli_parse_int(arg, 1, 1000000000, &v) != 0)
            return cli_usage_error(usage, "--dlq-cap '%s' is not a positive number", arg);
        cfg->dlq_cap = v;
        break;
    case OPT_DB: cfg->db_path = arg; break;
    case OPT_SCHEDULER: cfg->scheduler = 1; break;
    case OPT_NO_HISTORY: cfg->history = 0; break;
    case OPT_HISTORY_DAYS:
        if (cli_parse_int(arg, 0, 36500, &v) != 0)
            return cli_usage_error(usage, "--history-days '%s' is not a number of days from 0 to 36500", arg);
        cfg->history_days = (int)v;
        break;
    case OPT_HISTORY_BACKLOG:
        if (cli_parse_int(arg, 1, 1000000000, &v) != 0)
            return cli_usage_error(usage, "--history-backlog '%s' is not a number of rows from 1 to 1000000000",
                                   arg);
        cfg->history_backlog = v;
        break;
    case OPT_SCHEDULES: cfg->config_path = cfg->schedules_path = arg; break;
    case OPT_LIST_QUEUE:
        if (strlen(arg) >= sizeof cfg->list_queue || strpbrk(arg, " \t\r\n") != NULL)
            return cli_usage_error(usage, "--list-queue '%s' is not a valid Redis key: at most %zu characters, "
                                   "no spaces", arg, sizeof cfg->list_queue - 1);
        snprintf(cfg->list_queue, sizeof cfg->list_queue, "%s", arg);
        break;
    case OPT_LIST_TARGET: {
        char why[400];
        if (queue_name_check(arg, why, sizeof why) != 0)
            return cli_usage_error(usage, "--list-target: %s", why);
        cfg->list_target_spec = arg;
        break;
    }
    case OPT_BATCH_BUDGET:
        if ((st = duration_flag("--batch-budget", arg, 0, 60000, &ms)) == 0)
            cfg->batch_budget_us = ms * 1000;
        break;
    default:
        return cli_unhandled_option(opt);
    }
    return st;
}

static int parse_flags(int argc, char **argv, config_t *cfg)
{
    int st = cli_parse(argc, argv, options, usage, cfg, on_flag, cfg);
    if (st != 0)
        return st;
    if (optind < argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (g_cluster_metrics && !g_http_on)
        return cli_usage_error(usage, "--cluster-metrics needs --http ADDR:PORT (it is what /metrics serves)");
    if (cfg->retry_base_ms > cfg->retry_max_ms) {
        char base[32], max[32];
        clock_describe_ms(cfg->retry_base_ms, base, sizeof base);
        clock_describe_ms(cfg->retry_max_ms, max, sizeof max);
        return cli_usage_error(usage, "--retry-base (%s) is longer than --retry-max (%s): the first retry delay "
                               "cannot exceed the longest", base, max);
    }
    if (cfg->heartbeat_ms * 2 > cfg->claim_timeout_ms)
        return cli_usage_error(usage, "--heartbeat must be at most half of --claim-timeout, or live "
                               "workers would lose their claims");
    return worker_autoscale_check(usage, g_workers_flag);
}

/* Whether the pool's worker count is overridden: by --workers, or by
 * --autoscale's range. */
static int workers_fixed(void)
{
    return g_workers_flag || worker_autoscale_settings() != NULL;
}

/* One line each: a stderr tail's line breaks become " | ". */
static void say_handler(int ok, const char *name, const char *what)
{
    printf("%s handler %s: ", ok ? "ok  " : "FAIL", name);
    for (const char *c = what; *c; c++) {
        if (*c == '\n')
            fputs(c[1] ? " | " : "", stdout);
        else
            putchar(*c);
    }
    putchar('\n');
}

/* The configuration file's handlers and pool (--pool: its settings where
 * no flag gave them), then the settings checked, --http's environment
 * among them (a bad one would fail every HTTP process started). 0, or -1
 * with err. */
static int configure(config_t *cfg, char *err, size_t errlen)
{
    if (handler_setup(cfg->config_path, g_pool, cfg, g_queues_flag, workers_fixed(), err, errlen) != 0)
        return -1;
    if (!g_job_timeout_flag && handler_setup_pool_job_timeout_ms() > 0)
        cfg->job_timeout_ms = handler_setup_pool_job_timeout_ms();
    if (config_resolve(cfg, 1, err, errlen) != 0 || config_resolve_list_target(cfg, err, errlen) != 0)
        return -1;
    int64_t sample_ms;
    if (g_http_on && (http_bind_check_token(&g_http, getenv("TICKQ_API_TOKEN"), err, errlen) != 0 ||
                      http_sampler_every_ms(&sample_ms, err, errlen) != 0))
        return -1;
    return 0;
}

/* --check: every step prints one line; the first failure decides the status. */
static int run_check(config_t *cfg)
{
    char err[1024], where[4400], queues[2048];
    if (configure(cfg, err, sizeof err) != 0) {
        printf("FAIL config: %s\n", err);
        return EX_CONFIG;
    }
    queue_list_describe(&cfg->queues, queues, sizeof queues);
    const autoscale_settings_t *scale = worker_autoscale_settings();
    char workers[64];
    if (scale != NULL)
        snprintf(workers, sizeof workers, "%d to %d workers (autoscaled)", scale->min_children, scale->max_children);
    else
        snprintf(workers, sizeof workers, "%d workers", cfg->workers);
    printf("ok   config: queues %s; %s; group %s; prefix %s\n", queues, workers, cfg->group, cfg->prefix);
    char autoscale[256];
    worker_autoscale_describe(autoscale, sizeof autoscale);
    if (autoscale[0])
        printf("ok   %s\n", autoscale);
    if (cfg->pool != NULL)
        printf("ok   pool %s: runs %s\n", cfg->pool, cfg->pool_types);
    char history[64];
    if (!cfg->history)
        snprintf(history, sizeof history, "off");
    else if (cfg->history_days > 0)
        snprintf(history, sizeof history, "kept %d days", cfg->history_days);
    else
        snprintf(history, sizeof history, "kept for ever");
    printf("ok   limits: grace %gs; result ttl %llds; retry base %gs, max %gs; claim timeout %gs; "
           "heartbeat %gs; stats every %gs; dead-letter cap %lld; payload max %zu bytes; "
           "job timeout %gs for jobs without one; job history %s\n",
           (double)cfg->grace_ms / 1000, (long long)cfg->result_ttl_s, (double)cfg->retry_base_ms / 1000,
           (double)cfg->retry_max_ms / 1000, (double)cfg->claim_timeout_ms / 1000,
           (double)cfg->heartbeat_ms / 1000, (double)cfg->stats_interval_ms / 1000, (long long)cfg->dlq_cap,
           cfg->max_payload, (double)cfg->job_timeout_ms / 1000, history);
    redis_url_describe(&cfg->url, where, sizeof where);
    rconn_t *c = rconn_open(&cfg->url, cfg->command_timeout_ms, err, sizeof err);
    if (c == NULL) {
        printf("FAIL redis: %s\n", err);
        return EX_UNAVAILABLE;
    }
    rconn_fail_on_noperm(c); /* a refused read is no "Redis has none yet" */
    redisReply *r = rconn_cmd(c, err, sizeof err, "INFO server");
    if (r == NULL || r->type != REDIS_REPLY_STRING) {
        printf("FAIL redis: %s does not answer: %s\n", where, r && r->str ? r->str : err);
        freeReplyObject(r);
        rconn_free(c);
        return EX_UNAVAILABLE;
    }
    char version[32] = "?";
    const char *v = strstr(r->str, "redis_version:");
    if (v)
        sscanf(v + 14, "%31[0-9.]", version);
    freeReplyObject(r);
    int major = atoi(version);
    if (major < 7) {
        printf("FAIL redis: %s runs Redis %s; tickq needs Redis 7 or later\n", where, version);
        rconn_free(c);
        return EX_UNAVAILABLE;
    }
    printf("ok   redis: %s answers (Redis %s)\n", where, version);

    queue_t q;
    queue_init(&q, c);
    config_apply(cfg, &q);
    char key[256];
    queue_protocol_key(&q, key, sizeof key);
    r = rconn_cmd(c, err, sizeof err, "GET %s", key);
    if (r && r->type == REDIS_REPLY_STRING && strcmp(r->str, TICKQ_PROTOCOL) != 0) {
        printf("FAIL protocol: Redis holds tickq protocol %s, this tickq speaks %s\n", r->str, TICKQ_PROTOCOL);
        freeReplyObject(r);
        rconn_free(c);
        return EX_CONFIG;
    }
    printf("ok   protocol: %s (%s)\n", TICKQ_PROTOCOL,
           r && r->type == REDIS_REPLY_STRING ? "matches Redis" : "Redis has none yet");
    freeReplyObject(r);
    rconn_free(c);
    db_t *db;
    db_failure_t failure;
    if (db_open(cfg->database_url, cfg->db_path, &db, &failure, err, sizeof err) != 0) {
        printf("FAIL database: %s\n", err);
        return db_exit_status(failure);
    }
    printf("ok   database: %s %s (schema version %d)\n", db_kind_name(db), db_where(db), db_schema_version(db));
    db_close(db);
    if (cfg->history) {
        char stream[HISTORY_KEY_MAX];
        if (history_stream_key(cfg->prefix, cfg->database_url, cfg->db_path, stream, sizeof stream, NULL, 0, NULL,
                               err, sizeof err) == 0)
            printf("ok   job history: Redis stream %s, backlog up to %lld rows\n", stream, cfg->history_backlog);
    }
    char names[4096];
    task_names(names, sizeof names);
    printf("ok   task types: %s\n", names);
    char pools[1024];
    if (handler_setup_pools_unused(pools, sizeof pools))
        printf("warn pools: the configuration file defines %s and this worker runs none of them: it serves its "
               "queues with every handler (--pool NAME runs one)\n", pools);
    if (handler_tasks_check(say_handler) > 0)
        return EX_CONFIG;
    /* Lua strategies run anyway: a worker without Python is a warning. */
    char python[700];
    if (strategy_python_probe(python, sizeof python) == 0)
        printf("ok   python strategies: %s\n", python);
    else
        printf("warn python strategies: unavailable: %s\n", python);
    strategy_python_stop();
    if (cfg->scheduler) {
        schedule_config_t set;
        const char *path = config_file_path(cfg->config_path);
        if (schedule_config_load(&set, path, schedule_check_task, err, sizeof err) != 0) {
            printf("FAIL schedules: %s\n", err);
            return EX_CONFIG;
        }
        schedule_config_print_warnings(&set, path);
        int bad = 0;
        for (size_t i = 0; i < set.n; i++) {
            if (schedule_check_args(&set.items[i], TASK_CHECK_WORKER, err, sizeof err) != 0) {
                printf("FAIL schedule %s: its task %s would fail at every run: %s\n", set.items[i].name,
                       set.items[i].task, err);
                bad++;
            }
        }
        if (bad == 0)
            printf("ok   schedules: %zu in %s, their task args checked\n", set.n, path);
        schedule_config_free(&set);
        if (bad > 0)
            return EX_CONFIG;
    }
    printf("check passed\n");
    return 0;
}

/* The handler types this worker serves join the set producers accept
 * (queue_types_add). */
static queue_status_t announce_handler_types(queue_t *q, char *err, size_t errlen)
{
    const handler_set_t *set = handler_tasks_set();
    for (size_t i = 0; set != NULL && i < set->n; i++) {
        queue_status_t st = queue_types_add(q, (const char *const *)set->items[i].types, set->items[i].ntypes, err,
                                            errlen);
        if (st != QUEUE_OK)
            return st;
    }
    return QUEUE_OK;
}

/* After a reload: the handler types it serves now join the set (a failure
 * is logged: producers refuse the new types until a worker announces them). */
static void announce_after_reload(void *ctx)
{
    char err[1024];
    if (announce_handler_types(ctx, err, sizeof err) != QUEUE_OK)
        log_warn("reload: cannot announce the handler types to producers", LF_S("error", err));
}

/* The supervisor, with the job history process (unless --no-history:
 * cfg->history_stream is the database's stream, `history_where` the
 * database as the stream records it) and, given `schedules`, a scheduler
 * beside it; its children's tasks get the database and a bar cache.
 * Returns the exit status. */
static int run_supervisor(const config_t *cfg, rconn_t *conn, const schedule_config_t *schedules,
                          const char *history_where, http_app_t *http)
{
    char id[160], database[DB_WHERE_MAX + 1100];
    queue_instance_id(id, sizeof id);
    db_describe(cfg->database_url, cfg->db_path, database, sizeof database);
    supervisor_plan_t plan = { .id = id, .database = database, .task_env = &task_env_data,
                               .autoscale = worker_autoscale_settings() };
    int st = 0;
    worker_history_t *history = NULL;
    worker_scheduler_t *scheduler = NULL;
    worker_http_t *server = NULL;
    if (http != NULL) {
        http->instance = id;
        if ((server = worker_http_new(http, &g_http, getenv("TICKQ_API_TOKEN"))) == NULL) {
            log_error("cannot set up the HTTP process: out of memory");
            return EX_OSERR;
        }
        plan.companions[plan.ncompanions++] = worker_http_companion(server);
    }
    if (cfg->history) {
        if ((history = worker_history_start(cfg, conn, id, history_where, &st)) == NULL) {
            worker_http_free(server);
            return st;
        }
        plan.companions[plan.ncompanions++] = worker_history_companion(history);
    }
    if (schedules != NULL) {
        if ((scheduler = worker_scheduler_new(cfg, schedules)) == NULL) {
            log_error("cannot set up the scheduler: out of memory");
            worker_history_free(history);
            worker_http_free(server);
            return EX_OSERR;
        }
        plan.companions[plan.ncompanions++] = worker_scheduler_companion(scheduler);
    }
    worker_watch_t *watch = NULL;
    queue_t q;
    queue_init(&q, conn);
    config_apply(cfg, &q);
    if (g_nwatch > 0) {
        char err[1024];
        if ((watch = worker_watch_new(g_watch, g_nwatch, announce_after_reload, &q, err, sizeof err)) == NULL) {
            log_error("cannot watch the files", LF_S("error", err));
            worker_scheduler_free(scheduler);
            worker_history_free(history);
            worker_http_free(server);
            return EX_CONFIG;
        }
        plan.companions[plan.ncompanions++] = worker_watch_companion(watch);
    }
    st = supervisor_run(cfg, conn, &plan);
    worker_watch_free(watch);
    worker_scheduler_free(scheduler);
    worker_history_free(history);
    worker_http_free(server);
    return st;
}

/* --http (its token and sample period are configure's): the port free, the
 * schedules /api/schedules shows (the scheduler's when it runs here, else
 * the configuration file's, read into *own: *owned says so), the shared
 * page of the worker's numbers mapped before anything forks. 0, or the exit
 * status (logged). */
static int http_setup(const config_t *cfg, http_app_t *http, const schedule_config_t *running,
                      schedule_config_t *own, int *owned)
{
    char err[1024];
    if (worker_http_probe(&g_http, err, sizeof err) != 0)
        return cli_fail(EX_UNAVAILABLE, "%s", err);
    const char *path = config_file_path(cfg->config_path);
    http->schedules = running;
    http->schedules_path = path;
    if (running == NULL && (cfg->config_path != NULL || access(path, F_OK) == 0)) {
        memset(own, 0, sizeof *own);
        if (schedule_config_load_any(own, path, schedule_check_task, err, sizeof err) != 0)
            return cli_fail(EX_CONFIG, "%s", err);
        http->schedules = own;
        *owned = 1;
    } else if (running == NULL) {
        http->schedules_path = NULL;
    }
    if (worker_metrics_open() != 0)
        return cli_fail(EX_OSERR, "cannot map the worker's metrics page: %s", strerror(errno));
    return 0;
}

/* --schedules still works, and says what replaces it. */
static void warn_deprecated_flags(const config_t *cfg)
{
    if (cfg->schedules_path != NULL)
        log_warn("--schedules is deprecated: use --config FILE (the same file)",
                 LF_S("config", cfg->config_path));
}

int cmd_worker(int argc, char **argv)
{
    config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    char err[1024];
    int st = parse_flags(argc, argv, &cfg);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    if (cfg.check) {
        st = run_check(&cfg);
        warn_deprecated_flags(&cfg);
        return st;
    }

    log_configure(cfg.log_format, cfg.log_level);
    warn_deprecated_flags(&cfg);
    if (configure(&cfg, err, sizeof err) != 0)
        return cli_fail(EX_CONFIG, "%s", err);
    char pools[1024];
    if (handler_setup_pools_unused(pools, sizeof pools))
        log_warn("the configuration file defines pools and this worker runs none of them: it serves its queues "
                 "with every handler (--pool NAME runs one)", LF_S("pools", pools),
                 LF_S("config", handler_setup_path()));
    /* The schedules file first: a bad one changes nothing. */
    schedule_config_t schedules;
    memset(&schedules, 0, sizeof schedules);
    if (cfg.scheduler &&
        schedule_config_load(&schedules, config_file_path(cfg.config_path), schedule_check_task, err, sizeof err) != 0)
        return cli_fail(EX_CONFIG, "%s", err);
    rconn_t *conn;
    queue_t q;
    st = cli_connect(&cfg, &conn, &q);
    if (st != 0)
        return st;
    queue_status_t qs = queue_prepare(&q, &cfg.queues, err, sizeof err);
    if (qs == QUEUE_OK)
        qs = announce_handler_types(&q, err, sizeof err);
    if (qs != QUEUE_OK) {
        rconn_free(conn);
        return cli_fail(cli_queue_exit(qs), "%s", err);
    }
    db_t *db;
    db_failure_t failure;
    if (db_open(cfg.database_url, cfg.db_path, &db, &failure, err, sizeof err) != 0) {
        rconn_free(conn);
        return cli_fail(db_exit_status(failure), "%s", err);
    }
    char old[DB_WHERE_MAX];
    if (db_old_default(cfg.database_url, cfg.db_path, old, sizeof old))
        log_warn("var/tickq.db in the current folder is not the default database any more: to use it, set "
                 "TICKQ_DB to it, or move it", LF_S("file", old), LF_S("database", db_where(db)));
    if (db_kind(db) == DB_SQLITE)
        log_info("no DATABASE_URL: using the SQLite database (one host only; set "
                 "DATABASE_URL=postgresql://... for several worker hosts)", LF_S("database", db_where(db)),
                 LF_I("schema", db_schema_version(db)));
    else
        log_info("using PostgreSQL", LF_S("database", db_where(db)), LF_I("schema", db_schema_version(db)));
    /* Opened to check, migrate and say which database this is; the history
     * process and the tasks use connections of their own. The default
     * file's folders exist now, so its path is the resolved one. */
    db_close(db);
    char history_where[DB_WHERE_MAX + 300] = "";
    if (cfg.history && history_stream_key(cfg.prefix, cfg.database_url, cfg.db_path, cfg.history_stream,
                                          sizeof cfg.history_stream, history_where, sizeof history_where, &failure,
                                          err, sizeof err) != 0) {
        rconn_free(conn);
        return cli_fail(db_exit_status(failure), "%s", err);
    }
    http_app_t http = { .cfg = &cfg, .role = HTTP_ROLE_WORKER, .cluster_metrics = g_cluster_metrics };
    schedule_config_t http_schedules;
    int own_schedules = 0;
    if (g_http_on) {
        if ((st = http_setup(&cfg, &http, cfg.scheduler ? &schedules : NULL, &http_schedules, &own_schedules)) != 0) {
            if (cfg.scheduler)
                schedule_config_free(&schedules);
            rconn_free(conn);
            return st;
        }
    }
    st = run_supervisor(&cfg, conn, cfg.scheduler ? &schedules : NULL, history_where, g_http_on ? &http : NULL);
    if (cfg.scheduler)
        schedule_config_free(&schedules);
    if (own_schedules)
        schedule_config_free(&http_schedules);
    rconn_free(conn);
    return st;
}
