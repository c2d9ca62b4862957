/* test_strategy_format.c — a strategy's string.format against Lua's own:
 * the fast path (strategy_format.c) takes the common formats and writes
 * what Lua's string.format writes, byte for byte; everything else it
 * declines, and the sandbox's string.format still gives Lua's text. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "strategy/strategy_internal.h"
#include "unit.h"

/* Pushes argument `which` of a value set: numbers of many kinds (-0.0 among
 * them), strings (one with a NUL). */
static void push_value(lua_State *L, int which, uint64_t r)
{
    double v;
    uint64_t bits = r & ~(UINT64_C(0x7ff) << 52);
    bits |= (uint64_t)(1023 - 40 + (int)((r >> 52) % 80)) << 52; /* 2^-40 .. 2^40 */
    memcpy(&v, &bits, sizeof v);
    switch (which % 12) {
    case 0: lua_pushnumber(L, v); break;
    case 1: lua_pushnumber(L, -v); break;
    case 2: lua_pushnumber(L, round(v)); break;                   /* a whole float */
    case 3: lua_pushinteger(L, (lua_Integer)(r % 2000001) - 1000000); break;
    case 4: lua_pushnumber(L, (double)(r % 20001) / 8.0 - 1000.0); break; /* ties at .5, .25 */
    case 5: lua_pushstring(L, "AAPL"); break;
    case 6: lua_pushlstring(L, "a\0b", 3); break;
    case 7: lua_pushnumber(L, NAN); break;
    case 8: lua_pushnumber(L, -INFINITY); break;
    case 9: lua_pushstring(L, "12.5"); break;
    case 10: lua_pushnumber(L, (r & 1) ? 1e300 : -0.0); break;
    default: lua_pushinteger(L, INT64_MIN); break;
    }
}

/* Calls string.format of state L with the format and value set; pushes
 * the text, or nil when it raised an error. */
static void format_in(lua_State *L, const char *fmt, const int *which, int n, uint64_t r)
{
    lua_getglobal(L, "string");
    lua_getfield(L, -1, "format");
    lua_remove(L, -2);
    lua_pushstring(L, fmt);
    for (int i = 0; i < n; i++)
        push_value(L, which[i], r + (uint64_t)i * 7919);
    if (lua_pcall(L, n + 1, 1, 0) != LUA_OK) {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
}

/* 1 when the fast path took it (its text checked against Lua's). */
static int check_one(lua_State *sandbox, lua_State *plain, const char *fmt, const int *which, int n, uint64_t r)
{
    format_in(plain, fmt, which, n, r);
    format_in(sandbox, fmt, which, n, r);
    size_t wantlen = 0, gotlen = 0;
    const char *want = lua_tolstring(plain, -1, &wantlen), *got = lua_tolstring(sandbox, -1, &gotlen);
    if ((want == NULL) != (got == NULL) || (want != NULL && (wantlen != gotlen || memcmp(want, got, gotlen) != 0)))
        unit_fail(__FILE__, __LINE__, "string.format(\"%s\", ...) is \"%s\" in the sandbox, Lua gives \"%s\"", fmt,
                  got ? got : "(error)", want ? want : "(error)");
    lua_pop(plain, 1);
    lua_pop(sandbox, 1);
    /* The fast path on its own: the same text when it takes it. */
    lua_settop(sandbox, 0);
    lua_pushstring(sandbox, fmt);
    for (int i = 0; i < n; i++)
        push_value(sandbox, which[i], r + (uint64_t)i * 7919);
    int taken = strategy_format_fast(sandbox);
    if (taken) {
        format_in(plain, fmt, which, n, r);
        size_t glen, wlen;
        const char *g = lua_tolstring(sandbox, -1, &glen), *w = lua_tolstring(plain, -1, &wlen);
        if (w == NULL || glen != wlen || memcmp(g, w, glen) != 0)
            unit_fail(__FILE__, __LINE__, "fast string.format(\"%s\", ...) is \"%s\", Lua gives \"%s\"", fmt, g,
                      w ? w : "(error)");
        lua_pop(plain, 1);
    } else if (lua_gettop(sandbox) != n + 1) {
        unit_fail(__FILE__, __LINE__, "declining \"%s\" left %d values, not the %d arguments", fmt,
                  lua_gettop(sandbox), n + 1);
    }
    lua_settop(sandbox, 0);
    return taken;
}

TEST(strategy_format_fast_path_is_luas_format)
{
    strategy_eval_t e;
    memset(&e, 0, sizeof e);
    e.cap = (size_t)1 << 30;
    lua_State *sandbox = strategy_state_new(&e), *plain = luaL_newstate();
    CHECK(sandbox != NULL && plain != NULL);
    if (sandbox == NULL || plain == NULL)
        return;
    luaL_openlibs(plain);
    static const struct {
        const char *fmt;
        int n, fast;             /* arguments; 1: taken when they are numbers, strings as fit */
    } cases[] = {
        { "%s up %.1f%% in 20 bars, RSI %.0f", 3, 1 }, { "%.2f", 1, 1 }, { "%f", 1, 1 }, { "%.f", 1, 1 },
        { "%.17f", 1, 1 }, { "%d", 1, 1 }, { "%i apples", 1, 1 }, { "%s", 1, 1 }, { "no conversion", 0, 1 },
        { "100%%", 0, 1 }, { "%s-%d", 2, 1 }, { "%.05f", 1, 1 }, { "%.00f", 1, 1 },
        /* declined: flags, widths, other conversions, too many digits */
        { "%5.1f", 1, 0 }, { "%-8s|", 1, 0 }, { "%+.2f", 1, 0 }, { "%x", 1, 0 }, { "%g", 1, 0 },
        { "%.18f", 1, 0 }, { "%.100f", 1, 0 }, { "%.123f", 1, 0 }, { "%q", 1, 0 }, { "%", 0, 0 }, { "%.2", 1, 0 },
        { "%s %s", 1, 0 },
    };
    uint64_t r = 0x2545F4914F6CDD1Du;
    int fast_seen = 0, declined_fast_format = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int k = 0; k < 3000; k++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            int which[3];
            for (int i = 0; i < cases[c].n; i++)
                which[i] = (int)((r >> (8 * i)) % 12);
            if (cases[c].fmt[0] == '%' && cases[c].fmt[1] == 's' && cases[c].n == 3)
                which[0] = 5;    /* the screening message: a ticker, two numbers */
            int taken = check_one(sandbox, plain, cases[c].fmt, which, cases[c].n, r);
            fast_seen += taken;
            if (taken && !cases[c].fast)
                declined_fast_format++;
        }
    }
    CHECK_INT(declined_fast_format, 0);
    CHECK(fast_seen > 10000); /* the common formats do take the fast path */
    /* The screening's message itself. */
    lua_settop(sandbox, 0);
    lua_pushstring(sandbox, "%s up %.1f%% in 20 bars, RSI %.0f");
    lua_pushstring(sandbox, "MSFT");
    lua_pushnumber(sandbox, 12.25);
    lua_pushinteger(sandbox, 62);
    CHECK_INT(strategy_format_fast(sandbox), 1);
    CHECK_STR(lua_tostring(sandbox, -1), "MSFT up 12.2% in 20 bars, RSI 62");
    lua_close(sandbox);
    lua_close(plain);
}
