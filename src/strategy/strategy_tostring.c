/* strategy_tostring.c — tostring, print and string.format for strategies,
 * without heap addresses.
 *
 * Lua names a table, function, coroutine or userdata by its address
 * ("table: 0x55d0c3a4e2b0"). A strategy has no use for it, and it would tell
 * untrusted code where the worker's heap lies. Inside the sandbox such a
 * value reads as its type and a number given in the order values are first
 * named in the evaluation: "table: #1", "function: #2", "function: builtin
 * #3" (a C function), "thread: #4". A value keeps its number for the whole
 * evaluation; the numbers live in a weak-keyed registry table, so naming a
 * value does not keep it alive. A __tostring metamethod still decides, and a
 * __name replaces the type, as in Lua; only the address is gone.
 *
 * Three functions reach Lua's naming (luaL_tolstring), and all three are
 * replaced: tostring, print, and string.format, whose %s names such values
 * the same way and whose %p gives the same name (and "(null)" for a value
 * that is not a table, function, coroutine or userdata, where Lua would
 * show a string's address). Nothing else in the safe libraries shows an
 * address: errors name types, never values. */
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

#include "strategy/strategy_internal.h"

#define NAMES_KEY "tickq.names" /* value -> its number; [0] = numbers given */

/* 1 for the types Lua would name by address. */
static int has_address(int type)
{
    return type == LUA_TTABLE || type == LUA_TFUNCTION || type == LUA_TTHREAD || type == LUA_TUSERDATA ||
           type == LUA_TLIGHTUSERDATA;
}

/* The value's number, given now if it has none. */
static lua_Integer number_of(lua_State *L, int idx)
{
    lua_getfield(L, LUA_REGISTRYINDEX, NAMES_KEY);
    int names = lua_gettop(L);
    lua_pushvalue(L, idx);
    lua_rawget(L, names);
    lua_Integer n = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (n == 0) {
        lua_rawgeti(L, names, 0);
        n = lua_tointeger(L, -1) + 1;
        lua_pop(L, 1);
        lua_pushinteger(L, n);
        lua_rawseti(L, names, 0);
        lua_pushvalue(L, idx);
        lua_pushinteger(L, n);
        lua_rawset(L, names);
    }
    lua_pop(L, 1);
    return n;
}

/* Pushes the name of a value Lua would show by address ("table: #1",
 * "function: builtin #2"; a __name replaces the type) and returns it. */
static const char *push_identity(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_Integer n = number_of(L, idx);
    int named = luaL_getmetafield(L, idx, "__name") == LUA_TSTRING;
    const char *kind = named ? lua_tostring(L, -1) : luaL_typename(L, idx);
    const char *text = lua_pushfstring(L, "%s: %s#%I", kind, lua_iscfunction(L, idx) ? "builtin " : "",
                                       (LUAI_UACINT)n);
    if (named)
        lua_remove(L, -2);
    return text;
}

/* Pushes the value's name (tostring's text) and returns it. */
static const char *push_name(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    if (luaL_callmeta(L, idx, "__tostring")) {
        if (!lua_isstring(L, -1))
            luaL_error(L, "'__tostring' must return a string");
        return lua_tostring(L, -1);
    }
    if (!has_address(lua_type(L, idx)))
        return luaL_tolstring(L, idx, NULL); /* nil, a boolean, a number, a string: no address */
    return push_identity(L, idx);
}

static int safe_tostring(lua_State *L)
{
    luaL_checkany(L, 1);
    push_name(L, 1);
    return 1;
}

/* print as Lua's (tabs between the values, a newline, stdout flushed), with
 * the values named as tostring names them. */
static int safe_print(lua_State *L)
{
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        size_t len;
        push_name(L, i);
        const char *s = lua_tolstring(L, -1, &len);
        if (i > 1)
            lua_writestring("\t", 1);
        lua_writestring(s, len);
        lua_pop(L, 1);
    }
    lua_writeline();
    return 0;
}

/* Raises the original format's error (on top) as if the strategy had
 * called it directly: called from C, it names itself '?' and gives no
 * position, so the caller's position is added and the name put back (an
 * argument number is one less for a method call, ("%d"):format(), as Lua
 * counts it). */
static int format_error(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL || lua_type(L, -1) != LUA_TSTRING)
        return lua_error(L);
    lua_Debug ar;
    int method = lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar) && ar.namewhat != NULL &&
                 strcmp(ar.namewhat, "method") == 0;
    int n = 0, off = 0;
    luaL_where(L, 1);
    if (sscanf(msg, "bad argument #%d to '?'%n", &n, &off) == 1 && off > 0)
        lua_pushfstring(L, "bad argument #%d to 'format'%s", method ? n - 1 : n, msg + off);
    else
        lua_pushvalue(L, -2);
    lua_concat(L, 2);
    return lua_error(L);
}

/* string.format: each %s of a value Lua would name by address gets the
 * value's name instead, and each %p the value's identity (push_identity,
 * __tostring aside, as %p is in Lua) or "(null)" for any other value; the
 * original (upvalue 1) does the rest, checks included. %p becomes %s in a
 * copy of the format (same length, same flags and width), kept above the
 * arguments while they are rewritten. Plain strings and numbers in common
 * formats take the fast path (strategy_format.c) first. */
static int safe_format(lua_State *L)
{
    if (strategy_format_fast(L))
        return 1;
    size_t len;
    const char *fmt = luaL_checklstring(L, 1, &len);
    int top = lua_gettop(L);
    char *copy = NULL;
    int arg = 1;
    for (size_t i = 0; i < len; i++) {
        if (fmt[i] != '%')
            continue;
        if (++i < len && fmt[i] == '%')
            continue;
        arg++;
        while (i < len && strchr("-+ #0123456789.", fmt[i]) != NULL)
            i++;
        if (i >= len || arg > top)
            break; /* the original says what is wrong */
        if (fmt[i] == 'p') {
            if (copy == NULL) {
                copy = lua_newuserdatauv(L, len, 0);
                memcpy(copy, fmt, len);
            }
            copy[i] = 's';
            if (has_address(lua_type(L, arg)))
                push_identity(L, arg);
            else
                lua_pushliteral(L, "(null)");
            lua_replace(L, arg);
        } else if (fmt[i] == 's' && has_address(lua_type(L, arg))) {
            push_name(L, arg);
            lua_replace(L, arg);
        }
    }
    if (copy != NULL) {
        lua_pushlstring(L, copy, len);
        lua_replace(L, 1);
        lua_settop(L, top);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    if (lua_pcall(L, top, 1, 0) != LUA_OK)
        return format_error(L);
    return 1;
}

void strategy_open_tostring(lua_State *L)
{
    lua_newtable(L);
    lua_newtable(L);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, NAMES_KEY);

    lua_pushcfunction(L, safe_tostring);
    lua_setglobal(L, "tostring");
    lua_pushcfunction(L, safe_print);
    lua_setglobal(L, "print");
    lua_getglobal(L, "string");
    lua_getfield(L, -1, "format");
    lua_pushcclosure(L, safe_format, 1);
    lua_setfield(L, -2, "format");
    lua_pop(L, 1);
}
