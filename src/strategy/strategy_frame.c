/* strategy_frame.c — what a strategy's Lua code sees: the `df` table and the
 * array kernels.
 *
 * df.n is the row count; df.ticker, df.date and every column of the
 * features engine (df.close, df.gap_pct, df.sma_20, ...) are materialised on
 * first access as plain Lua arrays (1-based, one value per row) and kept in
 * df, so a loop over them runs at table-access speed. Feature values come
 * from the whole stored history of each symbol, so the first rows of the
 * window are warmed up.
 *
 * Kernels (sma, ema, rsi, stdev, highest, lowest, atr, bbands, crossover,
 * crossunder, shift, pct_change) take arrays aligned with df's rows and
 * restart at each ticker boundary: no value mixes two symbols. The
 * element-wise ones (gt, ge, lt, le, where) look at one row at a time. */
#include <ctype.h>
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/numfmt.h"
#include "strategy/strategy_internal.h"
#include "strategy/strategy_result.h"

#define FRAME_KEY "tickq.frame"
#define COLUMNS_KEY "tickq.columns"   /* every df column this evaluation used, ticker and date too: an
                                       * array of names, each also a key (name -> true) */
#define BUILT_KEY "tickq.built"       /* columns built before (the warm state): name -> array */
#define SHIFT_MAX 100000              /* the largest k of shift and pct_change */

/* The frame of this evaluation. There is none while the code is loaded
 * (its top level runs before df exists): `fn` is then an error. */
static const strategy_frame_t *frame_of(lua_State *L, const char *fn)
{
    lua_getfield(L, LUA_REGISTRYINDEX, FRAME_KEY);
    const strategy_frame_t *f = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (f == NULL)
        luaL_error(L, "%s works on df's rows: call it inside the strategy function, not when the code is loaded", fn);
    return f;
}

/* Fills the array on top (made with room for the window's rows) with the
 * window rows of a full-length column. Only lua_pushnumber and lua_rawseti
 * into that room: neither can run a collection step, so no finalizer runs
 * (and asks for other columns, which may evict this one) while `full` is
 * read. */
static void fill_window(lua_State *L, const strategy_frame_t *f, const double *full)
{
    lua_Integer row = 1;
    size_t off = 0;
    for (size_t i = 0; i < f->set->n; i++) {
        for (size_t t = f->lo[i]; t < f->hi[i]; t++) {
            lua_pushnumber(L, full[off + t]);
            lua_rawseti(L, -2, row++);
        }
        off += f->set->series[i].n;
    }
}

static void push_tickers(lua_State *L, const strategy_frame_t *f)
{
    lua_createtable(L, (int)f->rows, 0);
    lua_Integer row = 1;
    for (size_t i = 0; i < f->set->n; i++) {
        lua_pushstring(L, f->set->series[i].symbol);
        for (size_t t = f->lo[i]; t < f->hi[i]; t++) {
            lua_pushvalue(L, -1);
            lua_rawseti(L, -3, row++);
        }
        lua_pop(L, 1);
    }
}

/* Dates as strings; each distinct time is formatted once. */
static void push_dates(lua_State *L, const strategy_frame_t *f)
{
    lua_newtable(L); /* cache: ts -> string */
    int cache = lua_gettop(L);
    lua_createtable(L, (int)f->rows, 0);
    lua_Integer row = 1;
    for (size_t i = 0; i < f->set->n; i++) {
        const bar_series_t *s = &f->set->series[i];
        for (size_t t = f->lo[i]; t < f->hi[i]; t++) {
            if (lua_rawgeti(L, cache, s->ts[t]) == LUA_TNIL) {
                lua_pop(L, 1);
                char d[CLOCK_DATE_LEN];
                clock_format_bar(f->daily, s->ts[t], d);
                lua_pushstring(L, d);
                lua_pushvalue(L, -1);
                lua_rawseti(L, cache, s->ts[t]);
            }
            lua_rawseti(L, -2, row++);
        }
    }
    lua_remove(L, cache);
}

/* Pushes column `key` of the frame as a new Lua array; -1 with err for an
 * unknown column (nothing pushed). */
static int build_column(lua_State *L, const strategy_frame_t *f, const char *key, char *err, size_t errlen)
{
    if (strcmp(key, "ticker") == 0) {
        push_tickers(L, f);
    } else if (strcmp(key, "date") == 0) {
        push_dates(L, f);
    } else {
        /* The array first: making it may run finalizers (see fill_window). */
        lua_createtable(L, (int)f->rows, 0);
        const double *full = feature_frame_column(f->features, key, err, errlen);
        if (full == NULL) {
            lua_pop(L, 1);
            return -1;
        }
        fill_window(L, f, full);
    }
    return 0;
}

/* Records a df column as used, once (a strategy may drop a column and read
 * it again, a million times). */
static void record_column(lua_State *L, const char *name)
{
    lua_getfield(L, LUA_REGISTRYINDEX, COLUMNS_KEY);
    if (lua_getfield(L, -1, name) == LUA_TNIL) {
        lua_pushstring(L, name);
        lua_rawseti(L, -3, (lua_Integer)lua_rawlen(L, -3) + 1);
        lua_pushboolean(L, 1);
        lua_setfield(L, -3, name);
    }
    lua_pop(L, 2);
}

/* df's __index: materialises a column (or takes the one built before, in
 * the warm state) and keeps it in df. */
static int df_index(lua_State *L)
{
    const strategy_frame_t *f = frame_of(L, "df");
    luaL_checktype(L, 1, LUA_TTABLE); /* called as getmetatable(df).__index(x, k) */
    const char *key = lua_tostring(L, 2);
    if (key == NULL)
        return luaL_error(L, "df has columns named by strings (df.close), not by %s", luaL_typename(L, 2));
    if (strcmp(key, "n") == 0) {
        lua_pushinteger(L, (lua_Integer)f->rows);
        return 1;
    }
    int built = 0;
    if (lua_getfield(L, LUA_REGISTRYINDEX, BUILT_KEY) == LUA_TTABLE) {
        lua_pushvalue(L, 2);
        built = lua_rawget(L, -2) == LUA_TTABLE;
        if (built)
            lua_remove(L, -2);
        else
            lua_pop(L, 2);
    } else {
        lua_pop(L, 1);
    }
    if (!built) {
        char err[600];
        if (build_column(L, f, key, err, sizeof err) != 0)
            return luaL_error(L, "%s", err);
    }
    record_column(L, key);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
}

void strategy_set_used_columns(lua_State *L, const json_t *columns)
{
    lua_createtable(L, (int)json_array_size(columns), 0);
    for (size_t i = 0; i < json_array_size(columns); i++) {
        const char *name = json_string_value(json_array_get(columns, i));
        if (name != NULL) {
            lua_pushstring(L, name);
            lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        }
    }
    lua_setfield(L, LUA_REGISTRYINDEX, COLUMNS_KEY);
}

void strategy_push_frame(lua_State *L, const strategy_frame_t *frame)
{
    lua_pushlightuserdata(L, (void *)frame);
    lua_setfield(L, LUA_REGISTRYINDEX, FRAME_KEY);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, COLUMNS_KEY);
    lua_newtable(L);
    lua_newtable(L);
    lua_pushcfunction(L, df_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
}

typedef struct {
    const strategy_frame_t *frame;
    const char *name;
} build_arg_t;

/* Under lua_pcall: builds one column into the built table (made on first
 * use). */
static int build_protected(lua_State *L)
{
    const build_arg_t *a = lua_touserdata(L, 1);
    if (lua_getfield(L, LUA_REGISTRYINDEX, BUILT_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, BUILT_KEY);
    }
    char err[600];
    if (build_column(L, a->frame, a->name, err, sizeof err) != 0)
        return luaL_error(L, "%s", err);
    lua_setfield(L, -2, a->name);
    return 0;
}

int strategy_build_column(lua_State *L, const strategy_frame_t *frame, const char *name)
{
    build_arg_t a = { frame, name };
    lua_pushcfunction(L, build_protected);
    lua_pushlightuserdata(L, &a);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

void strategy_drop_column(lua_State *L, const char *name)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, BUILT_KEY) == LUA_TTABLE) {
        lua_pushnil(L);
        lua_setfield(L, -2, name);
    }
    lua_pop(L, 1);
}

size_t strategy_offered_columns(lua_State *L)
{
    size_t n = STRATEGY_NAMED_COLUMNS;
    lua_getfield(L, LUA_REGISTRYINDEX, COLUMNS_KEY);
    size_t used = lua_rawlen(L, -1);
    for (size_t i = 1; i <= used; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i);
        size_t len;
        const char *name = lua_tolstring(L, -1, &len);
        n += len > 0 && isdigit((unsigned char)name[len - 1]); /* sma_20: parametric; the named ones end in letters */
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return n;
}

json_t *strategy_used_columns(lua_State *L)
{
    json_t *out = json_array();
    lua_getfield(L, LUA_REGISTRYINDEX, COLUMNS_KEY);
    size_t n = lua_rawlen(L, -1);
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i);
        json_array_append_new(out, json_string(lua_tostring(L, -1)));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return out;
}

/* --- kernels ---------------------------------------------------------- */

/* A scratch buffer of n doubles, owned by Lua (pushed on the stack, freed
 * by the collector, counted against the memory limit). */
static double *buffer(lua_State *L, size_t n)
{
    return lua_newuserdatauv(L, (n ? n : 1) * sizeof(double), 0);
}

/* Reads array argument `arg` (one number per df row) into a new buffer; a
 * missing or non-number value reads as NaN. */
static double *read_array(lua_State *L, int arg, const strategy_frame_t *f, const char *fn)
{
    luaL_checktype(L, arg, LUA_TTABLE);
    size_t len = lua_rawlen(L, arg);
    if (len != f->rows)
        luaL_error(L, "%s: the array has %d values but df has %d rows", fn, (int)len, (int)f->rows);
    double *x = buffer(L, f->rows);
    for (size_t i = 0; i < f->rows; i++) {
        int isnum;
        lua_rawgeti(L, arg, (lua_Integer)i + 1);
        x[i] = (double)lua_tonumberx(L, -1, &isnum); /* one call: lua_isnumber's test and the value */
        if (!isnum)
            x[i] = NAN;
        lua_pop(L, 1);
    }
    return x;
}

static void push_array(lua_State *L, const double *x, size_t n)
{
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushnumber(L, x[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* Whole-number argument `arg` of kernel `fn` (`what`: "the window"), from
 * lo to hi; when absent, `dflt` (-1: it is required). Anything else is an
 * error showing the value as given: sma(x, 1e12) says "got 1000000000000",
 * never what a cast to int made of it. */
static lua_Integer whole_arg(lua_State *L, int arg, lua_Integer lo, lua_Integer hi, lua_Integer dflt,
                             const char *fn, const char *what)
{
    if (dflt >= 0 && lua_isnoneornil(L, arg))
        return dflt;
    int whole = 0;
    lua_Integer n = lua_tointegerx(L, arg, &whole);
    if (whole && n >= lo && n <= hi)
        return n;
    char shown[NUMFMT_MAX + 48];
    int type = lua_type(L, arg);
    if (type == LUA_TNUMBER && lua_isinteger(L, arg))
        snprintf(shown, sizeof shown, "%lld", (long long)lua_tointeger(L, arg));
    else if (type == LUA_TNUMBER)
        numfmt_shortest(lua_tonumber(L, arg), shown);
    else if (type == LUA_TSTRING)
        snprintf(shown, sizeof shown, "the string \"%.32s\"", lua_tostring(L, arg));
    else
        snprintf(shown, sizeof shown, "%s", type == LUA_TNONE ? "nothing" : luaL_typename(L, arg));
    return luaL_error(L, "%s: %s must be a whole number from %I to %I, got %s", fn, what, (LUAI_UACINT)lo,
                      (LUAI_UACINT)hi, shown);
}

static int window_arg(lua_State *L, int arg, const char *fn)
{
    return (int)whole_arg(L, arg, FEATURE_N_MIN, FEATURE_N_MAX, -1, fn, "the window");
}

typedef enum { K_SMA, K_EMA, K_RSI, K_STDEV, K_HIGHEST, K_LOWEST } rolling_t;

/* x -> kernel(x, N), per ticker segment. */
static int rolling(lua_State *L, rolling_t kind, const char *fn)
{
    const strategy_frame_t *f = frame_of(L, fn);
    int N = window_arg(L, 2, fn);
    double *x = read_array(L, 1, f, fn);
    double *out = buffer(L, f->rows);
    size_t off = 0;
    for (size_t i = 0; i < f->set->n; i++) {
        size_t n = f->hi[i] - f->lo[i];
        double *a = x + off, *o = out + off;
        switch (kind) {
        case K_SMA: feature_sma(a, n, N, o); break;
        case K_EMA: feature_ema(a, n, N, o); break;
        case K_RSI: feature_rsi(a, n, N, o); break;
        case K_HIGHEST: feature_rolling_max(a, n, N, o); break;
        case K_LOWEST: feature_rolling_min(a, n, N, o); break;
        case K_STDEV: feature_stdev(a, n, N, o); break;
        }
        off += n;
    }
    push_array(L, out, f->rows);
    return 1;
}

static int k_sma(lua_State *L) { return rolling(L, K_SMA, "sma"); }
static int k_ema(lua_State *L) { return rolling(L, K_EMA, "ema"); }
static int k_rsi(lua_State *L) { return rolling(L, K_RSI, "rsi"); }
static int k_stdev(lua_State *L) { return rolling(L, K_STDEV, "stdev"); }
static int k_highest(lua_State *L) { return rolling(L, K_HIGHEST, "highest"); }
static int k_lowest(lua_State *L) { return rolling(L, K_LOWEST, "lowest"); }

static int k_atr(lua_State *L)
{
    const strategy_frame_t *f = frame_of(L, "atr");
    int N = window_arg(L, 4, "atr");
    double *h = read_array(L, 1, f, "atr"), *l = read_array(L, 2, f, "atr"), *c = read_array(L, 3, f, "atr");
    double *out = buffer(L, f->rows);
    size_t off = 0;
    for (size_t i = 0; i < f->set->n; i++) {
        size_t n = f->hi[i] - f->lo[i];
        feature_atr(h + off, l + off, c + off, n, N, out + off);
        off += n;
    }
    push_array(L, out, f->rows);
    return 1;
}

static int k_bbands(lua_State *L)
{
    const strategy_frame_t *f = frame_of(L, "bbands");
    int N = window_arg(L, 2, "bbands");
    double k = luaL_optnumber(L, 3, 2.0);
    double *x = read_array(L, 1, f, "bbands");
    double *up = buffer(L, f->rows), *mid = buffer(L, f->rows), *lo = buffer(L, f->rows);
    size_t off = 0;
    for (size_t i = 0; i < f->set->n; i++) {
        size_t n = f->hi[i] - f->lo[i];
        feature_sma(x + off, n, N, mid + off);
        feature_stdev(x + off, n, N, up + off); /* the deviation, then the band */
        for (size_t t = off; t < off + n; t++) {
            double sd = up[t];
            up[t] = mid[t] + k * sd;
            lo[t] = mid[t] - k * sd;
        }
        off += n;
    }
    push_array(L, up, f->rows);
    push_array(L, mid, f->rows);
    push_array(L, lo, f->rows);
    return 3;
}

/* crossover(a, b): a crosses above b at this bar (b an array or a number). */
static int crossing(lua_State *L, int above, const char *fn)
{
    const strategy_frame_t *f = frame_of(L, fn);
    double *a = read_array(L, 1, f, fn), *b = NULL;
    double level = 0;
    if (lua_isnumber(L, 2))
        level = lua_tonumber(L, 2);
    else
        b = read_array(L, 2, f, fn);
    lua_createtable(L, (int)f->rows, 0);
    size_t off = 0;
    for (size_t i = 0; i < f->set->n; i++) {
        size_t n = f->hi[i] - f->lo[i];
        for (size_t t = 0; t < n; t++) {
            size_t r = off + t;
            int cross = 0;
            if (t > 0) {
                double b0 = b ? b[r - 1] : level, b1 = b ? b[r] : level;
                cross = above ? (a[r] > b1 && a[r - 1] <= b0) : (a[r] < b1 && a[r - 1] >= b0);
            }
            lua_pushboolean(L, cross);
            lua_rawseti(L, -2, (lua_Integer)r + 1);
        }
        off += n;
    }
    return 1;
}

static int k_crossover(lua_State *L) { return crossing(L, 1, "crossover"); }
static int k_crossunder(lua_State *L) { return crossing(L, 0, "crossunder"); }

/* x[t - k] within the same ticker (NaN for the first k rows), or with
 * `percent` the change from it, 100 * (x[t] / x[t-k] - 1): the kernels
 * shift and pct_change. */
static int lagged(lua_State *L, const char *name, lua_Integer min_k, int percent)
{
    const strategy_frame_t *f = frame_of(L, name);
    lua_Integer k = whole_arg(L, 2, min_k, SHIFT_MAX, 1, name, "k");
    double *x = read_array(L, 1, f, name);
    lua_createtable(L, (int)f->rows, 0);
    size_t off = 0;
    for (size_t i = 0; i < f->set->n; i++) {
        size_t n = f->hi[i] - f->lo[i];
        for (size_t t = 0; t < n; t++) {
            double v = NAN;
            if (t >= (size_t)k) {
                double earlier = x[off + t - (size_t)k];
                v = percent ? 100.0 * (x[off + t] / earlier - 1.0) : earlier;
            }
            lua_pushnumber(L, v);
            lua_rawseti(L, -2, (lua_Integer)(off + t) + 1);
        }
        off += n;
    }
    return 1;
}

/* shift(x, k): the value k rows earlier within the same ticker (NaN first). */
static int k_shift(lua_State *L) { return lagged(L, "shift", 0, 0); }
/* pct_change(x, k): 100 * (x[t] / x[t-k] - 1) within the same ticker. */
static int k_pct_change(lua_State *L) { return lagged(L, "pct_change", 1, 1); }

/* Operand `arg` of an element-wise kernel: an array aligned with df's rows
 * (into a new buffer), or a number (*level, NULL returned). */
static const double *operand(lua_State *L, int arg, const strategy_frame_t *f, const char *fn, double *level)
{
    if (lua_type(L, arg) == LUA_TNUMBER) {
        *level = lua_tonumber(L, arg);
        return NULL;
    }
    if (lua_type(L, arg) != LUA_TTABLE)
        luaL_error(L, "%s: argument %d must be an array of df's rows or a number, got %s", fn, arg,
                   luaL_typename(L, arg));
    return read_array(L, arg, f, fn);
}

typedef enum { CMP_GT, CMP_GE, CMP_LT, CMP_LE } compare_t;

/* gt(a, b) and friends: per row, a > b (>=, <, <=) as a boolean; either
 * side may be a number. A NaN on either side is false, as in pandas. */
static int compare(lua_State *L, compare_t op, const char *fn)
{
    const strategy_frame_t *f = frame_of(L, fn);
    double la = 0, lb = 0;
    const double *a = operand(L, 1, f, fn, &la), *b = operand(L, 2, f, fn, &lb);
    if (a == NULL && b == NULL)
        return luaL_error(L, "%s: one side must be an array of df's rows (both are numbers)", fn);
    lua_createtable(L, (int)f->rows, 0);
    for (size_t r = 0; r < f->rows; r++) {
        double x = a ? a[r] : la, y = b ? b[r] : lb;
        int v = op == CMP_GT ? x > y : op == CMP_GE ? x >= y : op == CMP_LT ? x < y : x <= y;
        lua_pushboolean(L, v);
        lua_rawseti(L, -2, (lua_Integer)r + 1);
    }
    return 1;
}

static int k_gt(lua_State *L) { return compare(L, CMP_GT, "gt"); }
static int k_ge(lua_State *L) { return compare(L, CMP_GE, "ge"); }
static int k_lt(lua_State *L) { return compare(L, CMP_LT, "lt"); }
static int k_le(lua_State *L) { return compare(L, CMP_LE, "le"); }

/* where(cond, x, y): per row, x where cond is true, else y; x and y arrays
 * or numbers. cond holds booleans (a comparison kernel's, crossover's):
 * anything else in it is an error naming the row, never read as true. */
static int k_where(lua_State *L)
{
    const strategy_frame_t *f = frame_of(L, "where");
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_rawlen(L, 1) != f->rows)
        return luaL_error(L, "where: the condition has %d values but df has %d rows", (int)lua_rawlen(L, 1),
                          (int)f->rows);
    double lx = 0, ly = 0;
    const double *x = operand(L, 2, f, "where", &lx), *y = operand(L, 3, f, "where", &ly);
    lua_createtable(L, (int)f->rows, 0);
    for (size_t r = 0; r < f->rows; r++) {
        if (lua_rawgeti(L, 1, (lua_Integer)r + 1) != LUA_TBOOLEAN)
            return luaL_error(L, "where: the condition's row %d is %s, not a boolean (make it with gt, ge, lt, "
                              "le, crossover or crossunder)", (int)r + 1, luaL_typename(L, -1));
        int c = lua_toboolean(L, -1);
        lua_pop(L, 1);
        lua_pushnumber(L, c ? (x ? x[r] : lx) : (y ? y[r] : ly));
        lua_rawseti(L, -2, (lua_Integer)r + 1);
    }
    return 1;
}

void strategy_open_kernels(lua_State *L)
{
    static const luaL_Reg kernels[] = {
        { "sma", k_sma }, { "ema", k_ema }, { "rsi", k_rsi }, { "stdev", k_stdev },
        { "highest", k_highest }, { "lowest", k_lowest }, { "atr", k_atr }, { "bbands", k_bbands },
        { "crossover", k_crossover }, { "crossunder", k_crossunder }, { "shift", k_shift },
        { "pct_change", k_pct_change }, { "gt", k_gt }, { "ge", k_ge }, { "lt", k_lt }, { "le", k_le },
        { "where", k_where }, { NULL, NULL },
    };
    lua_pushglobaltable(L);
    luaL_setfuncs(L, kernels, 0);
    lua_pop(L, 1);
}
