/* test_job_children.c — the rule that no two jobs of a flow or of a task's
 * children share an id (job_children_repeat, job_children_payload), and
 * the stored times read back as µs (clock_parse_iso_us). */
#include <jansson.h>
#include <stdlib.h>

#include "core/job_children.h"
#include "core/clock.h"
#include "unit.h"

TEST(job_children_repeat_finds_the_first_repeat)
{
    size_t first = 99, again = 99;
    const char *none[] = { "a", "b", "c" };
    CHECK_INT(job_children_repeat(none, 3, &first, &again), 0);
    CHECK_INT(job_children_repeat(none, 0, &first, &again), 0);
    const char *two[] = { "dd1", "dd1" };
    CHECK_INT(job_children_repeat(two, 2, &first, &again), 1);
    CHECK_INT(first, 0);
    CHECK_INT(again, 1);
    /* "b" repeats at 3 before "a" repeats at 4; a third "b" changes nothing. */
    const char *mixed[] = { "a", "b", "c", "b", "a", "b" };
    CHECK_INT(job_children_repeat(mixed, 6, &first, &again), 1);
    CHECK_INT(first, 1);
    CHECK_INT(again, 3);
    /* The parent last, with a child's id. */
    const char *parent[] = { "k1", "pp1", "k2", "pp1" };
    CHECK_INT(job_children_repeat(parent, 4, &first, &again), 1);
    CHECK_INT(first, 1);
    CHECK_INT(again, 3);
}

TEST(job_children_payload_refuses_a_repeated_id)
{
    json_t *data = json_pack("{s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}], s:s}", "children", "type", "noop", "id", "k1",
                             "type", "noop", "id", "k2", "type", "noop", "id", "k1", "policy", "fail");
    char err[512] = "";
    size_t len = 0;
    char *payload = job_children_payload(data, "backtest", 1 << 20, &len, err, sizeof err);
    CHECK(payload == NULL);
    CHECK_STR(err, "child 2 of the task's children is refused: id k1 repeats child 0's (an id names one job)");
    free(payload);
    json_decref(data);

    data = json_pack("{s:[{s:s, s:s}, {s:s}, {s:s}]}", "children", "type", "noop", "id", "k1", "type", "noop",
                     "type", "noop");
    payload = job_children_payload(data, "backtest", 1 << 20, &len, err, sizeof err);
    CHECK(payload != NULL); /* generated ids never repeat */
    free(payload);
    json_decref(data);
}

TEST(clock_parse_iso_us_reads_stored_times)
{
    CHECK_INT(clock_parse_iso_us("1970-01-01T00:00:01.500Z"), 1500000);
    CHECK_INT(clock_parse_iso_us("2026-01-15T10:30:00.123Z"), 1768473000123000LL);
    CHECK_INT(clock_parse_iso_us("2026-01-15T10:30:00Z"), 1768473000000000LL);
    CHECK_INT(clock_parse_iso_us("2026-01-15T10:30:00.123456789Z"), 1768473000123456LL);
    CHECK_INT(clock_parse_iso_us("2026-01-15T10:30:00.Z"), 0);
    CHECK_INT(clock_parse_iso_us("2026-01-15T10:30:00.1x"), 0);
    CHECK_INT(clock_parse_iso_us("2026-01-15"), 0);
    CHECK_INT(clock_parse_iso_us(""), 0);
    CHECK_INT(clock_parse_iso_us(NULL), 0);
}
