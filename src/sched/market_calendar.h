/* market_calendar.h — exchange trading calendars: holidays, early closes, sessions.
 *
 * One calendar is known: XNYS, the New York Stock Exchange, computed by rule
 * for every year from MARKET_YEAR_MIN to MARKET_YEAR_MAX, plus the exchange's
 * unscheduled closures since 2000 built in and a configurable list of future
 * ones. Pure date logic: dates are New York calendar dates and session times
 * are New York local minutes since midnight; time zones are the caller's job.
 *
 * Date queries return 1 (yes), 0 (no), or -1 when the date is not a real
 * date or lies outside the supported years, so test them with `== 1`.
 * A calendar is read-only once configured and may be shared between threads. */
#ifndef TICKQ_MARKET_CALENDAR_H
#define TICKQ_MARKET_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#define MARKET_YEAR_MIN 2000 /* the rules below are not the exchange's before 2000 */
#define MARKET_YEAR_MAX 9999

#define MARKET_OPEN_MIN 570         /* 09:30 */
#define MARKET_CLOSE_MIN 960        /* 16:00 */
#define MARKET_EARLY_CLOSE_MIN 780  /* 13:00 */

typedef struct {
    const char *name;  /* "XNYS" */
    int64_t *closures; /* configured extra closures: epoch days, sorted, unique */
    size_t n_closures, cap_closures;
} market_calendar_t;

/* Sets up the calendar called `name` ("XNYS", any case). Returns 0, or -1
 * with a message in err for an unknown name; *c is safe to free either way. */
int market_calendar_init(market_calendar_t *c, const char *name, char *err, size_t errlen);
/* Adds a full-day closure the exchange has announced (a day of mourning, a
 * storm). Adding a date twice, or a day that is closed anyway, changes nothing.
 * Returns 0, or -1 with a message in err (not a date, year out of range,
 * out of memory). */
int market_calendar_add_closure(market_calendar_t *c, int y, int m, int d, char *err, size_t errlen);
/* Releases the configured closures; accepts NULL. */
void market_calendar_free(market_calendar_t *c);

/* 1 when the weekday y-m-d is a full-day closure: a holiday (as observed:
 * *name is e.g. "Independence Day (observed)"), a built-in unscheduled
 * closure or a configured one (*name starts "unscheduled closure"). 0 for
 * other days, weekends included. name may be NULL; it is set to a static
 * string on 1 and to NULL otherwise. */
int market_is_holiday(const market_calendar_t *c, int y, int m, int d, const char **name);
/* 1 when the exchange trades on y-m-d: a weekday that is not a holiday. */
int market_is_trading_day(const market_calendar_t *c, int y, int m, int d);
/* 1 when y-m-d is a trading day that closes at 13:00 (MARKET_EARLY_CLOSE_MIN). */
int market_is_early_close(const market_calendar_t *c, int y, int m, int d);
/* On a trading day: returns 0 with the session's open and close in local
 * minutes since midnight (570 and 960, or 780 on an early close); either
 * pointer may be NULL. Returns -1 on a closed day and for dates out of range. */
int market_session(const market_calendar_t *c, int y, int m, int d, int *open_min, int *close_min);
/* 1 when local minute `minute` of y-m-d lies in the session, open and close
 * both included (9:30 to 16:00 is 570..960). */
int market_is_open(const market_calendar_t *c, int y, int m, int d, int minute);

/* Moves *y-*m-*d to the first trading day strictly after it (before it).
 * Returns 0, or -1 leaving the date untouched when the date is invalid or
 * the answer would fall outside the supported years. */
int market_next_trading_day(const market_calendar_t *c, int *y, int *m, int *d);
int market_previous_trading_day(const market_calendar_t *c, int *y, int *m, int *d);

#endif
