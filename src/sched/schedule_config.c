/* schedule_config.c — the schedule config: the [scheduler] and
 * [schedule NAME] sections of the configuration file, and the schedules'
 * fire times (schedule_config.h). */
#include "sched/schedule_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/config_file.h"
#include "core/job.h"
#include "core/queue_names.h"
#include "sched/tz.h"

#define XNYS_ZONE "America/New_York"

typedef struct {
    schedule_config_t *set;
    schedule_t *cur;             /* the section being read; NULL in another */
    schedule_task_check_fn check_task;
    int line;                    /* of the key being read (config_file_parse) */
    const config_key_t *key;     /* the key being read; NULL while checking a whole schedule */
    int error_line;
    char error[1024];
    unsigned seen;               /* keys set in the current schedule (bits) */
    int seen_line[16];           /* ... and the line of each */
    unsigned scheduler_seen;     /* keys set in [scheduler] (bits) */
    int scheduler_seen_line[8];  /* ... and the line of each */
    int scheduler_line;          /* of the [scheduler] header; 0: none yet */
} loader_t;

/* Records the first error (with its line; about a key's value cut by an
 * inline comment, it says so); returns 0 for inih's handler. */
static int fail(loader_t *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(loader_t *ld, const char *fmt, ...)
{
    if (ld->error[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ld->error, sizeof ld->error, fmt, ap);
        va_end(ap);
        ld->error_line = ld->line;
        if (ld->key != NULL && ld->key->line == ld->line) {
            size_t used = strlen(ld->error);
            config_file_cut_note(ld->key, ld->error + used, sizeof ld->error - used);
        }
    }
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0)
        *out = 1;
    else if (strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

/* A duration with an optional sign ("30m", "-15m", "90s"), in ms. */
static int parse_signed_duration(const char *v, int64_t *ms)
{
    int neg = v[0] == '-';
    if (v[0] == '-' || v[0] == '+')
        v++;
    if (clock_parse_duration(v, 1000, ms) != 0)
        return -1;
    if (neg)
        *ms = -*ms;
    return 0;
}

/* A duration key within its bounds (config_file_duration's message, after
 * `section`: "[schedule NAME]: ", or "" for [scheduler]'s, as its other
 * messages say). */
static int duration_key(loader_t *ld, const char *section, int64_t min_ms, int64_t max_ms, const char *examples,
                        int64_t *out)
{
    char err[700];
    if (config_file_duration(ld->key, min_ms, max_ms, examples, out, err, sizeof err) != 0)
        return fail(ld, "%s%s", section, err);
    return 1;
}

/* One date of closures: a trading day of the built-in calendar, not
 * listed before. A weekend is a mistake (the wrong year, a typo), said
 * with its name. A holiday or a closure the calendar knows is taken as
 * it stands: the day is closed anyway, and a closure a later tickq builds
 * in must not make a deployment's file refused after an upgrade. */
static int add_closure(loader_t *ld, const char *tok)
{
    market_calendar_t *xnys = &ld->set->xnys;
    static const char *const days[] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                        "Saturday" };
    int64_t epoch;
    int y, m, d;
    char err[200];
    if (clock_parse_date(tok, strlen(tok), &epoch) != 0)
        return fail(ld, "closures: '%s' is not a date (YYYY-MM-DD)", tok);
    clock_civil_from_days(epoch / 86400, &y, &m, &d);
    market_calendar_t builtin;
    market_calendar_init(&builtin, xnys->name, err, sizeof err);
    const char *holiday = NULL;
    int trading = market_is_trading_day(&builtin, y, m, d);
    if (trading == 0)
        market_is_holiday(&builtin, y, m, d, &holiday);
    market_calendar_free(&builtin);
    if (trading == 0 && holiday == NULL)
        return fail(ld, "closures: %s is a %s, not a trading day: %s is closed on weekends anyway; list only "
                    "trading days the exchange announced it will close", tok, days[clock_weekday(epoch / 86400)],
                    xnys->name);
    if (trading == 0)
        return 1;
    if (trading == 1 && market_is_trading_day(xnys, y, m, d) == 0)
        return fail(ld, "closures: %s is listed twice", tok);
    if (market_calendar_add_closure(xnys, y, m, d, err, sizeof err) != 0)
        return fail(ld, "closures: %s", err);
    return 1;
}

static int scheduler_key(loader_t *ld, const char *key, const char *v)
{
    schedule_config_t *set = ld->set;
    static const char *const keys[] = { "misfire_grace", "shutdown_wait", "lease_ttl", "closures", NULL };
    _Static_assert(sizeof keys / sizeof keys[0] - 1 <= sizeof ld->scheduler_seen_line / sizeof(int),
                   "a line for each key");
    int k = 0;
    while (keys[k] != NULL && strcmp(keys[k], key) != 0)
        k++;
    if (keys[k] == NULL)
        return fail(ld, "unknown setting '%s' in [scheduler] (known: misfire_grace, shutdown_wait, lease_ttl, "
                    "closures)", key);
    if (ld->scheduler_seen & (1u << k))
        return fail(ld, "'%s' is set twice in [scheduler] (first at line %d)", key, ld->scheduler_seen_line[k]);
    ld->scheduler_seen |= 1u << k;
    ld->scheduler_seen_line[k] = ld->line;
    switch (k) {
    case 0:
        return duration_key(ld, "", 0, SCHEDULER_MISFIRE_GRACE_MAX_MS, "30m, 1h, 48h",
                            &set->misfire_grace_ms);
    case 1:
        return duration_key(ld, "", SCHEDULER_SHUTDOWN_WAIT_MIN_MS, SCHEDULER_SHUTDOWN_WAIT_MAX_MS,
                            "5s, 10s", &set->shutdown_wait_ms);
    case 2:
        return duration_key(ld, "", SCHEDULER_LEASE_TTL_MIN_MS, SCHEDULER_LEASE_TTL_MAX_MS, "5s, 15s",
                            &set->lease_ttl_ms);
    default: { /* XNYS closures the exchange announced */
        char *copy = strdup(v), *save = NULL;
        if (copy == NULL)
            return fail(ld, "out of memory");
        int ok = 1;
        for (char *tok = strtok_r(copy, ", ", &save); tok && ok; tok = strtok_r(NULL, ", ", &save))
            ok = add_closure(ld, tok);
        free(copy);
        return ok;
    }
    }
}

/* The queue of a schedule's jobs: a name the enqueue takes. A name that
 * ends in a priority level is told how to write it here. */
static int queue_key(loader_t *ld, schedule_t *s, const char *v)
{
    char why[300], logical[QUEUE_NAME_MAX + 1];
    if (queue_name_check(v, why, sizeof why) == 0) {
        snprintf(s->queue, sizeof s->queue, "%s", v);
        return 1;
    }
    if (strlen(v) >= sizeof logical)
        return fail(ld, "[schedule %s]: queue = %.120s...: %s", s->name, v, why);
    const char *level = queue_logical(v, logical, sizeof logical);
    char scratch[300];
    if (*level != '\0' && queue_priority_check(level) == 0 && queue_name_check(logical, scratch, sizeof scratch) == 0)
        return fail(ld, "[schedule %s]: queue = %s names a priority level of queue %s: write queue = %s and "
                    "priority = %s", s->name, v, logical, logical, level);
    return fail(ld, "[schedule %s]: queue = %s: %s", s->name, v, why);
}

/* The args of a schedule's jobs: a JSON object, as the enqueue reads it
 * (no key twice); its size is checked with the whole job (check_schedule). */
static int args_key(loader_t *ld, schedule_t *s, const char *v)
{
    json_error_t jerr;
    char why[400] = "";
    json_t *j = json_loads(v, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL)
        job_args_json_error(&jerr, why, sizeof why);
    else if (!json_is_object(j))
        snprintf(why, sizeof why, "not %s", json_is_array(j) ? "an array" : "a scalar");
    json_decref(j);
    if (why[0] != '\0')
        return fail(ld, "args must be a JSON object on one line, got: %.200s (%s)", v, why);
    free(s->args);
    s->args = strdup(v);
    return s->args != NULL ? 1 : fail(ld, "out of memory");
}

static int schedule_key(loader_t *ld, const char *key, const char *v)
{
    schedule_t *s = ld->cur;
    static const char *const keys[] = { "cron", "timezone", "calendar", "market_hours", "offset_from_close",
                                        "task", "args", "queue", "priority", "max_retries", "timeout", "misfire",
                                        "after", NULL };
    _Static_assert(sizeof keys / sizeof keys[0] - 1 <= sizeof ld->seen_line / sizeof(int), "a line for each key");
    int k = 0;
    while (keys[k] != NULL && strcmp(keys[k], key) != 0)
        k++;
    if (keys[k] == NULL)
        return fail(ld, "unknown key '%s' in [schedule %s] (known: cron, timezone, calendar, market_hours, "
                    "offset_from_close, task, args, queue, priority, max_retries, timeout, misfire, after)", key,
                    s->name);
    if (ld->seen & (1u << k))
        return fail(ld, "'%s' is set twice in [schedule %s] (first at line %d)", key, s->name, ld->seen_line[k]);
    ld->seen |= 1u << k;
    ld->seen_line[k] = ld->line;
    int64_t ms;
    char *end;
    char section[SCHEDULE_NAME_MAX + 16];
    switch (k) {
    case 0:
        if (strlen(v) >= sizeof s->expr)
            return fail(ld, "cron expression '%s' is too long", v);
        snprintf(s->expr, sizeof s->expr, "%s", v);
        return 1;
    case 1:
        if (strlen(v) >= sizeof s->zone)
            return fail(ld, "timezone '%s' is too long", v);
        snprintf(s->zone, sizeof s->zone, "%s", v);
        s->zone_line = ld->line;
        return 1;
    case 2:
        if (strcasecmp(v, "XNYS") != 0 && strcasecmp(v, "none") != 0)
            return fail(ld, "calendar '%s' is unknown (known: XNYS)", v);
        s->calendar = strcasecmp(v, "XNYS") == 0;
        return 1;
    case 3:
        if (parse_bool(v, &s->market_hours) != 0)
            return fail(ld, "market_hours = %s: use true or false", v);
        return 1;
    case 4:
        if (parse_signed_duration(v, &ms) != 0 || ms % 60000 != 0)
            return fail(ld, "offset_from_close = %s: use whole minutes, e.g. 30m or -15m", v);
        s->has_offset = 1;
        s->offset_from_close_s = ms / 1000;
        return 1;
    case 5:
        if (!job_name_valid(v, JOB_TYPE_MAX))
            return fail(ld, "task '%s' is not a task type name", v);
        snprintf(s->task, sizeof s->task, "%s", v);
        return 1;
    case 6:
        return args_key(ld, s, v);
    case 7:
        return queue_key(ld, s, v);
    case 8:
        if (queue_priority_check(v) != 0)
            return fail(ld, "priority '%s': use high, normal or low", v);
        snprintf(s->priority, sizeof s->priority, "%s", v);
        return 1;
    case 9: {
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno || *end || end == v || n < 0 || n > JOB_MAX_RETRIES_LIMIT)
            return fail(ld, "max_retries = %s: use an integer from 0 to %d", v, JOB_MAX_RETRIES_LIMIT);
        s->max_retries = (int)n;
        return 1;
    }
    case 10: /* the job's own timeout: the enqueue's bounds */
        snprintf(section, sizeof section, "[schedule %s]: ", s->name);
        return duration_key(ld, section, 1, JOB_MAX_TIMEOUT_MS, "600, 90s, 10m, 2h", &s->timeout_ms);
    case 12:
        if (!job_name_valid(v, SCHEDULE_NAME_MAX))
            return fail(ld, "after = '%s' is not a schedule name", v);
        snprintf(s->after, sizeof s->after, "%s", v);
        s->after_line = ld->line;
        return 1;
    default:
        if (strcmp(v, "run_once") == 0)
            s->misfire = MISFIRE_RUN_ONCE;
        else if (strcmp(v, "skip") == 0)
            s->misfire = MISFIRE_SKIP;
        else
            return fail(ld, "misfire = %s: use run_once or skip", v);
        return 1;
    }
}

static void schedule_defaults(schedule_t *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->queue, sizeof s->queue, "%s", QUEUE_DEFAULT);
    snprintf(s->priority, sizeof s->priority, "normal");
    s->max_retries = -1;
    s->misfire = MISFIRE_RUN_ONCE;
    s->parent = -1;
}

static int check_schedule(loader_t *ld, schedule_t *s);

/* Checks the schedule read last (errors name its section's line) and sets
 * up its fire times. */
static int finish_schedule(loader_t *ld)
{
    schedule_t *s = ld->cur;
    if (s == NULL)
        return 1;
    ld->cur = NULL;
    int line = ld->line;
    const config_key_t *key = ld->key;
    ld->line = s->line;
    ld->key = NULL;
    int ok = check_schedule(ld, s);
    ld->line = line;
    ld->key = key;
    return ok;
}

/* The keys that set fire times (keys[] in schedule_key: cron, timezone,
 * calendar, market_hours, offset_from_close, misfire), which a schedule
 * that runs after another may not have. */
#define TIME_KEYS ((1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 11))

/* The job s would enqueue at every fire passes the enqueue's checks: what
 * loads can always be enqueued. (Its keys were checked one by one; this
 * is the whole job, its size too, as the scheduler builds it.) */
static int check_job(loader_t *ld, const schedule_t *s)
{
    char id[SCHEDULE_JOB_ID_MAX], after[SCHEDULE_JOB_ID_MAX], why[600];
    int64_t latest = 253402300799; /* 9999-12-31T23:59:59Z: the longest id is as long as any */
    job_spec_t spec;
    schedule_job_id(s->name, latest, id, sizeof id);
    schedule_job_id(s->after, latest, after, sizeof after);
    schedule_job_spec(s, id, s->after[0] != '\0' ? after : NULL, &spec);
    if (job_spec_check(&spec, JOB_DEFAULT_MAX_PAYLOAD, why, sizeof why) != 0)
        return fail(ld, "[schedule %s]: its job would be refused at every fire: %s", s->name, why);
    return 1;
}

static int check_schedule(loader_t *ld, schedule_t *s)
{
    char err[1024];
    if (s->after[0] != '\0') {
        if (ld->seen & TIME_KEYS)
            return fail(ld, "[schedule %s] runs after %s: its times are %s's, so it takes no cron, timezone, "
                        "calendar, market_hours, offset_from_close or misfire", s->name, s->after, s->after);
        if (s->task[0] == '\0')
            return fail(ld, "[schedule %s] has no task (task = calculate_iv_analysis, ...)", s->name);
        if (s->args == NULL && (s->args = strdup("{}")) == NULL)
            return fail(ld, "out of memory");
        if (ld->check_task != NULL && ld->check_task(s, err, sizeof err) != 0)
            return fail(ld, "%s", err);
        return check_job(ld, s);
    }
    if (s->expr[0] == '\0')
        return fail(ld, "[schedule %s] has no cron expression (cron = ..., or after = another schedule)", s->name);
    if (s->task[0] == '\0')
        return fail(ld, "[schedule %s] has no task (task = update_stock_data, ...)", s->name);
    if (s->args == NULL && (s->args = strdup("{}")) == NULL)
        return fail(ld, "out of memory");
    if (ld->check_task != NULL && ld->check_task(s, err, sizeof err) != 0)
        return fail(ld, "%s", err);
    if (!check_job(ld, s))
        return 0;
    if ((s->market_hours || s->has_offset) && !s->calendar)
        return fail(ld, "[schedule %s]: market_hours and offset_from_close need calendar = XNYS", s->name);
    if (s->market_hours && s->has_offset)
        return fail(ld, "[schedule %s]: use market_hours or offset_from_close, not both", s->name);
    if (schedule_init(s, s->expr, s->zone[0] ? s->zone : NULL, s->calendar ? &ld->set->xnys : NULL, s->market_hours,
                      s->has_offset, s->offset_from_close_s, err, sizeof err) != 0)
        return fail(ld, "[schedule %s]: %s", s->name, err);
    return 1;
}

/* A section header seen again after other sections (or right after
 * itself): [scheduler] or [schedule NAME] appears once. */
static int section_twice(loader_t *ld, const char *section, int first_line, int section_line)
{
    ld->line = section_line;
    ld->key = NULL;
    return fail(ld, "[%s] appears twice (first at line %d): write each section once", section, first_line);
}

/* The schedule a [schedule NAME] key belongs to: the current one, or a new
 * one when its section starts here. 1, or 0 with ld's error set. */
static int enter_schedule(loader_t *ld, const config_key_t *k, const char *name)
{
    schedule_config_t *set = ld->set;
    if (ld->cur != NULL && strcmp(ld->cur->name, name) == 0 && ld->cur->section_line == k->section_line)
        return 1;
    if (!finish_schedule(ld))
        return 0;
    if (!job_name_valid(name, SCHEDULE_NAME_MAX))
        return fail(ld, "schedule name '%s': use 1-64 of A-Z a-z 0-9 _ - .", name);
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->items[i].name, name) == 0)
            return section_twice(ld, k->section, set->items[i].section_line, k->section_line);
    if (set->n == SCHEDULES_MAX)
        return fail(ld, "more than %d schedules", SCHEDULES_MAX);
    schedule_t *s = &set->items[set->n++];
    schedule_defaults(s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->line = ld->line;
    s->section_line = k->section_line;
    ld->cur = s;
    ld->seen = 0;
    return 1;
}

/* A key of any section: [scheduler] and [schedule NAME] are read, the
 * other known kinds skipped (other readers own them), unknown kinds refused. */
static int on_key(void *user, const config_key_t *k)
{
    loader_t *ld = user;
    if (ld->error[0])
        return 0;
    ld->line = k->line;
    ld->key = NULL;
    const char *name;
    config_section_t kind = config_file_section(k->section, &name);
    if (kind == CONFIG_SECTION_UNKNOWN) {
        char msg[400];
        ld->line = config_file_unknown_section(k, msg, sizeof msg);
        return fail(ld, "%s", msg);
    }
    if (kind != CONFIG_SECTION_SCHEDULER && kind != CONFIG_SECTION_SCHEDULE)
        return finish_schedule(ld); /* [handler NAME], [pool NAME]: not ours */
    if (kind == CONFIG_SECTION_SCHEDULE && !enter_schedule(ld, k, name))
        return 0;
    if (kind == CONFIG_SECTION_SCHEDULER) {
        if (!finish_schedule(ld))
            return 0;
        if (ld->scheduler_line != 0 && ld->scheduler_line != k->section_line)
            return section_twice(ld, k->section, ld->scheduler_line, k->section_line);
        ld->scheduler_line = k->section_line;
    }
    ld->key = k;
    int ok = kind == CONFIG_SECTION_SCHEDULER ? scheduler_key(ld, k->key, k->value)
                                              : schedule_key(ld, k->key, k->value);
    ld->key = NULL;
    return ok;
}

/* --- fire times ---------------------------------------------------------- */

/* The cron day filter of a calendar schedule: trading days only; the
 * session or the close plus the offset as the window. */
static int trading_day(void *ctx, int y, int m, int d, int *open_min, int *close_min)
{
    const schedule_t *s = ctx;
    int open, close;
    if (market_session(s->cal, y, m, d, &open, &close) != 0)
        return 0;
    if (s->has_offset) {
        *open_min = *close_min = close + (int)(s->offset_from_close_s / 60);
    } else if (s->market_hours) {
        *open_min = open;
        *close_min = close;
    }
    return 1;
}

/* With offset_from_close the expression only chooses days: its minute and
 * hour fields give way to every minute, narrowed to one by the filter. */
static int day_fields_only(const char *expr, char *out, size_t outlen, char *err, size_t errlen)
{
    char f[5][64];
    if (expr[0] == '@') {
        snprintf(out, outlen, "* * * * *");
        return 0;
    }
    if (sscanf(expr, "%63s %63s %63s %63s %63s", f[0], f[1], f[2], f[3], f[4]) != 5) {
        snprintf(err, errlen, "cron expression \"%s\" needs five fields", expr);
        return -1;
    }
    snprintf(out, outlen, "* * %s %s %s", f[2], f[3], f[4]);
    return 0;
}

int schedule_init(schedule_t *s, const char *expr, const char *zone, const market_calendar_t *cal,
                  int market_hours, int has_offset, int64_t offset_s, char *err, size_t errlen)
{
    if (zone == NULL && cal != NULL)
        zone = XNYS_ZONE;
    if (cal != NULL && strcmp(zone, XNYS_ZONE) != 0) {
        snprintf(err, errlen, "calendar XNYS keeps New York time: use timezone = %s (or leave it out)", XNYS_ZONE);
        return -1;
    }
    if ((market_hours || has_offset) && cal == NULL) {
        snprintf(err, errlen, "market hours and offset from close need the XNYS calendar");
        return -1;
    }
    if (has_offset && (offset_s % 60 != 0 || offset_s / 60 < -MARKET_EARLY_CLOSE_MIN ||
                       offset_s / 60 > 1439 - MARKET_CLOSE_MIN)) {
        snprintf(err, errlen, "offset from close must keep the fire time on the trading day: whole minutes from "
                 "-13h (before a 13:00 close) to +7h59m (after a 16:00 close)");
        return -1;
    }
    if (strlen(expr) >= sizeof s->expr) {
        snprintf(err, errlen, "cron expression is too long");
        return -1;
    }
    char fields[CRON_EXPR_MAX];
    const char *used = expr;
    if (has_offset) {
        cron_t check; /* the whole expression must still be valid */
        memset(&check, 0, sizeof check);
        if (cron_parse(expr, &check, err, errlen) != 0)
            return -1;
        if (day_fields_only(expr, fields, sizeof fields, err, errlen) != 0)
            return -1;
        used = fields;
    }
    memset(&s->cron, 0, sizeof s->cron);
    if (cron_parse(used, &s->cron, err, errlen) != 0)
        return -1;
    if (cron_set_zone(&s->cron, zone, err, errlen) != 0) {
        cron_release(&s->cron);
        return -1;
    }
    if (s->expr != expr)
        snprintf(s->expr, sizeof s->expr, "%s", expr);
    snprintf(s->zone, sizeof s->zone, "%s", cron_zone_name(&s->cron));
    s->cal = cal;
    s->calendar = cal != NULL;
    s->market_hours = market_hours;
    s->has_offset = has_offset;
    s->offset_from_close_s = offset_s;
    if (cal != NULL)
        cron_set_day_filter(&s->cron, trading_day, s);
    return 0;
}

void schedule_release(schedule_t *s)
{
    cron_release(&s->cron);
}

int schedule_zone_warning(const schedule_t *s, char *msg, size_t msglen)
{
    return tz_fixed_offset_warning(s->zone, msg, msglen);
}

size_t schedule_config_print_warnings(const schedule_config_t *set, const char *origin)
{
    size_t n = 0;
    char msg[400];
    for (size_t i = 0; i < set->n; i++) {
        const schedule_t *s = &set->items[i];
        if (schedule_zone_warning(s, msg, sizeof msg)) {
            fprintf(stderr, "tickq: warning: %s:%d: [schedule %s]: %s\n", origin, s->zone_line ? s->zone_line : s->line,
                    s->name, msg);
            n++;
        }
    }
    return n;
}

int schedule_next(const schedule_t *s, int64_t after, int64_t *next)
{
    if (s->after[0] != '\0') /* no times of its own */
        return -1;
    char err[200];
    return cron_next(&s->cron, after, next, err, sizeof err);
}

void schedule_format_local(const schedule_t *s, int64_t t, char *out, size_t outlen)
{
    char buf[CRON_TIME_LEN];
    cron_format_time(&s->cron, t, buf);
    snprintf(out, outlen, "%s", buf);
}

void schedule_format_utc(int64_t t, char *out, size_t outlen)
{
    char buf[CLOCK_DATE_LEN];
    clock_format_datetime(t, buf);
    snprintf(out, outlen, "%s", buf);
}

void schedule_job_id(const char *name, int64_t t, char *out, size_t outlen)
{
    char when[CLOCK_DATE_LEN];
    clock_format_datetime(t, when);
    snprintf(out, outlen, "%s:%s", name, when);
}

void schedule_job_spec(const schedule_t *s, const char *id, const char *after, job_spec_t *spec)
{
    job_spec_init(spec);
    spec->id = id;
    spec->type = s->task;
    spec->args = s->args;
    spec->args_len = strlen(s->args);
    spec->queue = s->queue;
    spec->priority = s->priority;
    if (s->max_retries >= 0)
        spec->max_retries = s->max_retries;
    if (s->timeout_ms > 0)
        spec->timeout_ms = s->timeout_ms;
    spec->depends_on = after;
}

/* Links each schedule that runs after another to it: the other must be in
 * the set, and no chain may loop or hold more than SCHEDULE_CHAIN_MAX
 * schedules. 1, or 0 with ld's error set (as fail). */
static int link_chains(loader_t *ld)
{
    schedule_config_t *set = ld->set;
    for (size_t i = 0; i < set->n; i++) {
        schedule_t *s = &set->items[i];
        if (s->after[0] == '\0')
            continue;
        ld->line = s->after_line;
        for (size_t k = 0; k < set->n && s->parent < 0; k++)
            if (strcmp(set->items[k].name, s->after) == 0)
                s->parent = (int)k;
        if (s->parent < 0)
            return fail(ld, "[schedule %s]: after = %s, which is not a schedule of this file", s->name, s->after);
        if (s->parent == (int)i)
            return fail(ld, "[schedule %s] cannot run after itself", s->name);
    }
    for (size_t i = 0; i < set->n; i++) {   /* every chain ends at a schedule with times of its own */
        int at = (int)i;
        size_t steps = 0;
        while (set->items[at].parent >= 0 && steps++ <= set->n)
            at = set->items[at].parent;
        if (set->items[at].parent >= 0) {
            ld->line = set->items[i].after_line;
            return fail(ld, "[schedule %s]: its after = ... chain loops back on itself: one schedule in it must "
                        "have a cron", set->items[i].name);
        }
    }
    for (size_t i = 0; i < set->n; i++) {
        if (set->items[i].parent >= 0)
            continue;
        size_t n = 1;   /* the root and everything under it */
        for (size_t k = 0; k < set->n; k++) {
            int at = set->items[k].parent;
            while (at >= 0 && at != (int)i)
                at = set->items[at].parent;
            n += at == (int)i;
        }
        if (n > SCHEDULE_CHAIN_MAX) {
            ld->line = set->items[i].line;
            return fail(ld, "[schedule %s] has %zu schedules running after it, directly or not: at most %d in "
                        "one chain", set->items[i].name, n - 1, SCHEDULE_CHAIN_MAX - 1);
        }
    }
    return 1;
}

/* schedule_config_parse, and with allow_none a file of no schedules is a
 * set of none. */
static int parse_text(schedule_config_t *set, const char *text, const char *origin, schedule_task_check_fn check_task,
                      int allow_none, char *err, size_t errlen)
{
    memset(set, 0, sizeof *set);
    set->misfire_grace_ms = 3600 * 1000;
    set->shutdown_wait_ms = 5000;
    set->lease_ttl_ms = 5000;
    char cerr[200];
    set->items = calloc(SCHEDULES_MAX, sizeof *set->items);
    if (set->items == NULL || market_calendar_init(&set->xnys, "XNYS", cerr, sizeof cerr) != 0) {
        snprintf(err, errlen, "%s: out of memory", origin);
        schedule_config_free(set);
        return -1;
    }
    loader_t ld;
    memset(&ld, 0, sizeof ld);
    ld.set = set;
    ld.check_task = check_task;
    int rc = config_file_parse(text, on_key, &ld);
    if (rc == 0 && ld.error[0] == '\0')
        finish_schedule(&ld);
    if (rc == 0 && ld.error[0] == '\0')
        link_chains(&ld);
    if (ld.error[0] != '\0' || rc != 0) {
        if (ld.error[0] != '\0')
            snprintf(err, errlen, "%s:%d: %s", origin, ld.error_line, ld.error);
        else
            snprintf(err, errlen, "%s:%d: not a setting (write key = value, [scheduler] or [schedule NAME])",
                     origin, rc > 0 ? rc : ld.line);
        schedule_config_free(set);
        return -1;
    }
    if (set->n == 0 && !allow_none) {
        snprintf(err, errlen, "%s: no schedules ([schedule NAME] sections)", origin);
        schedule_config_free(set);
        return -1;
    }
    return 0;
}

int schedule_config_parse(schedule_config_t *set, const char *text, const char *origin,
                          schedule_task_check_fn check_task, char *err, size_t errlen)
{
    return parse_text(set, text, origin, check_task, 0, err, errlen);
}

static int load_file(schedule_config_t *set, const char *path, schedule_task_check_fn check_task, int allow_none,
                     char *err, size_t errlen)
{
    char *text = config_file_read(path, err, errlen);
    if (text == NULL)
        return -1;
    int rc = parse_text(set, text, path, check_task, allow_none, err, errlen);
    free(text);
    return rc;
}

int schedule_config_load(schedule_config_t *set, const char *path, schedule_task_check_fn check_task, char *err,
                         size_t errlen)
{
    return load_file(set, path, check_task, 0, err, errlen);
}

int schedule_config_load_any(schedule_config_t *set, const char *path, schedule_task_check_fn check_task, char *err,
                             size_t errlen)
{
    return load_file(set, path, check_task, 1, err, errlen);
}

void schedule_config_free(schedule_config_t *set)
{
    if (set->items != NULL)
        for (size_t i = 0; i < set->n; i++) {
            free(set->items[i].args);
            schedule_release(&set->items[i]);
        }
    free(set->items);
    market_calendar_free(&set->xnys);
    set->items = NULL;
    set->n = 0;
}
