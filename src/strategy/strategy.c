/* strategy.c — user strategies in Lua 5.4, evaluated in a sandbox.
 *
 * Defence in depth: the sandbox process (no descriptors but its pipes,
 * rlimits, seccomp) runs a Lua state that has only the base, string, table,
 * math, utf8 and coroutine libraries, with every dangerous name replaced by
 * a stub that records a security violation: io, os (but time, clock, date),
 * package/require, debug, dofile/loadfile, load of binary chunks,
 * string.dump, collectgarbage. A violation is reported even if the strategy
 * catches the error. The string metatable is locked; tostring, print and
 * string.format show no heap address (strategy_tostring.c). An instruction-count
 * hook enforces the time limit (the parent also kills at the wall limit), a
 * capped allocator the memory limit. */
#include "strategy/strategy.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/json_writer.h"
#include "strategy/sandbox.h"

#define HOOK_EVERY 10000       /* instructions between time checks */
#define MAX_INSTANCES 1000000
#define MAX_DEPTH 8

/* State of one evaluation, reachable from the Lua state's allocator. */
typedef struct {
    size_t used, cap;
    int out_of_memory;           /* an allocation was refused for good */
    void *refused_ptr;           /* the last refusal, while Lua may still retry it */
    size_t refused_size;         /* (0: none pending) */
    int64_t deadline_ms;
    int timed_out;
    char violation[160];
    const strategy_job_t *job;
} eval_t;

static eval_t *E(lua_State *L)
{
    void *ud;
    lua_getallocf(L, &ud);
    return ud;
}

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    eval_t *e = ud;
    if (ptr == NULL)
        osize = 0;
    if (nsize == 0) {
        free(ptr);
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
    void *p = realloc(ptr, nsize);
    if (p != NULL)
        e->used = e->used - osize + nsize;
    return p;
}

/* 1 when the strategy ran out of memory: a refusal stood, or the last one
 * still does (it was never retried). */
static int out_of_memory(eval_t *e)
{
    if (e->refused_size != 0)
        e->out_of_memory = 1;
    return e->out_of_memory;
}

static void time_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    eval_t *e = E(L);
    if (clock_mono_ms() > e->deadline_ms) {
        e->timed_out = 1;
        luaL_error(L, "Strategy exceeded time limit");
    }
}

/* --- forbidden names -------------------------------------------------- */

static int forbidden(lua_State *L, const char *what)
{
    eval_t *e = E(L);
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

/* Seeds math.random for one run (each sandbox is a fork of one state, whose
 * generator Lua seeded from the time and that state's address: every warm
 * run would draw the same numbers). */
static void seed_random(lua_State *L, const uint64_t seed[2])
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

/* --- results ---------------------------------------------------------- */

json_t *strategy_json_text(const char *s, size_t len)
{
    json_t *v = json_stringn(s, len);
    if (v != NULL)
        return v;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return json_string("");
    for (size_t i = 0; i < len; i++)
        copy[i] = (unsigned char)s[i] < 0x80 && s[i] != '\0' ? s[i] : '?';
    v = json_stringn(copy, len);
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

int strategy_write_fields(lua_State *L, int idx, json_writer_t *w, const char *const *skip, int first,
                          int depth, char *why, size_t whylen)
{
    idx = lua_absindex(L, idx);
    int written = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pop(L, 2);
            snprintf(why, whylen, "has a key that is not a string");
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
                lua_pop(L, 2);
                return -1;
            }
            written++;
        }
        lua_pop(L, 1);
    }
    return written;
}

int strategy_write_value(lua_State *L, int idx, json_writer_t *w, int depth, char *why, size_t whylen)
{
    idx = lua_absindex(L, idx);
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
            snprintf(why, whylen, "nested deeper than %d tables", MAX_DEPTH);
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
                if (rc != 0)
                    return -1;
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
                 luaL_typename(L, idx));
        return -1;
    }
}

const char *strategy_field_string(lua_State *L, int idx, const char *key)
{
    idx = lua_absindex(L, idx);
    lua_pushstring(L, key);
    lua_rawget(L, idx);
    /* The value stays referenced by the table, so the pointer outlives the pop. */
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1);
    return v;
}

double strategy_field_number(lua_State *L, int idx, const char *key)
{
    idx = lua_absindex(L, idx);
    lua_pushstring(L, key);
    lua_rawget(L, idx);
    double v = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
    lua_pop(L, 1);
    return v;
}

int strategy_instances(lua_State *L, int idx, size_t *n, char *why, size_t whylen)
{
    if (lua_isnil(L, idx)) {
        snprintf(why, whylen, "the strategy returned nothing (nil): did it forget 'return instances'? "
                 "(return {} for no signals)");
        return -1;
    }
    if (!lua_istable(L, idx)) {
        snprintf(why, whylen, "the strategy returned a %s; return a list of instances", luaL_typename(L, idx));
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
        snprintf(why, whylen, "instance %zu is a %s, not a table", i, luaL_typename(L, -1));
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
                     lua_typename(L, type), hints[j]);
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

/* --- the evaluation (in the sandbox child) ----------------------------- */

static void write_all(const char *text, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(SANDBOX_RESULT_FD, text + off, len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

/* The envelope is one line of JSON; raw result text may follow it. */
static int write_envelope(json_t *env)
{
    char *text = json_dumps(env, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(env);
    if (text == NULL)
        return 2;
    write_all(text, strlen(text));
    write_all("\n", 1);
    free(text);
    return 0;
}

/* The message may quote the strategy's own bytes (an error() text, a token
 * of a syntax error), which need not be UTF-8: as JSON text they must not
 * fail, or the run would end without saying why. */
static int fail_envelope(const char *kind, const char *message)
{
    fflush(stdout);
    return write_envelope(json_pack("{s:b, s:s, s:o}", "ok", 0, "kind", kind, "message",
                                    strategy_json_text(message, strlen(message))));
}

/* The error of a result over SANDBOX_RESULT_MAX, whichever side finds it. */
static void result_too_large(char *out, size_t outlen)
{
    snprintf(out, outlen, "Strategy error: its result is larger than %u MiB", SANDBOX_RESULT_MAX >> 20);
}

/* Lua writes where an error happened first and what happened last
 * ("strategy:3: strategy:3: ... C stack overflow"): a message too long for a
 * job's error keeps both ends, cut at character boundaries. */
#define MESSAGE_MAX 900
static void clip_message(const char *m, char *out, size_t outlen)
{
    size_t len = strlen(m);
    if (len <= MESSAGE_MAX) {
        snprintf(out, outlen, "%s", m);
        return;
    }
    size_t head = MESSAGE_MAX / 3, tail = len - MESSAGE_MAX / 2;
    while (head > 0 && ((unsigned char)m[head] & 0xC0) == 0x80)
        head--;
    while (tail < len && ((unsigned char)m[tail] & 0xC0) == 0x80)
        tail++;
    snprintf(out, outlen, "%.*s [... %zu bytes ...] %s", (int)head, m, tail - head, m + tail);
}

/* Names of the global functions the code defined (not in `before`). */
static int find_entry(lua_State *L, int before, const char *entry, char *why, size_t whylen)
{
    if (entry != NULL) {
        lua_getglobal(L, entry);
        if (lua_isfunction(L, -1))
            return 0;
        lua_pop(L, 1);
        snprintf(why, whylen, "the strategy defines no function '%s'", entry);
        return -1;
    }
    char names[512] = "", replaced[256] = "";
    int found = 0;
    lua_pushglobaltable(L);
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_isfunction(L, -1)) {
            lua_pushvalue(L, -2);
            if (lua_rawget(L, before) == LUA_TNIL) { /* stack: key, function, nil */
                if (found++ == 0) {
                    lua_pushvalue(L, -2);
                    lua_setfield(L, LUA_REGISTRYINDEX, "tickq.entry");
                }
                size_t used = strlen(names);
                snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", lua_tostring(L, -3));
            } else if (!lua_rawequal(L, -1, -2)) { /* a builtin it replaced (function sma(df)) */
                size_t used = strlen(replaced);
                snprintf(replaced + used, sizeof replaced - used, "%s%s", used ? ", " : "", lua_tostring(L, -3));
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (found == 1) {
        lua_getfield(L, LUA_REGISTRYINDEX, "tickq.entry");
        return 0;
    }
    if (found == 0 && replaced[0])
        snprintf(why, whylen, "the strategy defines no function of its own: its %s replace%s a builtin; give the "
                 "strategy another name, or name it with \"entry\"", replaced, strchr(replaced, ',') ? "" : "s");
    else if (found == 0)
        snprintf(why, whylen, "the strategy defines no function: define one, e.g. function my_strategy(df) ... end");
    else
        snprintf(why, whylen, "the strategy defines several functions (%s): name the one to run with \"entry\"", names);
    return -1;
}

/* Lua's own refusals of huge sizes (string.rep past 2 GiB, tables past
 * their maximum) are memory-limit errors too. */
static int size_error(lua_State *L)
{
    const char *m = lua_tostring(L, -1);
    return m != NULL && (strstr(m, "not enough memory") || strstr(m, "resulting string too large") ||
                         strstr(m, "table overflow") || strstr(m, "string length overflow"));
}

/* Classifies a failed pcall: time, memory, security, or a plain error. */
static int report_error(lua_State *L, eval_t *e, const char *prefix)
{
    char msg[1200], text[MESSAGE_MAX + 64];
    /* No finalizer of the strategy's may run any more (reading the error
     * may allocate, and a collection would call them). */
    lua_gc(L, LUA_GCSTOP);
    if (size_error(L) || out_of_memory(e))
        e->out_of_memory = 1;
    if (e->violation[0])
        snprintf(msg, sizeof msg, "Security validation failed: %s", e->violation);
    else if (e->timed_out)
        snprintf(msg, sizeof msg, "Strategy exceeded time limit (%g s)", (double)e->job->time_limit_ms / 1000.0);
    else if (e->out_of_memory)
        snprintf(msg, sizeof msg, "Strategy exceeded memory limit (%zu MiB)", e->job->memory_bytes >> 20);
    else if (lua_isstring(L, -1)) {
        clip_message(lua_tostring(L, -1), text, sizeof text);
        snprintf(msg, sizeof msg, "%s: %s", prefix, text);
    } else {
        snprintf(msg, sizeof msg, "%s: (error object is a %s value)", prefix, luaL_typename(L, -1));
    }
    return fail_envelope(e->violation[0] ? "security" : e->timed_out ? "timeout" : e->out_of_memory ? "memory" : "error",
                         msg);
}

/* --- the warm state ------------------------------------------------------
 * A Lua state the worker process keeps between evaluations over the same
 * frame (same bar cache load, same windows): the safe libraries, the
 * kernels, and the df columns earlier strategies used, already built as Lua
 * arrays. Each sandbox child inherits it (fork copies memory lazily) and
 * runs the strategy in it, so repeated backtests over one universe and
 * window (a parameter sweep) skip rebuilding their columns. No strategy code
 * ever runs in the worker's copy: it changes only from C, before a fork,
 * with the columns the previous run over the same frame used.
 *
 * Its bound, so that no strategy grows the worker through it:
 * (1) While columns are built the state's allocator is capped at
 *     WARM_BYTES (whole state: libraries, kernels, columns): each
 *     allocation is checked, so the state never passes it, and a column
 *     that would is not built.
 * (2) A column is built only when it fits by the ledger (what each built
 *     column took; at most WARM_MAX_COLUMNS columns), after evicting the
 *     least recently used columns that the previous run did not use; the
 *     base columns (ticker, date, open, high, low, close, volume) are never
 *     evicted.
 * (3) A run adds at most STRATEGY_WARM_COLUMNS columns.
 * A column evicted or never built is built in the sandbox when used, as it
 * always was: same values, only not ready in advance. */
typedef struct {
    lua_State *L;
    uint64_t generation;
    int daily;
    size_t nseries;
    size_t *lo, *hi;
} frame_key_t;

#define WARM_BYTES ((size_t)128 << 20)
#define WARM_MAX_COLUMNS FEATURE_KEEP_COLUMNS /* as the feature frame: lookups are linear */
#define LUA_SLOT_BYTES 16        /* a Lua 5.4 array slot (TValue) */

/* A column built into the warm state, for the ledger. */
typedef struct {
    char name[FEATURE_NAME_MAX + 1];
    size_t bytes;                /* what building it took */
    uint64_t last_use;           /* the last run (g_ledger.runs) that used it */
    int base;                    /* never evicted */
} warm_column_t;

static struct {
    warm_column_t *cols;
    size_t n, cap;
    size_t held;                 /* bytes of cols */
    size_t empty;                /* the state without columns */
    uint64_t runs;
} g_ledger;

static uint64_t g_run_seed[2];    /* math.random's seed for the next run (seed_random) */
static eval_t g_eval;            /* the warm state's allocator state */
static frame_key_t g_warm;       /* g_warm.L: NULL when there is none */
static frame_key_t g_last;       /* the previous run's frame (L unused) */
static json_t *g_last_columns;   /* the columns it used */

static int same_frame(const frame_key_t *k, const strategy_frame_t *f)
{
    size_t n = f->set->n;
    return k->lo != NULL && k->generation == f->generation && k->daily == f->daily && k->nseries == n &&
           memcmp(k->lo, f->lo, n * sizeof *f->lo) == 0 && memcmp(k->hi, f->hi, n * sizeof *f->hi) == 0;
}

static void key_clear(frame_key_t *k)
{
    free(k->lo);
    free(k->hi);
    k->lo = k->hi = NULL;
}

static int key_set(frame_key_t *k, const strategy_frame_t *f)
{
    key_clear(k);
    size_t n = f->set->n ? f->set->n : 1;
    k->lo = malloc(n * sizeof *k->lo);
    k->hi = malloc(n * sizeof *k->hi);
    if (k->lo == NULL || k->hi == NULL) {
        key_clear(k);
        return -1;
    }
    memcpy(k->lo, f->lo, f->set->n * sizeof *f->lo);
    memcpy(k->hi, f->hi, f->set->n * sizeof *f->hi);
    k->generation = f->generation;
    k->daily = f->daily;
    k->nseries = f->set->n;
    return 0;
}

/* A Lua state with the safe libraries and the kernels. */
static lua_State *new_state(eval_t *e)
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

static warm_column_t *ledger_find(const char *name)
{
    for (size_t i = 0; i < g_ledger.n; i++)
        if (strcmp(g_ledger.cols[i].name, name) == 0)
            return &g_ledger.cols[i];
    return NULL;
}

static int ledger_add(const char *name, size_t bytes)
{
    static const char *const base[] = { "ticker", "date", "open", "high", "low", "close", "volume" };
    if (g_ledger.n == g_ledger.cap) {
        size_t cap = g_ledger.cap ? 2 * g_ledger.cap : 16;
        warm_column_t *p = realloc(g_ledger.cols, cap * sizeof *p);
        if (p == NULL)
            return -1;
        g_ledger.cols = p;
        g_ledger.cap = cap;
    }
    warm_column_t *c = &g_ledger.cols[g_ledger.n++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->bytes = bytes;
    c->last_use = g_ledger.runs;
    c->base = 0;
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        c->base |= strcmp(name, base[i]) == 0;
    g_ledger.held += bytes;
    return 0;
}

/* Whether a column may be evicted: no base column, not used by the
 * previous run. */
static int evictable(const warm_column_t *c)
{
    return !c->base && c->last_use < g_ledger.runs;
}

/* Makes room for a column of `need` bytes besides `planned` bytes and
 * `npl` columns planned: evicts the least recently used evictable columns
 * until it fits; 0, or -1 (nothing evicted) when it cannot fit. Sets
 * *evicted when it evicted any. */
static int ledger_room(lua_State *L, size_t need, size_t planned, size_t npl, int *evicted)
{
    size_t free_bytes = 0, free_cols = 0;
    for (size_t i = 0; i < g_ledger.n; i++) {
        if (evictable(&g_ledger.cols[i])) {
            free_bytes += g_ledger.cols[i].bytes;
            free_cols++;
        }
    }
    if (g_ledger.empty + g_ledger.held - free_bytes + planned + need > WARM_BYTES ||
        g_ledger.n - free_cols + npl + 1 > WARM_MAX_COLUMNS)
        return -1;
    while (g_ledger.empty + g_ledger.held + planned + need > WARM_BYTES || g_ledger.n + npl + 1 > WARM_MAX_COLUMNS) {
        size_t old = g_ledger.n;
        for (size_t i = 0; i < g_ledger.n; i++)
            if (evictable(&g_ledger.cols[i]) &&
                (old == g_ledger.n || g_ledger.cols[i].last_use < g_ledger.cols[old].last_use))
                old = i;
        strategy_drop_column(L, g_ledger.cols[old].name);
        g_ledger.held -= g_ledger.cols[old].bytes;
        g_ledger.cols[old] = g_ledger.cols[--g_ledger.n];
        *evicted = 1;
    }
    return 0;
}

/* What building column `name` of f takes at least: a slot a row (and for
 * date, a string a date of the longest window); the cap checks the rest. */
static size_t warm_estimate(const strategy_frame_t *f, const char *name)
{
    size_t longest = 0;
    for (size_t i = 0; strcmp(name, "date") == 0 && i < f->set->n; i++)
        if (f->hi[i] - f->lo[i] > longest)
            longest = f->hi[i] - f->lo[i];
    return f->rows * LUA_SLOT_BYTES + longest * 64 + 256;
}

static void warm_close(void)
{
    if (g_warm.L != NULL)
        lua_close(g_warm.L);
    g_warm.L = NULL;
    key_clear(&g_warm);
    g_ledger.n = g_ledger.held = 0;
}

/* Builds the planned columns (plan[i]: an estimate of its bytes, 0 for a
 * column not to build) under the cap, the collector stopped so that each
 * column's bytes are exactly what its build took; stops at the first the
 * cap refuses. */
static void warm_build(const strategy_frame_t *f, const size_t *plan, size_t n)
{
    lua_gc(g_warm.L, LUA_GCSTOP);
    g_eval.cap = WARM_BYTES;
    for (size_t i = 0; i < n; i++) {
        if (plan[i] == 0)
            continue;
        const char *name = json_string_value(json_array_get(g_last_columns, i));
        size_t before = g_eval.used;
        if (strategy_build_column(g_warm.L, f, name) != 0)
            break;
        size_t took = g_eval.used > before ? g_eval.used - before : 0;
        if (ledger_add(name, took > plan[i] ? took : plan[i]) != 0) {
            strategy_drop_column(g_warm.L, name); /* kept only with its ledger entry */
            break;
        }
    }
    g_eval.cap = SIZE_MAX; /* nothing else runs in this state but the collector */
    lua_gc(g_warm.L, LUA_GCRESTART);
}

/* Before forking: when the previous run was over this frame too, builds
 * the columns it used into the warm state (made for this frame), within
 * the bound (see above). */
static void warm_prepare(const strategy_frame_t *f)
{
    if (g_warm.L != NULL && !same_frame(&g_warm, f))
        warm_close();
    if (g_last_columns == NULL || !same_frame(&g_last, f))
        return;
    if (g_warm.L == NULL) {
        memset(&g_eval, 0, sizeof g_eval);
        g_eval.cap = SIZE_MAX;
        if (key_set(&g_warm, f) != 0 || (g_warm.L = new_state(&g_eval)) == NULL) {
            key_clear(&g_warm);
            return;
        }
        g_ledger.empty = g_eval.used;
    }
    size_t n = json_array_size(g_last_columns);
    size_t *plan = calloc(n ? n : 1, sizeof *plan);
    if (plan == NULL)
        return;
    g_ledger.runs++;
    for (size_t i = 0; i < n; i++) {
        warm_column_t *c = ledger_find(json_string_value(json_array_get(g_last_columns, i)));
        if (c != NULL)
            c->last_use = g_ledger.runs;
    }
    /* The plan: which of the columns not built yet fit, and what goes. */
    size_t planned = 0, npl = 0, picked[STRATEGY_WARM_COLUMNS];
    int evicted = 0;
    for (size_t i = 0; i < n && npl < STRATEGY_WARM_COLUMNS; i++) {
        const char *name = json_string_value(json_array_get(g_last_columns, i));
        if (name == NULL || strlen(name) > FEATURE_NAME_MAX || ledger_find(name) != NULL)
            continue;
        int dup = 0; /* a name the run used twice (dropped from df, used again) */
        for (size_t k = 0; k < npl && !dup; k++)
            dup = strcmp(name, json_string_value(json_array_get(g_last_columns, picked[k]))) == 0;
        if (dup)
            continue;
        /* Not a column whose feature values alone pass their bound (a
         * universe of millions of bars): building it would hold them. */
        if (strcmp(name, "ticker") != 0 && strcmp(name, "date") != 0 && !feature_frame_fits(f->features, name))
            continue;
        size_t need = warm_estimate(f, name);
        if (ledger_room(g_warm.L, need, planned, npl, &evicted) != 0)
            continue;
        plan[i] = need;
        planned += need;
        picked[npl++] = i;
    }
    /* The evicted columns' memory is freed before building, and the state
     * collected after (its columns made old): an unchanged warm state is
     * not collected, as a full pass over millions of values before every
     * fork would cost more than the fork. */
    if (evicted)
        lua_gc(g_warm.L, LUA_GCCOLLECT);
    if (npl > 0)
        warm_build(f, plan, n);
    if (npl > 0 || evicted)
        lua_gc(g_warm.L, LUA_GCCOLLECT);
    free(plan);
}

/* After a run: remembers its frame and the columns it used. */
static void warm_remember(const strategy_frame_t *f, const json_t *accessed)
{
    json_decref(g_last_columns);
    g_last_columns = NULL;
    if (key_set(&g_last, f) == 0 && accessed != NULL)
        g_last_columns = json_incref((json_t *)accessed);
}

static int evaluate(void *arg)
{
    const strategy_job_t *job = arg;
    static eval_t fresh;
    eval_t *e = &fresh;
    lua_State *L;
    if (g_warm.L != NULL && same_frame(&g_warm, job->frame)) {
        /* The inherited warm state: its columns count towards the limit
         * only beyond what they already take. */
        e = &g_eval;
        L = g_warm.L;
        size_t base = g_eval.used;
        memset(&g_eval, 0, sizeof g_eval);
        g_eval.used = base;
        g_eval.cap = base + job->memory_bytes;
    } else {
        memset(&fresh, 0, sizeof fresh);
        fresh.cap = job->memory_bytes;
        L = new_state(&fresh);
        if (L == NULL)
            return fail_envelope("memory", "Strategy exceeded memory limit: cannot create the Lua state");
    }
    e->job = job;
    seed_random(L, g_run_seed);
    e->deadline_ms = clock_mono_ms() + job->time_limit_ms;
    /* The globals before the strategy's code (name -> value), to find what
     * it defines. */
    lua_newtable(L);
    int before = lua_gettop(L);
    lua_pushglobaltable(L);
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        lua_pushvalue(L, -2);
        lua_pushvalue(L, -2);
        lua_rawset(L, before);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_sethook(L, time_hook, LUA_MASKCOUNT, HOOK_EVERY);

    if (luaL_loadbufferx(L, job->code, job->code_len, "=strategy", "t") != LUA_OK) {
        char msg[1200], text[MESSAGE_MAX + 64];
        clip_message(lua_tostring(L, -1), text, sizeof text);
        snprintf(msg, sizeof msg, "Strategy syntax error: %s", text);
        return fail_envelope("syntax", msg);
    }
    /* A strategy that catches its own limit error (pcall) still broke it. */
    if (lua_pcall(L, 0, 0, 0) != LUA_OK || e->violation[0] || e->timed_out || out_of_memory(e))
        return report_error(L, e, "Strategy error");
    char why[600];
    if (find_entry(L, before, job->entry, why, sizeof why) != 0) {
        char msg[700];
        snprintf(msg, sizeof msg, "Strategy error: %s", why);
        return fail_envelope("contract", msg);
    }
    strategy_push_frame(L, job->frame);
    int status = lua_pcall(L, 1, 1, 0);
    if (status != LUA_OK || e->violation[0] || e->timed_out || out_of_memory(e))
        return report_error(L, e, "Strategy error");
    lua_sethook(L, NULL, 0, 0);
    /* The strategy is done: the task's own code turns its result into the
     * task's, here, so that only the result crosses the pipe. Lua must not
     * fail from here on (an error outside pcall would abort). No collection
     * either: it would run the strategy's finalizers (__gc) without its
     * limits, and they could change the result while it is read. The raw
     * text is bounded as the pipe's reader bounds it: a result can be far
     * bigger as text than in Lua (one string in a million instances). */
    lua_gc(L, LUA_GCSTOP);
    e->cap = SIZE_MAX;
    lua_checkstack(L, 20);
    json_writer_t raw;
    jw_init(&raw);
    raw.max = SANDBOX_RESULT_MAX;
    json_t *data = job->finish(L, lua_gettop(L), job->finish_ctx, &raw, why, sizeof why);
    if (data == NULL) {
        jw_free(&raw);
        char msg[700];
        snprintf(msg, sizeof msg, "Strategy error: %s", why);
        return fail_envelope("contract", msg);
    }
    if (raw.over) {
        json_decref(data);
        jw_free(&raw);
        char msg[100];
        result_too_large(msg, sizeof msg);
        return fail_envelope("contract", msg);
    }
    if (raw.failed) { /* half a result must not become a result */
        json_decref(data);
        jw_free(&raw);
        return fail_envelope("memory", "Strategy error: out of memory writing its result");
    }
    fflush(stdout);
    json_t *env = json_object();
    json_object_set_new(env, "ok", json_true());
    json_object_set_new(env, "data", data);
    json_object_set_new(env, "columns", strategy_used_columns(L));
    json_object_set_new(env, "raw", json_boolean(raw.len > 0));
    int rc = write_envelope(env);
    if (rc == 0 && raw.len > 0)
        write_all(raw.buf, raw.len);
    jw_free(&raw);
    return rc;
}

/* The line's first word after indentation, if it is `word` followed by a
 * space, tab or `(`. */
static int line_starts_with(const char *line, const char *word)
{
    while (*line == ' ' || *line == '\t')
        line++;
    size_t n = strlen(word);
    return strncmp(line, word, n) == 0 && (line[n] == ' ' || line[n] == '\t' || line[n] == '(');
}

int strategy_is_python(const char *code)
{
    int python = 0, lua = 0;
    for (const char *line = code; line != NULL && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (line_starts_with(line, "def") || line_starts_with(line, "import") || line_starts_with(line, "from") ||
            line_starts_with(line, "class"))
            python++;
        else if (line_starts_with(line, "function") || line_starts_with(line, "local"))
            lua++;
    }
    return python > 0 && lua == 0;
}

/* What the child printed, as the run's {"output", "output_truncated"}
 * fields of `into`. */
static void add_output(json_t *into, const sandbox_outcome_t *out)
{
    if (out->output_len > 0)
        json_object_set_new(into, "output", strategy_json_text(out->output, out->output_len));
    if (out->output_truncated)
        json_object_set_new(into, "output_truncated", json_true());
}

int strategy_run(const strategy_job_t *job, json_t **result, char **raw, size_t *raw_len, char *error,
                 size_t errlen)
{
    *result = NULL;
    *raw = NULL;
    *raw_len = 0;
    sandbox_limits_t lim = { job->time_limit_ms, (int)(job->time_limit_ms / 1000) + 2 };
    sandbox_outcome_t out;
    if (!job->cold)
        warm_prepare(job->frame);
    if (getrandom(g_run_seed, sizeof g_run_seed, GRND_NONBLOCK) != (ssize_t)sizeof g_run_seed) {
        g_run_seed[0] = (uint64_t)clock_now_us();
        g_run_seed[1] = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
    }
    char err[512];
    if (sandbox_run(&lim, evaluate, (void *)job, &out, err, sizeof err) != 0) {
        snprintf(error, errlen, "Strategy could not start: %s", err);
        return STRATEGY_NOT_STARTED;
    }
    int rc = -1;
    if (out.violation[0]) {
        snprintf(error, errlen, "Security validation failed: attempted system call %s", out.violation);
    } else if (out.timed_out) {
        snprintf(error, errlen, "Strategy exceeded time limit (%g s)", (double)job->time_limit_ms / 1000.0);
        rc = STRATEGY_TIME_LIMIT;
    } else if (out.result_truncated) {
        result_too_large(error, errlen);
    } else {
        json_error_t jerr;
        char *nl = out.result_len ? memchr(out.result, '\n', out.result_len) : NULL;
        size_t head = nl ? (size_t)(nl - out.result) : out.result_len;
        json_t *env = head ? json_loadb(out.result, head, 0, &jerr) : NULL;
        if (env == NULL) {
            if (out.term_signal)
                snprintf(error, errlen, "Strategy crashed (signal %d)", out.term_signal);
            else
                snprintf(error, errlen, "Strategy ended without a result (exit status %d)", out.exit_code);
        } else if (!json_is_true(json_object_get(env, "ok"))) {
            /* kind "internal": the sandbox itself failed (no seccomp
             * filter), not the strategy, so the job is worth a retry. */
            const char *kind = json_string_value(json_object_get(env, "kind"));
            int internal = kind != NULL && strcmp(kind, "internal") == 0;
            snprintf(error, errlen, "%s%s", internal ? "Strategy could not start: " : "",
                     json_string_value(json_object_get(env, "message")));
            if (internal)
                rc = STRATEGY_NOT_STARTED;
            else if (kind != NULL && strcmp(kind, "timeout") == 0)
                rc = STRATEGY_TIME_LIMIT;
            else if (kind != NULL && strcmp(kind, "memory") == 0)
                rc = STRATEGY_MEMORY_LIMIT;
            json_decref(env);
        } else {
            json_object_del(env, "ok");
            if (json_is_true(json_object_get(env, "raw")) && nl != NULL) {
                /* Hand the raw text over in the outcome's own buffer. */
                *raw_len = out.result_len - head - 1;
                memmove(out.result, nl + 1, *raw_len);
                out.result[*raw_len] = '\0';
                *raw = out.result;
                out.result = NULL;
            }
            json_object_del(env, "raw");
            if (!job->cold)
                warm_remember(job->frame, json_object_get(env, "columns"));
            add_output(env, &out);
            *result = env;
            rc = 0;
        }
    }
    if (rc != 0 && (out.output_len > 0 || out.output_truncated)) {
        /* What it printed before failing: that is when it is needed. */
        *result = json_object();
        add_output(*result, &out);
    }
    sandbox_outcome_free(&out);
    return rc;
}
