/* calendar_view.h — what `tickq schedule calendar` and GET /api/calendar
 * show of an exchange calendar: the weekdays of a range of days that are
 * not full trading days (holidays, closures, early closes), the trading
 * days around its first day, and, from today, whether the market is open
 * now. Dates are New York's (the XNYS calendar's); a date is an epoch day
 * (clock_days_from_civil) while walking, y-m-d when asking the calendar. */
#ifndef TICKQ_CALENDAR_VIEW_H
#define TICKQ_CALENDAR_VIEW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "sched/market_calendar.h"
#include "sched/tz.h"

#define CALENDAR_DAYS_MIN 1
#define CALENDAR_DAYS_MAX 3660       /* ten years and a few days */
#define CALENDAR_DAYS_DEFAULT 14

typedef enum { DAY_HOLIDAY, DAY_CLOSURE, DAY_EARLY_CLOSE } calendar_day_kind_t;

extern const char *const calendar_kind_text[]; /* "holiday", "closure", "early close" */
extern const char *const calendar_kind_json[]; /* "holiday", "closure", "early_close" */

/* A listed day: a full-day closure (name says why) or an early close. */
typedef struct {
    char date[CLOCK_DATE_LEN];
    const char *weekday;
    calendar_day_kind_t kind;
    const char *name;  /* holiday or closure; NULL for an early close */
    char close[16];    /* the session's close, "13:00"; "" when closed */
} calendar_day_t;

typedef struct {
    int64_t first, last;          /* epoch days, both included */
    char from[CLOCK_DATE_LEN], to[CLOCK_DATE_LEN];
    char next[CLOCK_DATE_LEN], previous[CLOCK_DATE_LEN];  /* "" when outside the calendar's years */
    int has_now;                  /* from today: the market now */
    int open_now;
    char now[TZ_TIME_LEN];        /* New York time */
} calendar_view_t;

typedef enum {
    CALENDAR_VIEW_OK = 0,
    CALENDAR_VIEW_BAD_DATE,       /* `from` is not YYYY-MM-DD */
    CALENDAR_VIEW_OUT_OF_RANGE,   /* the range leaves the calendar's years */
    CALENDAR_VIEW_NO_ZONE         /* America/New_York cannot be loaded (today's date) */
} calendar_view_status_t;

/* The view of `days` days from `from` (YYYY-MM-DD; NULL: today in New
 * York, with the market's state now). A status other than OK has its
 * message in err. */
calendar_view_status_t calendar_view_make(const market_calendar_t *cal, const char *from, int64_t days,
                                          calendar_view_t *v, char *err, size_t errlen);
/* Fills *out for epoch day t when it is a weekday other than a full
 * trading day; 0 (nothing to list) for full trading days and weekends. */
int calendar_view_day(const market_calendar_t *cal, int64_t t, calendar_day_t *out);
/* The view as `schedule calendar --json` prints it; NULL when out of memory. */
json_t *calendar_view_json(const market_calendar_t *cal, const calendar_view_t *v);

#endif
