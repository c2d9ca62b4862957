/* clock.c — wall and monotonic time, ISO 8601 timestamps, duration strings.
 *
 * Every timestamp tickq shows or stores is UTC with millisecond precision;
 * deadlines use CLOCK_MONOTONIC so that a wall-clock step never kills a job. */
#include "clock.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t clock_read_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_now_us(void) { return clock_read_us(CLOCK_REALTIME); }
int64_t clock_now_ms(void) { return clock_read_us(CLOCK_REALTIME) / 1000; }
int64_t clock_mono_us(void) { return clock_read_us(CLOCK_MONOTONIC); }
int64_t clock_mono_ms(void) { return clock_read_us(CLOCK_MONOTONIC) / 1000; }

void clock_iso8601(int64_t us, char out[CLOCK_ISO_LEN])
{
    time_t secs = (time_t)(us / 1000000);
    int millis = (int)((us % 1000000) / 1000);
    if (us < 0 && us % 1000000 != 0) { /* floor toward the past */
        secs -= 1;
        millis = (int)((us % 1000000 + 1000000) / 1000);
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, CLOCK_ISO_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

int clock_parse_duration(const char *s, int64_t unit_ms, int64_t *ms)
{
    if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || !isfinite(v) || v < 0)
        return -1;
    double scale;
    if (*end == '\0')
        scale = (double)unit_ms;
    else if (strcmp(end, "ms") == 0)
        scale = 1;
    else if (strcmp(end, "s") == 0)
        scale = 1000;
    else if (strcmp(end, "m") == 0)
        scale = 60000;
    else if (strcmp(end, "h") == 0)
        scale = 3600000;
    else
        return -1;
    double total = v * scale;
    if (total > 9.0e15) /* ~285,000 years: clearly a typo */
        return -1;
    *ms = (int64_t)llround(total);
    return 0;
}

void clock_sleep_ms(int64_t ms, volatile sig_atomic_t *stop)
{
    if (ms <= 0)
        return;
    struct timespec req = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    struct timespec rem;
    while (nanosleep(&req, &rem) == -1 && errno == EINTR) {
        if (stop != NULL && *stop)
            return;
        req = rem;
    }
}
