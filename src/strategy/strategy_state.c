/* strategy_state.c — the Lua state a strategy runs in, and its limits.
 *
 * Defence in depth: the sandbox process (no descriptors but its pipes,
 * rlimits, seccomp) runs a Lua state that has only the base, string, table,
 * math, utf8 and coroutine libraries, with every dangerous name replaced by
 * a stub that records a security violation: io, os (but time, clock, date),
 * package/require, debug, dofile/loadfile, load of binary chunks,
 * string.dump, collectgarbage. A violation is reported even if the strategy
 * catches the error. The string metatable is locked; tostring, print and
 * string.format show no heap address (strategy_tostring.c). The time limit:
 * a timer signal at the deadline sets a hook that fails the strategy at
 * its next instruction (the parent also kills at the wall limit); until
 * then the main thread runs without a hook, which would cost every
 * instruction a call. A coroutine keeps an instruction-count hook of its
 * own (the signal's hook reaches the main thread only). A capped allocator
 * enforces the memory limit.
 *
 * The collector is held while a run starts: a sandbox child ends with its
 * run, and its memory with it, so collecting a run that makes little
 * garbage is work for nothing. (A screening's 48,804 instance tables and
 * their messages all live to the end: the minor collections that walked
 * them took a tenth of its time.) It restarts once the run's memory has
 * grown by GC_HOLD_MAX bytes, or a quarter of the room its memory limit
 * leaves, whichever is less; from there on it runs as before. The
 * allocator may not call the collector, so it sets a hook that does, at
 * the main thread's next instruction (a coroutine's own count hook does it
 * too). The limit holds as before: at the cap Lua collects (an emergency
 * collection) and retries the allocation. */
#include "strategy/strategy_internal.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/clock.h"
#include "strategy/strategy_arena.h"

#define HOOK_EVERY 10000       /* instructions between a coroutine's time checks */
#define GC_HOLD_MAX ((size_t)64 << 20)

/* The state whose strategy runs, while its deadline timer is armed. */
static lua_State *volatile g_watched;

static void collector_hook(lua_State *L, lua_Debug *ar);

strategy_eval_t *strategy_eval_of(lua_State *L)
{
    void *ud;
    lua_getallocf(L, &ud);
    return ud;
}

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    strategy_eval_t *e = ud;
    if (ptr == NULL)
        osize = 0;
    if (nsize == 0) {
        strategy_arena_realloc(ptr, osize, 0);
        e->used -= osize;
        return NULL;
    }
    /* Lua retries a refused allocation once, after an emergency collection
     * of the garbage: a refusal is out of memory unless the next request is
     * that retry and it fits. */
    int retry = e->refused_size != 0 && ptr == e->refused_ptr && nsize == e->refused_size;
    if (e->refused_size != 0 && !retry)
        e->out_of_memory = 1;
    e->refused_size = 0;
    if (nsize > osize && e->used + (nsize - osize) > e->cap) {
        if (retry)
            e->out_of_memory = 1;
        else {
            e->refused_ptr = ptr;
            e->refused_size = nsize;
        }
        return NULL;
    }
    void *p = strategy_arena_realloc(ptr, osize, nsize);
    if (p != NULL)
        e->used = e->used - osize + nsize;
    /* Past the hold: the main thread's next instruction restarts the
     * collector, however much is freed before it runs (a buffer that
     * peaked past the line). (lua_sethook sets fields and marks the call
     * frames, allocating nothing: safe here, as it is in a signal handler.
     * A hook already set is the deadline's, which restarts it too.) */
    if (e->gc_resume_at != 0 && e->used >= e->gc_resume_at && !e->gc_resume_asked && g_watched != NULL) {
        e->gc_resume_asked = 1;
        if (lua_gethook(g_watched) == NULL)
            lua_sethook(g_watched, collector_hook, LUA_MASKCOUNT, 1);
    }
    return p;
}

int strategy_eval_out_of_memory(strategy_eval_t *e)
{
    if (e->refused_size != 0)
        e->out_of_memory = 1;
    return e->out_of_memory;
}

/* Restarts the collector once the run has grown past its hold: the
 * allocator asked (even if the run has shrunk back since). */
static void resume_collector(lua_State *L, strategy_eval_t *e)
{
    if (e->gc_resume_at != 0 && e->gc_resume_asked) {
        e->gc_resume_at = 0;
        lua_gc(L, LUA_GCRESTART);
    }
}

/* The allocator's request, once, on the main thread. Removing itself may
 * remove a deadline hook the signal set in between: the timer repeats
 * (DEADLINE_REPEAT_MS). */
static void collector_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    resume_collector(L, strategy_eval_of(L));
    lua_sethook(L, NULL, 0, 0);
}

static void time_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    strategy_eval_t *e = strategy_eval_of(L);
    resume_collector(L, e);
    if (clock_mono_ms() >= e->deadline_ms) {
        e->timed_out = 1;
        /* Every instruction of this thread from now on: a coroutine that
         * catches the error (pcall in a loop) meets it again at once. */
        lua_sethook(L, time_hook, LUA_MASKCOUNT, 1);
        luaL_error(L, "Strategy exceeded time limit");
    }
}

/* SIGALRM at the deadline: the hook on every instruction of the main
 * thread from now on (lua_sethook may be called from a signal handler;
 * lua.c stops a script on Ctrl-C this way). */
static void on_deadline(int sig)
{
    (void)sig;
    lua_State *L = g_watched;
    if (L != NULL)
        lua_sethook(L, time_hook, LUA_MASKCOUNT, 1);
}

/* The deadline timer: first after ms, then every DEADLINE_REPEAT_MS until
 * disarmed, so that a signal whose hook Lua dropped (a frame's trap
 * cleared as it was set) is followed by another. 0 disarms. */
#define DEADLINE_REPEAT_MS 20
static void arm_deadline_timer(int64_t ms)
{
    struct itimerval t;
    memset(&t, 0, sizeof t);
    if (ms > 0) {
        t.it_value.tv_sec = (time_t)(ms / 1000);
        t.it_value.tv_usec = (suseconds_t)(ms % 1000) * 1000;
        t.it_interval.tv_usec = DEADLINE_REPEAT_MS * 1000;
    }
    setitimer(ITIMER_REAL, &t, NULL);
}

void strategy_state_watch(lua_State *L)
{
    static int installed;        /* once per sandbox child, however many evaluations it runs */
    if (!installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_deadline;
        sa.sa_flags = SA_RESTART; /* a write of printed output goes on */
        sigemptyset(&sa.sa_mask);
        installed = sigaction(SIGALRM, &sa, NULL) == 0;
    }
    strategy_eval_t *e = strategy_eval_of(L);
    size_t room = e->cap > e->used ? e->cap - e->used : 0;
    e->gc_resume_at = e->used + (room / 4 < GC_HOLD_MAX ? room / 4 : GC_HOLD_MAX);
    e->gc_resume_asked = 0;
    lua_gc(L, LUA_GCSTOP);
    g_watched = L;
    int64_t left = e->deadline_ms - clock_mono_ms();
    arm_deadline_timer(left > 0 ? left + 1 : 1); /* the hook's test is in whole ms */
}

void strategy_state_unwatch(lua_State *L)
{
    arm_deadline_timer(0);       /* disarmed; a signal already raised still finds L */
    g_watched = NULL;
    lua_sethook(L, NULL, 0, 0);
    strategy_eval_of(L)->gc_resume_at = 0;
}

/* coroutine.create and coroutine.wrap (the originals as upvalue 1): the
 * new thread checks the time every HOOK_EVERY instructions, as the
 * deadline signal's hook reaches only the main thread. wrap's function
 * holds its thread as its upvalue. */
static int watched_coroutine(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION); /* the originals' check, named as theirs is */
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, 1);
    lua_State *co = lua_tothread(L, -1);
    if (co == NULL && lua_getupvalue(L, -1, 1) != NULL) {
        co = lua_tothread(L, -1);
        lua_pop(L, 1);
    }
    if (co != NULL)
        lua_sethook(co, time_hook, LUA_MASKCOUNT, HOOK_EVERY);
    return 1;
}

static void watch_coroutines(lua_State *L)
{
    lua_getglobal(L, LUA_COLIBNAME);
    const char *const names[] = { "create", "wrap" };
    for (size_t i = 0; i < 2; i++) {
        lua_getfield(L, -1, names[i]);
        lua_pushcclosure(L, watched_coroutine, 1);
        lua_setfield(L, -2, names[i]);
    }
    lua_pop(L, 1);
}

/* --- forbidden names -------------------------------------------------- */

static int forbidden(lua_State *L, const char *what)
{
    strategy_eval_t *e = strategy_eval_of(L);
    if (e->violation[0] == '\0')
        snprintf(e->violation, sizeof e->violation, "%s is not allowed", what);
    return luaL_error(L, "Security validation failed: %s is not allowed", what);
}

/* A function that records its upvalue's name as a violation. */
static int forbidden_call(lua_State *L)
{
    return forbidden(L, lua_tostring(L, lua_upvalueindex(1)));
}

static void set_forbidden_function(lua_State *L, int table, const char *key, const char *what)
{
    lua_pushstring(L, what);
    lua_pushcclosure(L, forbidden_call, 1);
    lua_setfield(L, table, key);
}

/* __index of a forbidden table: any field is a violation ("io.open"). */
static int forbidden_index(lua_State *L)
{
    char what[96];
    snprintf(what, sizeof what, "%s.%s", lua_tostring(L, lua_upvalueindex(1)),
             lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?");
    return forbidden(L, what);
}

/* Installs a global table whose every field access is a violation. */
static void forbidden_table(lua_State *L, const char *name)
{
    lua_newtable(L);
    lua_newtable(L);
    lua_pushstring(L, name);
    lua_pushcclosure(L, forbidden_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_setglobal(L, name);
}

/* load(chunk [, name [, mode [, env]]]) for text chunks only. */
static int safe_load(lua_State *L)
{
    size_t len = 0;
    const char *s = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &len) : NULL;
    if (s == NULL)
        return forbidden(L, "load of a function chunk");
    if (len > 0 && s[0] == LUA_SIGNATURE[0])
        return forbidden(L, "loading a binary chunk");
    const char *name = luaL_optstring(L, 2, "=load");
    int status = luaL_loadbufferx(L, s, len, name, "t");
    if (status != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (!lua_isnoneornil(L, 4)) { /* env: the chunk's first upvalue */
        lua_pushvalue(L, 4);
        if (lua_setupvalue(L, -2, 1) == NULL)
            lua_pop(L, 1);
    }
    return 1;
}

/* os with only time, clock and date; every other field is a violation. */
static void safe_os(lua_State *L)
{
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
    lua_newtable(L);
    const char *keep[] = { "time", "clock", "date", "difftime" };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        lua_getfield(L, -2, keep[i]);
        lua_setfield(L, -2, keep[i]);
    }
    lua_newtable(L);
    lua_pushstring(L, "os");
    lua_pushcclosure(L, forbidden_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_setglobal(L, "os");
    lua_pop(L, 1);
}

/* math.randomseed with no reply: Lua 5.4 returns the two seed parts, and
 * called without arguments one of them is the state's heap address. */
static int safe_randomseed(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 0);
    return 0;
}

void strategy_state_seed(lua_State *L, const uint64_t seed[2])
{
    lua_getglobal(L, "math");
    lua_getfield(L, -1, "randomseed");
    lua_pushinteger(L, (lua_Integer)seed[0]);
    lua_pushinteger(L, (lua_Integer)seed[1]);
    lua_call(L, 2, 0);
    lua_pop(L, 1);
}

static void open_safe_libs(lua_State *L)
{
    static const luaL_Reg libs[] = {
        { LUA_GNAME, luaopen_base },       { LUA_STRLIBNAME, luaopen_string },
        { LUA_TABLIBNAME, luaopen_table }, { LUA_MATHLIBNAME, luaopen_math },
        { LUA_UTF8LIBNAME, luaopen_utf8 }, { LUA_COLIBNAME, luaopen_coroutine },
    };
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        luaL_requiref(L, libs[i].name, libs[i].func, 1);
        lua_pop(L, 1);
    }
    safe_os(L);
    watch_coroutines(L);
    lua_getglobal(L, "math");
    lua_getfield(L, -1, "randomseed");
    lua_pushcclosure(L, safe_randomseed, 1);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);
    lua_pushglobaltable(L);
    int g = lua_gettop(L);
    set_forbidden_function(L, g, "dofile", "dofile");
    set_forbidden_function(L, g, "loadfile", "loadfile");
    set_forbidden_function(L, g, "require", "require");
    set_forbidden_function(L, g, "collectgarbage", "collectgarbage");
    lua_pushcfunction(L, safe_load);
    lua_setfield(L, g, "load");
    lua_getglobal(L, "string");
    set_forbidden_function(L, lua_gettop(L), "dump", "string.dump");
    lua_pop(L, 1);
    forbidden_table(L, "io");
    forbidden_table(L, "debug");
    forbidden_table(L, "package");
    /* Lock the string metatable: getmetatable("") gives false, and it
     * cannot be replaced or changed through the value. */
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    strategy_open_tostring(L);
}

lua_State *strategy_state_new(strategy_eval_t *e)
{
    lua_State *L = lua_newstate(capped_alloc, e);
    if (L != NULL) {
        /* Generational: a full collection makes the warm state's columns
         * old, and the minor collections of a strategy's garbage never
         * walk their millions of values again. */
        lua_gc(L, LUA_GCGEN, 0, 0);
        open_safe_libs(L);
        strategy_open_kernels(L);
    }
    return L;
}
