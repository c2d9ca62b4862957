/* cron.c — fuzz target: the cron parser and the next fire time
 * (src/cron.c), as schedule files and `tickq schedule next` reach them.
 *
 * Input: one byte choosing the zone (low 3 bits: UTC or one of seven zones
 * with odd rules: DST, half-hour DST, 45-minute offsets, a skipped day)
 * and the start time (high 5 bits), then the expression (cut at a NUL).
 *
 * Properties: a refused expression has a message; an accepted one parses
 * again from its kept text to the same masks; its next fire time is after
 * the start, is the same when asked from one second before it, falls on a
 * whole minute the expression matches in local time (or at the end of a
 * DST gap, where a skipped time fires), formats as ISO 8601 that reads back
 * to the same instant (unless the offset has seconds); in UTC no minute between the start and it (up to
 * three days) matches. */
#include <stdint.h>
#include <string.h>

#include "core/clock.h"
#include "sched/cron.h"
#include "fuzz.h"
#include "sched/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const zones[8] = {
    NULL, "America/New_York", "Europe/London", "Australia/Lord_Howe",
    "Asia/Kathmandu", "America/St_Johns", "Pacific/Apia", "America/Sao_Paulo",
};

#define FIRST_START TZ_FIRST_S
#define LAST_START (TZ_LAST_S - 86400LL * CRON_MAX_DAYS - 1)

static const int64_t starts[32] = {
    0, 1700000000, 1772953199, 1772956800, 1793512799, 1793516400, 1711846799, 1729990800,
    1325152800, 1325239199, -2208988800, 4102444800, 951782400, 1078012800, FIRST_START, LAST_START,
    FIRST_START - 1, LAST_START + 1, 1767225599, 1767225600, 1735689599, 1609459200, 2147483647, 2147483648LL,
    -1, 86399, 1234567890, 1583650800, 1604210400, 1616886000, 1635638400, 1893456000,
};

static int masks_equal(const cron_t *a, const cron_t *b)
{
    return a->minutes == b->minutes && a->hours == b->hours && a->mdays == b->mdays && a->months == b->months &&
           a->wdays == b->wdays && a->flags == b->flags;
}

/* The expression's rules at one local time, written again here from
 * cron.h's comment (minute, hour and month bits; the day of month and the
 * day of week: either, or both when one field starts with `*`), so that
 * cron_next is checked against something it does not share. */
static int matches(const cron_t *c, const tz_tm_t *tm)
{
    if (!(c->minutes >> tm->minute & 1) || !(c->hours >> tm->hour & 1) || !(c->months >> tm->month & 1))
        return 0;
    int dom = c->mdays >> tm->day & 1, dow = c->wdays >> tm->wday & 1;
    return c->flags & (CRON_DOM_STAR | CRON_DOW_STAR) ? dom && dow : dom || dow;
}

static int32_t offset_at(const tz_t *z, int64_t t)
{
    tz_tm_t tm;
    tz_local(z, t, &tm);
    return tm.utoff;
}

static void check_next(const cron_t *c, int64_t after)
{
    char err[512] = "";
    int64_t next;
    if (cron_next(c, after, &next, err, sizeof err) != 0) {
        if (err[0] == '\0')
            fuzz_fail("cron_next failed without a message");
        if (after >= FIRST_START && after <= LAST_START)
            fuzz_fail("\"%s\" in %s has no time after %lld: %s", c->expr, cron_zone_name(c), (long long)after, err);
        return;
    }
    if (next <= after)
        fuzz_fail("\"%s\": next %lld is not after %lld", c->expr, (long long)next, (long long)after);
    int64_t again = 0;
    if (next - 1 <= LAST_START && (cron_next(c, next - 1, &again, err, sizeof err) != 0 || again != next))
        fuzz_fail("\"%s\" in %s: next after %lld is %lld, but from %lld it is %lld", c->expr, cron_zone_name(c),
                  (long long)after, (long long)next, (long long)(next - 1), (long long)again);
    tz_tm_t tm;
    tz_local(c->zone, next, &tm);
    int gap_end = offset_at(c->zone, next - 1) != offset_at(c->zone, next);
    if (tm.second != 0 || (!matches(c, &tm) && !gap_end))
        fuzz_fail("\"%s\" in %s fires at %lld, local %04d-%02d-%02d %02d:%02d:%02d, which it does not match",
                  c->expr, cron_zone_name(c), (long long)next, tm.year, tm.month, tm.day, tm.hour, tm.minute,
                  tm.second);
    char text[CRON_TIME_LEN];
    cron_format_time(c, next, text);
    int64_t back;
    int date_only;
    /* (An LMT offset with seconds is written +05:41:16, which ISO 8601 has no form for.) */
    if (tm.year >= 1000 && tm.utoff % 60 == 0 && (clock_parse_iso8601(text, &back, &date_only) != 0 || back != next))
        fuzz_fail("\"%s\": %lld formats as %s, which reads back as %lld", c->expr, (long long)next, text,
                  (long long)back);
    if (c->zone == NULL) {
        /* No earlier whole minute matches (first minute after `after`
         * onwards, up to three days). */
        int64_t t = clock_floor_div(after, 60) * 60 + 60;
        for (int i = 0; i < 3 * 1440 && t < next; i++, t += 60) {
            tz_tm_t m;
            tz_local(c->zone, t, &m);
            if (matches(c, &m))
                fuzz_fail("\"%s\" matches %lld, before its next time %lld", c->expr, (long long)t, (long long)next);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *zone = zones[data[0] & 7];
    int64_t after = starts[data[0] >> 3];
    char *expr = fuzz_strndup(data + 1, size - 1);
    cron_t c;
    memset(&c, 0, sizeof c);
    char err[512] = "";
    if (cron_parse(expr, &c, err, sizeof err) != 0) {
        if (err[0] == '\0')
            fuzz_fail("refused without a message");
        free(expr);
        return 0;
    }
    cron_t again;
    memset(&again, 0, sizeof again);
    if (cron_parse(c.expr, &again, err, sizeof err) != 0 || !masks_equal(&c, &again))
        fuzz_fail("\"%s\" parses, its kept text \"%s\" does not parse the same (%s)", expr, c.expr, err);
    if (cron_set_zone(&c, zone, err, sizeof err) != 0)
        fuzz_fail("cannot load zone %s: %s", zone, err);
    check_next(&c, after);
    cron_release(&c);
    free(expr);
    return 0;
}
