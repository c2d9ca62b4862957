/* test_cron.c — cron expressions: parsing, day matching, next fire times in
 * UTC and across DST changes in America/New_York and Europe/London, day
 * filters with session windows, and the zone a schedule holds (zones
 * themselves: test_tz.c). */
#include <stdint.h>

#include "core/clock.h"
#include "sched/cron.h"
#include "unit.h"

static int64_t utc(const char *iso)
{
    int64_t t = 0;
    if (clock_parse_datetime(iso, strlen(iso), &t) != 0)
        unit_fail(__FILE__, __LINE__, "bad test time \"%s\"", iso);
    return t;
}

/* Local seconds of a wall-clock time (tz_from_local_secs). */
static int64_t wall(int y, int m, int d, int h, int mi)
{
    return clock_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60;
}

/* Parses expr in zone (NULL: UTC), failing the test on any error. */
static cron_t make(const char *expr, const char *zone)
{
    cron_t c;
    char err[256];
    memset(&c, 0, sizeof c);
    if (cron_parse(expr, &c, err, sizeof err) != 0)
        unit_fail(__FILE__, __LINE__, "cron_parse(\"%s\"): %s", expr, err);
    else if (cron_set_zone(&c, zone, err, sizeof err) != 0)
        unit_fail(__FILE__, __LINE__, "cron_set_zone(\"%s\"): %s", zone, err);
    return c;
}

/* Follows cron_next from `after` (UTC) n times, comparing each fire time
 * written in UTC ("...Z") or, when local, in the zone with its offset. */
static void check_seq(const char *file, int line, const cron_t *c, const char *after, int local,
                      const char *const *want, int n)
{
    int64_t t = utc(after), next;
    char err[256], got[CRON_TIME_LEN + CLOCK_DATE_LEN];
    for (int i = 0; i < n; i++) {
        if (cron_next(c, t, &next, err, sizeof err) != 0) {
            unit_fail(file, line, "\"%s\" after %s, fire %d: %s", c->expr, after, i + 1, err);
            return;
        }
        if (local)
            cron_format_time(c, next, got);
        else
            clock_format_datetime(next, got);
        if (strcmp(got, want[i]) != 0) {
            unit_fail(file, line, "\"%s\" in %s after %s, fire %d is %s, want %s", c->expr,
                      cron_zone_name(c), after, i + 1, got, want[i]);
            return;
        }
        t = next;
    }
}

#define CHECK_NEXT_(c, after, local, ...)                                                       \
    do {                                                                                        \
        static const char *const w_[] = { __VA_ARGS__ };                                        \
        check_seq(__FILE__, __LINE__, (c), (after), (local), w_, (int)(sizeof w_ / sizeof w_[0])); \
    } while (0)
#define CHECK_NEXT(c, after, ...) CHECK_NEXT_(c, after, 0, __VA_ARGS__)
#define CHECK_NEXT_LOCAL(c, after, ...) CHECK_NEXT_(c, after, 1, __VA_ARGS__)

/* The parse error for expr, or "" when it parsed. */
static const char *parse_error(const char *expr)
{
    static char err[256];
    cron_t c;
    err[0] = '\0';
    if (cron_parse(expr, &c, err, sizeof err) == 0)
        return "";
    return err;
}

static uint64_t bits(const int *v, int n)
{
    uint64_t m = 0;
    for (int i = 0; i < n; i++)
        m |= (uint64_t)1 << v[i];
    return m;
}
#define BITS(...) bits((const int[]){ __VA_ARGS__ }, (int)(sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int)))

/* ---- parsing ------------------------------------------------------------- */

TEST(cron_parse_syntax_forms)
{
    cron_t c = make("* * * * *", NULL);
    CHECK(c.minutes == (((uint64_t)1 << 60) - 1));
    CHECK(c.hours == (1u << 24) - 1);
    CHECK(c.mdays == 0xfffffffeu);
    CHECK(c.months == 0x1ffe);
    CHECK(c.wdays == 0x7f);
    CHECK_STR(c.expr, "* * * * *");

    c = make("  5 0,12 1-3 6 2  ", NULL); /* surrounding blanks are trimmed */
    CHECK_STR(c.expr, "5 0,12 1-3 6 2");
    CHECK(c.minutes == BITS(5));
    CHECK(c.hours == BITS(0, 12));
    CHECK(c.mdays == BITS(1, 2, 3));
    CHECK(c.months == BITS(6));
    CHECK(c.wdays == BITS(2));

    c = make("*/15 */6 1-30/5 */4 *", NULL);
    CHECK(c.minutes == BITS(0, 15, 30, 45));
    CHECK(c.hours == BITS(0, 6, 12, 18));
    CHECK(c.mdays == BITS(1, 6, 11, 16, 21, 26));
    CHECK(c.months == BITS(1, 5, 9));

    c = make("5/15 22/1 28/2 11/1 *", NULL); /* a single value with a step runs to the end */
    CHECK(c.minutes == BITS(5, 20, 35, 50));
    CHECK(c.hours == BITS(22, 23));
    CHECK(c.mdays == BITS(28, 30));
    CHECK(c.months == BITS(11, 12));

    c = make("0,10-12,50-59/3 1,2,3 1,15,31 1-3,12 0-6/2", NULL);
    CHECK(c.minutes == BITS(0, 10, 11, 12, 50, 53, 56, 59));
    CHECK(c.hours == BITS(1, 2, 3));
    CHECK(c.mdays == BITS(1, 15, 31));
    CHECK(c.months == BITS(1, 2, 3, 12));
    CHECK(c.wdays == BITS(0, 2, 4, 6));

    c = make("00 09 01 01 00", NULL); /* leading zeros */
    CHECK(c.minutes == BITS(0) && c.hours == BITS(9) && c.mdays == BITS(1));
}

TEST(cron_parse_names_and_sunday)
{
    cron_t c = make("0 0 * jan,Mar-MAY,dec mon-FRI", NULL);
    CHECK(c.months == BITS(1, 3, 4, 5, 12));
    CHECK(c.wdays == BITS(1, 2, 3, 4, 5));
    c = make("0 0 * * 7", NULL);
    CHECK(c.wdays == BITS(0));
    c = make("0 0 * * 0", NULL);
    CHECK(c.wdays == BITS(0));
    c = make("0 0 * * sun", NULL);
    CHECK(c.wdays == BITS(0));
    c = make("0 0 * * 5-7", NULL);
    CHECK(c.wdays == BITS(5, 6, 0));
    c = make("0 0 * * FRI-SUN", NULL); /* Sunday ends a range as 7 */
    CHECK(c.wdays == BITS(5, 6, 0));
    c = make("0 0 * * SAT-0", NULL);
    CHECK(c.wdays == BITS(6, 0));
    c = make("0 0 * * MON-SUN", NULL);
    CHECK(c.wdays == 0x7f);
    c = make("0 0 * * 1/2", NULL); /* 1-7/2, as Vixie cron: Sunday included */
    CHECK(c.wdays == BITS(1, 3, 5, 0));
    c = make("0 0 * FEB/3 *", NULL);
    CHECK(c.months == BITS(2, 5, 8, 11));
}

TEST(cron_parse_flags)
{
    cron_t c = make("0 * * * *", NULL);
    CHECK(c.flags == (CRON_DOM_STAR | CRON_DOW_STAR | CRON_CLOCK_HOURS));
    c = make("0 */1 * * *", NULL);
    CHECK(c.flags & CRON_CLOCK_HOURS);
    /* As Vixie cron: an hour field starting with `*` follows the clock,
     * whatever its step; one naming its hours does not. */
    c = make("0 */2 * * *", NULL);
    CHECK(c.flags == (CRON_DOM_STAR | CRON_DOW_STAR | CRON_CLOCK_HOURS));
    c = make("0 */5 * * *", NULL);
    CHECK(c.flags & CRON_CLOCK_HOURS);
    c = make("@hourly", NULL);
    CHECK(c.flags & CRON_CLOCK_HOURS);
    c = make("@daily", NULL);
    CHECK(!(c.flags & CRON_CLOCK_HOURS));
    c = make("0 0-23 * * *", NULL);
    CHECK(!(c.flags & CRON_CLOCK_HOURS));
    c = make("0 0-23/2 * * *", NULL);
    CHECK(!(c.flags & CRON_CLOCK_HOURS));
    c = make("0 0,2,4,6,8,10,12,14,16,18,20,22 * * *", NULL);
    CHECK(!(c.flags & CRON_CLOCK_HOURS));
    c = make("*/15 9-16 * * MON-FRI", NULL);
    CHECK(c.flags == CRON_DOM_STAR);
    c = make("0 0 13 * FRI", NULL);
    CHECK(c.flags == 0);
    c = make("0 0 */2 * FRI", NULL);
    CHECK(c.flags == CRON_DOM_STAR);
}

TEST(cron_parse_macros)
{
    cron_t a = make("@daily", NULL), b = make("0 0 * * *", NULL);
    CHECK(a.minutes == b.minutes && a.hours == b.hours && a.mdays == b.mdays && a.flags == b.flags);
    CHECK_STR(a.expr, "@daily");
    a = make("@Hourly", NULL);
    CHECK(a.minutes == BITS(0) && a.hours == (1u << 24) - 1);
    a = make("@weekly", NULL);
    CHECK(a.wdays == BITS(0) && a.hours == BITS(0));
    a = make("@yearly", NULL);
    CHECK(a.months == BITS(1) && a.mdays == BITS(1));
    CHECK(strstr(parse_error("@reboot"), "unknown macro \"@reboot\"") != NULL);
}

TEST(cron_parse_errors_name_field_and_value)
{
    CHECK_STR(parse_error("60 * * * *"), "minute field \"60\": 60 is out of range (minute takes 0-59)");
    CHECK_STR(parse_error("* 9-24 * * *"), "hour field \"9-24\": 24 is out of range (hour takes 0-23)");
    CHECK_STR(parse_error("* * 0 * *"),
              "day-of-month field \"0\": 0 is out of range (day-of-month takes 1-31)");
    CHECK_STR(parse_error("* * 32 * *"),
              "day-of-month field \"32\": 32 is out of range (day-of-month takes 1-31)");
    CHECK_STR(parse_error("* * * 13 *"),
              "month field \"13\": 13 is out of range (month takes 1-12 or JAN-DEC)");
    CHECK_STR(parse_error("* * * * 8"), "day-of-week field \"8\": 8 is out of range "
                                        "(day-of-week takes 0-7 (0 and 7 are Sunday) or SUN-SAT)");
    CHECK_STR(parse_error("* * * FOO *"),
              "month field \"FOO\": unknown name \"FOO\" (month takes 1-12 or JAN-DEC)");
    CHECK_STR(parse_error("* * * * MONDAY"), "day-of-week field \"MONDAY\": unknown name \"MONDAY\" "
                                             "(day-of-week takes 0-7 (0 and 7 are Sunday) or SUN-SAT)");
    CHECK_STR(parse_error("JAN * * * *"), "minute field \"JAN\": not a number \"JAN\" (minute takes 0-59)");
    CHECK_STR(parse_error("*/0 * * * *"), "minute field \"*/0\": step 0 is out of range 1-60");
    CHECK_STR(parse_error("* */25 * * *"), "hour field \"*/25\": step 25 is out of range 1-24");
    CHECK_STR(parse_error("* */x * * *"), "hour field \"*/x\": expected a step number after \"*/\"");
    CHECK_STR(parse_error("* 22-2 * * *"),
              "hour field \"22-2\": range 22-2 goes backwards (ranges do not wrap: write 22-23,0-2)");
    CHECK_STR(parse_error("* * * * MON-"), "day-of-week field \"MON-\": expected a number or name after \"MON-\"");
    CHECK_STR(parse_error("-5 * * * *"), "minute field \"-5\": expected a number at the start");
    CHECK_STR(parse_error("1-5-7 * * * *"), "minute field \"1-5-7\": unexpected \"-\" after \"1-5\"");
    CHECK_STR(parse_error("1,,2 * * * *"), "minute field \"1,,2\": empty item in the list");
    CHECK_STR(parse_error("1, * * * *"), "minute field \"1,\": empty item in the list");
    CHECK_STR(parse_error("** * * * *"), "minute field \"**\": unexpected \"*\" after \"*\"");
    CHECK_STR(parse_error("* * * *"), "cron expression \"* * * *\" has 4 fields; expected 5 "
                                      "(minute hour day-of-month month day-of-week)");
    CHECK_STR(parse_error("0 * * * * *"), "cron expression \"0 * * * * *\" has 6 fields; expected 5 "
                                          "(minute hour day-of-month month day-of-week): seconds and "
                                          "years fields are not supported");
    CHECK(strstr(parse_error("   "), "empty cron expression") != NULL);
    CHECK(strstr(parse_error(NULL), "empty cron expression") != NULL);
    char longexpr[400];
    memset(longexpr, '1', sizeof longexpr - 1);
    longexpr[sizeof longexpr - 1] = '\0';
    CHECK(strstr(parse_error(longexpr), "too long") != NULL);

    /* On failure the output is untouched; a NULL err is allowed. */
    cron_t c = make("7 * * * *", NULL);
    CHECK(cron_parse("bad", &c, NULL, 0) == -1);
    CHECK(c.minutes == BITS(7));
}

TEST(cron_parse_never_fires)
{
    CHECK_STR(parse_error("0 0 30 2 *"),
              "cron expression \"0 0 30 2 *\" never fires: no month in \"2\" has a day \"30\"");
    CHECK(strstr(parse_error("0 0 31 APR,JUN,SEP,NOV *"), "never fires") != NULL);
    CHECK(strstr(parse_error("0 0 30,31 FEB */2"), "never fires") != NULL); /* AND rule */
    CHECK_STR(parse_error("0 0 29 2 *"), "");  /* leap years */
    CHECK_STR(parse_error("0 0 30 2 MON"), ""); /* OR rule: Mondays in February */
    CHECK_STR(parse_error("0 0 31 * *"), "");
}

/* ---- matching ------------------------------------------------------------ */

TEST(cron_day_rules_and_times_through_next)
{
    /* Each sequence names the days that fire and, by skipping them, those
     * that do not. */
    cron_t c = make("0 0 13 * FRI", NULL); /* both restricted: either */
    CHECK_NEXT(&c, "2026-01-12T00:00:00Z", "2026-01-13T00:00:00Z", /* Tuesday the 13th */
               "2026-01-16T00:00:00Z",                              /* a Friday; not the 14th */
               "2026-01-23T00:00:00Z");
    CHECK_NEXT(&c, "2026-02-12T00:00:00Z", "2026-02-13T00:00:00Z", /* Friday the 13th, once */
               "2026-02-20T00:00:00Z");
    c = make("0 0 13 * *", NULL); /* day-of-week `*`: only the 13th */
    CHECK_NEXT(&c, "2026-01-12T00:00:00Z", "2026-01-13T00:00:00Z", "2026-02-13T00:00:00Z");
    c = make("0 0 * * FRI", NULL); /* day-of-month `*`: only Fridays */
    CHECK_NEXT(&c, "2026-01-12T00:00:00Z", "2026-01-16T00:00:00Z", "2026-01-23T00:00:00Z");
    c = make("0 0 */2 * FRI", NULL); /* starts with `*`: both must match */
    CHECK_NEXT(&c, "2026-01-08T00:00:00Z", "2026-01-09T00:00:00Z", /* odd Friday */
               "2026-01-23T00:00:00Z"); /* not the odd Sunday 11th, nor the even Friday 16th */
    c = make("0 0 * JUN MON", NULL);
    CHECK_NEXT(&c, "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z", /* not Monday 4 May */
               "2026-06-08T00:00:00Z");

    c = make("30 9-16 * * MON-FRI", NULL);
    CHECK_NEXT(&c, "2026-01-16T09:00:00Z", "2026-01-16T09:30:00Z", "2026-01-16T10:30:00Z",
               "2026-01-16T11:30:00Z", "2026-01-16T12:30:00Z", "2026-01-16T13:30:00Z",
               "2026-01-16T14:30:00Z", "2026-01-16T15:30:00Z", "2026-01-16T16:30:00Z",
               "2026-01-19T09:30:00Z"); /* not 9:31, not 17:30, not Saturday */
}

/* ---- next fire times in UTC ------------------------------------------------ */

TEST(cron_next_utc_sequences)
{
    cron_t c = make("*/15 * * * *", NULL);
    CHECK_NEXT(&c, "2026-01-15T10:07:30Z", "2026-01-15T10:15:00Z", "2026-01-15T10:30:00Z",
               "2026-01-15T10:45:00Z", "2026-01-15T11:00:00Z");
    CHECK_NEXT(&c, "2026-01-15T10:15:00Z", "2026-01-15T10:30:00Z"); /* strictly after */
    CHECK_NEXT(&c, "2026-12-31T23:50:00Z", "2027-01-01T00:00:00Z");

    c = make("5/15 * * * *", NULL);
    CHECK_NEXT(&c, "2026-01-15T10:00:00Z", "2026-01-15T10:05:00Z", "2026-01-15T10:20:00Z",
               "2026-01-15T10:35:00Z", "2026-01-15T10:50:00Z", "2026-01-15T11:05:00Z");

    c = make("0 9 * * MON-FRI", NULL);
    CHECK_NEXT(&c, "2026-01-16T09:00:00Z", "2026-01-19T09:00:00Z", "2026-01-20T09:00:00Z");

    c = make("0 0 13 * FRI", NULL); /* OR rule */
    CHECK_NEXT(&c, "2026-02-01T00:00:00Z", "2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z",
               "2026-02-20T00:00:00Z", "2026-02-27T00:00:00Z", "2026-03-06T00:00:00Z",
               "2026-03-13T00:00:00Z", "2026-03-20T00:00:00Z");

    c = make("0 12 1-7 * MON", NULL); /* OR: the first week plus every Monday */
    CHECK_NEXT(&c, "2026-06-06T12:00:00Z", "2026-06-07T12:00:00Z", "2026-06-08T12:00:00Z",
               "2026-06-15T12:00:00Z");

    c = make("59 23 31 12 *", NULL);
    CHECK_NEXT(&c, "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z");

    c = make("@monthly", NULL);
    CHECK_NEXT(&c, "2026-01-31T12:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z");
}

TEST(cron_next_month_ends_and_leap_years)
{
    cron_t c = make("0 0 31 * *", NULL);
    CHECK_NEXT(&c, "2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z",
               "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z", "2026-10-31T00:00:00Z");
    c = make("0 0 29 2 *", NULL);
    CHECK_NEXT(&c, "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z");
    CHECK_NEXT(&c, "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"); /* 2100 is not a leap year */
    /* "L" (last day) is not supported: an error, not a guess. */
    CHECK(strstr(parse_error("0 0 L * *"), "day-of-month field \"L\"") != NULL);
    c = make("0 0 29 2 */7", NULL); /* AND rule: a Feb 29 that is a Sunday, 28 years apart */
    CHECK_NEXT(&c, "2026-01-01T00:00:00Z", "2032-02-29T00:00:00Z", "2060-02-29T00:00:00Z",
               "2088-02-29T00:00:00Z");
    c = make("30 6 28-31 2 *", NULL);
    CHECK_NEXT(&c, "2027-02-27T00:00:00Z", "2027-02-28T06:30:00Z", "2028-02-28T06:30:00Z",
               "2028-02-29T06:30:00Z", "2029-02-28T06:30:00Z");
}

TEST(cron_next_refuses_out_of_range_times)
{
    cron_t c = make("* * * * *", NULL);
    int64_t next;
    char err[256];
    CHECK(cron_next(&c, INT64_MAX / 2, &next, err, sizeof err) == -1);
    CHECK(strstr(err, "outside the years") != NULL);
    CHECK(cron_next(&c, -70000000000LL, &next, err, sizeof err) == -1);
    CHECK(cron_next(&c, -1, &next, err, sizeof err) == 0 && next == 0);
    tz_tm_t tm;
    tz_local(c.zone, INT64_MAX, &tm); /* clamped, not overflowed */
    CHECK_INT(tm.year, 9999);
    tz_local(c.zone, INT64_MIN, &tm);
    CHECK_INT(tm.year, 1);
}

/* Found by fuzz/cron (fuzz/corpus/cron/apia_year_1): from the first second
 * of year 1 the next time lay in the two days where the zone functions
 * clamp instants, so it was broken down and shown as another time (in
 * Apia, whose LMT offset has seconds, as 12:33:04 for 12:45). */
TEST(cron_next_only_where_times_show_exactly)
{
    cron_t c = make("*/15 * * * *", "Pacific/Apia");
    int64_t next;
    char err[256];
    tz_tm_t tm;
    if (cron_next(&c, -62135596800LL, &next, err, sizeof err) == 0) { /* 0001-01-01T00:00:00Z */
        tz_local(c.zone, next, &tm);
        CHECK_INT(tm.second, 0);
        CHECK_INT(tm.minute % 15, 0);
    } else {
        CHECK(strstr(err, "outside the years") != NULL);
    }
    CHECK(cron_next(&c, -62135596800LL + 2 * 86400, &next, err, sizeof err) == 0); /* 0001-01-03 */
    tz_local(c.zone, next, &tm);
    CHECK_INT(tm.second, 0);
    CHECK_INT(tm.minute % 15, 0);
    cron_release(&c);
}

/* ---- DST in America/New_York and Europe/London ----------------------------- */

TEST(cron_dst_new_york_spring_forward)
{
    /* 2026-03-08: 02:00 EST becomes 03:00 EDT at 07:00Z; 02:00-02:59 never shows. */
    cron_t c = make("30 2 * * *", "America/New_York"); /* fixed hours: at the gap's end */
    CHECK_NEXT_LOCAL(&c, "2026-03-07T12:00:00Z", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00");
    CHECK_NEXT(&c, "2026-03-07T12:00:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z");
    cron_release(&c);

    c = make("*/20 2 * * *", "America/New_York"); /* three skipped times fire once */
    CHECK_NEXT_LOCAL(&c, "2026-03-08T06:00:00Z", "2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00",
                     "2026-03-09T02:20:00-04:00");
    cron_release(&c);

    c = make("0,30 2,3 * * *", "America/New_York"); /* 02:00, 02:30 and 03:00 are one instant */
    CHECK_NEXT_LOCAL(&c, "2026-03-08T06:00:00Z", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00",
                     "2026-03-09T02:00:00-04:00");
    cron_release(&c);

    c = make("*/15 * * * *", "America/New_York"); /* follows the clock: nothing in the gap */
    CHECK_NEXT_LOCAL(&c, "2026-03-08T06:30:00Z", "2026-03-08T01:45:00-05:00", "2026-03-08T03:00:00-04:00",
                     "2026-03-08T03:15:00-04:00");
    CHECK_NEXT(&c, "2026-03-08T06:30:00Z", "2026-03-08T06:45:00Z", "2026-03-08T07:00:00Z",
               "2026-03-08T07:15:00Z");
    cron_release(&c);

    c = make("30 * * * *", "America/New_York");
    CHECK_NEXT_LOCAL(&c, "2026-03-08T06:00:00Z", "2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00");
    cron_release(&c);
}

TEST(cron_dst_new_york_fall_back)
{
    /* 2026-11-01: 02:00 EDT becomes 01:00 EST at 06:00Z; 01:00-01:59 shows twice
     * (05:00Z-06:00Z as EDT, 06:00Z-07:00Z as EST). */
    cron_t c = make("30 1 * * *", "America/New_York"); /* fixed: first occurrence only */
    CHECK_NEXT_LOCAL(&c, "2026-10-31T12:00:00Z", "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00");
    CHECK_NEXT(&c, "2026-10-31T12:00:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z");
    CHECK_NEXT(&c, "2026-11-01T05:45:00Z", "2026-11-02T06:30:00Z"); /* not in the second pass */
    cron_release(&c);

    c = make("*/15 * * * *", "America/New_York"); /* both passes: 8 fires in local hour 1 */
    CHECK_NEXT_LOCAL(&c, "2026-11-01T04:50:00Z", "2026-11-01T01:00:00-04:00", "2026-11-01T01:15:00-04:00",
                     "2026-11-01T01:30:00-04:00", "2026-11-01T01:45:00-04:00", "2026-11-01T01:00:00-05:00",
                     "2026-11-01T01:15:00-05:00", "2026-11-01T01:30:00-05:00", "2026-11-01T01:45:00-05:00",
                     "2026-11-01T02:00:00-05:00");
    /* The earliest instant wins, not the earliest local time. */
    CHECK_NEXT(&c, "2026-11-01T05:10:00Z", "2026-11-01T05:15:00Z");
    CHECK_NEXT(&c, "2026-11-01T05:50:00Z", "2026-11-01T06:00:00Z");
    cron_release(&c);

    c = make("0 */1 * * *", "America/New_York"); /* `*`/1 follows the clock too */
    CHECK_NEXT(&c, "2026-11-01T04:30:00Z", "2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z",
               "2026-11-01T07:00:00Z");
    cron_release(&c);

    c = make("0 0-23 * * *", "America/New_York"); /* an explicit range is fixed hours */
    CHECK_NEXT(&c, "2026-11-01T04:30:00Z", "2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z");
    cron_release(&c);
}

TEST(cron_dst_london)
{
    /* 2026-03-29: 01:00 GMT becomes 02:00 BST at 01:00Z. */
    cron_t c = make("30 1 * * *", "Europe/London");
    CHECK_NEXT_LOCAL(&c, "2026-03-28T12:00:00Z", "2026-03-29T02:00:00+01:00", "2026-03-30T01:30:00+01:00");
    CHECK_NEXT(&c, "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z");
    cron_release(&c);
    c = make("*/15 * * * *", "Europe/London");
    CHECK_NEXT_LOCAL(&c, "2026-03-29T00:30:00Z", "2026-03-29T00:45:00+00:00", "2026-03-29T02:00:00+01:00",
                     "2026-03-29T02:15:00+01:00");
    cron_release(&c);

    /* 2026-10-25: 02:00 BST becomes 01:00 GMT at 01:00Z. */
    c = make("30 1 * * *", "Europe/London");
    CHECK_NEXT_LOCAL(&c, "2026-10-24T12:00:00Z", "2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00+00:00");
    CHECK_NEXT(&c, "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z");
    cron_release(&c);
    c = make("*/30 * * * *", "Europe/London");
    CHECK_NEXT_LOCAL(&c, "2026-10-24T23:45:00Z", "2026-10-25T01:00:00+01:00", "2026-10-25T01:30:00+01:00",
                     "2026-10-25T01:00:00+00:00", "2026-10-25T01:30:00+00:00", "2026-10-25T02:00:00+00:00");
    cron_release(&c);
}

TEST(cron_dst_hour_steps_follow_the_clock)
{
    /* `*`/2 follows the clock (hour field starting with `*`); 0-23/2 names
     * the same hours but fixes them. New York, 2026-03-08: 02:00 EST is
     * skipped (03:00 EDT at 07:00Z). */
    cron_t c = make("0 */2 * * *", "America/New_York");
    CHECK_NEXT_LOCAL(&c, "2026-03-08T04:00:00Z", "2026-03-08T00:00:00-05:00", "2026-03-08T04:00:00-04:00",
                     "2026-03-08T06:00:00-04:00");
    CHECK_NEXT(&c, "2026-03-08T05:00:00Z", "2026-03-08T08:00:00Z"); /* nothing at the gap's end (07:00Z) */
    cron_release(&c);
    c = make("30 */2 * * *", "America/New_York");
    CHECK_NEXT_LOCAL(&c, "2026-03-08T05:00:00Z", "2026-03-08T00:30:00-05:00", "2026-03-08T04:30:00-04:00");
    cron_release(&c);
    c = make("0 0-23/2 * * *", "America/New_York"); /* fixed hours: 02:00 fires at 03:00 EDT */
    CHECK_NEXT_LOCAL(&c, "2026-03-08T04:00:00Z", "2026-03-08T00:00:00-05:00", "2026-03-08T03:00:00-04:00",
                     "2026-03-08T04:00:00-04:00");
    cron_release(&c);

    /* 2026-11-01 fall-back: 01:xx repeats; `*`/N with N > 1 never names hour
     * 1, so the even hours go on, three UTC hours from 00:00 EDT to 02:00 EST. */
    c = make("0 */2 * * *", "America/New_York");
    CHECK_NEXT_LOCAL(&c, "2026-11-01T03:00:00Z", "2026-11-01T00:00:00-04:00", "2026-11-01T02:00:00-05:00",
                     "2026-11-01T04:00:00-05:00");
    CHECK_NEXT(&c, "2026-11-01T03:00:00Z", "2026-11-01T04:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T09:00:00Z");
    cron_release(&c);

    /* London: 01:00 GMT -> 02:00 BST on 2026-03-29 and back on 2026-10-25;
     * `*`/2 keeps 00:00 and 02:00 local on both days. */
    c = make("0 */2 * * *", "Europe/London");
    CHECK_NEXT_LOCAL(&c, "2026-03-28T23:00:00Z", "2026-03-29T00:00:00+00:00", "2026-03-29T02:00:00+01:00",
                     "2026-03-29T04:00:00+01:00");
    CHECK_NEXT(&c, "2026-03-28T23:00:00Z", "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T03:00:00Z");
    CHECK_NEXT_LOCAL(&c, "2026-10-24T22:00:00Z", "2026-10-25T00:00:00+01:00", "2026-10-25T02:00:00+00:00",
                     "2026-10-25T04:00:00+00:00");
    CHECK_NEXT(&c, "2026-10-24T22:00:00Z", "2026-10-24T23:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T04:00:00Z");
    cron_release(&c);
}

TEST(cron_dst_market_hours_new_york)
{
    cron_t c = make("*/15 9-16 * * MON-FRI", "America/New_York");
    /* Friday's last fire in EST, then Monday in EDT. */
    CHECK_NEXT_LOCAL(&c, "2026-03-06T21:30:00Z", "2026-03-06T16:45:00-05:00", "2026-03-09T09:00:00-04:00",
                     "2026-03-09T09:15:00-04:00");
    CHECK_NEXT(&c, "2026-03-06T21:45:00Z", "2026-03-09T13:00:00Z");
    /* And back: Friday in EDT, Monday in EST. */
    CHECK_NEXT_LOCAL(&c, "2026-10-30T20:30:00Z", "2026-10-30T16:45:00-04:00", "2026-11-02T09:00:00-05:00");
    CHECK_NEXT(&c, "2026-10-30T20:45:00Z", "2026-11-02T14:00:00Z");
    cron_release(&c);
}

TEST(cron_dst_after_last_transition_uses_tz_rule)
{
    /* The tz files list transitions up to 2037; 2040 comes from the TZ rule. */
    cron_t c = make("30 2 * * *", "America/New_York");
    CHECK_NEXT_LOCAL(&c, "2040-03-10T12:00:00Z", "2040-03-11T03:00:00-04:00", "2040-03-12T02:30:00-04:00");
    cron_release(&c);
    c = make("30 1 * * *", "Europe/London");
    CHECK_NEXT_LOCAL(&c, "2045-10-28T12:00:00Z", "2045-10-29T01:30:00+01:00", "2045-10-30T01:30:00+00:00");
    cron_release(&c);
}

/* ---- day filter and session window --------------------------------------- */

typedef struct {
    int calls;
} calendar_t;

/* A toy exchange calendar: closed on 2026-01-19 (MLK Day), an early close
 * at 13:00 on 2026-11-27, otherwise 09:30-16:00. */
static int toy_session(void *ctx, int y, int m, int d, int *open_min, int *close_min)
{
    calendar_t *cal = ctx;
    cal->calls++;
    if (y == 2026 && m == 1 && d == 19)
        return 0;
    *open_min = 9 * 60 + 30;
    *close_min = (y == 2026 && m == 11 && d == 27) ? 13 * 60 : 16 * 60;
    return 1;
}

static int closed_forever(void *ctx, int y, int m, int d, int *open_min, int *close_min)
{
    (void)ctx, (void)y, (void)m, (void)d, (void)open_min, (void)close_min;
    return 0;
}

TEST(cron_day_filter_and_window)
{
    calendar_t cal = { 0 };
    cron_t c = make("*/30 * * * MON-FRI", "America/New_York");
    cron_set_day_filter(&c, toy_session, &cal);
    /* Friday 16:00 is inside (inclusive); Monday is a holiday; Tuesday opens 09:30. */
    CHECK_NEXT_LOCAL(&c, "2026-01-16T20:45:00Z", "2026-01-16T16:00:00-05:00", "2026-01-20T09:30:00-05:00",
                     "2026-01-20T10:00:00-05:00");
    CHECK(cal.calls > 0);
    /* The early close ends the day at 13:00. */
    CHECK_NEXT_LOCAL(&c, "2026-11-27T17:40:00Z", "2026-11-27T13:00:00-05:00", "2026-11-30T09:30:00-05:00");
    cron_set_day_filter(&c, NULL, NULL);
    CHECK_NEXT_LOCAL(&c, "2026-11-27T18:00:00Z", "2026-11-27T13:30:00-05:00");

    int64_t next;
    char err[256];
    cron_set_day_filter(&c, closed_forever, NULL);
    CHECK(cron_next(&c, utc("2026-01-01T00:00:00Z"), &next, err, sizeof err) == -1);
    CHECK_STR(err, "\"*/30 * * * MON-FRI\" does not fire within 400 years after 2026-01-01T00:00:00Z "
                   "in America/New_York (does the day filter reject every day?)");
    cron_release(&c);
}

/* ---- the schedule's zone (zones themselves: test_tz.c) -------------------- */

TEST(cron_set_zone_keeps_its_zone_on_failure)
{
    cron_t c = make("0 9 * * *", "Europe/London");
    char err[512];
    CHECK(cron_set_zone(&c, "America/New_Yrok", err, sizeof err) == -1);
    CHECK(strstr(err, "unknown time zone \"America/New_Yrok\"") != NULL); /* tz_load's message */
    CHECK_STR(cron_zone_name(&c), "Europe/London"); /* unchanged on failure */
    CHECK(cron_set_zone(&c, "../../etc/passwd", err, sizeof err) == -1);
    CHECK(strstr(err, "is not a tz database name") != NULL);
    CHECK_STR(cron_zone_name(&c), "Europe/London");
    CHECK(cron_set_zone(&c, "America/New_York", err, sizeof err) == 0); /* replaces London */
    CHECK_STR(cron_zone_name(&c), "America/New_York");
    CHECK(cron_set_zone(&c, NULL, err, sizeof err) == 0);
    CHECK_STR(cron_zone_name(&c), "UTC");
    CHECK(cron_set_zone(&c, "Etc/UTC", err, sizeof err) == 0);
    CHECK_STR(cron_zone_name(&c), "Etc/UTC");
    cron_release(&c);
    cron_release(&c); /* twice is fine */
    cron_release(NULL);
    CHECK_STR(cron_zone_name(&c), "UTC");
}

/* cron_format_time works in the schedule's zone, as do tz_local and
 * tz_from_local_secs given that zone. */
TEST(cron_local_time_in_the_schedules_zone)
{
    char out[CRON_TIME_LEN];
    cron_t c = make("* * * * *", "America/New_York");
    cron_format_time(&c, utc("2026-03-09T13:30:00Z"), out);
    CHECK_STR(out, "2026-03-09T09:30:00-04:00");
    tz_tm_t tm;
    tz_local(c.zone, utc("2026-11-01T05:30:00Z"), &tm);
    CHECK(tm.year == 2026 && tm.month == 11 && tm.day == 1 && tm.hour == 1 && tm.minute == 30);
    CHECK(tm.isdst == 1 && tm.utoff == -4 * 3600 && tm.wday == 0);
    CHECK_STR(tm.abbr, "EDT");
    int64_t t[2];
    CHECK_INT(tz_from_local_secs(c.zone, wall(2026, 3, 8, 2, 30), t), 0); /* skipped */
    CHECK_INT(t[0], utc("2026-03-08T07:00:00Z"));
    CHECK_INT(tz_from_local_secs(c.zone, wall(2026, 11, 1, 1, 30), t), 2); /* repeated */
    CHECK_INT(t[0], utc("2026-11-01T05:30:00Z"));
    CHECK_INT(t[1], utc("2026-11-01T06:30:00Z"));
    cron_release(&c);

    c = make("* * * * *", NULL);
    cron_format_time(&c, utc("2026-03-09T13:30:00Z"), out);
    CHECK_STR(out, "2026-03-09T13:30:00+00:00");
    tz_local(c.zone, -1, &tm);
    CHECK(tm.year == 1969 && tm.month == 12 && tm.day == 31 && tm.hour == 23 && tm.second == 59);
    CHECK_STR(tm.abbr, "UTC");
    CHECK_INT(tz_from_local_secs(c.zone, wall(2026, 3, 8, 2, 30), t), 1);
    CHECK_INT(t[0], utc("2026-03-08T02:30:00Z"));
}
