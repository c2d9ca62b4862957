/* tzif.c — fuzz target: time zone files (src/tz.c: TZif versions 1-4,
 * RFC 8536, and the POSIX TZ rule at their end), as every schedule's
 * `timezone` loads them from the tz database ($TZDIR or
 * /usr/share/zoneinfo).
 *
 * Input: a zone file, written to a temp $TZDIR as Fuzz/Zone and loaded
 * with tz_load. Properties: a refused file has a message; in a loaded
 * zone, at instants from year 1 to 9999 (and around each input's own
 * numbers), the offset lies in the zone's offset range, the broken-down
 * local time is a real date and time with that offset, the formatted time
 * is not empty, and every instant tz_from_local_secs gives for a local time
 * shows that local time. */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "sched/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char folder[64];
static char zone_path[128];

static void remove_folder(void) { fuzz_remove_temp_folder(folder); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_temp_folder(folder, "tz");
    char sub[128];
    snprintf(sub, sizeof sub, "%s/Fuzz", folder);
    if (mkdir(sub, 0700) != 0)
        fuzz_fail("cannot make %s", sub);
    snprintf(zone_path, sizeof zone_path, "%s/Zone", sub);
    setenv("TZDIR", folder, 1);
    atexit(remove_folder);
    return 0;
}

static void check_instant(const tz_t *z, int64_t t)
{
    if (t < TZ_FIRST_S || t > TZ_LAST_S)
        return;
    int32_t lo, hi;
    tz_offset_range(z, &lo, &hi);
    tz_tm_t tm;
    tz_local(z, t, &tm);
    int32_t off = tm.utoff;
    if (off < lo || off > hi)
        fuzz_fail("offset %d at %lld outside the zone's range %d..%d", off, (long long)t, lo, hi);
    if (tm.month < 1 || tm.month > 12 || tm.day < 1 || tm.day > 31 || tm.hour < 0 ||
        tm.hour > 23 || tm.minute < 0 || tm.minute > 59 || tm.second < 0 || tm.second > 59 || tm.wday < 0 ||
        tm.wday > 6 || memchr(tm.abbr, '\0', sizeof tm.abbr) == NULL)
        fuzz_fail("instant %lld broken down as %d-%d-%d %d:%d:%d wday %d", (long long)t, tm.year, tm.month, tm.day,
                  tm.hour, tm.minute, tm.second, tm.wday);
    char text[TZ_TIME_LEN];
    tz_format_time(z, t, text);
    if (text[0] == '\0')
        fuzz_fail("instant %lld formats as nothing", (long long)t);
    int64_t local = t + off, out[2];
    int n = tz_from_local_secs(z, local, out);
    if (n < 0 || n > 2)
        fuzz_fail("tz_from_local_secs returned %d", n);
    for (int i = 0; i < n; i++) {
        if (out[i] < TZ_FIRST_S || out[i] > TZ_LAST_S)
            continue;
        tz_local(z, out[i], &tm);
        if (out[i] + tm.utoff != local)
            fuzz_fail("local %lld: instant %lld shows %lld", (long long)local, (long long)out[i],
                      (long long)(out[i] + tm.utoff));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(zone_path, "wb");
    if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        fuzz_fail("cannot write %s", zone_path);
    tz_t *z = NULL;
    char err[1024] = "";
    if (tz_load("Fuzz/Zone", &z, err, sizeof err) != 0) {
        if (err[0] == '\0')
            fuzz_fail("refused without a message");
        return 0;
    }
    if (z == NULL)
        fuzz_fail("a zone file loaded as UTC");
    static const int64_t fixed[] = { TZ_FIRST_S, -2208988800, -1, 0, 1, 1000000000, 1700000000, 1772956800,
                                     2147483647, 2147483648LL, 4102444800, 32503680000, TZ_LAST_S };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_instant(z, fixed[i]);
    /* Instants near the file's own 32- and 64-bit numbers: its transitions. */
    for (size_t i = 0; i + 8 <= size && i < 512; i += 4) {
        int32_t v32 = (int32_t)((uint32_t)data[i] << 24 | (uint32_t)data[i + 1] << 16 | (uint32_t)data[i + 2] << 8 |
                                data[i + 3]);
        check_instant(z, (int64_t)v32 - 1);
        check_instant(z, v32);
    }
    tz_free(z);
    return 0;
}
