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
 * The zone half reads TZif files (RFC 8536): transition instants, local time
 * types, and the POSIX TZ rule ("EST5EDT,M3.2.0,M11.1.0") that governs
 * instants after the last transition. It is a second noun living here until
 * something besides cron needs it; then it belongs in its own tz.c. */
#include "cron.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "clock.h"

#define ZONE_NAME_MAX 128
#define ZONE_FILE_MAX (1 << 20) /* the largest real TZif file is ~4 KB */
#define ABBR_MAX 16
#define YEAR1_S (-62135596800LL)   /* 0001-01-01T00:00:00Z */
#define YEAR10000_S 253402300800LL /* 10000-01-01T00:00:00Z */

/* ---- calendar helpers ---------------------------------------------------- */

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int y, int m)
{
    static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

static int weekday(int64_t days) { return (int)((days % 7 + 11) % 7); } /* 1970-01-01: Thursday */

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
        for (int d = 1; d <= month_days(2000, m); d++)
            if (c->mdays >> d & 1)
                return 1;
    }
    return 0;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
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
        set_err(errbuf, errlen, "empty cron expression: expected 5 fields (minute hour day-of-month "
                                "month day-of-week), e.g. \"*/15 9-16 * * MON-FRI\"");
        return -1;
    }
    if (len >= CRON_EXPR_MAX) {
        set_err(errbuf, errlen, "cron expression is too long (%zu characters, at most %d)", len,
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
            set_err(errbuf, errlen, "unknown macro \"%s\" (use @yearly, @annually, @monthly, @weekly, "
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
        set_err(errbuf, errlen, "cron expression \"%s\" has %d field%s; expected 5 (minute hour "
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
    if (strcmp(fields[F_HOUR], "*") == 0 || strcmp(fields[F_HOUR], "*/1") == 0)
        c.flags |= CRON_CLOCK_HOURS;
    /* With the OR rule any weekday set makes days; with AND every (month,
     * day) pair meets every weekday within 28 years, so only this can fail. */
    if ((c.flags & (CRON_DOM_STAR | CRON_DOW_STAR)) && !some_mday_exists(&c)) {
        set_err(errbuf, errlen, "cron expression \"%s\" never fires: no month in \"%.64s\" has a "
                                "day \"%.64s\"", c.expr, fields[F_MONTH], fields[F_MDAY]);
        return -1;
    }
    *out = c;
    return 0;
}

/* ---- day and time matching ----------------------------------------------- */

static int day_matches(const cron_t *c, int64_t days, int m, int d)
{
    if (!(c->months >> m & 1))
        return 0;
    int dom = c->mdays >> d & 1, dow = c->wdays >> weekday(days) & 1;
    if (c->flags & (CRON_DOM_STAR | CRON_DOW_STAR))
        return dom && dow;
    return dom || dow;
}

int cron_matches_day(const cron_t *c, int y, int m, int d)
{
    if (m < 1 || m > 12 || d < 1 || d > month_days(y, m))
        return 0;
    return day_matches(c, clock_days_from_civil(y, m, d), m, d);
}

int cron_matches(const cron_t *c, int y, int m, int d, int h, int mi)
{
    return h >= 0 && h < 24 && mi >= 0 && mi < 60 && (c->hours >> h & 1) &&
           (c->minutes >> mi & 1) && cron_matches_day(c, y, m, d);
}

void cron_set_day_filter(cron_t *c, cron_day_fn fn, void *ctx)
{
    c->day_fn = fn;
    c->day_ctx = ctx;
}

/* ---- zones: TZif files and POSIX TZ rules --------------------------------- */

typedef struct {
    int32_t utoff; /* seconds east of UTC */
    int isdst;
    char abbr[ABBR_MAX];
} ztype_t;

/* A POSIX rule date: Jn (1-365, Feb 29 never counted), n (0-365), or
 * Mm.w.d (day d of week w of month m; week 5 is the last), at `secs` local
 * time (may be negative or past 24h, TZif version 3). */
typedef struct {
    char kind; /* 'J', 'D' or 'M' */
    int n, month, week, wday;
    int32_t secs;
} rule_date_t;

typedef struct {
    ztype_t std, dst;
    int has_dst;
    rule_date_t start, end; /* start in standard time, end in daylight time */
} posix_tz_t;

struct cron_zone {
    char name[ZONE_NAME_MAX];
    size_t n;          /* transitions */
    int64_t *at;       /* ascending instants */
    uint8_t *idx;      /* type after each transition */
    size_t ntypes;
    ztype_t *types;
    int has_rule;      /* `rule` governs instants from the last transition on */
    posix_tz_t rule;
    int32_t off_min, off_max;
};

static void zone_free(cron_zone_t *z)
{
    if (z == NULL)
        return;
    free(z->at);
    free(z->idx);
    free(z->types);
    free(z);
}

/* POSIX TZ abbreviation: 3+ letters, or <...> quoted (e.g. <+0530>). */
static const char *ptz_abbr(const char *p, char out[ABBR_MAX])
{
    const char *s = p;
    size_t len;
    if (*p == '<') {
        s = ++p;
        while (isalnum((unsigned char)*p) || *p == '+' || *p == '-')
            p++;
        if (*p != '>')
            return NULL;
        len = (size_t)(p++ - s);
    } else {
        while (isalpha((unsigned char)*p))
            p++;
        len = (size_t)(p - s);
    }
    if (len < 3 || len >= ABBR_MAX)
        return NULL;
    memcpy(out, s, len);
    out[len] = '\0';
    return p;
}

/* [+-]hh[:mm[:ss]] with hh up to max_h; the value as written (POSIX offsets
 * are west-positive: callers negate). */
static const char *ptz_time(const char *p, int max_h, int32_t *secs)
{
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    int part[3] = { 0, 0, 0 };
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            if (*p != ':')
                break;
            p++;
        }
        if (!isdigit((unsigned char)*p))
            return NULL;
        int v = 0, nd = 0;
        while (isdigit((unsigned char)*p) && nd < 3) {
            v = v * 10 + (*p++ - '0');
            nd++;
        }
        part[i] = v;
    }
    if (part[0] > max_h || part[1] > 59 || part[2] > 59)
        return NULL;
    *secs = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    return p;
}

static const char *ptz_int(const char *p, int lo, int hi, int *v)
{
    if (!isdigit((unsigned char)*p))
        return NULL;
    int n = 0;
    while (isdigit((unsigned char)*p) && n <= hi)
        n = n * 10 + (*p++ - '0');
    if (n < lo || n > hi)
        return NULL;
    *v = n;
    return p;
}

static const char *ptz_date(const char *p, rule_date_t *r)
{
    memset(r, 0, sizeof *r);
    if (*p == 'J') {
        r->kind = 'J';
        p = ptz_int(p + 1, 1, 365, &r->n);
    } else if (*p == 'M') {
        r->kind = 'M';
        p = ptz_int(p + 1, 1, 12, &r->month);
        if (p == NULL || *p++ != '.' || (p = ptz_int(p, 1, 5, &r->week)) == NULL || *p++ != '.')
            return NULL;
        p = ptz_int(p, 0, 6, &r->wday);
    } else {
        r->kind = 'D';
        p = ptz_int(p, 0, 365, &r->n);
    }
    if (p == NULL)
        return NULL;
    r->secs = 7200; /* 02:00 unless given */
    if (*p == '/')
        p = ptz_time(p + 1, 167, &r->secs);
    return p;
}

/* Parses a TZif footer such as "EST5EDT,M3.2.0,M11.1.0". Returns 0 or -1. */
static int ptz_parse(const char *s, posix_tz_t *r)
{
    memset(r, 0, sizeof *r);
    const char *p = ptz_abbr(s, r->std.abbr);
    int32_t secs;
    if (p == NULL || (p = ptz_time(p, 24, &secs)) == NULL)
        return -1;
    r->std.utoff = -secs;
    if (*p == '\0')
        return 0;
    r->has_dst = 1;
    r->dst.isdst = 1;
    if ((p = ptz_abbr(p, r->dst.abbr)) == NULL)
        return -1;
    r->dst.utoff = r->std.utoff + 3600;
    if (*p != ',' && *p != '\0') {
        if ((p = ptz_time(p, 24, &secs)) == NULL)
            return -1;
        r->dst.utoff = -secs;
    }
    if (*p == '\0') /* no rules: the US ones, as glibc assumes */
        p = ",M3.2.0,M11.1.0";
    if (*p++ != ',' || (p = ptz_date(p, &r->start)) == NULL || *p++ != ',' ||
        (p = ptz_date(p, &r->end)) == NULL || *p != '\0')
        return -1;
    return 0;
}

/* Local seconds (days since the epoch * 86400 + time) a rule date names in year y. */
static int64_t rule_local(const rule_date_t *r, int y)
{
    int64_t jan1 = clock_days_from_civil(y, 1, 1), day;
    if (r->kind == 'J')
        day = jan1 + r->n - 1 + (is_leap(y) && r->n >= 60);
    else if (r->kind == 'D')
        day = jan1 + r->n;
    else {
        int64_t first = clock_days_from_civil(y, r->month, 1);
        day = first + (r->wday - weekday(first) + 7) % 7 + (int64_t)(r->week - 1) * 7;
        while (day >= first + month_days(y, r->month))
            day -= 7;
    }
    return day * 86400 + r->secs;
}

typedef struct {
    int64_t at;
    int dst; /* 1: daylight time starts; 0: it ends */
} rule_event_t;

static int event_before(const rule_event_t *a, const rule_event_t *b)
{
    return a->at < b->at || (a->at == b->at && !a->dst && b->dst);
}

/* The type a POSIX rule gives instant t, and the next instant it changes
 * (INT64_MAX when it never does). */
static const ztype_t *rule_at(const posix_tz_t *r, int64_t t, int64_t *until)
{
    *until = INT64_MAX;
    if (!r->has_dst)
        return &r->std;
    int y, m, d;
    clock_civil_from_days(floor_div(t, 86400), &y, &m, &d);
    /* Changes of five years around t, ascending; an end sorts before a start
     * at the same instant so that all-year DST ("J1/0,J365/25") stays DST. */
    rule_event_t ev[10];
    int n = 0;
    for (int yy = y - 2; yy <= y + 2; yy++) {
        ev[n].at = rule_local(&r->start, yy) - r->std.utoff;
        ev[n++].dst = 1;
        ev[n].at = rule_local(&r->end, yy) - r->dst.utoff;
        ev[n++].dst = 0;
    }
    for (int i = 1; i < n; i++) /* insertion sort of ten */
        for (int j = i; j > 0 && event_before(&ev[j], &ev[j - 1]); j--) {
            rule_event_t tmp = ev[j];
            ev[j] = ev[j - 1];
            ev[j - 1] = tmp;
        }
    int dst = 0;
    for (int i = 0; i < n; i++) {
        if (ev[i].at <= t) {
            dst = ev[i].dst;
        } else {
            *until = ev[i].at;
            break;
        }
    }
    return dst ? &r->dst : &r->std;
}

/* The type in force at t and the instant it next may change. */
static const ztype_t *zone_at(const cron_zone_t *z, int64_t t, int64_t *until)
{
    if (z->n == 0 || t >= z->at[z->n - 1]) {
        if (z->has_rule)
            return rule_at(&z->rule, t, until);
        *until = INT64_MAX;
        return &z->types[z->n == 0 ? 0 : z->idx[z->n - 1]];
    }
    if (t < z->at[0]) { /* before the first transition: type 0 (RFC 8536) */
        *until = z->at[0];
        return &z->types[0];
    }
    size_t lo = 0, hi = z->n - 1; /* at[lo] <= t < at[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    *until = z->at[hi];
    return &z->types[z->idx[lo]];
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

static void widen_offsets(cron_zone_t *z, int32_t off)
{
    if (off < z->off_min)
        z->off_min = off;
    if (off > z->off_max)
        z->off_max = off;
}

/* Parses a TZif image into z. Returns 0, or -1 with the reason in why. */
static int tzif_parse(cron_zone_t *z, const unsigned char *buf, size_t len, char *why, size_t wlen)
{
    if (len < 44 || memcmp(buf, "TZif", 4) != 0) {
        snprintf(why, wlen, "not a TZif file");
        return -1;
    }
    int version = buf[4] == 0 ? 1 : buf[4] - '0';
    size_t pos = 0;
    int tsize = 4;
    for (int pass = 0; pass < 2; pass++) {
        if (pos + 44 > len || memcmp(buf + pos, "TZif", 4) != 0) {
            snprintf(why, wlen, "truncated TZif header");
            return -1;
        }
        size_t isut = be32(buf + pos + 20), isstd = be32(buf + pos + 24), leap = be32(buf + pos + 28);
        size_t timecnt = be32(buf + pos + 32), typecnt = be32(buf + pos + 36), charcnt = be32(buf + pos + 40);
        if (timecnt > 100000 || typecnt < 1 || typecnt > 256 || charcnt > 65536 || leap > 65536 ||
            (isut != 0 && isut != typecnt) || (isstd != 0 && isstd != typecnt)) {
            snprintf(why, wlen, "implausible TZif counts");
            return -1;
        }
        size_t body = timecnt * ((size_t)tsize + 1) + typecnt * 6 + charcnt + leap * ((size_t)tsize + 4) +
                      isstd + isut;
        pos += 44;
        if (pos + body > len) {
            snprintf(why, wlen, "truncated TZif data");
            return -1;
        }
        if (pass == 0 && version >= 2) { /* skip the 32-bit block */
            pos += body;
            tsize = 8;
            continue;
        }
        if (leap > 0) {
            snprintf(why, wlen, "leap-second zones (right/...) are not supported");
            return -1;
        }
        const unsigned char *p = buf + pos;
        z->n = timecnt;
        z->ntypes = typecnt;
        z->at = calloc(timecnt + 1, sizeof *z->at);
        z->idx = calloc(timecnt + 1, 1);
        z->types = calloc(typecnt, sizeof *z->types);
        if (z->at == NULL || z->idx == NULL || z->types == NULL) {
            snprintf(why, wlen, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < timecnt; i++, p += tsize) {
            z->at[i] = tsize == 8 ? be64(p) : (int64_t)(int32_t)be32(p);
            if (i > 0 && z->at[i] <= z->at[i - 1]) {
                snprintf(why, wlen, "transitions out of order");
                return -1;
            }
        }
        for (size_t i = 0; i < timecnt; i++, p++) {
            if (*p >= typecnt) {
                snprintf(why, wlen, "transition type out of range");
                return -1;
            }
            z->idx[i] = *p;
        }
        const unsigned char *chars = p + typecnt * 6;
        for (size_t i = 0; i < typecnt; i++, p += 6) {
            int32_t off = (int32_t)be32(p);
            if (off < -26 * 3600 || off > 26 * 3600 || p[5] >= charcnt) {
                snprintf(why, wlen, "local time type out of range");
                return -1;
            }
            z->types[i].utoff = off;
            z->types[i].isdst = p[4] != 0;
            size_t k = 0;
            for (const unsigned char *s = chars + p[5]; k + 1 < ABBR_MAX && s < chars + charcnt && *s; s++)
                z->types[i].abbr[k++] = (char)*s;
            z->types[i].abbr[k] = '\0';
        }
        pos += body;
        break;
    }
    /* Version 2+: "\n<POSIX TZ>\n" rules the instants after the last transition. */
    if (version >= 2 && pos < len && buf[pos] == '\n') {
        const unsigned char *s = buf + pos + 1, *e = memchr(s, '\n', len - pos - 1);
        char tz[256];
        if (e == NULL || (size_t)(e - s) >= sizeof tz) {
            snprintf(why, wlen, "malformed TZ rule footer");
            return -1;
        }
        memcpy(tz, s, (size_t)(e - s));
        tz[e - s] = '\0';
        if (tz[0] != '\0') {
            if (ptz_parse(tz, &z->rule) != 0) {
                snprintf(why, wlen, "cannot read its TZ rule \"%.64s\"", tz);
                return -1;
            }
            z->has_rule = 1;
        }
    }
    z->off_min = z->off_max = z->types[0].utoff;
    for (size_t i = 0; i < z->ntypes; i++)
        widen_offsets(z, z->types[i].utoff);
    if (z->has_rule) {
        widen_offsets(z, z->rule.std.utoff);
        if (z->rule.has_dst)
            widen_offsets(z, z->rule.dst.utoff);
    }
    return 0;
}

/* A tz database name: relative, no "..", only the characters names use. */
static int zone_name_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len >= ZONE_NAME_MAX || s[0] == '/' || s[0] == '.' || strstr(s, "..") != NULL)
        return 0;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && strchr("/_+-.", *p) == NULL)
            return 0;
    return 1;
}

static cron_zone_t *zone_load(const char *name, char *err, size_t errlen)
{
    const char *dir = getenv("TZDIR");
    if (dir == NULL || *dir == '\0')
        dir = "/usr/share/zoneinfo";
    char path[4096], why[160];
    unsigned char *buf = NULL;
    cron_zone_t *z = NULL;
    FILE *f = NULL;
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        set_err(err, errlen, "unknown time zone \"%s\": no zone file %s (use an IANA name such as "
                             "America/New_York, Europe/London or UTC)", name, path);
        goto fail;
    }
    if ((f = fopen(path, "rb")) == NULL) {
        set_err(err, errlen, "time zone \"%s\": cannot open %s: %s", name, path, strerror(errno));
        goto fail;
    }
    buf = malloc(ZONE_FILE_MAX);
    z = calloc(1, sizeof *z);
    if (buf == NULL || z == NULL) {
        set_err(err, errlen, "out of memory loading time zone \"%s\"", name);
        goto fail;
    }
    size_t len = fread(buf, 1, ZONE_FILE_MAX, f);
    if (ferror(f)) {
        set_err(err, errlen, "time zone \"%s\": cannot read %s: %s", name, path, strerror(errno));
        goto fail;
    }
    if (tzif_parse(z, buf, len, why, sizeof why) != 0) {
        set_err(err, errlen, "time zone \"%s\": %s: %s", name, path, why);
        goto fail;
    }
    snprintf(z->name, sizeof z->name, "%s", name);
    free(buf);
    fclose(f);
    return z;
fail:
    zone_free(z);
    free(buf);
    if (f != NULL)
        fclose(f);
    return NULL;
}

int cron_set_zone(cron_t *c, const char *tz, char *err, size_t errlen)
{
    cron_zone_t *z = NULL;
    if (tz != NULL && strcmp(tz, "UTC") != 0) {
        if (!zone_name_ok(tz)) {
            set_err(err, errlen, "time zone \"%.128s\" is not a tz database name (use one such as "
                                 "America/New_York, Europe/London or UTC)", tz);
            return -1;
        }
        if ((z = zone_load(tz, err, errlen)) == NULL)
            return -1;
    }
    zone_free(c->zone);
    c->zone = z;
    return 0;
}

const char *cron_zone_name(const cron_t *c) { return c->zone != NULL ? c->zone->name : "UTC"; }

void cron_release(cron_t *c)
{
    if (c == NULL)
        return;
    zone_free(c->zone);
    c->zone = NULL;
}

/* ---- local time <-> UTC ------------------------------------------------ */

static const ztype_t utc_type = { 0, 0, "UTC" };

static const ztype_t *type_at(const cron_zone_t *z, int64_t t)
{
    int64_t until;
    return z == NULL ? &utc_type : zone_at(z, t, &until);
}

/* Instants at which z shows local seconds L: 1 or 2 (ascending), or 0 for a
 * skipped time with out[0] the instant the clock jumps past it. Only
 * instants in [L - off_max, L - off_min] can qualify, so the offsets in
 * force there are tried one by one. */
static int zone_resolve(const cron_zone_t *z, int64_t L, int64_t out[2])
{
    if (z == NULL) {
        out[0] = L;
        return 1;
    }
    int64_t t = L - z->off_max, stop = L - z->off_min, gap_end = INT64_MAX;
    int n = 0;
    for (;;) {
        int64_t until;
        const ztype_t *ty = zone_at(z, t, &until);
        int64_t cand = L - ty->utoff;
        if (cand >= t && cand < until) {
            if (n < 2 && (n == 0 || out[n - 1] != cand))
                out[n++] = cand;
        } else if (cand < t && n == 0 && gap_end == INT64_MAX) {
            gap_end = t; /* the clock jumped from before L to after it at t */
        }
        if (until > stop)
            break;
        t = until;
    }
    if (n == 0)
        out[0] = gap_end != INT64_MAX ? gap_end : stop; /* stop: unreachable with sane data */
    return n;
}

void cron_local(const cron_t *c, int64_t t, cron_tm_t *out)
{
    if (t < YEAR1_S + 2 * 86400) /* keeps the arithmetic below far from overflow */
        t = YEAR1_S + 2 * 86400;
    if (t > YEAR10000_S - 2 * 86400)
        t = YEAR10000_S - 2 * 86400;
    const ztype_t *ty = type_at(c->zone, t);
    int64_t local = t + ty->utoff, days = floor_div(local, 86400), secs = local - days * 86400;
    clock_civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(secs / 3600);
    out->minute = (int)(secs / 60 % 60);
    out->second = (int)(secs % 60);
    out->wday = weekday(days);
    out->utoff = ty->utoff;
    out->isdst = ty->isdst;
    snprintf(out->abbr, sizeof out->abbr, "%s", ty->abbr);
}

int cron_from_local(const cron_t *c, int y, int m, int d, int h, int mi, int64_t out[2])
{
    return zone_resolve(c->zone, clock_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60, out);
}

void cron_format_time(const cron_t *c, int64_t t, char out[CRON_TIME_LEN])
{
    cron_tm_t tm;
    cron_local(c, t, &tm);
    int off = tm.utoff < 0 ? -tm.utoff : tm.utoff;
    int n = snprintf(out, CRON_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", tm.year, tm.month,
                     tm.day, tm.hour, tm.minute, tm.second, tm.utoff < 0 ? '-' : '+', off / 3600,
                     off / 60 % 60);
    if (off % 60 != 0 && n > 0 && n < CRON_TIME_LEN) /* LMT offsets have seconds */
        snprintf(out + n, (size_t)(CRON_TIME_LEN - n), ":%02d", off % 60);
}

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
    int32_t omin = c->zone ? c->zone->off_min : 0, omax = c->zone ? c->zone->off_max : 0;
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
            int n = zone_resolve(c->zone, L, t);
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
    if (after < YEAR1_S || after >= YEAR10000_S - 86400LL * CRON_MAX_DAYS) {
        set_err(err, errlen, "time %lld is outside the years cron handles (1-9599)", (long long)after);
        return -1;
    }
    int32_t omin = c->zone ? c->zone->off_min : 0, omax = c->zone ? c->zone->off_max : 0;
    int64_t best = INT64_MAX;
    int64_t day = floor_div(after + omin, 86400); /* the first local day that may hold a time > after */
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
        set_err(err, errlen, "\"%s\" does not fire within 400 years after %s in %s%s", c->expr,
                when, cron_zone_name(c),
                c->day_fn != NULL ? " (does the day filter reject every day?)" : "");
        return -1;
    }
    *next = best;
    return 0;
}
