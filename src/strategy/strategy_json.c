/* strategy_json.c — a strategy's result as JSON text, read back into a Lua
 * value (strategy_json.h): a recursive-descent reader that builds the Lua
 * value as it goes, so no second tree of the result is ever held. */
#include "strategy/strategy_json.h"

#include <lauxlib.h>
#include <errno.h>
#include <limits.h>
#include <lua.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strategy/strategy_result.h"

#define MAX_DEPTH 64

typedef struct {
    const char *begin, *p, *end;
    char why[200];
} reader_t;

static void skip_space(reader_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int fail(lua_State *L, reader_t *r, const char *what)
{
    snprintf(r->why, sizeof r->why, "%s at byte %zu", what, (size_t)(r->p - r->begin));
    return luaL_error(L, "%s", r->why);
}

static int literal(reader_t *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) >= n && memcmp(r->p, word, n) == 0) {
        r->p += n;
        return 1;
    }
    return 0;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static void add_utf8(luaL_Buffer *b, unsigned cp)
{
    char u[4];
    int n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    luaL_addlstring(b, u, (size_t)n);
}

/* Pushes the string at r->p (after its opening quote). */
static void read_string(lua_State *L, reader_t *r)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (;;) {
        const char *start = r->p;
        while (r->p < r->end && *r->p != '"' && *r->p != '\\' && (unsigned char)*r->p >= 0x20)
            r->p++;
        luaL_addlstring(&b, start, (size_t)(r->p - start));
        if (r->p >= r->end)
            fail(L, r, "unterminated string");
        char c = *r->p++;
        if (c == '"')
            break;
        if (c != '\\')
            fail(L, r, "control character in a string");
        if (r->p >= r->end)
            fail(L, r, "unterminated string");
        char e = *r->p++;
        switch (e) {
        case '"': luaL_addchar(&b, '"'); break;
        case '\\': luaL_addchar(&b, '\\'); break;
        case '/': luaL_addchar(&b, '/'); break;
        case 'b': luaL_addchar(&b, '\b'); break;
        case 'f': luaL_addchar(&b, '\f'); break;
        case 'n': luaL_addchar(&b, '\n'); break;
        case 'r': luaL_addchar(&b, '\r'); break;
        case 't': luaL_addchar(&b, '\t'); break;
        case 'u': {
            unsigned cp = 0, lo = 0;
            if (r->end - r->p < 4 || hex4(r->p, &cp) != 0)
                fail(L, r, "bad \\u escape");
            r->p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && r->end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u' &&
                hex4(r->p + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                r->p += 6;
            } else if (cp >= 0xD800 && cp < 0xE000) {
                cp = 0xFFFD; /* a lone surrogate is no character */
            }
            add_utf8(&b, cp);
            break;
        }
        default:
            fail(L, r, "bad escape in a string");
        }
    }
    luaL_pushresult(&b);
}

static void read_number(lua_State *L, reader_t *r)
{
    const char *start = r->p;
    int real = 0;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    while (r->p < r->end && ((*r->p >= '0' && *r->p <= '9') || *r->p == '.' || *r->p == 'e' || *r->p == 'E' ||
                             *r->p == '+' || *r->p == '-')) {
        real |= *r->p == '.' || *r->p == 'e' || *r->p == 'E';
        r->p++;
    }
    char num[64];
    size_t n = (size_t)(r->p - start);
    if (n == 0 || n >= sizeof num)
        fail(L, r, "bad number");
    memcpy(num, start, n);
    num[n] = '\0';
    char *stop;
    if (!real) {
        errno = 0;
        long long v = strtoll(num, &stop, 10);
        if (*stop == '\0' && errno != ERANGE) { /* INT64_MIN and INT64_MAX included */
            lua_pushinteger(L, (lua_Integer)v);
            return;
        }
    }
    double d = strtod(num, &stop);
    if (*stop != '\0')
        fail(L, r, "bad number");
    lua_pushnumber(L, d);
}

static void read_value(lua_State *L, reader_t *r, int depth);

static void read_array(lua_State *L, reader_t *r, int depth)
{
    skip_space(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        /* Nested, an empty table would be written back as {}; the list the
         * strategy returned stays a table (its finish step reads it). */
        if (depth > 0)
            strategy_push_empty_list(L);
        else
            lua_newtable(L);
        return;
    }
    lua_newtable(L);
    for (lua_Integer i = 1;; i++) {
        read_value(L, r, depth + 1);
        lua_rawseti(L, -2, i);
        skip_space(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            return;
        }
        fail(L, r, "expected , or ] in an array");
    }
}

static void read_object(lua_State *L, reader_t *r, int depth)
{
    lua_newtable(L);
    skip_space(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return;
    }
    for (;;) {
        skip_space(r);
        if (r->p >= r->end || *r->p != '"')
            fail(L, r, "expected a string key in an object");
        r->p++;
        read_string(L, r);
        skip_space(r);
        if (r->p >= r->end || *r->p != ':')
            fail(L, r, "expected : in an object");
        r->p++;
        read_value(L, r, depth + 1);
        lua_rawset(L, -3);
        skip_space(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            return;
        }
        fail(L, r, "expected , or } in an object");
    }
}

static void read_value(lua_State *L, reader_t *r, int depth)
{
    if (depth > MAX_DEPTH)
        fail(L, r, "nested deeper than 64 levels");
    luaL_checkstack(L, 4, "nested too deep");
    skip_space(r);
    if (r->p >= r->end)
        fail(L, r, "unexpected end");
    char c = *r->p;
    if (c == '{') {
        r->p++;
        read_object(L, r, depth);
    } else if (c == '[') {
        r->p++;
        read_array(L, r, depth);
    } else if (c == '"') {
        r->p++;
        read_string(L, r);
    } else if (literal(r, "null")) {
        strategy_push_null(L);
    } else if (literal(r, "true")) {
        lua_pushboolean(L, 1);
    } else if (literal(r, "false")) {
        lua_pushboolean(L, 0);
    } else if (literal(r, "NaN")) {
        lua_pushnumber(L, NAN);
    } else if (literal(r, "Infinity")) {
        lua_pushnumber(L, INFINITY);
    } else if (literal(r, "-Infinity")) {
        lua_pushnumber(L, -INFINITY);
    } else {
        read_number(L, r);
    }
}

static int read_all(lua_State *L)
{
    reader_t *r = lua_touserdata(L, 1);
    lua_settop(L, 0);
    read_value(L, r, 0);
    skip_space(r);
    if (r->p != r->end)
        fail(L, r, "text after the value");
    return 1;
}

int strategy_json_push(lua_State *L, const char *text, size_t len, char *why, size_t whylen)
{
    reader_t r = { text, text, text + len, "" };
    lua_pushcfunction(L, read_all);
    lua_pushlightuserdata(L, &r);
    int rc = lua_pcall(L, 1, 1, 0);
    if (rc == LUA_OK)
        return 0;
    if (rc == LUA_ERRMEM)
        snprintf(why, whylen, "out of memory");
    else
        snprintf(why, whylen, "its result is not JSON: %s", r.why[0] ? r.why : "?");
    lua_pop(L, 1);
    return -1;
}
