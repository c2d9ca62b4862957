/* strategy.c — running a strategy: load its code in the sandboxed Lua
 * state (strategy_state.c), find its entry point, call it with df and let
 * the task's finish step read what it returned, all in a sandbox child
 * (sandbox.h); then, in the worker, read the child's reply.
 *
 * The child replies with an envelope, one line of JSON ({"ok": true,
 * "data", "columns", "raw"} or {"ok": false, "kind", "message"}), followed
 * by the raw result text when "raw" is true. What it printed comes back on
 * its own pipe (the sandbox's output). The worker keeps a warm Lua state
 * between runs (strategy_warm.c), which each child inherits. */
#include "strategy/strategy.h"

#include <lauxlib.h>
#include <lua.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fdio.h"
#include "core/json_writer.h"
#include "core/worker_metrics.h"
#include "data/feature.h"
#include "strategy/sandbox.h"
#include "strategy/strategy_arena.h"
#include "strategy/strategy_internal.h"
#include "strategy/strategy_json.h"
#include "strategy/strategy_python.h"
#include "strategy/strategy_result.h"

/* The first line of a Python evaluation's reply (its envelope) is at most
 * this long: the columns df had and a few fields. */
#define PYTHON_ENVELOPE_MAX (64 * 1024)

static uint64_t g_run_seed[2];    /* math.random's seed for the next run (strategy_state_seed) */

/* What the child writes to its result pipe (a failed write: the parent
 * sees no result, and says so). */
static void write_all(const char *text, size_t len)
{
    (void)fdio_write_all(SANDBOX_RESULT_FD, text, len);
}

/* The envelope is one line of JSON; raw result text may follow it. */
/* In a batch child (strategy_run_batch): the combination whose envelope
 * is written next; -1 otherwise. */
static long g_batch_index = -1;

static int write_envelope(json_t *env)
{
    if (g_batch_index >= 0)
        json_object_set_new(env, "i", json_integer(g_batch_index));
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

/* Pushes the function to run: `entry_point`, or else the one global
 * function the code defined (not in `before`); -1 with why (nothing
 * pushed) when there is no such function, or several. Raw reads only: this
 * runs outside a protected call, where a metamethod of the strategy's
 * (an __index on _G that raises) would abort the sandbox. */
static int find_entry_point(lua_State *L, int before, const char *entry_point, char *why, size_t whylen)
{
    if (entry_point != NULL) {
        lua_pushglobaltable(L);
        lua_pushstring(L, entry_point);
        lua_rawget(L, -2);
        lua_remove(L, -2);
        if (lua_isfunction(L, -1))
            return 0;
        lua_pop(L, 1);
        snprintf(why, whylen, "the strategy defines no function '%s'", entry_point);
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
                    lua_setfield(L, LUA_REGISTRYINDEX, "tickq.entry_point");
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
        lua_getfield(L, LUA_REGISTRYINDEX, "tickq.entry_point");
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

/* Pushes JSON value v as Lua: an object as a table by key, an array as a
 * sequence, numbers (integers as integers), strings, booleans; null as nil.
 * The task checked its size (strategy_params_check), so the stack suffices. */
static void push_json(lua_State *L, const json_t *v)
{
    size_t i;
    const char *key;
    json_t *item;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        lua_createtable(L, 0, (int)json_object_size(v));
        json_object_foreach((json_t *)v, key, item) {
            push_json(L, item);
            lua_setfield(L, -2, key);
        }
        break;
    case JSON_ARRAY:
        lua_createtable(L, (int)json_array_size(v), 0);
        json_array_foreach(v, i, item) {
            push_json(L, item);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    case JSON_STRING: lua_pushlstring(L, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: lua_pushinteger(L, (lua_Integer)json_integer_value(v)); break;
    case JSON_REAL: lua_pushnumber(L, json_real_value(v)); break;
    case JSON_TRUE: lua_pushboolean(L, 1); break;
    case JSON_FALSE: lua_pushboolean(L, 0); break;
    default: lua_pushnil(L); break;
    }
}

/* Classifies a failed pcall: time, memory, security, or a plain error. */
static int report_error(lua_State *L, strategy_eval_t *e, const char *prefix)
{
    char msg[1200], text[MESSAGE_MAX + 64];
    /* No finalizer of the strategy's may run any more (reading the error
     * may allocate, and a collection would call them). */
    lua_gc(L, LUA_GCSTOP);
    if (size_error(L) || strategy_eval_out_of_memory(e))
        e->out_of_memory = 1;
    if (e->violation[0])
        snprintf(msg, sizeof msg, "Security validation failed: %s", e->violation);
    else if (e->timed_out)
        snprintf(msg, sizeof msg, "Strategy exceeded time limit (%g s)", (double)e->job->time_limit_ms / 1000.0);
    else if (e->out_of_memory)
        strategy_memory_limit_message(e->job->memory_bytes, msg, sizeof msg);
    else if (lua_isstring(L, -1)) {
        clip_message(lua_tostring(L, -1), text, sizeof text);
        snprintf(msg, sizeof msg, "%s: %s", prefix, text);
    } else {
        snprintf(msg, sizeof msg, "%s: (error object is a %s value)", prefix, luaL_typename(L, -1));
    }
    return fail_envelope(e->violation[0] ? "security" : e->timed_out ? "timeout" : e->out_of_memory ? "memory" : "error",
                         msg);
}


/* The strategy's value is at the top of L: the task's own code turns it
 * into the task's result. Lua must not fail from here on (an error outside
 * pcall would abort). No collection either: it would run the strategy's
 * finalizers (__gc) without its limits, and they could change the result
 * while it is read. The raw text is bounded as the pipe's reader bounds
 * it: a result can be far bigger as text than in Lua (one string in a
 * million instances). 0 with *data and raw; -1 with *kind and msg. */
static int finish_value(lua_State *L, strategy_eval_t *e, const strategy_job_t *job, json_t **data,
                        json_writer_t *raw, const char **kind, char *msg, size_t msglen)
{
    char why[600];
    lua_gc(L, LUA_GCSTOP);
    /* The finish step's own allocations: a Lua strategy's in its sandbox
     * child, unbounded; a Python strategy's result is finished in the
     * worker (finish_python), so bounded there, by as much again. */
    e->cap = job->python ? e->used + job->memory_bytes : SIZE_MAX;
    lua_checkstack(L, 20);
    jw_init(raw);
    raw->max = SANDBOX_RESULT_MAX;
    *kind = "contract";
    *data = job->finish(L, lua_gettop(L), job->finish_ctx, raw, why, sizeof why);
    if (*data == NULL) {
        snprintf(msg, msglen, "Strategy error: %s", why);
    } else if (raw->over) {
        result_too_large(msg, msglen);
    } else if (raw->failed) { /* half a result must not become a result */
        *kind = "memory";
        snprintf(msg, msglen, "Strategy error: out of memory writing its result");
    } else {
        return 0;
    }
    json_decref(*data);
    *data = NULL;
    jw_free(raw);
    return -1;
}

/* In the sandbox child: finishes and replies, so that only the result
 * crosses the pipe. */
static int finish_and_reply(lua_State *L, strategy_eval_t *e, const strategy_job_t *job, double strategy_ms)
{
    json_t *data;
    json_writer_t raw;
    const char *kind;
    char msg[700];
    int64_t t0 = clock_mono_us();
    if (finish_value(L, e, job, &data, &raw, &kind, msg, sizeof msg) != 0)
        return fail_envelope(kind, msg);
    fflush(stdout);
    if (g_batch_index >= 0) { /* a sweep reads metrics: the lists (trades, the curve) need not cross the pipe */
        const char *k;
        json_t *v, *tmp;
        json_object_foreach_safe(data, tmp, k, v)
            if (json_is_array(v))
                json_object_del(data, k);
    }
    json_t *env = json_object();
    json_object_set_new(env, "ok", json_true());
    json_object_set_new(env, "split", json_pack("{s:f, s:f}", "strategy_ms", strategy_ms, "finish_ms",
                                                (double)(clock_mono_us() - t0) / 1000.0));
    json_object_set_new(env, "data", data);
    json_object_set_new(env, "columns", strategy_used_columns(L));
    json_object_set_new(env, "raw", json_boolean(raw.len > 0));
    int rc = write_envelope(env);
    if (rc == 0 && raw.len > 0)
        write_all(raw.buf, raw.len);
    jw_free(&raw);
    return rc;
}

static int evaluate_in(const strategy_job_t *job, lua_State *L, strategy_eval_t *e);

static int evaluate(void *arg)
{
    const strategy_job_t *job = arg;
    strategy_eval_t fresh; /* the child leaves (_exit) before this frame ends */
    (void)strategy_arena_start(job->memory_bytes); /* the child's own pages for small blocks (else malloc's) */
    strategy_eval_t *e;
    lua_State *L = strategy_warm_take(job->frame, job->memory_bytes, &e);
    if (L == NULL) {
        memset(&fresh, 0, sizeof fresh);
        fresh.cap = job->memory_bytes;
        e = &fresh;
        L = strategy_state_new(&fresh);
        if (L == NULL)
            return fail_envelope("memory", "Strategy exceeded memory limit: cannot create the Lua state");
    }
    return evaluate_in(job, L, e);
}

/* What a batch child runs (strategy_run_batch). */
typedef struct {
    const strategy_job_t *job;
    const json_t *params;        /* one object per run */
} batch_t;

/* A batch child: each combination in a fresh Lua state of its own (its
 * limits, its globals: nothing of one run reaches the next), one envelope
 * each, tagged with its index. */
static int evaluate_batch(void *arg)
{
    const batch_t *b = arg;
    strategy_job_t one = *b->job;
    (void)strategy_arena_start(one.memory_bytes);
    for (size_t i = 0; i < json_array_size(b->params); i++) {
        one.params = json_array_get(b->params, i);
        g_batch_index = (long)i;
        strategy_eval_t e;
        memset(&e, 0, sizeof e);
        e.cap = one.memory_bytes;
        lua_State *L = strategy_state_new(&e);
        if (L == NULL) {
            fail_envelope("memory", "Strategy exceeded memory limit: cannot create the Lua state");
            continue;
        }
        evaluate_in(&one, L, &e);
        /* Closing runs the finalizers still pending (of a run too small to
         * release the collector, all of them): within the memory limit
         * again, which the finish lifted. */
        e.cap = one.memory_bytes;
        lua_close(L);
    }
    return 0;
}

typedef enum { RUN_DONE, RUN_FAILED, RUN_CONTRACT } run_status_t;

/* While the state is watched: runs the strategy's chunk (loaded at the
 * top of L), then its entry point on df (and the params). RUN_DONE with its
 * value at the top of L and its time in *ms; RUN_FAILED with the error
 * (report_error's); RUN_CONTRACT with why (no entry point to call). A
 * strategy that catches its own limit error (pcall) still broke it. */
static run_status_t run_watched(const strategy_job_t *job, lua_State *L, strategy_eval_t *e, int before, char *why,
                                size_t whylen, double *ms)
{
    if (lua_pcall(L, 0, 0, 0) != LUA_OK || e->violation[0] || e->timed_out || strategy_eval_out_of_memory(e))
        return RUN_FAILED;
    if (find_entry_point(L, before, job->entry_point, why, whylen) != 0)
        return RUN_CONTRACT;
    strategy_push_frame(L, job->frame);
    if (job->params != NULL)
        push_json(L, job->params);
    int64_t t0 = clock_mono_us();
    int status = lua_pcall(L, job->params != NULL ? 2 : 1, 1, 0);
    *ms = (double)(clock_mono_us() - t0) / 1000.0;
    if (status != LUA_OK || e->violation[0] || e->timed_out || strategy_eval_out_of_memory(e))
        return RUN_FAILED;
    return RUN_DONE;
}

static int evaluate_in(const strategy_job_t *job, lua_State *L, strategy_eval_t *e)
{
    e->job = job;
    strategy_state_seed(L, g_run_seed);
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
    sandbox_setup_done();
    if (luaL_loadbufferx(L, job->code, job->code_len, "=strategy", "t") != LUA_OK) {
        char msg[1200], text[MESSAGE_MAX + 64];
        clip_message(lua_tostring(L, -1), text, sizeof text);
        snprintf(msg, sizeof msg, "Strategy syntax error: %s", text);
        return fail_envelope("syntax", msg);
    }
    /* The deadline counts from before the load (compiling runs no hook);
     * while watched the strategy's own code runs. After, nothing of the
     * strategy's runs, and Lua must not fail outside a protected call: no
     * deadline hook may fire. */
    char why[600];
    double strategy_ms = 0;
    strategy_state_watch(L);
    run_status_t status = run_watched(job, L, e, before, why, sizeof why, &strategy_ms);
    strategy_state_unwatch(L);
    if (status == RUN_CONTRACT) {
        char msg[700];
        snprintf(msg, sizeof msg, "Strategy error: %s", why);
        return fail_envelope("contract", msg);
    }
    if (status == RUN_FAILED)
        return report_error(L, e, "Strategy error");
    return finish_and_reply(L, e, job, strategy_ms);
}

/* A Python strategy's value, as the JSON text its evaluation wrote, read
 * back and finished in the worker (finish_python): plain data through
 * tickq's own reader, into a Lua state capped at memory_mb, in a protected
 * call (fuzz/ has the reader). */
typedef struct {
    const strategy_job_t *job;
    strategy_eval_t *e;
    const char *text;
    size_t len;
    const json_t *columns;       /* df's columns, as strategy_columns_checked keeps them */
    json_t *data;                /* out */
    json_writer_t raw;           /* out */
    const char *kind;            /* out, on failure */
    char msg[700];
} decoded_t;

/* The columns a Python evaluation says df had, as they may count (the
 * result's data_shape, the worker's warm columns): names of df's columns
 * only, each once, at most FEATURE_KEEP_COLUMNS (its reply is the
 * strategy's to forge). NULL when out of memory. */
static json_t *columns_checked(const json_t *columns)
{
    json_t *kept = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(columns, i, v) {
        const char *name = json_string_value(v);
        char why[200];
        if (kept == NULL || json_array_size(kept) >= FEATURE_KEEP_COLUMNS)
            break;
        if (name == NULL || (strcmp(name, "ticker") != 0 && strcmp(name, "date") != 0 &&
                             feature_name_check(name, why, sizeof why) != 0))
            continue;
        int seen = 0;
        for (size_t k = 0; k < json_array_size(kept) && !seen; k++)
            seen = strcmp(json_string_value(json_array_get(kept, k)), name) == 0;
        if (!seen)
            json_array_append_new(kept, json_string(name));
    }
    return kept;
}

static int finish_decoded(lua_State *L)
{
    decoded_t *d = lua_touserdata(L, 1);
    lua_settop(L, 0);
    strategy_set_used_columns(L, d->columns);
    char why[300];
    if (strategy_json_push(L, d->text, d->len, why, sizeof why) != 0) {
        if (strcmp(why, "out of memory") == 0) {
            d->kind = "memory";
            strategy_memory_limit_message(d->job->memory_bytes, d->msg, sizeof d->msg);
        } else {
            d->kind = "contract";
            snprintf(d->msg, sizeof d->msg, "Strategy error: %s", why);
        }
        lua_pushboolean(L, 0);
        return 1;
    }
    lua_pushboolean(L, finish_value(L, d->e, d->job, &d->data, &d->raw, &d->kind, d->msg, sizeof d->msg) == 0);
    return 1;
}

/* Finishes a Python strategy's value (text): 0 with *result ({"data",
 * "columns"}) and *raw; -1 with the failure, as strategy_run reports it. */
static int finish_python(const strategy_job_t *job, const char *text, size_t len, const json_t *columns,
                         json_t **result, char **raw, size_t *raw_len, strategy_failure_t *failure, char *error,
                         size_t errlen)
{
    strategy_eval_t e;
    memset(&e, 0, sizeof e);
    e.cap = job->memory_bytes;
    e.job = job;
    lua_State *L = strategy_state_new(&e);
    if (L == NULL) {
        strategy_memory_limit_message(job->memory_bytes, error, errlen);
        *failure = STRATEGY_MEMORY_LIMIT;
        return -1;
    }
    json_t *kept = columns_checked(columns);
    decoded_t *d = calloc(1, sizeof *d);
    if (d == NULL || kept == NULL) {
        free(d);
        json_decref(kept);
        lua_close(L);
        snprintf(error, errlen, "Strategy could not start: out of memory");
        *failure = STRATEGY_NOT_STARTED;
        return -1;
    }
    d->job = job;
    d->e = &e;
    d->text = text;
    d->len = len;
    d->columns = kept;
    d->kind = "contract";
    lua_pushcfunction(L, finish_decoded);
    lua_pushlightuserdata(L, d);
    int status = lua_pcall(L, 1, 1, 0);
    int ok = status == LUA_OK && lua_toboolean(L, -1);
    int rc = -1;
    if (ok) {
        *result = json_object();
        json_object_set_new(*result, "data", d->data);
        json_object_set_new(*result, "columns", strategy_used_columns(L));
        if (d->raw.len > 0)
            *raw = jw_take(&d->raw, raw_len);
        rc = 0;
    } else if (status != LUA_OK) { /* the state's allocator refused, mid-way */
        strategy_memory_limit_message(job->memory_bytes, error, errlen);
        *failure = STRATEGY_MEMORY_LIMIT;
    } else {
        snprintf(error, errlen, "%s", d->msg);
        if (strcmp(d->kind, "memory") == 0)
            *failure = STRATEGY_MEMORY_LIMIT;
    }
    jw_free(&d->raw);
    free(d);
    json_decref(kept);
    lua_close(L);
    return rc;
}

void strategy_memory_limit_message(size_t memory_bytes, char *out, size_t outlen)
{
    snprintf(out, outlen, "Strategy exceeded memory limit (%zu MiB)", memory_bytes >> 20);
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

/* A trapped system call of a Python strategy, in words (the guard names
 * most attempts before they reach the kernel; these are the rest). */
static const char *violation_words(const char *call)
{
    static const struct {
        const char *call, *words;
    } known[] = {
        { "clone", "starting a thread or process" }, { "clone3", "starting a thread or process" },
        { "fork", "starting a process" }, { "vfork", "starting a process" },
        { "execve", "starting a program" }, { "execveat", "starting a program" },
        { "socket", "network access" }, { "connect", "network access" },
        { "kill", "sending a signal" }, { "tkill", "sending a signal" }, { "tgkill", "sending a signal" },
        { "alarm", "a timer signal (signal.alarm)" }, { "setitimer", "a timer signal" },
        { "timer_create", "a timer signal" }, { "open", "writing a file" }, { "openat", "writing a file" },
        { "setxattr", "changing a file's attributes" }, { "lsetxattr", "changing a file's attributes" },
        { "fsetxattr", "changing a file's attributes" }, { "removexattr", "changing a file's attributes" },
        { "lremovexattr", "changing a file's attributes" }, { "fremovexattr", "changing a file's attributes" },
        { "utimensat", "changing a file's times" }, { "utimes", "changing a file's times" },
        { "utime", "changing a file's times" }, { "futimesat", "changing a file's times" },
        { "setxattrat", "changing a file's attributes" }, { "removexattrat", "changing a file's attributes" },
        { "file_setattr", "changing a file's attributes" }, { "fchmodat2", "changing a file's mode" },
        { "sync", "flushing the host's file systems" }, { "syncfs", "flushing the host's file systems" },
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i].call, call) == 0)
            return known[i].words;
    return NULL;
}

/* The kinds a Python evaluation's envelope may give (the runner's and the
 * guard's): any other was written by the strategy itself. */
static int python_kind(const char *kind)
{
    static const char *const kinds[] = { "syntax", "error", "contract", "memory", "security" };
    for (size_t i = 0; kind != NULL && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return 1;
    return 0;
}

/* Reads a sandbox child's outcome: 0 with *env (its envelope, "ok" true)
 * and *raw; else -1 with the failure, as strategy_run reports it. */
static int interpret(const strategy_job_t *job, sandbox_outcome_t *out, json_t **result, char **raw,
                     size_t *raw_len, strategy_failure_t *failure, char *error, size_t errlen)
{
    *result = NULL;
    if (out->violation[0]) {
        const char *words = job->python ? violation_words(out->violation) : NULL;
        if (words != NULL)
            snprintf(error, errlen, "Security validation failed: %s (system call %s)", words, out->violation);
        else
            snprintf(error, errlen, "Security validation failed: attempted system call %s", out->violation);
        return -1;
    }
    if (job->python && out->term_signal == SIGSYS) {
        /* Trapped while signals were blocked (glibc blocks them around
         * clone), so the handler never named the call. */
        snprintf(error, errlen, "Security validation failed: a forbidden system call (SIGSYS)");
        return -1;
    }
    if (out->timed_out) {
        snprintf(error, errlen, "Strategy exceeded time limit (%g s)", (double)job->time_limit_ms / 1000.0);
        *failure = STRATEGY_TIME_LIMIT;
        return -1;
    }
    if (out->result_truncated) {
        result_too_large(error, errlen);
        return -1;
    }
    json_error_t jerr;
    char *nl = out->result_len ? memchr(out->result, '\n', out->result_len) : NULL;
    size_t head = nl ? (size_t)(nl - out->result) : out->result_len;
    if (job->python && head > PYTHON_ENVELOPE_MAX) { /* only a strategy writing its result pipe makes one */
        snprintf(error, errlen, "Strategy error: its reply's first line is larger than %d KiB",
                 PYTHON_ENVELOPE_MAX >> 10);
        return -1;
    }
    json_t *env = head ? json_loadb(out->result, head, 0, &jerr) : NULL;
    if (env == NULL) {
        if (out->term_signal)
            snprintf(error, errlen, "Strategy crashed (signal %d)", out->term_signal);
        else
            snprintf(error, errlen, "Strategy ended without a result (exit status %d)", out->exit_code);
        return -1;
    }
    if (!json_is_true(json_object_get(env, "ok"))) {
        /* kind "internal": the sandbox itself failed (no seccomp filter),
         * not the strategy, so the job is worth a retry; believed only
         * when the sandbox said so before the untrusted code ran (a Python
         * strategy can write to its result pipe). A Python strategy's time
         * limit is the host's to say (timed_out), never its envelope's. */
        const char *kind = json_string_value(json_object_get(env, "kind"));
        const char *message = json_string_value(json_object_get(env, "message"));
        int internal = kind != NULL && strcmp(kind, "internal") == 0 && out->setup_failed;
        if (message == NULL || message[0] == '\0')
            snprintf(error, errlen, "Strategy ended without a result (exit status %d)", out->exit_code);
        else if (internal)
            snprintf(error, errlen, "Strategy could not start: %s", message);
        else if ((strncmp(message, "Strategy ", 9) == 0 || strncmp(message, "Security validation failed: ", 28) == 0)
                 && !(job->python && !python_kind(kind)))
            snprintf(error, errlen, "%s", message);
        else
            snprintf(error, errlen, "Strategy error: %s", message);
        if (internal)
            *failure = STRATEGY_NOT_STARTED;
        else if (kind != NULL && strcmp(kind, "timeout") == 0 && !job->python)
            *failure = STRATEGY_TIME_LIMIT;
        else if (kind != NULL && strcmp(kind, "memory") == 0)
            *failure = STRATEGY_MEMORY_LIMIT;
        json_decref(env);
        return -1;
    }
    json_object_del(env, "ok");
    if (json_is_true(json_object_get(env, "raw")) && nl != NULL) {
        /* Hand the raw text over in the outcome's own buffer. */
        *raw_len = out->result_len - head - 1;
        memmove(out->result, nl + 1, *raw_len);
        out->result[*raw_len] = '\0';
        *raw = out->result;
        out->result = NULL;
    }
    json_object_del(env, "raw");
    *result = env;
    return 0;
}

static int run_lua(const strategy_job_t *job, sandbox_outcome_t *out, json_t **result, char **raw, size_t *raw_len,
                   strategy_failure_t *failure, char *error, size_t errlen)
{
    sandbox_limits_t lim = { .wall_ms = job->time_limit_ms, .cpu_seconds = (int)(job->time_limit_ms / 1000) + 2 };
    if (!job->cold)
        strategy_warm_prepare(job->frame);
    if (getrandom(g_run_seed, sizeof g_run_seed, GRND_NONBLOCK) != (ssize_t)sizeof g_run_seed) {
        g_run_seed[0] = (uint64_t)clock_now_us();
        g_run_seed[1] = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
    }
    char err[512];
    if (sandbox_run(&lim, evaluate, (void *)job, out, err, sizeof err) != 0) {
        snprintf(error, errlen, "Strategy could not start: %s", err);
        *failure = STRATEGY_NOT_STARTED;
        return -2;
    }
    int rc = interpret(job, out, result, raw, raw_len, failure, error, errlen);
    if (rc == 0 && !job->cold)
        strategy_warm_remember(job->frame, json_object_get(*result, "columns"));
    return rc;
}

/* The Python strategy runs in the host; its value, as JSON text, is
 * finished here (finish_python). *out is the Python run's outcome (what it
 * printed), whichever step fails. */
static int run_python(const strategy_job_t *job, sandbox_outcome_t *out, json_t **result, char **raw,
                      size_t *raw_len, strategy_failure_t *failure, char *error, size_t errlen)
{
    char err[700];
    int64_t t0 = clock_mono_us();
    if (strategy_python_eval(job, out, failure, err, sizeof err) != 0) {
        if (*failure == STRATEGY_NOT_STARTED)
            snprintf(error, errlen, "Strategy could not start: %s", err);
        else if (*failure == STRATEGY_INTERRUPTED)
            snprintf(error, errlen, "Strategy interrupted: %s", err);
        else
            snprintf(error, errlen, "%s", err);
        return -2;
    }
    *failure = STRATEGY_FAILED;
    json_t *value;
    char *text = NULL;
    size_t len = 0;
    if (interpret(job, out, &value, &text, &len, failure, error, errlen) != 0)
        return -1;
    int64_t t1 = clock_mono_us();
    int rc = finish_python(job, text != NULL ? text : "null", text != NULL ? len : 4, json_object_get(value, "columns"),
                           result, raw, raw_len, failure, error, errlen);
    if (rc == 0) /* the evaluation in the host (its reply read), then the finish here */
        json_object_set_new(*result, "split", json_pack("{s:f, s:f}", "strategy_ms", (double)(t1 - t0) / 1000.0,
                                                        "finish_ms", (double)(clock_mono_us() - t1) / 1000.0));
    free(text);
    json_decref(value);
    return rc;
}

static strategy_split_t g_split;
static int g_split_runs, g_split_unmeasured;

void strategy_split_reset(void)
{
    memset(&g_split, 0, sizeof g_split);
    g_split_runs = g_split_unmeasured = 0;
}

strategy_split_t strategy_split_read(void)
{
    strategy_split_t s = g_split;
    s.known = g_split_runs > 0 && g_split_unmeasured == 0;
    return s;
}

int strategy_run_batch(const strategy_job_t *job, const json_t *params, int64_t wall_ms, json_t **datas,
                       strategy_split_t *splits, char *error, size_t errlen)
{
    size_t n = json_array_size(params);
    for (size_t i = 0; i < n; i++) {
        datas[i] = NULL;
        memset(&splits[i], 0, sizeof splits[i]);
    }
    if (job->python || job->cold || n == 0) {
        snprintf(error, errlen, "a batch runs Lua strategies on the warm frame only");
        return -1;
    }
    sandbox_limits_t lim = { .wall_ms = wall_ms, .cpu_seconds = (int)(wall_ms / 1000) + 2 };
    if (getrandom(g_run_seed, sizeof g_run_seed, GRND_NONBLOCK) != (ssize_t)sizeof g_run_seed) {
        g_run_seed[0] = (uint64_t)clock_now_us();
        g_run_seed[1] = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
    }
    batch_t b = { job, params };
    sandbox_outcome_t out;
    memset(&out, 0, sizeof out);
    char err[512];
    int64_t t0 = clock_mono_us();
    if (sandbox_run(&lim, evaluate_batch, &b, &out, err, sizeof err) != 0) {
        snprintf(error, errlen, "Strategy could not start: %s", err);
        return -1;
    }
    double total_ms = (double)(clock_mono_us() - t0) / 1000.0, measured_ms = 0;
    size_t got = 0;
    /* One line per run that ended; a run the child did not finish (a
     * kill, a crash, a trapped call) has none. Only successes are taken. */
    for (char *line = out.result; line != NULL && line < out.result + out.result_len;) {
        char *nl = memchr(line, '\n', (size_t)(out.result + out.result_len - line));
        size_t len = nl ? (size_t)(nl - line) : (size_t)(out.result + out.result_len - line);
        json_t *env = json_loadb(line, len, 0, NULL);
        json_int_t i = json_integer_value(json_object_get(env, "i"));
        const json_t *split = json_object_get(env, "split");
        if (json_is_true(json_object_get(env, "ok")) && json_is_integer(json_object_get(env, "i")) && i >= 0 &&
            (size_t)i < n && datas[i] == NULL && json_is_object(json_object_get(env, "data")) &&
            json_is_object(split)) {
            datas[i] = json_incref(json_object_get(env, "data"));
            splits[i].known = 1;
            splits[i].strategy_ms = json_number_value(json_object_get(split, "strategy_ms"));
            splits[i].finish_ms = json_number_value(json_object_get(split, "finish_ms"));
            measured_ms += splits[i].strategy_ms + splits[i].finish_ms;
            got++;
        }
        json_decref(env);
        line = nl ? nl + 1 : NULL;
    }
    /* The batch's own cost (the child, the replies) shared by the runs it gave. */
    for (size_t i = 0; i < n; i++)
        if (splits[i].known)
            splits[i].total_ms = splits[i].strategy_ms + splits[i].finish_ms + (total_ms - measured_ms) / (double)got;
    sandbox_outcome_free(&out);
    return 0;
}

int strategy_run(const strategy_job_t *job, json_t **result, char **raw, size_t *raw_len,
                 strategy_failure_t *failure, char *error, size_t errlen)
{
    int64_t t0 = clock_mono_us();
    g_split_runs++;
    g_split_unmeasured++; /* until the run says what it measured */
    *result = NULL;
    *failure = STRATEGY_FAILED;
    *raw = NULL;
    *raw_len = 0;
    sandbox_outcome_t out;
    memset(&out, 0, sizeof out);
    int rc = job->python ? run_python(job, &out, result, raw, raw_len, failure, error, errlen)
                         : run_lua(job, &out, result, raw, raw_len, failure, error, errlen);
    if (rc == -2)
        return -1; /* it never ran: nothing printed */
    if (rc == 0) {
        const json_t *split = json_object_get(*result, "split");
        if (json_is_object(split)) { /* what the run measured where it ran */
            g_split_unmeasured--;
            g_split.strategy_ms += json_number_value(json_object_get(split, "strategy_ms"));
            g_split.finish_ms += json_number_value(json_object_get(split, "finish_ms"));
            g_split.total_ms += (double)(clock_mono_us() - t0) / 1000.0;
        }
        json_object_del(*result, "split");
        add_output(*result, &out);
    } else if (out.output_len > 0 || out.output_truncated) {
        /* What it printed before failing: that is when it is needed. */
        *result = json_object();
        add_output(*result, &out);
    }
    if (rc != 0 && *failure == STRATEGY_TIME_LIMIT)
        worker_metrics_sandbox_kill(SANDBOX_KILL_TIME);
    else if (rc != 0 && *failure == STRATEGY_MEMORY_LIMIT)
        worker_metrics_sandbox_kill(SANDBOX_KILL_MEMORY);
    else if (rc != 0 && out.violation[0] != '\0')
        worker_metrics_sandbox_kill(SANDBOX_KILL_SYSCALL);
    else if (rc != 0 && out.term_signal != 0)
        worker_metrics_sandbox_kill(SANDBOX_KILL_OTHER);
    sandbox_outcome_free(&out);
    return rc == 0 ? 0 : -1;
}
