/* calendar_view.c — the calendar's days of a range (calendar_view.h). */
#include "sched/calendar_view.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

const char *const calendar_kind_text[] = { "holiday", "closure", "early close" };
const char *const calendar_kind_json[] = { "holiday", "closure", "early_close" };

static const char *const weekday_names[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

int calendar_view_day(const market_calendar_t *cal, int64_t t, calendar_day_t *out)
{
    int y, m, d;
    clock_civil_from_days(t, &y, &m, &d);
    memset(out, 0, sizeof *out);
    clock_format_date(t * 86400, out->date);
    out->weekday = weekday_names[clock_weekday(t)];
    int trading = market_is_trading_day(cal, y, m, d);
    assert(trading >= 0); /* the range was checked against the calendar's years */
    if (trading) {
        int open_min, close_min;
        if (market_is_early_close(cal, y, m, d) != 1 || market_session(cal, y, m, d, &open_min, &close_min) != 0)
            return 0;
        out->kind = DAY_EARLY_CLOSE;
        snprintf(out->close, sizeof out->close, "%02d:%02d", close_min / 60, close_min % 60);
        return 1;
    }
    if (market_is_holiday(cal, y, m, d, &out->name) != 1)
        return 0; /* a weekend */
    /* market_calendar.h: closures are named "unscheduled closure (...)". */
    const char closure_prefix[] = "unscheduled closure";
    out->kind = strncmp(out->name, closure_prefix, sizeof closure_prefix - 1) == 0 ? DAY_CLOSURE : DAY_HOLIDAY;
    return 1;
}

/* The trading day after (dir > 0) or before y-m-d as "YYYY-MM-DD", or ""
 * when it would fall outside the calendar's years. */
static void trading_day_near(const market_calendar_t *cal, int y, int m, int d, int dir, char out[CLOCK_DATE_LEN])
{
    int found = dir > 0 ? market_next_trading_day(cal, &y, &m, &d) : market_previous_trading_day(cal, &y, &m, &d);
    out[0] = '\0';
    if (found == 0)
        clock_format_date(clock_days_from_civil(y, m, d) * 86400, out);
}

calendar_view_status_t calendar_view_make(const market_calendar_t *cal, const char *from, int64_t days,
                                          calendar_view_t *v, char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    if (from != NULL) {
        int64_t epoch_s;
        if (clock_parse_date(from, strlen(from), &epoch_s) != 0) {
            snprintf(err, errlen, "'%s' is not a date: write it as YYYY-MM-DD (2026-11-20)", from);
            return CALENDAR_VIEW_BAD_DATE;
        }
        v->first = clock_floor_div(epoch_s, 86400);
    } else {
        tz_t *new_york = NULL;
        char why[512];
        if (tz_load("America/New_York", &new_york, why, sizeof why) != 0) {
            snprintf(err, errlen, "today in New York: %s", why);
            return CALENDAR_VIEW_NO_ZONE;
        }
        int64_t now = clock_now_ms() / 1000;
        tz_tm_t tm;
        tz_local(new_york, now, &tm);
        tz_format_time(new_york, now, v->now);
        tz_free(new_york);
        v->first = clock_days_from_civil(tm.year, tm.month, tm.day);
        v->has_now = 1;
        v->open_now = market_is_open(cal, tm.year, tm.month, tm.day, tm.hour * 60 + tm.minute) == 1;
    }
    v->last = v->first + days - 1;
    int y, m, d, last_y, last_m, last_d;
    clock_civil_from_days(v->first, &y, &m, &d);
    clock_civil_from_days(v->last, &last_y, &last_m, &last_d);
    clock_format_date(v->first * 86400, v->from);
    clock_format_date(v->last * 86400, v->to);
    if (y < MARKET_YEAR_MIN || last_y > MARKET_YEAR_MAX) {
        snprintf(err, errlen, "%s for %lld days: the %s calendar covers %d-01-01 to %d-12-31 only", v->from,
                 (long long)days, cal->name, MARKET_YEAR_MIN, MARKET_YEAR_MAX);
        return CALENDAR_VIEW_OUT_OF_RANGE;
    }
    trading_day_near(cal, y, m, d, 1, v->next);
    trading_day_near(cal, y, m, d, -1, v->previous);
    return CALENDAR_VIEW_OK;
}

static json_t *date_or_null(const char *date)
{
    return date[0] != '\0' ? json_string(date) : json_null();
}

json_t *calendar_view_json(const market_calendar_t *cal, const calendar_view_t *v)
{
    json_t *days = json_array();
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:o}", "calendar", cal->name, "from", v->from, "to",
                          v->to, "days", (json_int_t)(v->last - v->first + 1), "closures_and_early_closes", days,
                          "next_trading_day", date_or_null(v->next), "previous_trading_day",
                          date_or_null(v->previous));
    if (o == NULL)
        return NULL;
    for (int64_t t = v->first; t <= v->last; t++) {
        calendar_day_t day;
        if (!calendar_view_day(cal, t, &day))
            continue;
        json_t *row = json_pack("{s:s, s:s, s:s}", "date", day.date, "weekday", day.weekday, "kind",
                                calendar_kind_json[day.kind]);
        if (row != NULL && day.name != NULL)
            json_object_set_new(row, "name", json_string(day.name));
        if (row != NULL && day.close[0] != '\0')
            json_object_set_new(row, "close", json_string(day.close));
        if (row == NULL || json_array_append_new(days, row) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    if (v->has_now) {
        json_object_set_new(o, "now", json_string(v->now));
        json_object_set_new(o, "open_now", json_boolean(v->open_now));
    }
    return o;
}
