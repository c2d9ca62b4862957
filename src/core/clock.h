/* clock.h — wall and monotonic time, ISO 8601 timestamps, duration strings. */
#ifndef TICKQ_CLOCK_H
#define TICKQ_CLOCK_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#define CLOCK_ISO_LEN 80 /* "2026-01-15T10:30:00.123Z" (24) plus room gcc can prove */

/* Microseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t clock_now_us(void);
/* Milliseconds since the Unix epoch. */
int64_t clock_now_ms(void);
/* Milliseconds from CLOCK_MONOTONIC: for deadlines and durations only. */
int64_t clock_mono_ms(void);
/* Microseconds from CLOCK_MONOTONIC. */
int64_t clock_mono_us(void);

/* Writes `us` (epoch microseconds) as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out. */
void clock_iso8601(int64_t us, char out[CLOCK_ISO_LEN]);

/* Parses a duration: a bare decimal number means `unit_ms` units ("30"
 * seconds when unit_ms is 1000), or a number with a suffix ms, s, m, h
 * ("500ms", "1.5s"). Fractions are allowed and rounded to the millisecond;
 * a duration above 0 that would round to 0 ms is refused. Returns 0 and
 * sets *ms, or -1 for anything else (empty, negative, hex, inf or nan,
 * junk after the number, overflow). */
int clock_parse_duration(const char *s, int64_t unit_ms, int64_t *ms);

/* clock_parse_duration, saying what is wrong with s for a message ("less
 * than a millisecond", ...); NULL, with *ms, when it is a duration. */
const char *clock_duration_problem(const char *s, int64_t unit_ms, int64_t *ms);

/* A duration in milliseconds as a person writes it: "250 ms", "30 s",
 * "5 min", "7 days" (whole units where it divides, else seconds). */
void clock_describe_ms(int64_t ms, char *out, size_t outlen);

/* A time as tickq stores and prints it, "YYYY-MM-DDTHH:MM:SS[.fff…]Z" (the
 * Z optional; digits past the microsecond dropped), as epoch µs; 0 for
 * NULL or anything else. */
int64_t clock_parse_iso_us(const char *iso);

/* Proleptic Gregorian calendar arithmetic. */
int clock_is_leap_year(int y);
int clock_days_in_month(int y, int m);      /* m 1-12 */
int clock_weekday(int64_t days);            /* of a day since 1970-01-01: 0 Sunday .. 6 Saturday */
int64_t clock_floor_div(int64_t a, int64_t b); /* rounds toward minus infinity (b > 0) */

/* Calendar days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t clock_days_from_civil(int y, int m, int d);
void clock_civil_from_days(int64_t days, int *y, int *m, int *d);

/* Parses "YYYY-MM-DD" (exactly len characters) into epoch seconds at 00:00
 * UTC; -1 when malformed or not a real date (2023-02-29). */
int clock_parse_date(const char *s, size_t len, int64_t *epoch_s);
/* Parses "YYYY-MM-DDTHH:MM:SS" (a space for the T and a final Z are
 * accepted), UTC; -1 when malformed. */
int clock_parse_datetime(const char *s, size_t len, int64_t *epoch_s);
/* Parses an ISO 8601 date or time as strategy tasks take it:
 * "YYYY-MM-DD", or "YYYY-MM-DDTHH:MM[:SS[.fff]]" with an optional "Z" or
 * "+HH:MM"/"-HH:MM" offset (none means UTC). *date_only tells which. */
int clock_parse_iso8601(const char *s, int64_t *epoch_s, int *date_only);

#define CLOCK_DATE_LEN 48 /* room for either format below, as gcc can prove it */
/* "YYYY-MM-DD" and "YYYY-MM-DDTHH:MM:SSZ" of epoch seconds (UTC). */
void clock_format_date(int64_t epoch_s, char out[CLOCK_DATE_LEN]);
void clock_format_datetime(int64_t epoch_s, char out[CLOCK_DATE_LEN]);
/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" of epoch microseconds (UTC): the stored
 * form of an opportunity scan's time. */
void clock_format_datetime_us(int64_t us, char out[CLOCK_DATE_LEN]);
/* A bar's time as tickq shows it: the date alone for daily and longer bars
 * (daily != 0), else the date and time. */
void clock_format_bar(int daily, int64_t epoch_s, char out[CLOCK_DATE_LEN]);

/* Sleeps `ms` milliseconds, resuming after signals unless *stop becomes set
 * (stop may be NULL). */
void clock_sleep_ms(int64_t ms, volatile sig_atomic_t *stop);

#endif
