/* tz.c — IANA time zones: TZif files read, local time <-> UTC.
 *
 * A zone is its TZif data (RFC 8536): transition instants ascending, the
 * local time type in force after each, and the POSIX TZ rule
 * ("EST5EDT,M3.2.0,M11.1.0") that governs instants from the last transition
 * on. UTC -> local is a binary search over the transitions (or the rule's
 * changes of five years around t). Local -> UTC inverts it: every instant
 * showing local seconds L lies in [L - off_max, L - off_min], the extreme
 * offsets of the zone, so the types in force there are tried one by one;
 * none fits in a skipped hour, two in a repeated one. Calendar arithmetic
 * comes from clock.h. */
#include "sched/tz.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/errmsg.h"

#define ZONE_FILE_MAX (1 << 20) /* the largest real TZif file is ~4 KB */

/* ---- the zone ------------------------------------------------------------ */

typedef struct {
    int32_t utoff; /* seconds east of UTC */
    int isdst;
    char abbr[TZ_ABBR_MAX];
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

struct tz {
    char name[TZ_NAME_MAX];
    size_t n;          /* transitions */
    int64_t *at;       /* ascending instants */
    uint8_t *idx;      /* type after each transition */
    size_t ntypes;
    ztype_t *types;
    int has_rule;      /* `rule` governs instants from the last transition on */
    posix_tz_t rule;
    int32_t off_min, off_max;
};

void tz_free(tz_t *z)
{
    if (z == NULL)
        return;
    free(z->at);
    free(z->idx);
    free(z->types);
    free(z);
}

/* ---- POSIX TZ rules ------------------------------------------------------ */

/* POSIX TZ abbreviation: 3+ letters, or <...> quoted (e.g. <+0530>). */
static const char *ptz_abbr(const char *p, char out[TZ_ABBR_MAX])
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
    if (len < 3 || len >= TZ_ABBR_MAX)
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
        day = jan1 + r->n - 1 + (clock_is_leap_year(y) && r->n >= 60);
    else if (r->kind == 'D')
        day = jan1 + r->n;
    else {
        int64_t first = clock_days_from_civil(y, r->month, 1);
        day = first + (r->wday - clock_weekday(first) + 7) % 7 + (int64_t)(r->week - 1) * 7;
        while (day >= first + clock_days_in_month(y, r->month))
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
    clock_civil_from_days(clock_floor_div(t, 86400), &y, &m, &d);
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

/* ---- lookup and TZif files ----------------------------------------------- */

/* The type in force at t and the instant it next may change. */
static const ztype_t *zone_at(const tz_t *z, int64_t t, int64_t *until)
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

static void widen_offsets(tz_t *z, int32_t off)
{
    if (off < z->off_min)
        z->off_min = off;
    if (off > z->off_max)
        z->off_max = off;
}

/* Parses a TZif image into z. Returns 0, or -1 with the reason in why. */
static int tzif_parse(tz_t *z, const unsigned char *buf, size_t len, char *why, size_t wlen)
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
            for (const unsigned char *s = chars + p[5]; k + 1 < TZ_ABBR_MAX && s < chars + charcnt && *s; s++)
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

/* ---- loading ------------------------------------------------------------- */

/* A tz database name: relative, no "..", only the characters names use. */
static int zone_name_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len >= TZ_NAME_MAX || s[0] == '/' || s[0] == '.' || strstr(s, "..") != NULL)
        return 0;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && strchr("/_+-.", *p) == NULL)
            return 0;
    return 1;
}

/* Reads and parses the zone file of a checked name. Returns NULL with err
 * on failure. */
static tz_t *zone_load(const char *name, char *err, size_t errlen)
{
    const char *dir = getenv("TZDIR");
    if (dir == NULL || *dir == '\0')
        dir = "/usr/share/zoneinfo";
    char path[4096], why[160];
    unsigned char *buf = NULL;
    tz_t *z = NULL;
    FILE *f = NULL;
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        errmsg_set(err, errlen, "unknown time zone \"%s\": no zone file %s (use an IANA name such as "
                             "America/New_York, Europe/London or UTC)", name, path);
        goto fail;
    }
    if ((f = fopen(path, "rb")) == NULL) {
        errmsg_set(err, errlen, "time zone \"%s\": cannot open %s: %s", name, path, strerror(errno));
        goto fail;
    }
    buf = malloc(ZONE_FILE_MAX);
    z = calloc(1, sizeof *z);
    if (buf == NULL || z == NULL) {
        errmsg_set(err, errlen, "out of memory loading time zone \"%s\"", name);
        goto fail;
    }
    size_t len = fread(buf, 1, ZONE_FILE_MAX, f);
    if (ferror(f)) {
        errmsg_set(err, errlen, "time zone \"%s\": cannot read %s: %s", name, path, strerror(errno));
        goto fail;
    }
    if (tzif_parse(z, buf, len, why, sizeof why) != 0) {
        errmsg_set(err, errlen, "time zone \"%s\": %s: %s", name, path, why);
        goto fail;
    }
    snprintf(z->name, sizeof z->name, "%s", name);
    free(buf);
    fclose(f);
    return z;
fail:
    tz_free(z);
    free(buf);
    if (f != NULL)
        fclose(f);
    return NULL;
}

int tz_load(const char *name, tz_t **out, char *err, size_t errlen)
{
    tz_t *z = NULL;
    if (name != NULL && strcmp(name, "UTC") != 0) {
        if (!zone_name_ok(name)) {
            errmsg_set(err, errlen, "time zone \"%.128s\" is not a tz database name (use one such as "
                                 "America/New_York, Europe/London or UTC)", name);
            return -1;
        }
        if ((z = zone_load(name, err, errlen)) == NULL)
            return -1;
    }
    *out = z;
    return 0;
}

const char *tz_name(const tz_t *z) { return z != NULL ? z->name : "UTC"; }

/* ---- fixed-offset zones -------------------------------------------------- */

/* The zone to suggest for a fixed offset of utoff_h hours east of UTC, or
 * NULL: the US zones, where the markets tickq schedules for are. */
static const char *zone_for_offset(int utoff_h)
{
    switch (utoff_h) {
    case -5: return "America/New_York (New York, the US markets)";
    case -6: return "America/Chicago";
    case -7: return "America/Denver (or America/Phoenix if no daylight-saving time is intended)";
    case -8: return "America/Los_Angeles";
    case -9: return "America/Anchorage";
    case -10: return "Pacific/Honolulu";
    default: return NULL;
    }
}

int tz_fixed_offset_warning(const char *name, char *msg, size_t msglen)
{
    if (name == NULL)
        return 0;
    const char *n = strncmp(name, "posix/", 6) == 0 ? name + 6 : name;
    int hours; /* east of UTC */
    const char *etc = strncmp(n, "Etc/", 4) == 0 ? n + 4 : n;
    if (strcmp(n, "EST") == 0)
        hours = -5;
    else if (strcmp(n, "MST") == 0)
        hours = -7;
    else if (strcmp(n, "HST") == 0)
        hours = -10;
    else if (strncmp(etc, "GMT", 3) == 0 && (etc[3] == '+' || etc[3] == '-') && isdigit((unsigned char)etc[4]) &&
             (etc[5] == '\0' || (isdigit((unsigned char)etc[5]) && etc[6] == '\0'))) {
        int v = atoi(etc + 4);
        if (v == 0 || v > 14)
            return 0; /* GMT+0 is UTC; beyond 14 no such zone exists */
        hours = etc[3] == '+' ? -v : v; /* POSIX signs: Etc/GMT+5 is UTC-05:00 */
    } else {
        return 0;
    }
    const char *use = zone_for_offset(hours);
    errmsg_set(msg, msglen, "time zone %s is a fixed offset, UTC%c%02d:00 all year, with no daylight-saving time%s: "
               "use %s", name, hours < 0 ? '-' : '+', hours < 0 ? -hours : hours,
               etc != n || strncmp(n, "GMT", 3) == 0 ? " (Etc/GMT signs are inverted)" : "",
               use != NULL ? use : "the zone of the place, Region/City (America/New_York, Europe/London, "
               "Asia/Tokyo), which follows its daylight-saving time");
    return 1;
}

void tz_offset_range(const tz_t *z, int32_t *min, int32_t *max)
{
    *min = z != NULL ? z->off_min : 0;
    *max = z != NULL ? z->off_max : 0;
}

/* ---- local time <-> UTC -------------------------------------------------- */

static const ztype_t utc_type = { 0, 0, "UTC" };

/* t clamped to [TZ_FIRST_S, TZ_LAST_S], which keeps the calendar
 * arithmetic of rule_at() and tz_local() far from overflow. */
static int64_t clamp_years(int64_t t)
{
    if (t < TZ_FIRST_S)
        return TZ_FIRST_S;
    if (t > TZ_LAST_S)
        return TZ_LAST_S;
    return t;
}

static const ztype_t *type_at(const tz_t *z, int64_t t)
{
    int64_t until;
    return z == NULL ? &utc_type : zone_at(z, t, &until);
}

/* Only instants in [L - off_max, L - off_min] can show local seconds L, so
 * the types in force there are tried one by one; a skipped L resolves to
 * the instant the clock jumps past it. */
int tz_from_local_secs(const tz_t *z, int64_t L, int64_t out[2])
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

void tz_local(const tz_t *z, int64_t t, tz_tm_t *out)
{
    t = clamp_years(t);
    const ztype_t *ty = type_at(z, t);
    int64_t local = t + ty->utoff, days = clock_floor_div(local, 86400), secs = local - days * 86400;
    clock_civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(secs / 3600);
    out->minute = (int)(secs / 60 % 60);
    out->second = (int)(secs % 60);
    out->wday = clock_weekday(days);
    out->utoff = ty->utoff;
    out->isdst = ty->isdst;
    snprintf(out->abbr, sizeof out->abbr, "%s", ty->abbr);
}

void tz_format_time(const tz_t *z, int64_t t, char out[TZ_TIME_LEN])
{
    tz_tm_t tm;
    tz_local(z, t, &tm);
    int off = tm.utoff < 0 ? -tm.utoff : tm.utoff;
    int n = snprintf(out, TZ_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", tm.year, tm.month,
                     tm.day, tm.hour, tm.minute, tm.second, tm.utoff < 0 ? '-' : '+', off / 3600,
                     off / 60 % 60);
    if (off % 60 != 0 && n > 0 && n < TZ_TIME_LEN) /* LMT offsets have seconds */
        snprintf(out + n, (size_t)(TZ_TIME_LEN - n), ":%02d", off % 60);
}
