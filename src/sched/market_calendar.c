/* market_calendar.c — exchange trading calendars: holidays, early closes, sessions.
 *
 * XNYS holidays are computed by rule for the date asked about (ten short
 * rules, no tables per year), so any year in range costs the same and
 * nothing needs a yearly update except unscheduled closures, which come
 * from the built-in list below or from configuration.
 *
 * Rules since 2000, as NYSE publishes them:
 *  - full-day holidays: New Year's Day, Martin Luther King Jr. Day (third
 *    Monday of January), Washington's Birthday (third Monday of February),
 *    Good Friday, Memorial Day (last Monday of May), Juneteenth (from 2022),
 *    Independence Day, Labor Day (first Monday of September), Thanksgiving
 *    Day (fourth Thursday of November), Christmas Day. A fixed-date holiday
 *    on a Saturday is observed the Friday before, on a Sunday the Monday
 *    after, except New Year's Day on a Saturday, which is not observed at
 *    all (the Friday before ends the yearly accounting period). So every
 *    observed day falls in the holiday's own year, and only that year's
 *    rules need checking for a date.
 *  - early closes at 13:00: July 3 when it and July 4 are both weekdays and
 *    July 3 is a trading day, the day after Thanksgiving, and Christmas Eve
 *    when it is a trading day (a Friday Christmas Eve is the observed
 *    Christmas, so in practice Monday to Thursday).
 *
 * Known historical departures from these rules that are NOT modelled
 * (sources: NYSE closings history as collected by pandas_market_calendars):
 *  - 2002: July 4 was a Thursday; the early close was Friday July 5, not
 *    Wednesday July 3 (the Wednesday rule dates from 2013);
 *  - 2003-12-26, the Friday after Christmas, closed at 13:00;
 *  - 2005-06-01 closed at 15:56 (systems problem), and several mornings
 *    opened a few minutes late for moments of silence (2001-09-17,
 *    2001-10-08, 2003-03-20, 2004-06-07, 2006-12-27) or at noon (2002-09-11).
 * For backtests over those days, treat these few sessions as approximate. */
#include "sched/market_calendar.h"

#include "core/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { SUN, MON, TUE, WED, THU, FRI, SAT };

/* Built-in unscheduled full-day closures since 2000, in date order. */
static const struct {
    int y, m, d;
    const char *name;
} xnys_unscheduled[] = {
    { 2001, 9, 11, "unscheduled closure (September 11 attacks)" },
    { 2001, 9, 12, "unscheduled closure (September 11 attacks)" },
    { 2001, 9, 13, "unscheduled closure (September 11 attacks)" },
    { 2001, 9, 14, "unscheduled closure (September 11 attacks)" },
    { 2004, 6, 11, "unscheduled closure (national day of mourning, President Reagan)" },
    { 2007, 1, 2, "unscheduled closure (national day of mourning, President Ford)" },
    { 2012, 10, 29, "unscheduled closure (Hurricane Sandy)" },
    { 2012, 10, 30, "unscheduled closure (Hurricane Sandy)" },
    { 2018, 12, 5, "unscheduled closure (national day of mourning, President George H. W. Bush)" },
    { 2025, 1, 9, "unscheduled closure (national day of mourning, President Carter)" },
};

#define CONFIGURED_CLOSURE "unscheduled closure (configured)"

/* Fixed-date holidays and how they are observed. */
static const struct {
    int m, d;
    int from_year;
    int saturday_observed; /* 0: a Saturday holiday is simply lost */
    const char *name, *observed_name;
} xnys_fixed[] = {
    { 1, 1, 0, 0, "New Year's Day", "New Year's Day (observed)" },
    { 6, 19, 2022, 1, "Juneteenth", "Juneteenth (observed)" },
    { 7, 4, 0, 1, "Independence Day", "Independence Day (observed)" },
    { 12, 25, 0, 1, "Christmas Day", "Christmas Day (observed)" },
};

/* Holidays on the n-th (n = -1: last) given weekday of a month. */
static const struct {
    int m, wd, n;
    const char *name;
} xnys_floating[] = {
    { 1, MON, 3, "Martin Luther King Jr. Day" },
    { 2, MON, 3, "Washington's Birthday" },
    { 5, MON, -1, "Memorial Day" },
    { 9, MON, 1, "Labor Day" },
    { 11, THU, 4, "Thanksgiving Day" },
};

/* Epoch day of y-m-d when it is a real date within the supported years. */
static int to_day(int y, int m, int d, int64_t *day)
{
    if (y < MARKET_YEAR_MIN || y > MARKET_YEAR_MAX || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    int64_t t = clock_days_from_civil(y, m, d);
    int yy, mm, dd;
    clock_civil_from_days(t, &yy, &mm, &dd); /* Feb 30 comes back as Mar 2 */
    if (yy != y || mm != m || dd != d)
        return -1;
    *day = t;
    return 0;
}

static int64_t nth_weekday(int y, int m, int wd, int n)
{
    if (n < 0) {
        int64_t last = clock_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - 1;
        return last - (clock_weekday(last) - wd + 7) % 7;
    }
    int64_t first = clock_days_from_civil(y, m, 1);
    return first + (wd - clock_weekday(first) + 7) % 7 + 7 * (n - 1);
}

/* Easter Sunday of the Gregorian calendar: the anonymous algorithm
 * published by Meeus ("Astronomical Algorithms", ch. 8; Butcher 1876). */
static int64_t easter_sunday(int y)
{
    int a = y % 19, b = y / 100, c = y % 100;
    int d = b / 4, e = b % 4;
    int f = (b + 8) / 25;
    int g = (b - f + 1) / 3;
    int h = (19 * a + b - d - g + 15) % 30;
    int i = c / 4, k = c % 4;
    int l = (32 + 2 * e + 2 * i - h - k) % 7;
    int mm = (a + 11 * h + 22 * l) / 451;
    int month = (h + l - 7 * mm + 114) / 31;
    int day = (h + l - 7 * mm + 114) % 31 + 1;
    return clock_days_from_civil(y, month, day);
}

/* The rule-based holiday observed on weekday `t` of year y, or NULL. */
static const char *xnys_rule_holiday(int y, int64_t t)
{
    for (size_t i = 0; i < sizeof xnys_fixed / sizeof xnys_fixed[0]; i++) {
        if (y < xnys_fixed[i].from_year)
            continue;
        int64_t day = clock_days_from_civil(y, xnys_fixed[i].m, xnys_fixed[i].d);
        int wd = clock_weekday(day);
        if (wd == SAT && !xnys_fixed[i].saturday_observed)
            continue;
        int64_t observed = wd == SAT ? day - 1 : wd == SUN ? day + 1 : day;
        if (observed == t)
            return observed == day ? xnys_fixed[i].name : xnys_fixed[i].observed_name;
    }
    for (size_t i = 0; i < sizeof xnys_floating / sizeof xnys_floating[0]; i++)
        if (nth_weekday(y, xnys_floating[i].m, xnys_floating[i].wd, xnys_floating[i].n) == t)
            return xnys_floating[i].name;
    if (easter_sunday(y) - 2 == t)
        return "Good Friday";
    return NULL;
}

/* Index of the first configured closure on or after day t. */
static size_t closure_position(const market_calendar_t *c, int64_t t)
{
    size_t lo = 0, hi = c->n_closures;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->closures[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static const char *unscheduled_closure(const market_calendar_t *c, int y, int m, int d, int64_t t)
{
    for (size_t i = 0; i < sizeof xnys_unscheduled / sizeof xnys_unscheduled[0]; i++)
        if (xnys_unscheduled[i].y == y && xnys_unscheduled[i].m == m && xnys_unscheduled[i].d == d)
            return xnys_unscheduled[i].name;
    size_t lo = closure_position(c, t);
    return lo < c->n_closures && c->closures[lo] == t ? CONFIGURED_CLOSURE : NULL;
}

/* Why valid day t (= y-m-d) is a closed weekday, or NULL: trading, or a weekend. */
static const char *holiday_name(const market_calendar_t *c, int y, int m, int d, int64_t t)
{
    int wd = clock_weekday(t);
    if (wd == SAT || wd == SUN)
        return NULL;
    const char *name = xnys_rule_holiday(y, t);
    return name != NULL ? name : unscheduled_closure(c, y, m, d, t);
}

static int trading(const market_calendar_t *c, int y, int m, int d, int64_t t)
{
    int wd = clock_weekday(t);
    return wd != SAT && wd != SUN && holiday_name(c, y, m, d, t) == NULL;
}

/* Early-close rules, for a day already known to be a trading day. */
static int early_close_rule(int y, int m, int d, int64_t t)
{
    /* "The day before Independence Day when both are trading days": as
     * July 4 is always closed, this means July 3 trades and July 4 is a
     * weekday. A trading July 3 is enough: were July 4 a Saturday, July 3
     * would be its observed holiday, and were it Sunday or Monday, July 3
     * would be a weekend day. */
    if (m == 7 && d == 3)
        return 1;
    if (m == 11)
        return t == nth_weekday(y, 11, THU, 4) + 1;
    return m == 12 && d == 24;
}

/* The session's close in local minutes on valid day t, or 0 when closed. */
static int session_close(const market_calendar_t *c, int y, int m, int d, int64_t t)
{
    if (!trading(c, y, m, d, t))
        return 0;
    return early_close_rule(y, m, d, t) ? MARKET_EARLY_CLOSE_MIN : MARKET_CLOSE_MIN;
}

int market_calendar_init(market_calendar_t *c, const char *name, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (name == NULL || strcasecmp(name, "XNYS") != 0) {
        snprintf(err, errlen, "unknown market calendar \"%s\": the known calendar is XNYS "
                 "(New York Stock Exchange)", name != NULL ? name : "");
        return -1;
    }
    c->name = "XNYS";
    return 0;
}

int market_calendar_add_closure(market_calendar_t *c, int y, int m, int d, char *err, size_t errlen)
{
    int64_t t;
    if (y < MARKET_YEAR_MIN || y > MARKET_YEAR_MAX) {
        snprintf(err, errlen, "closure %04d-%02d-%02d is outside the years the %s calendar covers "
                 "(%d to %d)", y, m, d, c->name != NULL ? c->name : "market", MARKET_YEAR_MIN,
                 MARKET_YEAR_MAX);
        return -1;
    }
    if (to_day(y, m, d, &t) != 0) {
        snprintf(err, errlen, "closure %04d-%02d-%02d is not a date: write it as YYYY-MM-DD", y, m, d);
        return -1;
    }
    size_t lo = closure_position(c, t);
    if (lo < c->n_closures && c->closures[lo] == t)
        return 0;
    if (c->n_closures == c->cap_closures) {
        size_t cap = c->cap_closures ? c->cap_closures * 2 : 8;
        int64_t *grown = realloc(c->closures, cap * sizeof *grown);
        if (grown == NULL) {
            snprintf(err, errlen, "out of memory adding closure %04d-%02d-%02d", y, m, d);
            return -1;
        }
        c->closures = grown;
        c->cap_closures = cap;
    }
    memmove(c->closures + lo + 1, c->closures + lo, (c->n_closures - lo) * sizeof *c->closures);
    c->closures[lo] = t;
    c->n_closures++;
    return 0;
}

void market_calendar_free(market_calendar_t *c)
{
    if (c == NULL)
        return;
    free(c->closures);
    c->closures = NULL;
    c->n_closures = c->cap_closures = 0;
}

int market_is_holiday(const market_calendar_t *c, int y, int m, int d, const char **name)
{
    int64_t t;
    if (name != NULL)
        *name = NULL;
    if (to_day(y, m, d, &t) != 0)
        return -1;
    const char *why = holiday_name(c, y, m, d, t);
    if (name != NULL)
        *name = why;
    return why != NULL;
}

int market_is_trading_day(const market_calendar_t *c, int y, int m, int d)
{
    int64_t t;
    if (to_day(y, m, d, &t) != 0)
        return -1;
    return trading(c, y, m, d, t);
}

int market_is_early_close(const market_calendar_t *c, int y, int m, int d)
{
    int64_t t;
    if (to_day(y, m, d, &t) != 0)
        return -1;
    return session_close(c, y, m, d, t) == MARKET_EARLY_CLOSE_MIN;
}

int market_session(const market_calendar_t *c, int y, int m, int d, int *open_min, int *close_min)
{
    int64_t t;
    int close = 0;
    if (to_day(y, m, d, &t) != 0 || (close = session_close(c, y, m, d, t)) == 0)
        return -1;
    if (open_min != NULL)
        *open_min = MARKET_OPEN_MIN;
    if (close_min != NULL)
        *close_min = close;
    return 0;
}

int market_is_open(const market_calendar_t *c, int y, int m, int d, int minute)
{
    int64_t t;
    if (to_day(y, m, d, &t) != 0)
        return -1;
    int close = session_close(c, y, m, d, t);
    return close != 0 && minute >= MARKET_OPEN_MIN && minute <= close;
}

/* Steps one day at a time: closures never run longer than a few days, so
 * this is a handful of iterations, each a few dozen integer operations. */
static int step_trading_day(const market_calendar_t *c, int *y, int *m, int *d, int dir)
{
    int64_t t;
    if (to_day(*y, *m, *d, &t) != 0)
        return -1;
    for (;;) {
        t += dir;
        int yy, mm, dd;
        clock_civil_from_days(t, &yy, &mm, &dd);
        if (yy < MARKET_YEAR_MIN || yy > MARKET_YEAR_MAX)
            return -1;
        if (trading(c, yy, mm, dd, t)) {
            *y = yy;
            *m = mm;
            *d = dd;
            return 0;
        }
    }
}

int market_next_trading_day(const market_calendar_t *c, int *y, int *m, int *d)
{
    return step_trading_day(c, y, m, d, 1);
}

int market_previous_trading_day(const market_calendar_t *c, int *y, int *m, int *d)
{
    return step_trading_day(c, y, m, d, -1);
}
