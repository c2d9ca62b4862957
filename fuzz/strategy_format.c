/* strategy_format.c — fuzz target: string.format's fast path for strategies
 * (src/strategy/strategy_format.c), which reads format strings and values
 * that strategy code, untrusted, chooses.
 *
 * Input: the format (NULs included), a line "--", then the arguments as
 * records: 'n' and 8 bytes (a double's bits), 'i' and 8 bytes (an
 * integer), or 's', a length byte and that many bytes (a string); a
 * record cut short ends the list.
 *
 * Properties: the fast path either declines, leaving the stack exactly as
 * it was, or pushes one string that is byte for byte what Lua's own
 * string.format (a plain state's) returns for the same arguments; it never
 * takes a call that Lua's format refuses. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "strategy/strategy_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 16

/* Pushes the format and the argument records; returns how many values. */
static int push_call(lua_State *L, const uint8_t *fmt, size_t fmtlen, const uint8_t *args, size_t argslen)
{
    lua_pushlstring(L, (const char *)fmt, fmtlen);
    int n = 1;
    size_t at = 0;
    while (at < argslen && n <= MAX_ARGS) {
        uint8_t tag = args[at++];
        if ((tag == 'n' || tag == 'i') && argslen - at >= 8) {
            uint64_t bits;
            memcpy(&bits, args + at, 8);
            at += 8;
            if (tag == 'n') {
                double v;
                memcpy(&v, &bits, sizeof v);
                lua_pushnumber(L, v);
            } else {
                lua_pushinteger(L, (lua_Integer)bits);
            }
        } else if (tag == 's' && at < argslen && argslen - at - 1 >= args[at]) {
            size_t len = args[at++];
            lua_pushlstring(L, (const char *)args + at, len);
            at += len;
        } else {
            break;
        }
        n++;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[2];
    size_t len[2];
    size_t parts = fuzz_split(data, size, FUZZ_SEP, part, len, 2);
    const uint8_t *args = parts > 1 ? part[1] : NULL;
    size_t argslen = parts > 1 ? len[1] : 0;

    strategy_eval_t e;
    memset(&e, 0, sizeof e);
    e.cap = 1 << 24;
    lua_State *L = strategy_state_new(&e);
    lua_State *plain = luaL_newstate();
    if (L == NULL || plain == NULL)
        fuzz_fail("cannot create the Lua states");
    luaL_requiref(plain, LUA_STRLIBNAME, luaopen_string, 1);
    lua_settop(plain, 0);

    int n = push_call(L, part[0], len[0], args, argslen);
    int taken = strategy_format_fast(L);
    if (!taken && lua_gettop(L) != n)
        fuzz_fail("declined with %d values on the stack, not the %d arguments", lua_gettop(L), n);
    if (taken) {
        if (lua_gettop(L) != n + 1 || lua_type(L, -1) != LUA_TSTRING)
            fuzz_fail("took the call but left %d values (top a %s)", lua_gettop(L), luaL_typename(L, -1));
        lua_getglobal(plain, LUA_STRLIBNAME);
        lua_getfield(plain, -1, "format");
        push_call(plain, part[0], len[0], args, argslen);
        if (lua_pcall(plain, n, 1, 0) != LUA_OK)
            fuzz_fail("took a call Lua's format refuses: %s", lua_tostring(plain, -1));
        size_t got, want;
        const char *g = lua_tolstring(L, -1, &got), *w = lua_tolstring(plain, -1, &want);
        if (got != want || memcmp(g, w, got) != 0)
            fuzz_fail("wrote \"%.*s\" (%zu bytes) where Lua's format writes \"%.*s\" (%zu bytes)", (int)got, g, got,
                      (int)want, w, want);
    }
    lua_close(plain);
    lua_close(L);
    return 0;
}
