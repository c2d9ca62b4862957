/* test_strategy_state.c — the collector's hold while a strategy runs
 * (strategy_state.c): stopped as the run starts, restarted once the run
 * has allocated a quarter of the room its memory limit leaves (at most
 * GC_HOLD_MAX), on the main thread, after a peak that passed it and in a
 * coroutine, and a run that makes garbage far beyond its limit still
 * completes within it. */
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

#include "core/clock.h"
#include "strategy/strategy_internal.h"
#include "unit.h"

#define CAP ((size_t)64 << 20)   /* the hold: about 16 MB */

static int gc_running(lua_State *L)
{
    lua_pushboolean(L, lua_gc(L, LUA_GCISRUNNING));
    return 1;
}

/* A sandbox state with a CAP limit, watched as a run is (the deadline a
 * minute away), with gc_running() to ask from Lua. */
static lua_State *watched_state(strategy_eval_t *e)
{
    memset(e, 0, sizeof *e);
    e->cap = CAP;
    lua_State *L = strategy_state_new(e);
    if (L == NULL)
        return NULL;
    lua_register(L, "gc_running", gc_running);
    e->deadline_ms = clock_mono_ms() + 60000;
    strategy_state_watch(L);
    return L;
}

/* Runs `code` (which returns one boolean); -1 when it failed. */
static int run_bool(lua_State *L, const char *code)
{
    if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
        unit_fail(__FILE__, __LINE__, "%s: %s", code, lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

TEST(strategy_collector_held_until_the_run_allocated_its_hold)
{
    strategy_eval_t e;
    lua_State *L = watched_state(&e);
    CHECK(L != NULL);
    if (L == NULL)
        return;
    CHECK_INT(lua_gc(L, LUA_GCISRUNNING), 0);
    /* 2 MB kept: under the hold, still held */
    CHECK_INT(run_bool(L, "small = {} for i = 1, 2000 do small[i] = string.rep('x', 1000) .. i end "
                          "return gc_running()"), 0);
    /* 20 MB kept: past it, restarted at the next instruction */
    CHECK_INT(run_bool(L, "big = {} for i = 1, 20000 do big[i] = string.rep('y', 1000) .. i end "
                          "return gc_running()"), 1);
    CHECK(lua_gethook(L) == NULL); /* the request's hook removed itself */
    CHECK(!strategy_eval_out_of_memory(&e));
    strategy_state_unwatch(L);
    lua_close(L);
}

/* `code` (which returns one boolean) run in a fresh watched state, as a
 * run's own code; -1 when it failed or ran out of memory. */
static int watched_run(const char *code)
{
    strategy_eval_t e;
    lua_State *L = watched_state(&e);
    CHECK(L != NULL);
    if (L == NULL)
        return -1;
    int v = run_bool(L, code);
    if (strategy_eval_out_of_memory(&e))
        v = -1;
    strategy_state_unwatch(L);
    lua_close(L);
    return v;
}

TEST(strategy_collector_restarts_after_a_peak_past_the_hold)
{
    /* string.rep's buffer and its result, 10 MB each, pass the 16 MB hold
     * together; the buffer is freed before the next instruction. */
    CHECK_INT(watched_run("local s = string.rep('p', 10 * 2^20) s = nil return gc_running()"), 1);
}

TEST(strategy_collector_restarts_inside_a_coroutine)
{
    /* The main thread runs nothing until the coroutine ends: its own count
     * hook restarts the collector. */
    CHECK_INT(watched_run("return coroutine.wrap(function() "
                          "  big = {} for i = 1, 20000 do big[i] = string.rep('y', 1000) .. i end "
                          "  for i = 1, 30000 do end "
                          "  return gc_running() end)()"), 1);
}

TEST(strategy_garbage_beyond_the_limit_is_collected)
{
    /* 200 MB of garbage through a 64 MB limit, 8 MB kept: the limit counts
     * what is live, held collector or not (it restarts at 16 MB; were it
     * never to, Lua's emergency collections at the cap would still keep
     * this run within it). */
    CHECK_INT(watched_run("local keep = {} "
                          "for i = 1, 200000 do local s = string.rep('z', 1000) .. i "
                          "  if i % 25 == 0 then keep[#keep + 1] = s end end "
                          "return #keep == 8000"), 1);
}
