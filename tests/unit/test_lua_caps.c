/* test_lua_caps.c — caps the Redis functions (src/lua) and the C side must
 * agree on: the C constant is the one rule, these tests hold the Lua text
 * to it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/queue.h"
#include "lua_scripts.h"
#include "unit.h"

/* The number right after the first `call` in the library, or -1. */
static long number_after(const char *call)
{
    const char *at = strstr(lua_library, call);
    return at != NULL ? strtol(at + strlen(call), NULL, 10) : -1;
}

TEST(reclaim_batch_is_queue_reclaim_batch)
{
    CHECK_INT(number_after("redis.pcall('XPENDING', stream, c.group, 'IDLE', min_idle, '-', '+', "),
              QUEUE_RECLAIM_BATCH);
    CHECK_INT(number_after("redis.pcall('XAUTOCLAIM', stream, c.group, reclaimer, min_idle, '0-0', 'COUNT', "),
              QUEUE_RECLAIM_BATCH);
}

/* The Lua ENTRY_FIELDS list, name by name, into names (at most max);
 * returns how many, or -1 when the list is not found. */
static int lua_entry_fields(char names[][32], int max)
{
    const char *at = strstr(lua_library, "local ENTRY_FIELDS = {");
    if (at == NULL)
        return -1;
    const char *end = strchr(at, '}');
    int n = 0;
    for (const char *p = strchr(at, '\''); p != NULL && p < end && n < max; p = strchr(p, '\'')) {
        const char *close = strchr(p + 1, '\'');
        if (close == NULL || close > end || close - p - 1 >= 32)
            return -1;
        snprintf(names[n++], 32, "%.*s", (int)(close - p - 1), p + 1);
        p = close + 1;
    }
    return n;
}

TEST(lua_entry_fields_are_queue_entry_field_names)
{
    char names[QUEUE_ENTRY_FIELD_COUNT + 4][32];
    int n = lua_entry_fields(names, QUEUE_ENTRY_FIELD_COUNT + 4);
    CHECK_INT(n, QUEUE_ENTRY_FIELD_COUNT);
    for (int i = 0; i < n && i < QUEUE_ENTRY_FIELD_COUNT; i++)
        CHECK_STR(names[i], queue_entry_field_names[i]);
}

/* The one XADD that writes a job entry (stream_append) names the fields
 * by hand, for speed: the same names in the same order. Its values are
 * variables, so every quoted string of the call is a field name. */
TEST(lua_stream_append_writes_the_entry_fields_in_order)
{
    static const char call[] = "redis.call('XADD', stream, '*', ";
    const char *at = strstr(lua_library, call);
    CHECK(at != NULL);
    if (at == NULL)
        return;
    CHECK(strstr(at + 1, call) == NULL); /* no second one to drift */
    const char *end = strchr(at, ')');
    CHECK(end != NULL);
    int n = 0;
    const char *p = at + strlen(call);
    for (p = strchr(p, '\''); p != NULL && p < end; p = strchr(p, '\'')) {
        const char *close = strchr(p + 1, '\'');
        CHECK(close != NULL && close < end);
        if (close == NULL || n >= QUEUE_ENTRY_FIELD_COUNT) {
            n++;
            break;
        }
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(close - p - 1), p + 1);
        CHECK_STR(name, queue_entry_field_names[n]);
        n++;
        p = close + 1;
    }
    CHECK_INT(n, QUEUE_ENTRY_FIELD_COUNT);
}

/* enqueue refuses a timeout over the C side's cap (0 is not set: the
 * worker's default). */
TEST(lua_max_timeout_is_job_max_timeout)
{
    CHECK_INT(number_after("local MAX_TIMEOUT_MS = "), JOB_MAX_TIMEOUT_MS);
    CHECK(strstr(lua_library, " <= MAX_TIMEOUT_MS and ") != NULL);
}
