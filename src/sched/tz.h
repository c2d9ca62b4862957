/* tz.h — IANA time zones: TZif files read, local time <-> UTC.
 *
 * A zone comes from the system tz database (/usr/share/zoneinfo, or $TZDIR):
 * its TZif file (versions 1-4, RFC 8536) is parsed here, including the POSIX
 * TZ rule ("EST5EDT,M3.2.0,M11.1.0") it ends with for instants after its last
 * transition, so every conversion is a pure function of the loaded zone — no
 * TZ, tzset() or global state. A loaded zone is immutable: any number of
 * readers may share it.
 *
 * A NULL tz_t is UTC: tz_load() of NULL or "UTC" yields NULL, and every
 * function below takes NULL as UTC. Leap-second zones (right/...) are
 * refused. Times are epoch seconds; "local seconds" are days since
 * 1970-01-01 * 86400 plus seconds into the day, as the zone's wall clock
 * reads them. */
#ifndef TICKQ_TZ_H
#define TICKQ_TZ_H

#include <stddef.h>
#include <stdint.h>

#define TZ_NAME_MAX 128 /* longest zone name, with its NUL */
#define TZ_ABBR_MAX 16  /* longest abbreviation ("EDT", "+0530"), with its NUL */
#define TZ_TIME_LEN 48  /* "2026-03-09T09:30:00-04:00" plus room gcc can prove */

/* The instants this module shows exactly: 0001-01-03T00:00:00Z to
 * 9999-12-30T00:00:00Z, two days inside years 1-9999 so that local times
 * stay inside them too. Functions clamp other instants to this range. */
#define TZ_FIRST_S (-62135596800LL + 2 * 86400)
#define TZ_LAST_S (253402300800LL - 2 * 86400)

typedef struct tz tz_t; /* a loaded tz database zone */

/* A time broken down in a zone. */
typedef struct {
    int year, month, day, hour, minute, second;
    int wday;                /* 0 Sunday - 6 Saturday */
    int32_t utoff;           /* seconds east of UTC (New York in winter: -18000) */
    int isdst;
    char abbr[TZ_ABBR_MAX];  /* "EDT", "GMT", "+0530"... */
} tz_tm_t;

/* Loads the zone `name` ("America/New_York") into *out, which the caller
 * releases with tz_free(); NULL or "UTC" gives *out = NULL (UTC, nothing to
 * load). Returns 0, or -1 with err naming the zone and the fix (not a tz
 * database name, unknown name, unreadable or malformed file) and *out
 * untouched. err may be NULL. */
int tz_load(const char *name, tz_t **out, char *err, size_t errlen);

/* Releases a zone; z may be NULL. */
void tz_free(tz_t *z);

/* Whether zone name `name` is a fixed offset without daylight-saving time
 * that is almost always a mistake for a market schedule: the legacy
 * abbreviation zones EST, MST and HST, and Etc/GMT+N / Etc/GMT-N (N from 1
 * to 14; also without "Etc/" and under "posix/"). EST is New York's winter
 * offset all year: an hour off the market from March to November. UTC and
 * its aliases (Etc/GMT, Etc/GMT+0, GMT, Zulu...) are deliberate and pass, as
 * do region names (Asia/Tokyo, America/Phoenix) whatever their DST, and
 * EST5EDT-style zones, which have DST. Returns 1 with a warning in msg that
 * names the zone, its offset and the zone to use instead ("EST" ->
 * America/New_York); else 0 with msg untouched. The rule is by name only,
 * the same on every tz database version. */
int tz_fixed_offset_warning(const char *name, char *msg, size_t msglen);

/* The name the zone was loaded by: "UTC" for NULL. */
const char *tz_name(const tz_t *z);

/* The smallest and largest offsets z ever shows (0 and 0 for UTC): every
 * instant with local seconds L lies in [L - *max, L - *min]. */
void tz_offset_range(const tz_t *z, int32_t *min, int32_t *max);

/* Breaks instant t down in z (t is clamped to [TZ_FIRST_S, TZ_LAST_S]). */
void tz_local(const tz_t *z, int64_t t, tz_tm_t *out);

/* Instants at which z shows local seconds `local` (the wall-clock time
 * counted like epoch seconds: days_from_civil * 86400 + h * 3600 + mi * 60).
 * Returns 1 or 2 (two in a repeated hour, earlier first) with out filled;
 * or 0 when that local time is skipped, with out[0] the first instant
 * after the gap. */
int tz_from_local_secs(const tz_t *z, int64_t local, int64_t out[2]);

/* Writes t as ISO 8601 local time with z's offset,
 * "2026-03-09T09:30:00-04:00" ("+00:00" for UTC; LMT offsets that have
 * seconds get them: "-04:56:02"). */
void tz_format_time(const tz_t *z, int64_t t, char out[TZ_TIME_LEN]);

#endif
