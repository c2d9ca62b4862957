/* test_clock.c — ISO 8601 timestamps and duration strings. */
#include "core/clock.h"
#include "unit.h"

#include <stdio.h>
#include <time.h>

TEST(iso8601_known_instants)
{
    char out[CLOCK_ISO_LEN];
    clock_iso8601(0, out);
    CHECK_STR(out, "1970-01-01T00:00:00.000Z");
    clock_iso8601(1768473000123456LL, out); /* 2026-01-15T10:30:00.123456Z */
    CHECK_STR(out, "2026-01-15T10:30:00.123Z");
    clock_iso8601(951782400000000LL, out);  /* leap day 2000 */
    CHECK_STR(out, "2000-02-29T00:00:00.000Z");
    clock_iso8601(-1000, out);              /* a millisecond before the epoch */
    CHECK_STR(out, "1969-12-31T23:59:59.999Z");
}

TEST(iso8601_now_is_sane)
{
    char out[CLOCK_ISO_LEN];
    clock_iso8601(clock_now_us(), out);
    CHECK_INT(strlen(out), 24);
    CHECK(out[10] == 'T' && out[23] == 'Z');
}

TEST(duration_units)
{
    int64_t ms;
    CHECK(clock_parse_duration("30", 1000, &ms) == 0 && ms == 30000);
    CHECK(clock_parse_duration("0.5", 1000, &ms) == 0 && ms == 500);
    CHECK(clock_parse_duration("250ms", 1000, &ms) == 0 && ms == 250);
    CHECK(clock_parse_duration("2s", 1000, &ms) == 0 && ms == 2000);
    CHECK(clock_parse_duration("1.5m", 1000, &ms) == 0 && ms == 90000);
    CHECK(clock_parse_duration("24h", 1000, &ms) == 0 && ms == 86400000);
    CHECK(clock_parse_duration("7", 1, &ms) == 0 && ms == 7);
    CHECK(clock_parse_duration("0", 1000, &ms) == 0 && ms == 0);
}

TEST(duration_refusals)
{
    int64_t ms;
    CHECK(clock_parse_duration("", 1000, &ms) == -1);
    CHECK(clock_parse_duration("-1", 1000, &ms) == -1);
    CHECK(clock_parse_duration("abc", 1000, &ms) == -1);
    CHECK(clock_parse_duration("5 s", 1000, &ms) == -1);
    CHECK(clock_parse_duration("5d", 1000, &ms) == -1);
    CHECK(clock_parse_duration("nan", 1000, &ms) == -1);
    CHECK(clock_parse_duration("inf", 1000, &ms) == -1);
    CHECK(clock_parse_duration("1e300", 1000, &ms) == -1);
    CHECK(clock_parse_duration(NULL, 1000, &ms) == -1);
    /* strtod's other numbers are not durations: hex, a sign, a leading blank */
    CHECK(clock_parse_duration("0x10", 1000, &ms) == -1);
    CHECK(clock_parse_duration("+5", 1000, &ms) == -1);
    CHECK(clock_parse_duration(" 5", 1000, &ms) == -1);
    CHECK(clock_parse_duration(".", 1000, &ms) == -1);
    CHECK(clock_parse_duration("1e3", 1, &ms) == 0 && ms == 1000);
    CHECK(clock_parse_duration(".5s", 1000, &ms) == 0 && ms == 500);
    CHECK(clock_parse_duration("5.", 1000, &ms) == 0 && ms == 5000);
    /* above 0 yet under a millisecond would be 0: "none" for most flags */
    CHECK(clock_parse_duration("0.0001", 1000, &ms) == -1);
    CHECK(clock_parse_duration("0.4ms", 1000, &ms) == -1);
    CHECK(clock_parse_duration("1e-400", 1000, &ms) == -1);
    CHECK_STR(clock_duration_problem("1e-310", 1000, &ms), "less than a millisecond"); /* a subnormal: ERANGE too */
    CHECK(clock_parse_duration("0.5ms", 1000, &ms) == 0 && ms == 1);
    CHECK_STR(clock_duration_problem("0.0001", 1000, &ms), "less than a millisecond");
    CHECK_STR(clock_duration_problem("1e400", 1000, &ms), "too long");
    CHECK_STR(clock_duration_problem("-1", 1000, &ms), "negative");
    CHECK_STR(clock_duration_problem("0x10", 1000, &ms), "not a decimal number, with a unit ms, s, m or h or without");
    CHECK(clock_duration_problem("90s", 1000, &ms) == NULL);
}

TEST(duration_described)
{
    static const struct { int64_t ms; const char *text; } cases[] = {
        { 0, "0 ms" }, { 250, "250 ms" }, { 1000, "1 s" }, { 1500, "1.500 s" }, { 90000, "90 s" },
        { 300000, "5 min" }, { 3600000, "1 h" }, { 86400000, "1 day" }, { 604800000, "7 days" },
    };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        clock_describe_ms(cases[i].ms, out, sizeof out);
        CHECK_STR(out, cases[i].text);
    }
}

/* The hand-written formatter against gmtime_r + snprintf over random
 * instants from 1970 to 9999 (and a few before the epoch). */
TEST(clock_iso8601_matches_gmtime)
{
    unsigned long long x = 88172645463325252ULL;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t us = (int64_t)(x % 253402300800000000ULL) - (i % 10 == 0 ? 100000000000000LL : 0);
        char got[CLOCK_ISO_LEN], want[CLOCK_ISO_LEN];
        clock_iso8601(us, got);
        int64_t ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000);
        time_t secs = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
        int millis = (int)(ms - (int64_t)secs * 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
        if (strcmp(got, want) != 0) {
            CHECK_STR(got, want);
            break;
        }
    }
}
