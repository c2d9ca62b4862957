/* strategy_warm.c — the warm state: a Lua state the worker keeps between
 * strategy runs, with the df columns earlier runs used already built.
 *
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
#include "strategy/strategy_internal.h"

#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static strategy_eval_t g_eval;   /* the warm state's allocator state */
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

/* The warm state is made for this frame (above: a new one when the frame
 * changed); the plan keeps it within its bound. */
void strategy_warm_prepare(const strategy_frame_t *f)
{
    if (g_warm.L != NULL && !same_frame(&g_warm, f))
        warm_close();
    if (g_last_columns == NULL || !same_frame(&g_last, f))
        return;
    if (g_warm.L == NULL) {
        memset(&g_eval, 0, sizeof g_eval);
        g_eval.cap = SIZE_MAX;
        if (key_set(&g_warm, f) != 0 || (g_warm.L = strategy_state_new(&g_eval)) == NULL) {
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

void strategy_warm_remember(const strategy_frame_t *f, const json_t *accessed)
{
    json_decref(g_last_columns);
    g_last_columns = NULL;
    if (key_set(&g_last, f) == 0 && accessed != NULL)
        g_last_columns = json_incref((json_t *)accessed);
}

lua_State *strategy_warm_take(const strategy_frame_t *f, size_t memory_bytes, strategy_eval_t **e)
{
    if (g_warm.L == NULL || !same_frame(&g_warm, f))
        return NULL;
    /* Its columns count towards the limit only beyond what they already
     * take. */
    size_t base = g_eval.used;
    memset(&g_eval, 0, sizeof g_eval);
    g_eval.used = base;
    g_eval.cap = base + memory_bytes;
    *e = &g_eval;
    return g_warm.L;
}
