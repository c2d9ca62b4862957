/* test_tz.c — IANA time zones: loading and its errors, TZif versions 1 and
 * 2 (files written here), offsets, local breakdown and ISO 8601 formatting,
 * local -> UTC across gaps and repeats, and the POSIX TZ rule after the
 * last transition. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "sched/tz.h"
#include "unit.h"

static int64_t utc(const char *iso)
{
    int64_t t = 0;
    if (clock_parse_datetime(iso, strlen(iso), &t) != 0)
        unit_fail(__FILE__, __LINE__, "bad test time \"%s\"", iso);
    return t;
}

/* Loads a zone, failing the test on any error (NULL is also UTC). */
static tz_t *load(const char *name)
{
    tz_t *z = NULL;
    char err[512];
    if (tz_load(name, &z, err, sizeof err) != 0)
        unit_fail(__FILE__, __LINE__, "tz_load(\"%s\"): %s", name, err);
    return z;
}

/* The offset z shows at t, as tz_local breaks it down (tz_format_time and
 * the scheduler read it there). */
static int32_t offset_at(const tz_t *z, int64_t t)
{
    tz_tm_t tm;
    tz_local(z, t, &tm);
    return tm.utoff;
}

/* tz_from_local_secs of a local date and time, as a reader writes them. */
static int from_local(const tz_t *z, int y, int m, int d, int h, int mi, int64_t out[2])
{
    return tz_from_local_secs(z, clock_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60, out);
}

/* t formatted in z, in a buffer that lives until the next call. */
static const char *fmt(const tz_t *z, int64_t t)
{
    static char out[TZ_TIME_LEN];
    tz_format_time(z, t, out);
    return out;
}

/* ---- loading ------------------------------------------------------------- */

TEST(tz_load_errors)
{
    tz_t *london = load("Europe/London"), *z = london;
    char err[512];
    CHECK(tz_load("America/New_Yrok", &z, err, sizeof err) == -1);
    CHECK(strstr(err, "unknown time zone \"America/New_Yrok\"") != NULL);
    CHECK(strstr(err, "America/New_York") != NULL); /* names an example of a good one */
    CHECK(z == london);                              /* untouched on failure */
    CHECK_STR(tz_name(z), "Europe/London");
    CHECK(tz_load("America", &z, err, sizeof err) == -1); /* a directory */
    CHECK(strstr(err, "unknown time zone \"America\"") != NULL);
    CHECK(tz_load("../../etc/passwd", &z, err, sizeof err) == -1);
    CHECK(strstr(err, "is not a tz database name") != NULL);
    CHECK(tz_load("/etc/passwd", &z, err, sizeof err) == -1);
    CHECK(tz_load("", &z, err, sizeof err) == -1);
    CHECK(tz_load("New York", &z, err, sizeof err) == -1);
    CHECK(tz_load("New York", &z, NULL, 0) == -1); /* a NULL err is allowed */
    if (access("/usr/share/zoneinfo/zone.tab", R_OK) == 0 && getenv("TZDIR") == NULL) {
        CHECK(tz_load("zone.tab", &z, err, sizeof err) == -1);
        CHECK(strstr(err, "not a TZif file") != NULL);
    }
    if (access("/usr/share/zoneinfo/right/UTC", R_OK) == 0 && getenv("TZDIR") == NULL) {
        CHECK(tz_load("right/UTC", &z, err, sizeof err) == -1);
        CHECK(strstr(err, "leap-second") != NULL);
    }
    CHECK(z == london);
    CHECK_STR(tz_name(z), "Europe/London");
    tz_free(london);
}

TEST(tz_load_utc_and_names)
{
    tz_t *london = load("Europe/London"), *z = london;
    CHECK(tz_load(NULL, &z, NULL, 0) == 0); /* UTC: nothing to load */
    CHECK(z == NULL);
    CHECK_STR(tz_name(z), "UTC");
    z = london;
    CHECK(tz_load("UTC", &z, NULL, 0) == 0);
    CHECK(z == NULL);
    tz_free(london);
    z = load("Etc/UTC"); /* a real file, known by the name it was loaded by */
    CHECK(z != NULL);
    CHECK_STR(tz_name(z), "Etc/UTC");
    CHECK_INT(offset_at(z, utc("2026-07-01T12:00:00Z")), 0);
    tz_free(z);
    tz_free(NULL);
}

/* ---- UTC -> local -------------------------------------------------------- */

TEST(tz_format_and_local_time)
{
    tz_t *ny = load("America/New_York");
    CHECK_STR(fmt(ny, utc("2026-03-09T13:30:00Z")), "2026-03-09T09:30:00-04:00");
    CHECK_STR(fmt(ny, utc("2026-01-15T14:30:05Z")), "2026-01-15T09:30:05-05:00");
    tz_tm_t tm;
    tz_local(ny, utc("2026-11-01T05:30:00Z"), &tm);
    CHECK(tm.year == 2026 && tm.month == 11 && tm.day == 1 && tm.hour == 1 && tm.minute == 30);
    CHECK(tm.isdst == 1 && tm.utoff == -4 * 3600 && tm.wday == 0);
    CHECK_STR(tm.abbr, "EDT");
    tz_local(ny, utc("2026-11-01T06:30:00Z"), &tm);
    CHECK(tm.hour == 1 && tm.minute == 30 && tm.isdst == 0 && tm.utoff == -5 * 3600);
    CHECK_STR(tm.abbr, "EST");
    /* Local mean time before 1883: an offset with seconds, written out. */
    CHECK_STR(fmt(ny, utc("1880-01-01T12:00:00Z")), "1880-01-01T07:03:58-04:56:02");
    tz_free(ny);

    CHECK_STR(fmt(NULL, utc("2026-03-09T13:30:00Z")), "2026-03-09T13:30:00+00:00");
    tz_local(NULL, -1, &tm); /* before the epoch */
    CHECK(tm.year == 1969 && tm.month == 12 && tm.day == 31 && tm.hour == 23 && tm.second == 59);
    CHECK_STR(tm.abbr, "UTC");

    tz_t *z = load("Asia/Kolkata");
    CHECK_STR(fmt(z, utc("2026-03-09T13:30:00Z")), "2026-03-09T19:00:00+05:30");
    tz_free(z);
    z = load("America/St_Johns");
    CHECK_STR(fmt(z, utc("2026-07-01T12:00:00Z")), "2026-07-01T09:30:00-02:30");
    tz_free(z);
    z = load("Europe/London");
    CHECK_STR(fmt(z, utc("2026-07-01T12:00:00Z")), "2026-07-01T13:00:00+01:00");
    tz_free(z);
}

TEST(tz_local_clamps_to_years_1_to_9999)
{
    tz_tm_t tm;
    tz_local(NULL, INT64_MAX, &tm); /* clamped, not overflowed */
    CHECK_INT(tm.year, 9999);
    tz_local(NULL, INT64_MIN, &tm);
    CHECK_INT(tm.year, 1);
    tz_t *ny = load("America/New_York"); /* through the TZ rule and before the first transition */
    tz_local(ny, INT64_MAX, &tm);
    CHECK(tm.year == 9999 && tm.month == 12 && tm.day == 29);
    CHECK_INT(offset_at(ny, INT64_MAX), -5 * 3600);
    tz_local(ny, INT64_MIN, &tm);
    CHECK(tm.year == 1 && tm.month == 1 && tm.day == 2);
    CHECK_INT(offset_at(ny, INT64_MIN), -17762); /* LMT */
    tz_free(ny);
}

TEST(tz_offsets)
{
    tz_t *ny = load("America/New_York");
    CHECK_INT(offset_at(ny, utc("2026-01-15T12:00:00Z")), -5 * 3600);
    CHECK_INT(offset_at(ny, utc("2026-07-01T12:00:00Z")), -4 * 3600);
    CHECK_INT(offset_at(ny, utc("2026-03-08T06:59:59Z")), -5 * 3600); /* the change, to the second */
    CHECK_INT(offset_at(ny, utc("2026-03-08T07:00:00Z")), -4 * 3600);
    int32_t lo, hi;
    tz_offset_range(ny, &lo, &hi);
    CHECK_INT(lo, -5 * 3600);
    CHECK_INT(hi, -4 * 3600);
    tz_free(ny);
    tz_offset_range(NULL, &lo, &hi);
    CHECK(lo == 0 && hi == 0);
    CHECK_INT(offset_at(NULL, utc("2026-07-01T12:00:00Z")), 0);
}

/* ---- local -> UTC -------------------------------------------------------- */

TEST(tz_from_local_gaps_and_repeats)
{
    tz_t *ny = load("America/New_York");
    int64_t t[2];
    CHECK_INT(from_local(ny, 2026, 3, 9, 9, 30, t), 1);
    CHECK_INT(t[0], utc("2026-03-09T13:30:00Z"));
    CHECK_INT(from_local(ny, 2026, 3, 8, 2, 30, t), 0); /* skipped */
    CHECK_INT(t[0], utc("2026-03-08T07:00:00Z"));
    CHECK_INT(from_local(ny, 2026, 11, 1, 1, 30, t), 2); /* repeated */
    CHECK_INT(t[0], utc("2026-11-01T05:30:00Z"));
    CHECK_INT(t[1], utc("2026-11-01T06:30:00Z"));
    CHECK_INT(from_local(ny, 2026, 11, 1, 2, 0, t), 1);
    CHECK_INT(t[0], utc("2026-11-01T07:00:00Z"));
    /* The same through local seconds. */
    CHECK_INT(tz_from_local_secs(ny, utc("2026-11-01T01:30:00Z"), t), 2);
    CHECK_INT(t[0], utc("2026-11-01T05:30:00Z"));
    CHECK_INT(t[1], utc("2026-11-01T06:30:00Z"));
    tz_free(ny);

    CHECK_INT(from_local(NULL, 2026, 3, 8, 2, 30, t), 1); /* UTC has no gaps */
    CHECK_INT(t[0], utc("2026-03-08T02:30:00Z"));
}

TEST(tz_rule_after_last_transition)
{
    /* The tz files list transitions up to 2037; 2040 comes from the TZ rule. */
    tz_t *z = load("America/New_York");
    int64_t t[2];
    CHECK_INT(from_local(z, 2040, 3, 11, 2, 30, t), 0);
    CHECK_STR(fmt(z, t[0]), "2040-03-11T03:00:00-04:00");
    CHECK_INT(from_local(z, 2040, 3, 12, 2, 30, t), 1);
    CHECK_STR(fmt(z, t[0]), "2040-03-12T02:30:00-04:00");
    tz_free(z);
    z = load("Europe/London");
    CHECK_INT(from_local(z, 2045, 10, 29, 1, 30, t), 2);
    CHECK_STR(fmt(z, t[0]), "2045-10-29T01:30:00+01:00");
    CHECK_STR(fmt(z, t[1]), "2045-10-29T01:30:00+00:00");
    tz_free(z);
}

/* ---- TZif files written here: a rule-only v2 file, a v1 file, junk ------- */

static size_t put_header(unsigned char *p, char version, uint32_t typecnt, uint32_t charcnt)
{
    memset(p, 0, 44);
    memcpy(p, "TZif", 4);
    p[4] = (unsigned char)version;
    uint32_t counts[6] = { 0, 0, 0, 0, typecnt, charcnt };
    for (int i = 0; i < 6; i++)
        for (int b = 0; b < 4; b++)
            p[20 + i * 4 + b] = (unsigned char)(counts[i] >> (24 - 8 * b));
    return 44;
}

/* One local time type with no transitions: utoff, then "ABBR\0". */
static size_t put_type(unsigned char *p, int32_t utoff, const char *abbr)
{
    uint32_t u = (uint32_t)utoff;
    for (int b = 0; b < 4; b++)
        p[b] = (unsigned char)(u >> (24 - 8 * b));
    p[4] = 0; /* isdst */
    p[5] = 0; /* abbreviation index */
    memcpy(p + 6, abbr, strlen(abbr) + 1);
    return 6 + strlen(abbr) + 1;
}

static void write_file(const char *path, const unsigned char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f != NULL) {
        CHECK(fwrite(buf, 1, len, f) == len);
        fclose(f);
    }
}

TEST(tz_load_tzif_versions)
{
    char dir[] = "/tmp/tickq-tz-XXXXXX", path[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/Test", dir);
    CHECK(mkdir(path, 0700) == 0);

    /* Version 2 with no transitions at all: every instant from the TZ rule. */
    unsigned char buf[512];
    size_t n = put_header(buf, '2', 1, 4);
    n += put_type(buf + n, -5 * 3600, "EST");
    n += put_header(buf + n, '2', 1, 4);
    n += put_type(buf + n, -5 * 3600, "EST");
    const char *footer = "\nEST5EDT,M3.2.0,M11.1.0\n";
    memcpy(buf + n, footer, strlen(footer));
    n += strlen(footer);
    snprintf(path, sizeof path, "%s/Test/Rule", dir);
    write_file(path, buf, n);

    /* Version 1: one fixed type, no footer. */
    n = put_header(buf, 0, 1, 4);
    n += put_type(buf + n, 5 * 3600 + 1800, "IST");
    snprintf(path, sizeof path, "%s/Test/Fixed", dir);
    write_file(path, buf, n);

    n = put_header(buf, '2', 1, 4); /* promises a type it lacks */
    snprintf(path, sizeof path, "%s/Test/Short", dir);
    write_file(path, buf, n);

    char *old = getenv("TZDIR") ? strdup(getenv("TZDIR")) : NULL;
    setenv("TZDIR", dir, 1);
    char err[512];
    int64_t t[2];
    tz_t *z = NULL;
    CHECK(tz_load("Test/Rule", &z, err, sizeof err) == 0);
    CHECK_STR(tz_name(z), "Test/Rule");
    /* 2026-03-08 02:30 is skipped (the gap ends at 03:00 EDT); a day later it is EDT. */
    CHECK_INT(from_local(z, 2026, 3, 8, 2, 30, t), 0);
    CHECK_STR(fmt(z, t[0]), "2026-03-08T03:00:00-04:00");
    CHECK_INT(t[0], utc("2026-03-08T07:00:00Z"));
    CHECK_INT(from_local(z, 2026, 3, 9, 2, 30, t), 1);
    CHECK_STR(fmt(z, t[0]), "2026-03-09T02:30:00-04:00");
    /* 2026-11-01 01:30 shows twice, EDT first; a day later it is EST. */
    CHECK_INT(from_local(z, 2026, 11, 1, 1, 30, t), 2);
    CHECK_STR(fmt(z, t[0]), "2026-11-01T01:30:00-04:00");
    CHECK_STR(fmt(z, t[1]), "2026-11-01T01:30:00-05:00");
    CHECK_INT(from_local(z, 2026, 11, 2, 1, 30, t), 1);
    CHECK_STR(fmt(z, t[0]), "2026-11-02T01:30:00-05:00");
    tz_free(z);
    z = NULL;
    CHECK(tz_load("Test/Fixed", &z, err, sizeof err) == 0);
    CHECK_INT(from_local(z, 2026, 3, 8, 2, 30, t), 1);
    CHECK_STR(fmt(z, t[0]), "2026-03-08T02:30:00+05:30");
    tz_free(z);
    z = NULL;
    CHECK(tz_load("Test/Short", &z, err, sizeof err) == -1);
    CHECK(strstr(err, "Test/Short") != NULL && strstr(err, "truncated") != NULL);
    CHECK(tz_load("Test/Missing", &z, err, sizeof err) == -1);
    CHECK(strstr(err, dir) != NULL); /* the message names the directory searched */
    CHECK(z == NULL);
    if (old != NULL) {
        setenv("TZDIR", old, 1);
        free(old);
    } else {
        unsetenv("TZDIR");
    }

    const char *names[] = { "Rule", "Fixed", "Short" };
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/Test/%s", dir, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/Test", dir);
    rmdir(path);
    rmdir(dir);
}

/* Fixed-offset zones without DST warn, naming the zone to use; UTC, its
 * aliases, region zones and EST5EDT-style zones (which have DST) do not. */
TEST(tz_fixed_offset_warning)
{
    char msg[400];
    struct { const char *name, *offset, *use; } warned[] = {
        { "EST", "UTC-05:00", "use America/New_York" },
        { "MST", "UTC-07:00", "use America/Denver (or America/Phoenix" },
        { "HST", "UTC-10:00", "use Pacific/Honolulu" },
        { "Etc/GMT+5", "UTC-05:00", "use America/New_York" },
        { "Etc/GMT+6", "UTC-06:00", "use America/Chicago" },
        { "Etc/GMT+8", "UTC-08:00", "use America/Los_Angeles" },
        { "Etc/GMT-1", "UTC+01:00", "Region/City" },
        { "Etc/GMT-14", "UTC+14:00", "Region/City" },
        { "Etc/GMT+12", "UTC-12:00", "Region/City" },
        { "posix/EST", "UTC-05:00", "use America/New_York" },
        { "posix/Etc/GMT+5", "UTC-05:00", "use America/New_York" },
    };
    for (size_t i = 0; i < sizeof warned / sizeof warned[0]; i++) {
        msg[0] = '\0';
        CHECK_INT(tz_fixed_offset_warning(warned[i].name, msg, sizeof msg), 1);
        CHECK(strstr(msg, warned[i].name) != NULL);
        CHECK(strstr(msg, warned[i].offset) != NULL);
        CHECK(strstr(msg, "no daylight-saving time") != NULL);
        if (strstr(msg, warned[i].use) == NULL)
            unit_fail(__FILE__, __LINE__, "%s: \"%s\" does not say \"%s\"", warned[i].name, msg, warned[i].use);
    }
    CHECK(strstr((tz_fixed_offset_warning("Etc/GMT+5", msg, sizeof msg), msg), "signs are inverted") != NULL);
    const char *quiet[] = { "UTC", "Etc/UTC", "GMT", "Etc/GMT", "GMT+0", "GMT-0", "GMT0", "Etc/GMT+0", "Etc/GMT-0",
                            "Zulu", "Universal", "America/New_York", "America/Phoenix", "Asia/Tokyo",
                            "Pacific/Honolulu", "EST5EDT", "CST6CDT", "MST7MDT", "PST8PDT", "US/Eastern", "ESTX",
                            "Etc/GMT+15", "Etc/GMT+5x", "Etc/GMT+", "Etc/GMT+123", "Europe/EST", "" };
    for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++) {
        strcpy(msg, "untouched");
        CHECK_INT(tz_fixed_offset_warning(quiet[i], msg, sizeof msg), 0);
        CHECK_STR(msg, "untouched");
    }
    CHECK_INT(tz_fixed_offset_warning(NULL, msg, sizeof msg), 0);
    /* Every warned name is a zone that loads: the warning is not an error. */
    tz_t *z = NULL;
    char err[400];
    for (size_t i = 0; i < sizeof warned / sizeof warned[0]; i++) {
        CHECK_INT(tz_load(warned[i].name, &z, err, sizeof err), 0);
        tz_free(z);
        z = NULL;
    }
}
