/* test_market_calendar.c — the XNYS calendar against NYSE's published calendars. */
#include "core/clock.h"
#include "sched/market_calendar.h"
#include "unit.h"

typedef struct {
    int m, d;
} md_t;

static int listed(const md_t *list, size_t n, int m, int d)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].m == m && list[i].d == d)
            return 1;
    return 0;
}

static int weekday_of(int y, int m, int d) /* 0 Sunday .. 6 Saturday */
{
    return (int)((clock_days_from_civil(y, m, d) + 4) % 7);
}

/* Walks every day of year y: a weekday is a holiday exactly when listed in
 * `holidays`, an early close exactly when listed in `early`, and sessions,
 * trading days and the open test agree with that. */
static void check_year(const market_calendar_t *c, int y, const md_t *holidays, size_t n_holidays,
                       const md_t *early, size_t n_early)
{
    int64_t first = clock_days_from_civil(y, 1, 1), last = clock_days_from_civil(y, 12, 31);
    int seen_holidays = 0, seen_early = 0;
    for (int64_t t = first; t <= last; t++) {
        int yy, m, d;
        clock_civil_from_days(t, &yy, &m, &d);
        int wd = weekday_of(y, m, d);
        int weekend = wd == 0 || wd == 6;
        int want_holiday = listed(holidays, n_holidays, m, d);
        int want_early = listed(early, n_early, m, d);
        const char *name = "unset";
        int got = market_is_holiday(c, y, m, d, &name);
        if (got != want_holiday || (got == 1) != (name != NULL))
            unit_fail(__FILE__, __LINE__, "%04d-%02d-%02d: holiday %d, want %d", y, m, d, got, want_holiday);
        if (market_is_early_close(c, y, m, d) != want_early)
            unit_fail(__FILE__, __LINE__, "%04d-%02d-%02d: early close %d, want %d", y, m, d,
                      market_is_early_close(c, y, m, d), want_early);
        int want_trading = !weekend && !want_holiday;
        if (market_is_trading_day(c, y, m, d) != want_trading)
            unit_fail(__FILE__, __LINE__, "%04d-%02d-%02d: trading %d, want %d", y, m, d,
                      market_is_trading_day(c, y, m, d), want_trading);
        int open = -1, close = -1;
        int rc = market_session(c, y, m, d, &open, &close);
        if (want_trading) {
            int want_close = want_early ? 780 : 960;
            if (rc != 0 || open != 570 || close != want_close)
                unit_fail(__FILE__, __LINE__, "%04d-%02d-%02d: session %d %d-%d, want %d-%d", y, m, d,
                          rc, open, close, 570, want_close);
        } else if (rc != -1) {
            unit_fail(__FILE__, __LINE__, "%04d-%02d-%02d: session on a closed day", y, m, d);
        }
        if (market_is_open(c, y, m, d, 600) != want_trading)
            unit_fail(__FILE__, __LINE__, "%04d-%02d-%02d: open at 10:00", y, m, d);
        seen_holidays += want_holiday && got == 1;
        seen_early += want_early;
        CHECK(!(weekend && want_holiday)); /* the published lists hold weekdays only */
    }
    CHECK_INT(seen_holidays, n_holidays);
    CHECK_INT(seen_early, n_early);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* 2022 and 2023 add the years with five Mondays in May, a Saturday New
 * Year's Day and a Sunday Juneteenth and Christmas. */
TEST(market_xnys_2022_published)
{
    market_calendar_t c;
    char err[256];
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    static const md_t holidays[] = { { 1, 17 }, { 2, 21 }, { 4, 15 }, { 5, 30 }, { 6, 20 },
                                     { 7, 4 }, { 9, 5 }, { 11, 24 }, { 12, 26 } };
    static const md_t early[] = { { 11, 25 } };
    check_year(&c, 2022, holidays, N(holidays), early, N(early));
    market_calendar_free(&c);
}

TEST(market_xnys_2023_published)
{
    market_calendar_t c;
    char err[256];
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    static const md_t holidays[] = { { 1, 2 }, { 1, 16 }, { 2, 20 }, { 4, 7 }, { 5, 29 },
                                     { 6, 19 }, { 7, 4 }, { 9, 4 }, { 11, 23 }, { 12, 25 } };
    static const md_t early[] = { { 7, 3 }, { 11, 24 } };
    check_year(&c, 2023, holidays, N(holidays), early, N(early));
    market_calendar_free(&c);
}

TEST(market_xnys_2024_published)
{
    market_calendar_t c;
    char err[256];
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    static const md_t holidays[] = { { 1, 1 }, { 1, 15 }, { 2, 19 }, { 3, 29 }, { 5, 27 },
                                     { 6, 19 }, { 7, 4 }, { 9, 2 }, { 11, 28 }, { 12, 25 } };
    static const md_t early[] = { { 7, 3 }, { 11, 29 }, { 12, 24 } };
    check_year(&c, 2024, holidays, N(holidays), early, N(early));
    market_calendar_free(&c);
}

TEST(market_xnys_2025_published)
{
    market_calendar_t c;
    char err[256];
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    static const md_t holidays[] = { { 1, 1 }, { 1, 9 }, { 1, 20 }, { 2, 17 }, { 4, 18 }, { 5, 26 },
                                     { 6, 19 }, { 7, 4 }, { 9, 1 }, { 11, 27 }, { 12, 25 } };
    static const md_t early[] = { { 7, 3 }, { 11, 28 }, { 12, 24 } };
    check_year(&c, 2025, holidays, N(holidays), early, N(early));
    market_calendar_free(&c);
}

TEST(market_xnys_2026_published)
{
    market_calendar_t c;
    char err[256];
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    static const md_t holidays[] = { { 1, 1 }, { 1, 19 }, { 2, 16 }, { 4, 3 }, { 5, 25 },
                                     { 6, 19 }, { 7, 3 }, { 9, 7 }, { 11, 26 }, { 12, 25 } };
    static const md_t early[] = { { 11, 27 }, { 12, 24 } };
    check_year(&c, 2026, holidays, N(holidays), early, N(early));
    market_calendar_free(&c);
}

TEST(market_xnys_holiday_names)
{
    market_calendar_t c;
    char err[256];
    const char *name;
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    CHECK(market_is_holiday(&c, 2024, 1, 15, &name) == 1);
    CHECK_STR(name, "Martin Luther King Jr. Day");
    CHECK(market_is_holiday(&c, 2024, 2, 19, &name) == 1);
    CHECK_STR(name, "Washington's Birthday");
    CHECK(market_is_holiday(&c, 2024, 3, 29, &name) == 1);
    CHECK_STR(name, "Good Friday");
    CHECK(market_is_holiday(&c, 2024, 5, 27, &name) == 1);
    CHECK_STR(name, "Memorial Day");
    CHECK(market_is_holiday(&c, 2024, 9, 2, &name) == 1);
    CHECK_STR(name, "Labor Day");
    CHECK(market_is_holiday(&c, 2024, 11, 28, &name) == 1);
    CHECK_STR(name, "Thanksgiving Day");
    CHECK(market_is_holiday(&c, 2026, 7, 3, &name) == 1);
    CHECK_STR(name, "Independence Day (observed)");
    CHECK(market_is_holiday(&c, 2026, 7, 4, &name) == 0); /* a Saturday: closed, not a holiday */
    CHECK(name == NULL);
    CHECK(market_is_holiday(&c, 2024, 3, 29, NULL) == 1);
    market_calendar_free(&c);
}

TEST(market_xnys_new_year_on_saturday_not_observed)
{
    market_calendar_t c;
    char err[256];
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    /* 2011-01-01 and 2022-01-01 were Saturdays: the Fridays before traded,
     * a full session, and the Monday after is an ordinary day too. */
    CHECK_INT(weekday_of(2011, 1, 1), 6);
    CHECK(market_is_trading_day(&c, 2010, 12, 31) == 1);
    CHECK(market_is_early_close(&c, 2010, 12, 31) == 0);
    CHECK(market_is_trading_day(&c, 2011, 1, 3) == 1);
    CHECK_INT(weekday_of(2022, 1, 1), 6);
    CHECK(market_is_trading_day(&c, 2021, 12, 31) == 1);
    CHECK(market_is_early_close(&c, 2021, 12, 31) == 0);
    CHECK(market_is_trading_day(&c, 2022, 1, 3) == 1);
    CHECK(market_is_trading_day(&c, 2004, 12, 31) == 1); /* 2005-01-01 likewise */
    CHECK(market_is_trading_day(&c, 2000, 1, 3) == 1);   /* and 2000-01-01 */
    /* On a Sunday it moves to Monday. */
    const char *name;
    CHECK(market_is_holiday(&c, 2017, 1, 2, &name) == 1);
    CHECK_STR(name, "New Year's Day (observed)");
    CHECK(market_is_holiday(&c, 2023, 1, 2, &name) == 1);
    CHECK(market_is_trading_day(&c, 2022, 12, 30) == 1);
    market_calendar_free(&c);
}

TEST(market_xnys_observed_friday_and_monday)
{
    market_calendar_t c;
    char err[256];
    const char *name;
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    /* Christmas 2021 was a Saturday: observed Friday Dec 24, a holiday
     * rather than an early close. */
    CHECK(market_is_holiday(&c, 2021, 12, 24, &name) == 1);
    CHECK_STR(name, "Christmas Day (observed)");
    CHECK(market_is_early_close(&c, 2021, 12, 24) == 0);
    CHECK(market_is_early_close(&c, 2021, 12, 23) == 0);
    CHECK(market_is_trading_day(&c, 2021, 12, 27) == 1);
    /* Christmas 2022 a Sunday: Monday Dec 26; Christmas Eve a Saturday. */
    CHECK(market_is_holiday(&c, 2022, 12, 26, &name) == 1);
    CHECK_STR(name, "Christmas Day (observed)");
    CHECK(market_is_early_close(&c, 2022, 12, 23) == 0);
    /* July 4 2021 a Sunday: Monday Jul 5; Friday Jul 2 a full day. */
    CHECK(market_is_holiday(&c, 2021, 7, 5, &name) == 1);
    CHECK_STR(name, "Independence Day (observed)");
    CHECK(market_is_early_close(&c, 2021, 7, 2) == 0);
    CHECK(market_is_trading_day(&c, 2021, 7, 2) == 1);
    /* July 4 2020 a Saturday: Friday Jul 3 closed, Thursday Jul 2 full. */
    CHECK(market_is_holiday(&c, 2020, 7, 3, NULL) == 1);
    CHECK(market_is_early_close(&c, 2020, 7, 2) == 0);
    /* Juneteenth: 2022-06-19 a Sunday, observed Monday; 2027-06-19 a Saturday,
     * observed Friday. */
    CHECK(market_is_holiday(&c, 2022, 6, 20, &name) == 1);
    CHECK_STR(name, "Juneteenth (observed)");
    CHECK(market_is_holiday(&c, 2027, 6, 18, &name) == 1);
    CHECK_STR(name, "Juneteenth (observed)");
    CHECK(market_is_holiday(&c, 2023, 6, 19, &name) == 1);
    CHECK_STR(name, "Juneteenth");
    market_calendar_free(&c);
}

TEST(market_xnys_juneteenth_starts_2022)
{
    market_calendar_t c;
    char err[256];
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    /* 2021-06-19 was a Saturday, yet Friday Jun 18 traded; 2020 and 2019
     * traded on Jun 19 itself (a Friday and a Wednesday). */
    CHECK(market_is_trading_day(&c, 2021, 6, 18) == 1);
    CHECK(market_is_trading_day(&c, 2020, 6, 19) == 1);
    CHECK(market_is_trading_day(&c, 2019, 6, 19) == 1);
    CHECK(market_is_trading_day(&c, 2022, 6, 17) == 1);
    CHECK(market_is_trading_day(&c, 2022, 6, 20) == 0);
    market_calendar_free(&c);
}

TEST(market_xnys_good_friday)
{
    market_calendar_t c;
    char err[256];
    const char *name;
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    static const struct { int y, m, d; } gf[] = {
        { 2000, 4, 21 }, { 2008, 3, 21 }, { 2011, 4, 22 }, { 2019, 4, 19 }, { 2024, 3, 29 },
        { 2025, 4, 18 }, { 2026, 4, 3 }, { 2030, 4, 19 }, { 2038, 4, 23 }, /* latest Easter, Apr 25 */
        { 2285, 3, 20 }, /* earliest Easter, Mar 22 */
    };
    for (size_t i = 0; i < N(gf); i++) {
        if (market_is_holiday(&c, gf[i].y, gf[i].m, gf[i].d, &name) != 1 || name == NULL ||
            strcmp(name, "Good Friday") != 0)
            unit_fail(__FILE__, __LINE__, "Good Friday %04d-%02d-%02d not found", gf[i].y, gf[i].m, gf[i].d);
        /* The Thursday before trades a full day; Easter Monday trades. */
        CHECK(market_is_trading_day(&c, gf[i].y, gf[i].m, gf[i].d - 1) == 1);
        CHECK(market_is_early_close(&c, gf[i].y, gf[i].m, gf[i].d - 1) == 0);
    }
    CHECK(market_is_trading_day(&c, 2024, 4, 1) == 1);
    market_calendar_free(&c);
}

TEST(market_xnys_independence_day_early_close)
{
    market_calendar_t c;
    char err[256];
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    /* By the weekday of July 4: the early close is July 3 when that is a
     * trading day, and no other day around the holiday. */
    CHECK(market_is_early_close(&c, 2022, 7, 1) == 0); /* Mon: the Friday before is full */
    CHECK(market_is_early_close(&c, 2023, 7, 3) == 1); /* Tue: Monday Jul 3 */
    CHECK(market_is_early_close(&c, 2018, 7, 3) == 1); /* Wed */
    CHECK(market_is_early_close(&c, 2024, 7, 3) == 1); /* Thu */
    CHECK(market_is_early_close(&c, 2024, 7, 5) == 0);
    CHECK(market_is_early_close(&c, 2025, 7, 3) == 1); /* Fri */
    CHECK(market_is_early_close(&c, 2026, 7, 2) == 0); /* Sat: Jul 3 the holiday */
    CHECK(market_is_early_close(&c, 2026, 7, 3) == 0);
    CHECK(market_is_early_close(&c, 2021, 7, 2) == 0); /* Sun */
    market_calendar_free(&c);
}

TEST(market_xnys_early_closes_every_year)
{
    market_calendar_t c;
    char err[256];
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    /* Over two centuries: the Friday after Thanksgiving always closes early,
     * July 3 and Christmas Eve exactly when they fall Monday to Thursday, and
     * no other day does. */
    for (int y = 2000; y <= 2200; y++) {
        int64_t first = clock_days_from_civil(y, 1, 1), last = clock_days_from_civil(y, 12, 31);
        int n = 0, want = 1;
        want += weekday_of(y, 7, 3) >= 1 && weekday_of(y, 7, 3) <= 4;
        want += weekday_of(y, 12, 24) >= 1 && weekday_of(y, 12, 24) <= 4;
        for (int64_t t = first; t <= last; t++) {
            int yy, m, d;
            clock_civil_from_days(t, &yy, &m, &d);
            if (market_is_early_close(&c, y, m, d) == 1) {
                n++;
                int ok = (m == 7 && d == 3) || (m == 12 && d == 24) ||
                         (m == 11 && d >= 23 && d <= 29 && weekday_of(y, m, d) == 5);
                if (!ok)
                    unit_fail(__FILE__, __LINE__, "unexpected early close %04d-%02d-%02d", y, m, d);
            }
        }
        if (n != want)
            unit_fail(__FILE__, __LINE__, "%d: %d early closes, want %d", y, n, want);
    }
    market_calendar_free(&c);
}

TEST(market_xnys_holiday_count_every_year)
{
    market_calendar_t c;
    char err[256];
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    /* Nine holidays a year (ten from 2022), one fewer when New Year's Day is
     * a Saturday, plus the year's unscheduled closures: observing one
     * holiday never lands on another or on a weekend. */
    for (int y = 2000; y <= 2200; y++) {
        int64_t first = clock_days_from_civil(y, 1, 1), last = clock_days_from_civil(y, 12, 31);
        int n = 0;
        for (int64_t t = first; t <= last; t++) {
            int yy, m, d;
            clock_civil_from_days(t, &yy, &m, &d);
            n += market_is_holiday(&c, y, m, d, NULL) == 1;
        }
        int want = (y >= 2022 ? 10 : 9) - (weekday_of(y, 1, 1) == 6);
        want += y == 2001 ? 4 : y == 2012 ? 2 : (y == 2004 || y == 2007 || y == 2018 || y == 2025);
        if (n != want)
            unit_fail(__FILE__, __LINE__, "%d: %d holidays, want %d", y, n, want);
    }
    market_calendar_free(&c);
}

TEST(market_xnys_unscheduled_closures)
{
    market_calendar_t c;
    char err[256];
    const char *name;
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    static const struct { int y, m, d; } closed[] = {
        { 2001, 9, 11 }, { 2001, 9, 12 }, { 2001, 9, 13 }, { 2001, 9, 14 }, { 2004, 6, 11 },
        { 2007, 1, 2 }, { 2012, 10, 29 }, { 2012, 10, 30 }, { 2018, 12, 5 }, { 2025, 1, 9 },
    };
    for (size_t i = 0; i < N(closed); i++) {
        int y = closed[i].y, m = closed[i].m, d = closed[i].d;
        if (market_is_holiday(&c, y, m, d, &name) != 1 || name == NULL ||
            strncmp(name, "unscheduled closure", 19) != 0 || market_is_trading_day(&c, y, m, d) != 0 ||
            market_session(&c, y, m, d, NULL, NULL) != -1 || market_is_open(&c, y, m, d, 600) != 0)
            unit_fail(__FILE__, __LINE__, "%04d-%02d-%02d is not an unscheduled closure", y, m, d);
    }
    CHECK(market_is_holiday(&c, 2012, 10, 29, &name) == 1);
    CHECK_STR(name, "unscheduled closure (Hurricane Sandy)");
    /* The days around them traded. */
    CHECK(market_is_trading_day(&c, 2001, 9, 10) == 1);
    CHECK(market_is_trading_day(&c, 2001, 9, 17) == 1);
    CHECK(market_is_trading_day(&c, 2012, 10, 31) == 1);
    CHECK(market_is_trading_day(&c, 2025, 1, 8) == 1);
    CHECK(market_is_trading_day(&c, 2025, 1, 10) == 1);
    int y = 2001, m = 9, d = 10;
    CHECK(market_next_trading_day(&c, &y, &m, &d) == 0);
    CHECK(y == 2001 && m == 9 && d == 17);
    market_calendar_free(&c);
}

TEST(market_xnys_configured_closures)
{
    market_calendar_t c;
    char err[256];
    const char *name;
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    /* Out of order and repeated on purpose. */
    CHECK(market_calendar_add_closure(&c, 2027, 3, 10, err, sizeof err) == 0);
    CHECK(market_calendar_add_closure(&c, 2026, 11, 27, err, sizeof err) == 0); /* an early close */
    CHECK(market_calendar_add_closure(&c, 2027, 3, 10, err, sizeof err) == 0);
    CHECK(market_calendar_add_closure(&c, 2026, 12, 25, err, sizeof err) == 0); /* a holiday anyway */
    CHECK(market_calendar_add_closure(&c, 2026, 3, 7, err, sizeof err) == 0);   /* a Saturday */
    for (int i = 0; i < 40; i++) /* grows the array a few times */
        CHECK(market_calendar_add_closure(&c, 2030 + i, 2, 1 + i % 28, err, sizeof err) == 0);
    CHECK_INT(c.n_closures, 44);
    for (size_t i = 1; i < c.n_closures; i++)
        CHECK(c.closures[i - 1] < c.closures[i]);

    CHECK(market_is_holiday(&c, 2027, 3, 10, &name) == 1);
    CHECK_STR(name, "unscheduled closure (configured)");
    CHECK(market_is_trading_day(&c, 2027, 3, 10) == 0);
    CHECK(market_is_trading_day(&c, 2027, 3, 9) == 1);
    CHECK(market_is_trading_day(&c, 2027, 3, 11) == 1);
    CHECK(market_is_holiday(&c, 2026, 11, 27, &name) == 1);
    CHECK(market_is_early_close(&c, 2026, 11, 27) == 0);
    CHECK(market_is_holiday(&c, 2026, 12, 25, &name) == 1);
    CHECK_STR(name, "Christmas Day"); /* the holiday's own name wins */
    CHECK(market_is_holiday(&c, 2026, 3, 7, &name) == 0);
    CHECK(market_is_holiday(&c, 2050, 2, 21, NULL) == 1);
    int y = 2027, m = 3, d = 9;
    CHECK(market_next_trading_day(&c, &y, &m, &d) == 0);
    CHECK(y == 2027 && m == 3 && d == 11);
    CHECK(market_previous_trading_day(&c, &y, &m, &d) == 0);
    CHECK(y == 2027 && m == 3 && d == 9);

    /* A fresh calendar does not see another's closures. */
    market_calendar_t plain;
    CHECK(market_calendar_init(&plain, "XNYS", err, sizeof err) == 0);
    CHECK(market_is_trading_day(&plain, 2027, 3, 10) == 1);
    market_calendar_free(&plain);
    market_calendar_free(&c);
    CHECK(c.closures == NULL && c.n_closures == 0);
    market_calendar_free(NULL);
}

TEST(market_xnys_closure_refusals)
{
    market_calendar_t c;
    char err[256];
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    CHECK(market_calendar_add_closure(&c, 2027, 2, 29, err, sizeof err) == -1);
    CHECK(strstr(err, "2027-02-29 is not a date") != NULL);
    CHECK(market_calendar_add_closure(&c, 2027, 13, 1, err, sizeof err) == -1);
    CHECK(market_calendar_add_closure(&c, 2027, 4, 31, err, sizeof err) == -1);
    CHECK(market_calendar_add_closure(&c, 2027, 4, 0, err, sizeof err) == -1);
    CHECK(market_calendar_add_closure(&c, 1999, 12, 31, err, sizeof err) == -1);
    CHECK(strstr(err, "1999-12-31") != NULL && strstr(err, "2000") != NULL);
    CHECK(market_calendar_add_closure(&c, 10000, 1, 3, err, sizeof err) == -1);
    CHECK_INT(c.n_closures, 0);
    CHECK(market_calendar_add_closure(&c, 2028, 2, 29, err, sizeof err) == 0); /* a leap day */
    market_calendar_free(&c);
}

TEST(market_xnys_sessions)
{
    market_calendar_t c;
    char err[256];
    int open, close;
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    CHECK(market_session(&c, 2025, 3, 12, &open, &close) == 0);
    CHECK_INT(open, MARKET_OPEN_MIN);
    CHECK_INT(close, MARKET_CLOSE_MIN);
    CHECK(market_session(&c, 2025, 11, 28, &open, &close) == 0);
    CHECK_INT(open, 570);
    CHECK_INT(close, MARKET_EARLY_CLOSE_MIN);
    CHECK(market_session(&c, 2025, 11, 28, NULL, &close) == 0 && close == 780);
    CHECK(market_session(&c, 2025, 11, 27, &open, &close) == -1); /* Thanksgiving */
    CHECK(market_session(&c, 2025, 3, 15, &open, &close) == -1);  /* a Saturday */
    /* Open and close are both inside the session. */
    CHECK(market_is_open(&c, 2025, 3, 12, 569) == 0);
    CHECK(market_is_open(&c, 2025, 3, 12, 570) == 1);
    CHECK(market_is_open(&c, 2025, 3, 12, 960) == 1);
    CHECK(market_is_open(&c, 2025, 3, 12, 961) == 0);
    CHECK(market_is_open(&c, 2025, 12, 24, 780) == 1);
    CHECK(market_is_open(&c, 2025, 12, 24, 781) == 0);
    CHECK(market_is_open(&c, 2025, 12, 25, 600) == 0);
    market_calendar_free(&c);
}

TEST(market_xnys_next_and_previous_trading_day)
{
    market_calendar_t c;
    char err[256];
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    int y = 2024, m = 3, d = 28;
    CHECK(market_next_trading_day(&c, &y, &m, &d) == 0); /* over Good Friday and a weekend */
    CHECK(y == 2024 && m == 4 && d == 1);
    CHECK(market_previous_trading_day(&c, &y, &m, &d) == 0);
    CHECK(y == 2024 && m == 3 && d == 28);
    y = 2024, m = 12, d = 31;
    CHECK(market_next_trading_day(&c, &y, &m, &d) == 0); /* over the new year */
    CHECK(y == 2025 && m == 1 && d == 2);
    CHECK(market_next_trading_day(&c, &y, &m, &d) == 0);
    CHECK(y == 2025 && m == 1 && d == 3);
    y = 2025, m = 1, d = 10;
    CHECK(market_previous_trading_day(&c, &y, &m, &d) == 0); /* over the Carter closure */
    CHECK(y == 2025 && m == 1 && d == 8);
    y = 2026, m = 3, d = 14; /* from a Saturday */
    CHECK(market_next_trading_day(&c, &y, &m, &d) == 0);
    CHECK(y == 2026 && m == 3 && d == 16);
    market_calendar_free(&c);
}

TEST(market_xnys_year_range)
{
    market_calendar_t c;
    char err[256];
    const char *name = "unset";
    int open = -7;
    CHECK(market_calendar_init(&c, "XNYS", err, sizeof err) == 0);
    /* Before 2000 the rules are not the exchange's: every query says -1. */
    CHECK(market_is_holiday(&c, 1999, 12, 24, &name) == -1);
    CHECK(name == NULL);
    CHECK(market_is_trading_day(&c, 1999, 12, 30) == -1);
    CHECK(market_is_early_close(&c, 1999, 11, 26) == -1);
    CHECK(market_session(&c, 1999, 12, 30, &open, NULL) == -1);
    CHECK_INT(open, -7);
    CHECK(market_is_open(&c, 1999, 12, 30, 600) == -1);
    CHECK(market_is_trading_day(&c, 2000, 1, 3) == 1);
    int y = 2000, m = 1, d = 3;
    CHECK(market_previous_trading_day(&c, &y, &m, &d) == -1);
    CHECK(y == 2000 && m == 1 && d == 3);
    y = 1999, m = 12, d = 31;
    CHECK(market_next_trading_day(&c, &y, &m, &d) == -1);
    /* The far end. */
    CHECK(market_is_trading_day(&c, 9999, 12, 31) == 1);
    CHECK(market_is_trading_day(&c, 10000, 1, 3) == -1);
    y = 9999, m = 12, d = 31;
    CHECK(market_next_trading_day(&c, &y, &m, &d) == -1);
    CHECK(market_previous_trading_day(&c, &y, &m, &d) == 0);
    CHECK(y == 9999 && m == 12 && d == 30);
    /* Not dates at all. */
    CHECK(market_is_trading_day(&c, 2023, 2, 29) == -1);
    CHECK(market_is_trading_day(&c, 2024, 2, 29) == 1);
    CHECK(market_is_trading_day(&c, 2024, 0, 10) == -1);
    CHECK(market_is_trading_day(&c, 2024, 6, 31) == -1);
    CHECK(market_is_early_close(&c, 2024, 13, 1) == -1);
    y = 2024, m = 2, d = 30;
    CHECK(market_next_trading_day(&c, &y, &m, &d) == -1);
    market_calendar_free(&c);
}

TEST(market_calendar_names)
{
    market_calendar_t c;
    char err[256];
    CHECK(market_calendar_init(&c, "xnys", err, sizeof err) == 0);
    CHECK_STR(c.name, "XNYS");
    market_calendar_free(&c);
    CHECK(market_calendar_init(&c, "NYSE", err, sizeof err) == -1);
    CHECK(strstr(err, "\"NYSE\"") != NULL && strstr(err, "XNYS") != NULL);
    CHECK(c.name == NULL);
    market_calendar_free(&c);
    CHECK(market_calendar_init(&c, NULL, err, sizeof err) == -1);
    CHECK(market_calendar_init(&c, "", err, sizeof err) == -1);
}
