/* clock.c — wall and monotonic time, ISO 8601 timestamps, duration strings.
 *
 * Every timestamp tickq shows or stores is UTC with millisecond precision;
 * deadlines use CLOCK_MONOTONIC so that a wall-clock step never kills a job. */
#include "core/clock.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/decimal.h"

static int64_t clock_read_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_now_us(void) { return clock_read_us(CLOCK_REALTIME); }
int64_t clock_now_ms(void) { return clock_read_us(CLOCK_REALTIME) / 1000; }
int64_t clock_mono_us(void) { return clock_read_us(CLOCK_MONOTONIC); }
int64_t clock_mono_ms(void) { return clock_read_us(CLOCK_MONOTONIC) / 1000; }

/* Writes v as exactly `width` decimal digits (v >= 0). */
static char *put_digits(char *p, int v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

/* Every log line and history row carries one or two of these: digits by
 * hand, since snprintf and gmtime_r cost more than the rest of a line. */
void clock_iso8601(int64_t us, char out[CLOCK_ISO_LEN])
{
    int64_t ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000); /* floor toward the past */
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t in_day = ms - days * 86400000;
    int y, m, d;
    clock_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) { /* outside what four digits hold: say so rather than wrap */
        snprintf(out, CLOCK_ISO_LEN, "%s", y < 0 ? "0000-01-01T00:00:00.000Z" : "9999-12-31T23:59:59.999Z");
        return;
    }
    char *p = put_digits(out, y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, (int)(in_day / 3600000), 2);
    *p++ = ':';
    p = put_digits(p, (int)(in_day / 60000 % 60), 2);
    *p++ = ':';
    p = put_digits(p, (int)(in_day / 1000 % 60), 2);
    *p++ = '.';
    p = put_digits(p, (int)(in_day % 1000), 3);
    *p++ = 'Z';
    *p = '\0';
}

/* The duration's problem (NULL: none) and, without one, *ms. */
static const char *parse_duration(const char *s, int64_t unit_ms, int64_t *ms)
{
    static const char not_one[] = "not a decimal number, with a unit ms, s, m or h or without";
    if (s == NULL || *s == '\0')
        return "empty";
    if (*s == '-')
        return "negative";
    const char *end = decimal_end(s);
    if (end == NULL)
        return not_one;
    errno = 0;
    double v = strtod(s, NULL);
    if (errno == ERANGE) /* beyond a double's range: 1e400, or 1e-310 and 1e-400, read as tiny or 0 */
        return fabs(v) > 1 ? "too long" : "less than a millisecond";
    double scale;
    if (*end == '\0')
        scale = (double)unit_ms;
    else if (strcmp(end, "ms") == 0)
        scale = 1;
    else if (strcmp(end, "s") == 0)
        scale = 1000;
    else if (strcmp(end, "m") == 0)
        scale = 60000;
    else if (strcmp(end, "h") == 0)
        scale = 3600000;
    else
        return not_one;
    double total = v * scale;
    if (!(total <= 9.0e15)) /* ~285,000 years: clearly a typo */
        return "too long";
    *ms = (int64_t)llround(total);
    if (*ms == 0 && v > 0)
        return "less than a millisecond";
    return NULL;
}

const char *clock_duration_problem(const char *s, int64_t unit_ms, int64_t *ms)
{
    int64_t v;
    const char *problem = parse_duration(s, unit_ms, &v);
    if (problem == NULL)
        *ms = v;
    return problem;
}

int clock_parse_duration(const char *s, int64_t unit_ms, int64_t *ms)
{
    return clock_duration_problem(s, unit_ms, ms) == NULL ? 0 : -1;
}

void clock_describe_ms(int64_t ms, char *out, size_t outlen)
{
    static const struct { int64_t ms; const char *one, *many; } units[] = {
        { 86400000, "day", "days" }, { 3600000, "h", "h" }, { 60000, "min", "min" }, { 1000, "s", "s" },
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms >= units[i].ms && ms % units[i].ms == 0) {
            snprintf(out, outlen, "%lld %s", (long long)(ms / units[i].ms), ms == units[i].ms ? units[i].one
                                                                                              : units[i].many);
            return;
        }
    if (ms >= 1000)
        snprintf(out, outlen, "%.3f s", (double)ms / 1000.0);
    else
        snprintf(out, outlen, "%lld ms", (long long)ms);
}

int64_t clock_parse_iso_us(const char *iso)
{
    int64_t s;
    if (iso == NULL || strlen(iso) < 19 || clock_parse_datetime(iso, 19, &s) != 0)
        return 0;
    const char *p = iso + 19;
    int64_t frac = 0, scale = 1000000;
    if (*p == '.') {
        if (p[1] < '0' || p[1] > '9')
            return 0;
        for (p++; *p >= '0' && *p <= '9'; p++) { /* digits past the microsecond are dropped */
            scale /= 10;
            frac += (*p - '0') * scale;
        }
    }
    if (*p == 'Z')
        p++;
    return *p == '\0' ? s * 1000000 + frac : 0;
}

/* Days-from-civil and its inverse follow Howard Hinnant's published
 * algorithms (public domain), written out here. */
int64_t clock_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void clock_civil_from_days(int64_t days, int *y, int *m, int *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int clock_parse_date(const char *s, size_t len, int64_t *epoch_s)
{
    int y, m, d;
    if (len != 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) || digits(s + 5, 2, &m) ||
        digits(s + 8, 2, &d) || y < 1800 || m < 1 || m > 12 || d < 1 || d > clock_days_in_month(y, m))
        return -1;
    *epoch_s = clock_days_from_civil(y, m, d) * 86400;
    return 0;
}

int clock_parse_datetime(const char *s, size_t len, int64_t *epoch_s)
{
    if (len == 20 && s[19] == 'Z')
        len = 19;
    int64_t day;
    int hh, mm, ss;
    if (len != 19 || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':' ||
        clock_parse_date(s, 10, &day) != 0 || digits(s + 11, 2, &hh) || digits(s + 14, 2, &mm) ||
        digits(s + 17, 2, &ss) || hh > 23 || mm > 59 || ss > 59)
        return -1;
    *epoch_s = day + hh * 3600 + mm * 60 + ss;
    return 0;
}

int clock_parse_iso8601(const char *s, int64_t *epoch_s, int *date_only)
{
    size_t len = strlen(s);
    int64_t day;
    if (len < 10 || clock_parse_date(s, 10, &day) != 0)
        return -1;
    *date_only = len == 10;
    if (len == 10) {
        *epoch_s = day;
        return 0;
    }
    int hh, mm, ss = 0;
    const char *p = s + 10;
    if ((*p != 'T' && *p != ' ') || len < 16 || digits(p + 1, 2, &hh) || p[3] != ':' || digits(p + 4, 2, &mm))
        return -1;
    p += 6;
    if (*p == ':') {
        if (digits(p + 1, 2, &ss))
            return -1;
        p += 3;
        if (*p == '.' || *p == ',') { /* fractions of a second: ignored */
            p++;
            while (*p >= '0' && *p <= '9')
                p++;
        }
    }
    int offset = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    }
    if (*p != '\0' || hh > 23 || mm > 59 || ss > 60)
        return -1;
    *epoch_s = day + hh * 3600 + mm * 60 + ss - offset;
    return 0;
}

void clock_format_date(int64_t epoch_s, char out[CLOCK_DATE_LEN])
{
    int64_t days = epoch_s >= 0 ? epoch_s / 86400 : -((-epoch_s + 86399) / 86400);
    int y, m, d;
    clock_civil_from_days(days, &y, &m, &d);
    snprintf(out, CLOCK_DATE_LEN, "%04d-%02d-%02d", y, m, d);
}

void clock_format_datetime_us(int64_t us, char out[CLOCK_DATE_LEN])
{
    int64_t s = clock_floor_div(us, 1000000);
    char base[CLOCK_DATE_LEN];
    clock_format_datetime(s, base);
    snprintf(out, CLOCK_DATE_LEN, "%.19s.%06dZ", base, (int)(us - s * 1000000));
}

void clock_format_datetime(int64_t epoch_s, char out[CLOCK_DATE_LEN])
{
    int64_t days = epoch_s >= 0 ? epoch_s / 86400 : -((-epoch_s + 86399) / 86400);
    int64_t secs = epoch_s - days * 86400;
    int y, m, d;
    clock_civil_from_days(days, &y, &m, &d);
    snprintf(out, CLOCK_DATE_LEN, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(secs / 3600),
             (int)(secs % 3600 / 60), (int)(secs % 60));
}

void clock_sleep_ms(int64_t ms, volatile sig_atomic_t *stop)
{
    if (ms <= 0)
        return;
    struct timespec req = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    struct timespec rem;
    while (nanosleep(&req, &rem) == -1 && errno == EINTR) {
        if (stop != NULL && *stop)
            return;
        req = rem;
    }
}

int clock_is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int clock_days_in_month(int y, int m)
{
    static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && clock_is_leap_year(y) ? 29 : dm[m - 1];
}

int clock_weekday(int64_t days)
{
    int64_t w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

int64_t clock_floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void clock_format_bar(int daily, int64_t epoch_s, char out[CLOCK_DATE_LEN])
{
    if (daily)
        clock_format_date(epoch_s, out);
    else
        clock_format_datetime(epoch_s, out);
}
