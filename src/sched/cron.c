/* cron.c — cron expressions evaluated in an IANA time zone.
 *
 * Parsing turns each field into a bitmask. cron_next walks local calendar
 * days and, on each day the masks (and the caller's day filter) accept, the
 * matching local times in order; each local time becomes 0, 1 or 2 UTC
 * instants through the zone, and the earliest instant after `after` wins.
 * Local time is not monotonic in UTC around a fall-back change, so the walk
 * does not stop at the first hit: every instant showing local time L lies in
 * [L - off_max, L - off_min], the extreme UTC offsets of the zone, which
 * bounds both where the walk starts and when it may stop.
 *
 * Zones themselves (TZif files, local time <-> UTC) are tz.c's; a cron_t
 * only holds one. */
#include "sched/cron.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/errmsg.h"

/* ---- expression parsing -------------------------------------------------- */

static const char *const month_names[] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                           "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
static const char *const wday_names[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT" };

typedef struct {
    const char *name;
    int min, max;
    const char *const *names; /* NULL: numbers only */
    int name_base;            /* value of names[0] */
    int nnames;
    const char *hint;         /* what the field takes, for messages */
} field_spec_t;

enum { F_MINUTE, F_HOUR, F_MDAY, F_MONTH, F_WDAY, F_COUNT };

static const field_spec_t field_specs[F_COUNT] = {
    { "minute", 0, 59, NULL, 0, 0, "0-59" },
    { "hour", 0, 23, NULL, 0, 0, "0-23" },
    { "day-of-month", 1, 31, NULL, 0, 0, "1-31" },
    { "month", 1, 12, month_names, 1, 12, "1-12 or JAN-DEC" },
    { "day-of-week", 0, 7, wday_names, 0, 7, "0-7 (0 and 7 are Sunday) or SUN-SAT" },
};

/* Reads a number or a name at *pp into *v, advancing *pp. Returns 0, or -1
 * with the reason in why. `start` is the field text, for messages. */
static int parse_value(const field_spec_t *f, const char *start, const char **pp, int *v,
                       char *why, size_t wlen)
{
    const char *p = *pp;
    if (isdigit((unsigned char)*p)) {
        long n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n < 1000000)
                n = n * 10 + (*p - '0');
            p++;
        }
        if (n < f->min || n > f->max) {
            snprintf(why, wlen, "%ld is out of range (%s takes %s)", n, f->name, f->hint);
            return -1;
        }
        *v = (int)n;
    } else if (isalpha((unsigned char)*p)) {
        const char *s = p;
        while (isalnum((unsigned char)*p))
            p++;
        int len = (int)(p - s), found = -1;
        for (int i = 0; f->names != NULL && i < f->nnames; i++)
            if (len == 3 && strncasecmp(s, f->names[i], 3) == 0)
                found = i;
        if (found < 0) {
            snprintf(why, wlen, "%s \"%.*s\" (%s takes %s)",
                     f->names ? "unknown name" : "not a number", len, s, f->name, f->hint);
            return -1;
        }
        *v = f->name_base + found;
    } else if (p == start) {
        snprintf(why, wlen, "expected a number%s at the start", f->names ? " or name" : "");
        return -1;
    } else {
        snprintf(why, wlen, "expected a number%s after \"%.*s\"", f->names ? " or name" : "",
                 (int)(p - start), start);
        return -1;
    }
    *pp = p;
    return 0;
}

/* One list item: `*`, v, a-b, each with an optional /step. */
static int parse_item(const field_spec_t *f, const char *start, const char **pp, uint64_t *mask,
                      char *why, size_t wlen)
{
    const char *p = *pp;
    int lo, hi, star = 0, range = 0;
    if (*p == '*') {
        star = 1;
        lo = f->min;
        hi = f->max;
        p++;
    } else {
        if (parse_value(f, start, &p, &lo, why, wlen) != 0)
            return -1;
        hi = lo;
        if (*p == '-') {
            p++;
            if (parse_value(f, start, &p, &hi, why, wlen) != 0)
                return -1;
            range = 1;
            if (f->max == 7 && hi == 0 && lo > 0) /* FRI-SUN: Sunday as 7 */
                hi = 7;
            if (hi < lo) {
                snprintf(why, wlen, "range %d-%d goes backwards (ranges do not wrap: write %d-%d,%d-%d)",
                         lo, hi, lo, f->max, f->min, hi);
                return -1;
            }
        }
    }
    long step = 1;
    if (*p == '/') {
        p++;
        if (!isdigit((unsigned char)*p)) {
            snprintf(why, wlen, "expected a step number after \"%.*s\"", (int)(p - start), start);
            return -1;
        }
        step = 0;
        while (isdigit((unsigned char)*p)) {
            if (step < 1000000)
                step = step * 10 + (*p - '0');
            p++;
        }
        int span = f->max - f->min + 1;
        if (step < 1 || step > span) {
            snprintf(why, wlen, "step %ld is out of range 1-%d", step, span);
            return -1;
        }
        if (!star && !range) /* "5/15": from 5 to the end, as Vixie cron */
            hi = f->max;
    }
    for (int v = lo; v <= hi; v += (int)step)
        *mask |= (uint64_t)1 << v;
    *pp = p;
    return 0;
}

/* Parses one field into *mask. Returns 0, or -1 with err naming the field. */
static int parse_field(const field_spec_t *f, const char *text, uint64_t *mask, char *err, size_t errlen)
{
    char why[160];
    const char *p = text;
    *mask = 0;
    for (;;) {
        if (*p == ',' || *p == '\0') {
            snprintf(why, sizeof why, "empty item in the list");
            goto fail;
        }
        if (parse_item(f, text, &p, mask, why, sizeof why) != 0)
            goto fail;
        if (*p == '\0')
            return 0;
        if (*p != ',') {
            snprintf(why, sizeof why, "unexpected \"%c\" after \"%.*s\"", *p, (int)(p - text), text);
            goto fail;
        }
        p++;
    }
fail:
    snprintf(err, errlen, "%s field \"%.64s\": %s", f->name, text, why);
    return -1;
}

static const struct { const char *name, *expr; } macros[] = {
    { "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
    { "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" },   { "@midnight", "0 0 * * *" },
    { "@hourly", "0 * * * *" },
};

/* Some selected month has a selected day of month (Feb counts 29 days). */
static int some_mday_exists(const cron_t *c)
{
    for (int m = 1; m <= 12; m++) {
        if (!(c->months >> m & 1))
            continue;
        for (int d = 1; d <= clock_days_in_month(2000, m); d++)
            if (c->mdays >> d & 1)
                return 1;
    }
    return 0;
}

int cron_parse(const char *expr, cron_t *out, char *err, size_t errlen)
{
    char scratch[CRON_EXPR_MAX];
    char *errbuf = err;
    char dummy[8];
    if (errbuf == NULL || errlen == 0) { /* parse_field always writes a message */
        errbuf = dummy;
        errlen = sizeof dummy;
    }
    if (expr == NULL)
        expr = "";
    while (isspace((unsigned char)*expr))
        expr++;
    size_t len = strlen(expr);
    while (len > 0 && isspace((unsigned char)expr[len - 1]))
        len--;
    if (len == 0) {
        errmsg_set(errbuf, errlen, "empty cron expression: expected 5 fields (minute hour day-of-month "
                                "month day-of-week), e.g. \"*/15 9-16 * * MON-FRI\"");
        return -1;
    }
    if (len >= CRON_EXPR_MAX) {
        errmsg_set(errbuf, errlen, "cron expression is too long (%zu characters, at most %d)", len,
                CRON_EXPR_MAX - 1);
        return -1;
    }
    cron_t c;
    memset(&c, 0, sizeof c);
    memcpy(c.expr, expr, len);
    c.expr[len] = '\0';

    const char *body = c.expr;
    if (body[0] == '@') {
        body = NULL;
        for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
            if (strcasecmp(c.expr, macros[i].name) == 0)
                body = macros[i].expr;
        if (body == NULL) {
            errmsg_set(errbuf, errlen, "unknown macro \"%s\" (use @yearly, @annually, @monthly, @weekly, "
                                    "@daily, @midnight or @hourly)", c.expr);
            return -1;
        }
    }
    memcpy(scratch, body, strlen(body) + 1);
    char *fields[F_COUNT + 1];
    int n = 0;
    for (char *p = scratch; *p != '\0';) {
        while (isspace((unsigned char)*p))
            *p++ = '\0';
        if (*p == '\0')
            break;
        if (n <= F_COUNT)
            fields[n] = p;
        n++;
        while (*p != '\0' && !isspace((unsigned char)*p))
            p++;
    }
    if (n != F_COUNT) {
        errmsg_set(errbuf, errlen, "cron expression \"%s\" has %d field%s; expected 5 (minute hour "
                                "day-of-month month day-of-week)%s", c.expr, n, n == 1 ? "" : "s",
                n > F_COUNT ? ": seconds and years fields are not supported" : "");
        return -1;
    }
    uint64_t masks[F_COUNT];
    for (int i = 0; i < F_COUNT; i++)
        if (parse_field(&field_specs[i], fields[i], &masks[i], errbuf, errlen) != 0)
            return -1;
    if (masks[F_WDAY] >> 7 & 1) /* 7 is Sunday too */
        masks[F_WDAY] = (masks[F_WDAY] & 0x7f) | 1;
    c.minutes = masks[F_MINUTE];
    c.hours = (uint32_t)masks[F_HOUR];
    c.mdays = (uint32_t)masks[F_MDAY];
    c.months = (uint16_t)masks[F_MONTH];
    c.wdays = (uint8_t)masks[F_WDAY];
    if (fields[F_MDAY][0] == '*')
        c.flags |= CRON_DOM_STAR;
    if (fields[F_WDAY][0] == '*')
        c.flags |= CRON_DOW_STAR;
    if (fields[F_HOUR][0] == '*') /* `*`, `*`/2, ...: Vixie cron's HR_STAR */
        c.flags |= CRON_CLOCK_HOURS;
    /* With the OR rule any weekday set makes days; with AND every (month,
     * day) pair meets every weekday within 28 years, so only this can fail. */
    if ((c.flags & (CRON_DOM_STAR | CRON_DOW_STAR)) && !some_mday_exists(&c)) {
        errmsg_set(errbuf, errlen, "cron expression \"%s\" never fires: no month in \"%.64s\" has a "
                                "day \"%.64s\"", c.expr, fields[F_MONTH], fields[F_MDAY]);
        return -1;
    }
    *out = c;
    return 0;
}

/* ---- day matching -------------------------------------------------------- */

static int day_matches(const cron_t *c, int64_t days, int m, int d)
{
    if (!(c->months >> m & 1))
        return 0;
    int dom = c->mdays >> d & 1, dow = c->wdays >> clock_weekday(days) & 1;
    if (c->flags & (CRON_DOM_STAR | CRON_DOW_STAR))
        return dom && dow;
    return dom || dow;
}

void cron_set_day_filter(cron_t *c, cron_day_fn fn, void *ctx)
{
    c->day_fn = fn;
    c->day_ctx = ctx;
}

/* ---- the zone ------------------------------------------------------------ */

int cron_set_zone(cron_t *c, const char *tz, char *err, size_t errlen)
{
    tz_t *z;
    if (tz_load(tz, &z, err, errlen) != 0)
        return -1;
    tz_free(c->zone);
    c->zone = z;
    return 0;
}

const char *cron_zone_name(const cron_t *c) { return tz_name(c->zone); }

void cron_release(cron_t *c)
{
    if (c == NULL)
        return;
    tz_free(c->zone);
    c->zone = NULL;
}

void cron_format_time(const cron_t *c, int64_t t, char out[CRON_TIME_LEN]) { tz_format_time(c->zone, t, out); }

/* ---- the next fire time ------------------------------------------------ */

static void consider(int64_t t, int64_t after, int64_t *best)
{
    if (t > after && t < *best)
        *best = t;
}

/* Tries the matching times of one local day (starting at local seconds L0)
 * within [open, close] minutes, lowering *best. */
static void scan_day(const cron_t *c, int64_t L0, int open, int close, int64_t after, int64_t *best)
{
    int32_t omin, omax;
    tz_offset_range(c->zone, &omin, &omax);
    int clock_hours = (c->flags & CRON_CLOCK_HOURS) != 0;
    for (int h = open / 60; h <= close / 60 && h < 24; h++) {
        if (!(c->hours >> h & 1))
            continue;
        for (int mi = 0; mi < 60; mi++) {
            int nominal = h * 60 + mi;
            if (!(c->minutes >> mi & 1) || nominal < open || nominal > close)
                continue;
            int64_t L = L0 + nominal * 60;
            if (L - omin <= after) /* every instant of L is at or before `after` */
                continue;
            if (L - omax >= *best) /* every instant of L and later is no better */
                return;
            int64_t t[2];
            int n = tz_from_local_secs(c->zone, L, t);
            if (n == 0) {
                if (!clock_hours) /* fixed hours: fire when the gap ends */
                    consider(t[0], after, best);
            } else {
                consider(t[0], after, best);
                if (n == 2 && clock_hours) /* repeated hour: both passes */
                    consider(t[1], after, best);
            }
        }
    }
}

int cron_next(const cron_t *c, int64_t after, int64_t *next, char *err, size_t errlen)
{
    /* From the first instant the zone shows exactly (a time found before
     * it would be broken down as another), to 400 years before the last. */
    if (after < TZ_FIRST_S || after >= TZ_LAST_S - 86400LL * CRON_MAX_DAYS) {
        errmsg_set(err, errlen, "time %lld is outside the years cron handles (0001-01-03 to 9599-12-30)",
                   (long long)after);
        return -1;
    }
    int32_t omin, omax;
    tz_offset_range(c->zone, &omin, &omax);
    int64_t best = INT64_MAX;
    int64_t day = clock_floor_div(after + omin, 86400); /* the first local day that may hold a time > after */
    for (int i = 0; i < CRON_MAX_DAYS; i++, day++) {
        int64_t L0 = day * 86400;
        if (L0 - omax >= best)
            break;
        if (L0 + 86340 - omin <= after)
            continue;
        int y, m, d;
        clock_civil_from_days(day, &y, &m, &d);
        if (!day_matches(c, day, m, d))
            continue;
        int open = 0, close = 1439;
        if (c->day_fn != NULL && !c->day_fn(c->day_ctx, y, m, d, &open, &close))
            continue;
        if (open < 0)
            open = 0;
        if (close > 1439)
            close = 1439;
        if (open <= close)
            scan_day(c, L0, open, close, after, &best);
    }
    if (best == INT64_MAX) {
        char when[CLOCK_DATE_LEN];
        clock_format_datetime(after, when);
        errmsg_set(err, errlen, "\"%s\" does not fire within 400 years after %s in %s%s", c->expr,
                when, cron_zone_name(c),
                c->day_fn != NULL ? " (does the day filter reject every day?)" : "");
        return -1;
    }
    *next = best;
    return 0;
}
