/* cron.h — cron expressions evaluated in an IANA time zone.
 *
 * An expression has five fields, minute hour day-of-month month day-of-week:
 *   `*`      every value            5/15    5-max/15 (as Vixie cron)
 *   5        one value              1-30/5  a range with a step
 *   1-5      a range                `*`/15  every 15th value from the minimum
 *   a,b-c/d  a list of any of these
 * Months take JAN-DEC and days of week SUN-SAT (any case, also in ranges:
 * MON-FRI); day of week 0 and 7 are both Sunday, so FRI-SUN and 5-0 are
 * read as 5-7. Other ranges must not wrap (22-2 is refused: write
 * 22-23,0-2). The macros @yearly (@annually), @monthly, @weekly, @daily
 * (@midnight) and @hourly are accepted too; "L", "W", "#" and "?" are not.
 *
 * Day matching follows Vixie cron: when the day-of-month and the day-of-week
 * fields both start with something other than `*`, a day matches if EITHER
 * matches ("0 0 13 * FRI": every 13th and every Friday); when one of them
 * starts with `*`, a day must match both, which for a plain `*` means only
 * the other one counts. As in Vixie cron, a field such as `*`/2 counts
 * as starting with `*`.
 *
 * Times are local wall-clock times of the schedule's zone (UTC unless
 * cron_set_zone() named one). Around DST changes it follows classic cron:
 *   - Clock-following schedules (hour field starting with `*`: `*`, `*`/2,
 *     as Vixie cron's HR_STAR) fire whenever the wall clock shows a
 *     matching time: nothing fires in a skipped hour, and a repeated hour
 *     fires in both passes.
 *   - Every other schedule has fixed hours (values, lists, ranges,
 *     0-23/2): a local time that does not exist fires at the first instant
 *     after it (the end of the gap, e.g. 03:00 on a 02:00->03:00 day), and
 *     a local time that occurs twice fires once, at its first occurrence.
 *
 * Zones come from the system tz database (/usr/share/zoneinfo, or $TZDIR)
 * through tz.h, so every conversion is a pure function of the loaded zone —
 * no TZ, tzset() or global state.
 *
 * A cron_t with a zone owns it: release it with cron_release() and do not
 * copy such a cron_t by assignment (both copies would own the zone). */
#ifndef TICKQ_CRON_H
#define TICKQ_CRON_H

#include <stddef.h>
#include <stdint.h>

#include "sched/tz.h"

#define CRON_EXPR_MAX 256    /* longest expression kept, with its NUL */
#define CRON_TIME_LEN TZ_TIME_LEN /* "2026-03-09T09:30:00-04:00" plus room gcc can prove */
#define CRON_MAX_DAYS 146097 /* cron_next searches 400 years of local days */

/* cron_t.flags */
#define CRON_DOM_STAR 1u     /* day-of-month field starts with `*` */
#define CRON_DOW_STAR 2u     /* day-of-week field starts with `*` */
#define CRON_CLOCK_HOURS 4u  /* hour field starts with `*`: follows the clock */

/* Optional per-day filter, called with a local date (in the schedule's zone)
 * on which the expression matches. Return 0 to skip the day, nonzero to let
 * it fire; *open_min and *close_min arrive as 0 and 1439 and may be narrowed
 * to a window of local minutes since midnight, both ends inclusive (a New
 * York session: 570 and 960). A time is tested against the window by the
 * time the schedule names (02:30 on a day 02:30 does not exist is 150). */
typedef int (*cron_day_fn)(void *ctx, int y, int m, int d, int *open_min, int *close_min);

typedef tz_t cron_zone_t; /* a loaded tz database zone (tz.h) */

typedef struct {
    uint64_t minutes;        /* bit n: minute n (0-59) */
    uint32_t hours;          /* bit n: hour n (0-23) */
    uint32_t mdays;          /* bit n: day of month n (1-31) */
    uint16_t months;         /* bit n: month n (1-12) */
    uint8_t wdays;           /* bit n: day of week n (0 Sunday - 6 Saturday) */
    uint8_t flags;           /* CRON_DOM_STAR | CRON_DOW_STAR | CRON_CLOCK_HOURS */
    char expr[CRON_EXPR_MAX]; /* the expression as given, trimmed */
    tz_t *zone;              /* owned; NULL means UTC */
    cron_day_fn day_fn;      /* NULL: every matching day, all day */
    void *day_ctx;
} cron_t;

/* Parses a five-field expression (or a macro) into *out: UTC, no day
 * filter. Returns 0, or -1 with err naming the field and value at fault;
 * an expression that can never fire ("0 0 30 2 *") is an error too. On
 * failure *out is untouched. *out must not hold a zone (cron_release it). */
int cron_parse(const char *expr, cron_t *out, char *err, size_t errlen);

/* Loads the zone `tz` ("America/New_York"; NULL or "UTC" for UTC) from the
 * tz database and attaches it, releasing any zone c had. Returns 0, or -1
 * with err (unknown name, unreadable or malformed file) and c unchanged. */
int cron_set_zone(cron_t *c, const char *tz, char *err, size_t errlen);

/* Name of the schedule's zone: "UTC" when none was set. */
const char *cron_zone_name(const cron_t *c);

/* Attaches a day filter (NULL removes it); ctx is passed back to fn and
 * stays owned by the caller. */
void cron_set_day_filter(cron_t *c, cron_day_fn fn, void *ctx);

/* Releases the zone c owns (c may be NULL); c is left a valid UTC schedule. */
void cron_release(cron_t *c);

/* Sets *next to the first fire time strictly after `after` (both epoch
 * seconds). Returns 0, or -1 with err when nothing fires within 400 years
 * (the Gregorian cycle: only a day filter can cause that, since cron_parse
 * refuses expressions that never fire) or `after` is outside
 * [TZ_FIRST_S, TZ_LAST_S - 400 years) (0001-01-03 to 9599-12-30). Cost: O(days searched) plus, on matching days, up to one zone
 * lookup per matching minute: about a microsecond for usual schedules, tens
 * of microseconds for "0 0 29 2 *"; an all-rejecting day filter costs one
 * call per matching day of 400 years. */
int cron_next(const cron_t *c, int64_t after, int64_t *next, char *err, size_t errlen);

/* Writes t as ISO 8601 local time with the zone's offset,
 * "2026-03-09T09:30:00-04:00" ("+00:00" for UTC). For the UTC form
 * "2026-03-09T13:30:00Z" use clock_format_datetime(). */
void cron_format_time(const cron_t *c, int64_t t, char out[CRON_TIME_LEN]);

#endif
