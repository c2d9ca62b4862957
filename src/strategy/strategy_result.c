/* strategy_result.c — reading what a strategy returned (strategy_result.h):
 * its instances and their fields, any Lua value as JSON, and the strategy's
 * own bytes made safe for messages. Lua values are read raw (no
 * metamethods): the strategy's code runs no more while they are read. */
#include "strategy/strategy_result.h"

#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/utf8.h"

#define MAX_INSTANCES 1000000
#define MAX_DEPTH 8

json_t *strategy_json_text(const char *s, size_t len)
{
    json_t *v = utf8_is_text(s, len) ? json_stringn(s, len) : NULL;
    if (v != NULL)
        return v;
    size_t n = 0;
    char *copy = utf8_clean_dup(s, len, &n);
    if (copy == NULL)
        return json_string("");
    v = json_stringn(copy, n);
    free(copy);
    return v ? v : json_string("");
}

/* A table is written as a JSON array when it is a non-empty sequence with
 * no other keys, else as an object (whose keys must be strings). */
static int table_is_array(lua_State *L, int idx)
{
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n == 0)
        return 0;
    lua_Integer count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        count++;
        lua_pop(L, 1);
    }
    return count == n;
}

void strategy_failed_at(const char *place, char *why, size_t whylen)
{
    char inner[600];
    snprintf(inner, sizeof inner, "%s", why);
    snprintf(why, whylen, "%s%s%s", place, inner[0] == '[' ? "" : " ", inner);
}

/* The key at the top of the stack, as the message about it shows it. */
static void key_shown(lua_State *L, char *out, size_t outlen)
{
    if (lua_type(L, -1) == LUA_TSTRING)
        snprintf(out, outlen, "'%.40s%s'", lua_tostring(L, -1), lua_rawlen(L, -1) > 40 ? "…" : "");
    else if (lua_isinteger(L, -1))
        snprintf(out, outlen, "%lld", (long long)lua_tointeger(L, -1));
    else if (lua_type(L, -1) == LUA_TNUMBER)
        snprintf(out, outlen, "%.17g", lua_tonumber(L, -1));
    else if (lua_type(L, -1) == LUA_TBOOLEAN)
        snprintf(out, outlen, "%s", lua_toboolean(L, -1) ? "true" : "false");
    else
        snprintf(out, outlen, "of type %s", strategy_typename(L, -1));
}

int strategy_write_fields(lua_State *L, int idx, json_writer_t *w, const char *const *skip, int first,
                          int depth, char *why, size_t whylen)
{
    idx = lua_absindex(L, idx);
    int written = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            char key[64];
            lua_pushvalue(L, -2); /* key_shown reads the top: a copy, so lua_tostring cannot turn the key */
            key_shown(L, key, sizeof key);
            lua_pop(L, 3);
            snprintf(why, whylen, "has a key %s that is not a string", key);
            return -1;
        }
        size_t klen;
        const char *key = lua_tolstring(L, -2, &klen);
        int skipped = 0;
        for (const char *const *k = skip; k != NULL && *k != NULL && !skipped; k++)
            skipped = strcmp(*k, key) == 0;
        if (!skipped) {
            if (!first || written > 0)
                jw_char(w, ',');
            jw_string(w, key, klen);
            jw_char(w, ':');
            if (strategy_write_value(L, -1, w, depth + 1, why, whylen) != 0) {
                char shown[64], place[80];
                lua_pushvalue(L, -2);
                key_shown(L, shown, sizeof shown);
                lua_pop(L, 3);
                snprintf(place, sizeof place, depth <= 1 ? "key %s" : "[%s]", shown); /* an instance's own: key 'a' */
                strategy_failed_at(place, why, whylen);
                return -1;
            }
            written++;
        }
        lua_pop(L, 1);
    }
    return written;
}

static const char g_null = 0;       /* its address is the null value */
static const char g_empty_list = 0; /* and this one's the empty list */

void strategy_push_null(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&g_null);
}

int strategy_is_null(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == &g_null;
}

void strategy_push_empty_list(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&g_empty_list);
}

int strategy_is_empty_list(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == &g_empty_list;
}

const char *strategy_typename(lua_State *L, int idx)
{
    return strategy_is_null(L, idx) ? "None" : strategy_is_empty_list(L, idx) ? "list" : luaL_typename(L, idx);
}

int strategy_write_value(lua_State *L, int idx, json_writer_t *w, int depth, char *why, size_t whylen)
{
    idx = lua_absindex(L, idx);
    if (strategy_is_null(L, idx)) {
        jw_null(w);
        return 0;
    }
    if (strategy_is_empty_list(L, idx)) {
        jw_raw(w, "[]", 2);
        return 0;
    }
    switch (lua_type(L, idx)) {
    case LUA_TNIL: jw_null(w); return 0;
    case LUA_TBOOLEAN: jw_bool(w, lua_toboolean(L, idx)); return 0;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            jw_integer(w, (int64_t)lua_tointeger(L, idx));
        else
            jw_number(w, lua_tonumber(L, idx));
        return 0;
    case LUA_TSTRING: {
        size_t len;
        const char *str = lua_tolstring(L, idx, &len);
        jw_string(w, str, len);
        return 0;
    }
    case LUA_TTABLE:
        if (depth > MAX_DEPTH) {
            snprintf(why, whylen, "is nested deeper than %d tables", MAX_DEPTH);
            return -1;
        }
        if (!lua_checkstack(L, 4)) {
            snprintf(why, whylen, "nested too deep");
            return -1;
        }
        if (table_is_array(L, idx)) {
            lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
            jw_char(w, '[');
            for (lua_Integer i = 1; i <= n; i++) {
                if (i > 1)
                    jw_char(w, ',');
                lua_rawgeti(L, idx, i);
                int rc = strategy_write_value(L, -1, w, depth + 1, why, whylen);
                lua_pop(L, 1);
                if (rc != 0) {
                    char place[32];
                    snprintf(place, sizeof place, "[%lld]", (long long)i);
                    strategy_failed_at(place, why, whylen);
                    return -1;
                }
            }
            jw_char(w, ']');
            return 0;
        }
        jw_char(w, '{');
        if (strategy_write_fields(L, idx, w, NULL, 1, depth, why, whylen) < 0)
            return -1;
        jw_char(w, '}');
        return 0;
    default:
        snprintf(why, whylen, "holds a %s; results hold numbers, strings, booleans and tables",
                 strategy_typename(L, idx));
        return -1;
    }
}

int strategy_instances(lua_State *L, int idx, size_t *n, char *why, size_t whylen)
{
    if (lua_isnil(L, idx)) {
        snprintf(why, whylen, "the strategy returned nothing (nil): did it forget 'return instances'? "
                 "(return {} for no signals)");
        return -1;
    }
    if (!lua_istable(L, idx)) {
        snprintf(why, whylen, "the strategy returned a %s; return a list of instances", strategy_typename(L, idx));
        return -1;
    }
    size_t len = lua_rawlen(L, idx);
    if (len > MAX_INSTANCES) {
        snprintf(why, whylen, "returned %zu instances (at most %d)", len, MAX_INSTANCES);
        return -1;
    }
    *n = len;
    return 0;
}

int strategy_instance(lua_State *L, int list, size_t i, char *why, size_t whylen)
{
    lua_rawgeti(L, list, (lua_Integer)i);
    if (!lua_istable(L, -1)) {
        snprintf(why, whylen, "instance %zu is a %s, not a table", i, strategy_typename(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    if (table_is_array(L, lua_gettop(L))) {
        snprintf(why, whylen, "instance %zu is an array, not a table of fields", i);
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

void strategy_quote(const char *s, char *out, size_t outlen)
{
    size_t k = 0;
    for (; s[k] != '\0' && k < 40 && k + 1 < outlen; k++)
        out[k] = s[k] >= 0x20 && s[k] < 0x7f ? s[k] : '?';
    out[k] = '\0';
    if (s[k] != '\0' && k + 4 < outlen)
        memcpy(out + k, "...", 4);
}

static int cmp_cstr(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The string keys of the table at idx, sorted (Lua's own order differs
 * from run to run), as "date, signal, symbol". */
static void describe_keys(lua_State *L, int idx, char *out, size_t outlen)
{
    const char *keys[24];
    size_t n = 0, more = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING && n < sizeof keys / sizeof keys[0])
            keys[n++] = lua_tostring(L, -2); /* the key stays referenced by the table */
        else
            more++;
        lua_pop(L, 1);
    }
    qsort(keys, n, sizeof keys[0], cmp_cstr);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used + 1 < outlen; i++) {
        char key[48];
        strategy_quote(keys[i], key, sizeof key);
        used += (size_t)snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", key);
    }
    if (more > 0 && used + 1 < outlen)
        snprintf(out + used, outlen - used, "%s%zu other key%s", n ? " and " : "", more, more == 1 ? "" : "s");
    else if (n == 0)
        snprintf(out, outlen, "no fields");
}

int strategy_instance_where(lua_State *L, int idx, size_t i, const char **ticker, int64_t *ts, char *why,
                            size_t whylen)
{
    static const char *const keys[2] = { "ticker", "date" };
    static const char *const hints[2] = { "a symbol such as df.ticker[i]", "an ISO 8601 date such as df.date[i]" };
    const char *value[2];
    idx = lua_absindex(L, idx);
    for (int j = 0; j < 2; j++) {
        lua_pushstring(L, keys[j]);
        int type = lua_rawget(L, idx);
        if (type == LUA_TNIL) {
            lua_pop(L, 1);
            char has[400];
            describe_keys(L, idx, has, sizeof has);
            snprintf(why, whylen, "instance %zu has no '%s' (it has: %s)", i, keys[j], has);
            return -1;
        }
        if (type != LUA_TSTRING) {
            snprintf(why, whylen, "instance %zu: '%s' is a %s, not a string (%s)", i, keys[j],
                     strategy_typename(L, -1), hints[j]);
            lua_pop(L, 1);
            return -1;
        }
        value[j] = lua_tostring(L, -1); /* referenced by the table */
        lua_pop(L, 1);
    }
    int date_only;
    char shown[48];
    if (value[0][0] == '\0') {
        snprintf(why, whylen, "instance %zu: 'ticker' is an empty string (%s)", i, hints[0]);
        return -1;
    }
    if (clock_parse_iso8601(value[1], ts, &date_only) != 0) {
        strategy_quote(value[1], shown, sizeof shown);
        snprintf(why, whylen, "instance %zu: 'date' is \"%s\", not %s", i, shown, hints[1]);
        return -1;
    }
    *ticker = value[0];
    return 0;
}
