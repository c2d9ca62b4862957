/* test_strategy_json.c — a Python strategy's result read back into Lua
 * (strategy_json.h): every JSON shape, null kept as a value, NaN and the
 * infinities as numbers, integers kept apart from reals, escapes and
 * surrogate pairs, and malformed text refused with where it broke. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "strategy/strategy_json.h"
#include "strategy/strategy_result.h"
#include "unit.h"

static int push(lua_State *L, const char *text, char *why, size_t whylen)
{
    return strategy_json_push(L, text, strlen(text), why, whylen);
}

TEST(strategy_json_reads_every_shape)
{
    lua_State *L = luaL_newstate();
    char why[200];
    CHECK_INT(push(L, " [ {\"ticker\": \"AAA\", \"n\": 3, \"x\": 1.5, \"ok\": true, \"no\": false, \"none\": null,"
                      " \"list\": [1, null, 3]}, [] ] ", why, sizeof why), 0);
    CHECK_INT(lua_rawlen(L, -1), 2);
    lua_rawgeti(L, -1, 1);
    lua_getfield(L, -1, "ticker");
    CHECK_STR(lua_tostring(L, -1), "AAA");
    lua_pop(L, 1);
    lua_getfield(L, -1, "n");
    CHECK(lua_isinteger(L, -1) && lua_tointeger(L, -1) == 3);
    lua_pop(L, 1);
    lua_getfield(L, -1, "x");
    CHECK(!lua_isinteger(L, -1) && lua_tonumber(L, -1) == 1.5);
    lua_pop(L, 1);
    lua_getfield(L, -1, "ok");
    CHECK(lua_isboolean(L, -1) && lua_toboolean(L, -1));
    lua_pop(L, 1);
    lua_getfield(L, -1, "no");
    CHECK(lua_isboolean(L, -1) && !lua_toboolean(L, -1));
    lua_pop(L, 1);
    lua_getfield(L, -1, "none");
    CHECK(strategy_is_null(L, -1));
    CHECK_STR(strategy_typename(L, -1), "None");
    lua_pop(L, 1);
    lua_getfield(L, -1, "list");
    CHECK_INT(lua_rawlen(L, -1), 3); /* a null keeps its place: no hole */
    lua_rawgeti(L, -1, 2);
    CHECK(strategy_is_null(L, -1));
    lua_pop(L, 3);
    lua_rawgeti(L, -1, 2); /* an empty list inside the value: written back as [], not {} */
    CHECK(strategy_is_empty_list(L, -1));
    CHECK_STR(strategy_typename(L, -1), "list");
    lua_settop(L, 0);
    CHECK_INT(push(L, "[]", why, sizeof why), 0); /* the value itself: a table, for the finish step */
    CHECK(lua_istable(L, -1) && lua_rawlen(L, -1) == 0);
    lua_close(L);
}

TEST(strategy_json_reads_numbers_and_text_exactly)
{
    lua_State *L = luaL_newstate();
    char why[200];
    CHECK_INT(push(L, "[NaN, Infinity, -Infinity, -0.1, 1e3, 9223372036854775807, 9223372036854775808, -12, "
                      "-9223372036854775808]", why, sizeof why), 0);
    lua_rawgeti(L, -1, 1);
    CHECK(isnan(lua_tonumber(L, -1)));
    lua_rawgeti(L, -2, 2);
    CHECK(isinf(lua_tonumber(L, -1)) && lua_tonumber(L, -1) > 0);
    lua_rawgeti(L, -3, 3);
    CHECK(isinf(lua_tonumber(L, -1)) && lua_tonumber(L, -1) < 0);
    lua_rawgeti(L, -4, 4);
    CHECK(lua_tonumber(L, -1) == -0.1);
    lua_rawgeti(L, -5, 5);
    CHECK(!lua_isinteger(L, -1) && lua_tonumber(L, -1) == 1000.0);
    lua_rawgeti(L, -6, 6);
    CHECK(lua_isinteger(L, -1) && lua_tointeger(L, -1) == INT64_MAX);
    lua_rawgeti(L, -7, 7); /* past int64: a real */
    CHECK(!lua_isinteger(L, -1));
    lua_rawgeti(L, -8, 8);
    CHECK(lua_isinteger(L, -1) && lua_tointeger(L, -1) == -12);
    lua_rawgeti(L, -9, 9);
    CHECK(lua_isinteger(L, -1) && lua_tointeger(L, -1) == INT64_MIN);
    lua_settop(L, 0);
    CHECK_INT(push(L, "\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\\ud800x\"", why, sizeof why), 0);
    CHECK_STR(lua_tostring(L, -1), "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx");
    lua_close(L);
}

TEST(strategy_json_refuses_malformed_text_and_deep_nesting)
{
    lua_State *L = luaL_newstate();
    char why[200];
    static const char *const bad[] = { "", "[1,", "{\"a\" 1}", "{1: 2}", "[1] x", "\"abc", "tru", "[01x]",
                                       "\"\\q\"", "\"a\nb\"" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(push(L, bad[i], why, sizeof why), -1);
        CHECK(strncmp(why, "its result is not JSON: ", 24) == 0);
        CHECK_INT(lua_gettop(L), 0);
    }
    CHECK_INT(push(L, "[1,", why, sizeof why), -1);
    CHECK_STR(why, "its result is not JSON: unexpected end at byte 3");
    char deep[200];
    memset(deep, '[', 70);
    memset(deep + 70, ']', 70);
    deep[140] = '\0';
    CHECK_INT(push(L, deep, why, sizeof why), -1);
    CHECK(strstr(why, "nested deeper than 64 levels") != NULL);
    lua_close(L);
}
