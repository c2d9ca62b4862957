/* cmd_schedule.c — `tickq scheduler` (fire the configured schedules) and
 * `tickq schedule list | next | calendar` (look at fire times and at the
 * XNYS calendar without Redis). */
#include "cmd/commands.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "cmd/handler_setup.h"
#include "cmd/text_table.h"
#include "core/clock.h"
#include "core/log.h"
#include "cmd/schedule_check.h"
#include "core/config_file.h"
#include "core/queue.h"
#include "sched/calendar_view.h"
#include "sched/schedule_config.h"
#include "sched/scheduler.h"
#include "sched/tz.h"

/* Where the schedules are when no file is named (config_file_path). */
#define DEFAULT_FILES "$TICKQ_CONFIG, else $TICKQ_SCHEDULES, else schedules.ini"

static const char scheduler_usage[] =
    "usage: tickq scheduler [--config FILE] [--log-format json|logfmt] [--log-level L]\n"
    "\n"
    "Fires the schedules of the configuration file, --config FILE (default:\n"
    DEFAULT_FILES "): each firing\n"
    "enqueues one job with the id <schedule>:<fire time in UTC>. Several\n"
    "schedulers may run; the one holding the lease in Redis fires, the others take\n"
    "over within seconds when it dies. SIGTERM or SIGINT: stop firing, give up the\n"
    "lease, exit 0. See docs/scheduler.md for the file format.\n"
    "\n"
    "  --log-format F       json (default) or logfmt\n"
    "  --log-level L        debug, info (default), warning or error\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 stopped, 64 bad usage, 69 Redis unavailable, 75 Redis out of\n"
    "memory (try again later), 78 bad config.\n";

static const char schedule_usage[] =
    "usage: tickq schedule list [--config FILE] [-n N]\n"
    "       tickq schedule next EXPR [--tz ZONE] [--calendar XNYS] [--market-hours]\n"
    "                               [--offset-from-close D] [--from ISO_TIME] [-n N]\n"
    "                               [--config FILE]\n"
    "       tickq schedule calendar [--from YYYY-MM-DD] [--days N] [--config FILE]\n"
    "                               [--json]\n"
    "\n"
    "list  each schedule of the configuration file (default: " DEFAULT_FILES ")\n"
    "      with its next N fire times (default 3), in its time zone and in UTC.\n"
    "next  the next N fire times (default 5) of a cron expression (minute hour\n"
    "      day-of-month month day-of-week), one per line, ISO 8601 with offset.\n"
    "calendar  the XNYS days of N days (default 14) from a date (default: today\n"
    "      in New York) that are not full trading days: holidays, closures and\n"
    "      early closes on weekdays (weekends are not listed); then the next and\n"
    "      the previous trading day and, without --from, whether it is open now.\n"
    "\n"
    "  --config FILE        tickq's configuration file (default: $TICKQ_CONFIG)\n"
    "                       list: its schedules; next: with --calendar XNYS, the\n"
    "                       closures of its [scheduler] section apply too (FILE is\n"
    "                       checked whole; with --config, closures without\n"
    "                       --calendar XNYS are refused); calendar: those closures\n"
    "                       are listed\n"
    "  --tz ZONE            IANA time zone of EXPR (default: UTC); a fixed offset\n"
    "                       without DST (EST, Etc/GMT+5) works but warns: use\n"
    "                       America/New_York\n"
    "  --calendar XNYS      only New York Stock Exchange trading days\n"
    "  --market-hours       only in the session, 9:30 to the close (needs --calendar)\n"
    "  --offset-from-close D  once per trading day at the close plus D (e.g. 30m)\n"
    "  --from ISO_TIME      next: start after this time (default: now);\n"
    "                       calendar: a date, YYYY-MM-DD, New York's (default: today)\n"
    "  -n N                 how many fire times\n"
    "  --days N             calendar: how many days, 1 to 3660 (default 14)\n"
    "  --json               calendar: print one JSON object\n"
    "  -h, --help           this help\n";

enum { OPT_LOG_FORMAT = OPT_FIRST_COMMAND_OPTION, OPT_LOG_LEVEL, OPT_TZ, OPT_CALENDAR,
       OPT_MARKET_HOURS, OPT_OFFSET, OPT_FROM, OPT_DAYS };

typedef struct {
    const char *config;
    const char *tz;
    const char *calendar;
    int market_hours;
    const char *offset;
    const char *from;
    long long n;
    long long days;   /* calendar: 0 means the default */
    int json;
    config_t *cfg;
} schedule_flags_t;

static const struct option scheduler_options[] = {
    { "log-format", required_argument, 0, OPT_LOG_FORMAT },
    { "log-level", required_argument, 0, OPT_LOG_LEVEL },
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

static const struct option schedule_options[] = {
    CLI_CONFIG_OPTION,
    { "tz", required_argument, 0, OPT_TZ },
    { "calendar", required_argument, 0, OPT_CALENDAR },
    { "market-hours", no_argument, 0, OPT_MARKET_HOURS },
    { "offset-from-close", required_argument, 0, OPT_OFFSET },
    { "from", required_argument, 0, OPT_FROM },
    { "days", required_argument, 0, OPT_DAYS },
    { "json", no_argument, 0, OPT_JSON },
    { "help", no_argument, 0, 'h' },
    { 0, 0, 0, 0 }
};

static int on_flag(int opt, const char *arg, void *ctx)
{
    schedule_flags_t *f = ctx;
    switch (opt) {
    case OPT_CONFIG_FILE: f->config = arg; return 0;
    case OPT_TZ: f->tz = arg; return 0;
    case OPT_CALENDAR: f->calendar = arg; return 0;
    case OPT_MARKET_HOURS: f->market_hours = 1; return 0;
    case OPT_OFFSET: f->offset = arg; return 0;
    case OPT_FROM: f->from = arg; return 0;
    case OPT_JSON: f->json = 1; return 0;
    case OPT_DAYS:
        if (cli_parse_int(arg, CALENDAR_DAYS_MIN, CALENDAR_DAYS_MAX, &f->days) != 0)
            return cli_usage_error(schedule_usage, "--days '%s' is not a number from %d to %d", arg,
                                   CALENDAR_DAYS_MIN, CALENDAR_DAYS_MAX);
        return 0;
    case 'n':
        if (cli_parse_int(arg, 1, 10000, &f->n) != 0)
            return cli_usage_error(schedule_usage, "-n '%s' is not a number from 1 to 10000", arg);
        return 0;
    case OPT_LOG_FORMAT:
        if (log_parse_format(arg, &f->cfg->log_format) != 0)
            return cli_usage_error(scheduler_usage, "--log-format '%s' is unknown: use json or logfmt", arg);
        return 0;
    case OPT_LOG_LEVEL:
        if (log_parse_level(arg, &f->cfg->log_level) != 0)
            return cli_usage_error(scheduler_usage, "--log-level '%s' is unknown: use debug, info, warning or error",
                                   arg);
        return 0;
    default: return cli_unhandled_option(opt);
    }
}

static void print_times(const schedule_t *s, int64_t from, long long n, int both)
{
    int64_t t = from;
    for (long long i = 0; i < n; i++) {
        if (schedule_next(s, t, &t) != 0) {
            printf(both ? "    (no more fire times)\n" : "");
            if (!both)
                fprintf(stderr, "tickq: no more fire times after %lld\n", i);
            return;
        }
        char local[64], utc[64];
        schedule_format_local(s, t, local, sizeof local);
        schedule_format_utc(t, utc, sizeof utc);
        if (both)
            printf("    %s  (%s)\n", local, utc);
        else
            printf("%s\n", local);
    }
}

static int do_list(schedule_flags_t *f)
{
    schedule_config_t set;
    char err[1024];
    const char *path = config_file_path(f->config);
    if (handler_setup(path, NULL, NULL, 0, 0, err, sizeof err) != 0 ||
        schedule_config_load(&set, path, schedule_check_task, err, sizeof err) != 0)
        return cli_fail(EX_CONFIG, "%s", err);
    schedule_config_print_warnings(&set, path);
    int64_t now = clock_now_ms() / 1000;
    for (size_t i = 0; i < set.n; i++) {
        const schedule_t *s = &set.items[i];
        if (s->after[0] != '\0') {
            printf("%s: after %s -> %s on %s/%s (each time %s fires, once its job has completed)\n", s->name,
                   s->after, s->task, s->queue, s->priority, s->after);
            continue;
        }
        printf("%s: %s (%s)%s%s -> %s on %s/%s\n", s->name, s->expr, s->zone, s->calendar ? ", XNYS" : "",
               s->market_hours ? ", market hours" : s->has_offset ? ", relative to the close" : "", s->task,
               s->queue, s->priority);
        print_times(s, now, f->n ? f->n : 3, 1);
    }
    schedule_config_free(&set);
    return 0;
}

/* The XNYS calendar for `schedule next`: built in, plus with --config FILE
 * (or $TICKQ_CONFIG) the closures of FILE's [scheduler] section (the file
 * is checked whole, as `schedule list` checks it). Its other settings
 * (misfire_grace, shutdown_wait, lease_ttl) govern firing, not fire times.
 * The calendar is set->xnys: free *set after use. 0, or an exit status. */
static int next_calendar(const schedule_flags_t *f, int calendar, schedule_config_t *set)
{
    char err[1024];
    const char *path = config_file_named(f->config);
    memset(set, 0, sizeof *set);
    if (path == NULL) {
        if (market_calendar_init(&set->xnys, "XNYS", err, sizeof err) != 0)
            return cli_fail(EX_SOFTWARE, "%s", err);
        return 0;
    }
    if (handler_setup(path, NULL, NULL, 0, 0, err, sizeof err) != 0 ||
        schedule_config_load(set, path, schedule_check_task, err, sizeof err) != 0)
        return cli_fail(EX_CONFIG, "%s", err);
    schedule_config_print_warnings(set, path);
    /* A file named in the environment applies where it can; one named on
     * the command line and unable to apply is refused, not ignored. */
    if (!calendar && f->config != NULL && set->xnys.n_closures > 0) {
        schedule_config_free(set);
        return cli_usage_error(schedule_usage, "--config %s: its closures are XNYS closures and apply only to "
                               "--calendar XNYS: add --calendar XNYS, or leave --config out", f->config);
    }
    return 0;
}

static int do_next(schedule_flags_t *f, const char *expr)
{
    char err[600];
    schedule_t s;
    memset(&s, 0, sizeof s);
    int calendar = 0;
    if (f->calendar != NULL) {
        if (strcasecmp(f->calendar, "XNYS") != 0)
            return cli_usage_error(schedule_usage, "--calendar '%s' is unknown (known: XNYS)", f->calendar);
        calendar = 1;
    }
    if ((f->market_hours || f->offset) && !calendar)
        return cli_usage_error(schedule_usage, "--market-hours and --offset-from-close need --calendar XNYS");
    if (f->market_hours && f->offset)
        return cli_usage_error(schedule_usage, "use --market-hours or --offset-from-close, not both");
    int64_t from = clock_now_ms() / 1000;
    if (f->from != NULL) {
        int date_only;
        if (clock_parse_iso8601(f->from, &from, &date_only) != 0)
            return cli_usage_error(schedule_usage, "--from '%s' is not an ISO 8601 time (2026-03-08T06:00:00Z)",
                                   f->from);
        from -= 1; /* a fire time exactly at --from counts */
    }
    int64_t offset_s = 0;
    if (f->offset != NULL) {
        int64_t ms;
        int neg = f->offset[0] == '-';
        if (clock_parse_duration(f->offset + (neg || f->offset[0] == '+'), 1000, &ms) != 0 || ms % 60000 != 0)
            return cli_usage_error(schedule_usage, "--offset-from-close '%s': use whole minutes, e.g. 30m or -15m",
                                   f->offset);
        offset_s = (neg ? -ms : ms) / 1000;
    }
    schedule_config_t set; /* not copied: only its calendar is used */
    int st = next_calendar(f, calendar, &set);
    if (st != 0)
        return st;
    if (schedule_init(&s, expr, f->tz, calendar ? &set.xnys : NULL, f->market_hours, f->offset != NULL, offset_s,
                      err, sizeof err) != 0) {
        st = cli_fail(EX_USAGE, "%s", err);
        goto cleanup;
    }
    if (schedule_zone_warning(&s, err, sizeof err))
        fprintf(stderr, "tickq: warning: --tz: %s\n", err);
    print_times(&s, from, f->n ? f->n : 5, 0);
    schedule_release(&s);
cleanup:
    schedule_config_free(&set);
    return st;
}

/* `schedule calendar`: the XNYS days from --from that are not full trading
 * days, and the trading days around --from (sched/calendar_view.h). */

static int print_calendar_text(const market_calendar_t *cal, const calendar_view_t *v)
{
    text_table_t *table = text_table_new(4, "llll");
    const char *const head[] = { "DATE", "DAY", "STATUS", "DETAIL" };
    if (table == NULL || text_table_add(table, head) != 0) {
        text_table_free(table);
        return cli_fail(EX_OSERR, "out of memory");
    }
    size_t listed = 0;
    for (int64_t t = v->first; t <= v->last; t++) {
        calendar_day_t day;
        if (!calendar_view_day(cal, t, &day))
            continue;
        char detail[32];
        snprintf(detail, sizeof detail, "closes at %s", day.close);
        const char *cells[] = { day.date, day.weekday, calendar_kind_text[day.kind],
                                day.name != NULL ? day.name : detail };
        if (text_table_add(table, cells) != 0) {
            text_table_free(table);
            return cli_fail(EX_OSERR, "out of memory");
        }
        listed++;
    }
    printf("%s, %s to %s: holidays, closures and early closes (weekends not listed)\n", cal->name, v->from, v->to);
    if (listed > 0)
        text_table_print(table, stdout);
    else
        printf("none: every weekday is a full trading day\n");
    text_table_free(table);
    printf("next trading day: %s\n", v->next[0] != '\0' ? v->next : "none before 10000");
    printf("previous trading day: %s\n", v->previous[0] != '\0' ? v->previous : "none since 2000");
    if (v->has_now)
        printf("market now: %s (New York time %s)\n", v->open_now ? "open" : "closed", v->now);
    return 0;
}

static int do_calendar(const schedule_flags_t *f)
{
    calendar_view_t v;
    schedule_config_t set; /* not copied: only its calendar is used */
    int st = next_calendar(f, 1, &set);
    if (st != 0)
        return st;
    const market_calendar_t *cal = &set.xnys;
    char err[700];
    int64_t days = f->days ? f->days : CALENDAR_DAYS_DEFAULT;
    switch (calendar_view_make(cal, f->from, days, &v, err, sizeof err)) {
    case CALENDAR_VIEW_OK:
        if (f->json) {
            json_t *o = calendar_view_json(cal, &v);
            if (o == NULL)
                st = cli_fail(EX_OSERR, "out of memory");
            else
                cli_print_json_line(o);
        } else {
            st = print_calendar_text(cal, &v);
        }
        break;
    case CALENDAR_VIEW_BAD_DATE:
        st = cli_usage_error(schedule_usage, "--from %s", err);
        break;
    case CALENDAR_VIEW_OUT_OF_RANGE:
        st = cli_usage_error(schedule_usage, "--from %s --days %lld: the %s calendar covers %d-01-01 to %d-12-31 only",
                             v.from, (long long)days, cal->name, MARKET_YEAR_MIN, MARKET_YEAR_MAX);
        break;
    case CALENDAR_VIEW_NO_ZONE:
        st = cli_fail(EX_CONFIG, "%s", err);
        break;
    }
    schedule_config_free(&set);
    return st;
}

int cmd_schedule(int argc, char **argv)
{
    config_t cfg;
    schedule_flags_t f;
    memset(&f, 0, sizeof f);
    f.cfg = &cfg;
    char err[256];
    if (config_init(&cfg, err, sizeof err) != 0)
        return cli_fail(EX_CONFIG, "%s", err);
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "hn:", schedule_options, NULL)) != -1) {
        if (opt == 'h') {
            fputs(schedule_usage, stdout);
            return 0;
        }
        if (opt == '?')
            return cli_refused_option(schedule_usage, schedule_options, "hn:", argc, argv);
        int st = on_flag(opt, optarg, &f);
        if (st != 0)
            return st;
    }
    if (optind >= argc)
        return cli_usage_error(schedule_usage, "missing action: list, next or calendar");
    const char *action = argv[optind];
    if (strcmp(action, "calendar") == 0) {
        if (f.tz != NULL || f.calendar != NULL || f.market_hours || f.offset != NULL || f.n != 0)
            return cli_usage_error(schedule_usage, "schedule calendar takes --from, --days, --config and --json "
                                   "(the calendar is XNYS): leave out --tz, --calendar, --market-hours, "
                                   "--offset-from-close and -n");
        if (optind + 1 < argc)
            return cli_usage_error(schedule_usage, "unexpected argument '%s'", argv[optind + 1]);
        return do_calendar(&f);
    }
    int listing = strcmp(action, "list") == 0 || strcmp(action, "next") == 0;
    if (listing && (f.days != 0 || f.json))
        return cli_usage_error(schedule_usage, "--days and --json belong to schedule calendar, not to schedule %s",
                               action);
    if (strcmp(action, "list") == 0) {
        if (optind + 1 < argc)
            return cli_usage_error(schedule_usage, "unexpected argument '%s'", argv[optind + 1]);
        return do_list(&f);
    }
    if (strcmp(action, "next") == 0) {
        if (optind + 1 >= argc)
            return cli_usage_error(schedule_usage, "missing EXPR: e.g. tickq schedule next '*/15 9-16 * * MON-FRI'");
        if (optind + 2 < argc)
            return cli_usage_error(schedule_usage, "unexpected argument '%s' (quote EXPR as one argument)",
                                   argv[optind + 2]);
        return do_next(&f, argv[optind + 1]);
    }
    return cli_usage_error(schedule_usage, "unknown action '%s': use list, next or calendar", action);
}

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

int cmd_scheduler(int argc, char **argv)
{
    config_t cfg;
    schedule_flags_t f;
    memset(&f, 0, sizeof f);
    f.cfg = &cfg;
    int st = cli_parse(argc, argv, scheduler_options, scheduler_usage, &cfg, on_flag, &f);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    if (optind < argc)
        return cli_usage_error(scheduler_usage, "unexpected argument '%s'", argv[optind]);
    log_configure(cfg.log_format, cfg.log_level);
    schedule_config_t set;
    char err[1024];
    /* A schedule may fire a handler type of the same file. */
    if (handler_setup(config_file_path(cfg.config_path), NULL, NULL, 0, 0, err, sizeof err) != 0 ||
        schedule_config_load(&set, config_file_path(cfg.config_path), schedule_check_task, err, sizeof err) != 0)
        return cli_fail(EX_CONFIG, "%s", err);
    rconn_t *conn;
    queue_t q;
    cfg.command_timeout_ms = (int)set.shutdown_wait_ms; /* at least 1 s: schedule_config's bound */
    if ((st = cli_connect(&cfg, &conn, &q)) != 0) {
        schedule_config_free(&set);
        return st;
    }
    queue_status_t qs = queue_prepare(&q, NULL, err, sizeof err);
    if (qs != QUEUE_OK) {
        rconn_free(conn);
        schedule_config_free(&set);
        return cli_fail(cli_queue_exit(qs), "cannot prepare Redis: %s", err);
    }
    rconn_set_name(conn, "tickq-scheduler");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a lost Redis is an error to handle, not a death */
    scheduler_t *s = scheduler_new(&set, &cfg, conn);
    if (s == NULL) {
        rconn_free(conn);
        schedule_config_free(&set);
        return cli_fail(EX_OSERR, "out of memory");
    }
    scheduler_run(s, &g_stop);
    log_info("scheduler stopped", LF_S("reason", "signal"));
    log_flush();
    scheduler_free(s);
    rconn_free(conn);
    schedule_config_free(&set);
    return 0;
}
