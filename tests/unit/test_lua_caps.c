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
