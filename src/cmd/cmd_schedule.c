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

/* `schedule calendar --days`: its range (ten years and a few days) and default. */
#define CALENDAR_DAYS_MIN 1
#define CALENDAR_DAYS_MAX 3660
#define CALENDAR_DAYS_DEFAULT 14

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
    default: return cli_usage_error(schedule_usage, "see the options below");
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
 * days, and the trading days around --from. Dates are New York's; a date
 * is an epoch day (clock_days_from_civil) while walking, y-m-d when asking
 * the calendar. */

typedef enum { DAY_HOLIDAY, DAY_CLOSURE, DAY_EARLY_CLOSE } calendar_day_kind_t;

/* A listed day: a full-day closure (name says why) or an early close. */
typedef struct {
    char date[CLOCK_DATE_LEN];
    const char *weekday;
    calendar_day_kind_t kind;
    const char *name;  /* holiday or closure; NULL for an early close */
    char close[16];    /* the session's close, "13:00"; "" when closed */
} calendar_day_t;

static const char *const weekday_names[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

/* Fills *out for epoch day t when it is a weekday other than a full
 * trading day; 0 (nothing to list) for full trading days and weekends. */
static int calendar_day(const market_calendar_t *cal, int64_t t, calendar_day_t *out)
{
    int y, m, d;
    clock_civil_from_days(t, &y, &m, &d);
    memset(out, 0, sizeof *out);
    clock_format_date(t * 86400, out->date);
    out->weekday = weekday_names[clock_weekday(t)];
    int trading = market_is_trading_day(cal, y, m, d);
    assert(trading >= 0); /* the range was checked against the calendar's years */
    if (trading) {
        int open_min, close_min;
        if (market_is_early_close(cal, y, m, d) != 1 || market_session(cal, y, m, d, &open_min, &close_min) != 0)
            return 0;
        out->kind = DAY_EARLY_CLOSE;
        snprintf(out->close, sizeof out->close, "%02d:%02d", close_min / 60, close_min % 60);
        return 1;
    }
    if (market_is_holiday(cal, y, m, d, &out->name) != 1)
        return 0; /* a weekend */
    /* market_calendar.h: closures are named "unscheduled closure (...)". */
    const char closure_prefix[] = "unscheduled closure";
    out->kind = strncmp(out->name, closure_prefix, sizeof closure_prefix - 1) == 0 ? DAY_CLOSURE : DAY_HOLIDAY;
    return 1;
}

/* The trading day after (dir > 0) or before y-m-d as "YYYY-MM-DD", or ""
 * when it would fall outside the calendar's years. */
static void trading_day_near(const market_calendar_t *cal, int y, int m, int d, int dir, char out[CLOCK_DATE_LEN])
{
    int found = dir > 0 ? market_next_trading_day(cal, &y, &m, &d) : market_previous_trading_day(cal, &y, &m, &d);
    out[0] = '\0';
    if (found == 0)
        clock_format_date(clock_days_from_civil(y, m, d) * 86400, out);
}

/* What `schedule calendar` shows, computed before it is printed. */
typedef struct {
    int64_t first, last;          /* epoch days, both included */
    char from[CLOCK_DATE_LEN], to[CLOCK_DATE_LEN];
    char next[CLOCK_DATE_LEN], previous[CLOCK_DATE_LEN];  /* "" when outside the calendar's years */
    int has_now;                  /* no --from: the market now */
    int open_now;
    char now[TZ_TIME_LEN];        /* New York time */
} calendar_view_t;

static const char *const kind_text[] = { "holiday", "closure", "early close" };
static const char *const kind_json[] = { "holiday", "closure", "early_close" };

static json_t *date_or_null(const char *date)
{
    return date[0] != '\0' ? json_string(date) : json_null();
}

static int print_calendar_json(const market_calendar_t *cal, const calendar_view_t *v)
{
    json_t *days = json_array();
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:o}", "calendar", cal->name, "from", v->from, "to",
                          v->to, "days", (json_int_t)(v->last - v->first + 1), "closures_and_early_closes", days,
                          "next_trading_day", date_or_null(v->next), "previous_trading_day",
                          date_or_null(v->previous));
    if (o == NULL)
        return cli_fail(EX_OSERR, "out of memory");
    for (int64_t t = v->first; t <= v->last; t++) {
        calendar_day_t day;
        if (!calendar_day(cal, t, &day))
            continue;
        json_t *row = json_pack("{s:s, s:s, s:s}", "date", day.date, "weekday", day.weekday, "kind",
                                kind_json[day.kind]);
        if (row != NULL && day.name != NULL)
            json_object_set_new(row, "name", json_string(day.name));
        if (row != NULL && day.close[0] != '\0')
            json_object_set_new(row, "close", json_string(day.close));
        if (row == NULL || json_array_append_new(days, row) != 0) {
            json_decref(o);
            return cli_fail(EX_OSERR, "out of memory");
        }
    }
    if (v->has_now) {
        json_object_set_new(o, "now", json_string(v->now));
        json_object_set_new(o, "open_now", json_boolean(v->open_now));
    }
    cli_print_json_line(o);
    return 0;
}

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
        if (!calendar_day(cal, t, &day))
            continue;
        char detail[32];
        snprintf(detail, sizeof detail, "closes at %s", day.close);
        const char *cells[] = { day.date, day.weekday, kind_text[day.kind], day.name != NULL ? day.name : detail };
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

/* The first day from --from, else today in New York (with the market's
 * state now). 0, or an exit status after printing why. */
static int calendar_start(const schedule_flags_t *f, const market_calendar_t *cal, calendar_view_t *v)
{
    if (f->from != NULL) {
        int64_t epoch_s;
        if (clock_parse_date(f->from, strlen(f->from), &epoch_s) != 0)
            return cli_usage_error(schedule_usage, "--from '%s' is not a date: write it as YYYY-MM-DD (2026-11-20)",
                                   f->from);
        v->first = clock_floor_div(epoch_s, 86400);
        return 0;
    }
    char err[512];
    tz_t *new_york = NULL;
    if (tz_load("America/New_York", &new_york, err, sizeof err) != 0)
        return cli_fail(EX_CONFIG, "today in New York: %s", err);
    int64_t now = clock_now_ms() / 1000;
    tz_tm_t tm;
    tz_local(new_york, now, &tm);
    tz_format_time(new_york, now, v->now);
    tz_free(new_york);
    v->first = clock_days_from_civil(tm.year, tm.month, tm.day);
    v->has_now = 1;
    v->open_now = market_is_open(cal, tm.year, tm.month, tm.day, tm.hour * 60 + tm.minute) == 1;
    return 0;
}

static int do_calendar(const schedule_flags_t *f)
{
    calendar_view_t v;
    memset(&v, 0, sizeof v);
    schedule_config_t set; /* not copied: only its calendar is used */
    int st = next_calendar(f, 1, &set);
    if (st != 0)
        return st;
    const market_calendar_t *cal = &set.xnys;
    if ((st = calendar_start(f, cal, &v)) != 0)
        goto cleanup;
    v.last = v.first + (f->days ? f->days : CALENDAR_DAYS_DEFAULT) - 1;
    int y, m, d, last_y, last_m, last_d;
    clock_civil_from_days(v.first, &y, &m, &d);
    clock_civil_from_days(v.last, &last_y, &last_m, &last_d);
    clock_format_date(v.first * 86400, v.from);
    clock_format_date(v.last * 86400, v.to);
    if (y < MARKET_YEAR_MIN || last_y > MARKET_YEAR_MAX) {
        st = cli_usage_error(schedule_usage, "--from %s --days %lld: the %s calendar covers %d-01-01 to %d-12-31 only",
                             v.from, (long long)(v.last - v.first + 1), cal->name, MARKET_YEAR_MIN, MARKET_YEAR_MAX);
        goto cleanup;
    }
    trading_day_near(cal, y, m, d, 1, v.next);
    trading_day_near(cal, y, m, d, -1, v.previous);
    st = f->json ? print_calendar_json(cal, &v) : print_calendar_text(cal, &v);
cleanup:
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
            return cli_usage_error(schedule_usage, "unknown option '%s'", argv[optind - 1]);
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
    cfg.command_timeout_ms = (int)(set.shutdown_wait_ms < 1000 ? 1000 : set.shutdown_wait_ms);
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
