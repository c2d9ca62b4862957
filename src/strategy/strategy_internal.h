/* strategy_internal.h — what the files of a strategy run share, and no one
 * else: the sandboxed Lua state (strategy_state.c), the warm state kept
 * between runs (strategy_warm.c) and the df with its kernels
 * (strategy_frame.c, strategy_tostring.c). strategy.c composes them. */
#ifndef TICKQ_STRATEGY_INTERNAL_H
#define TICKQ_STRATEGY_INTERNAL_H

#include <jansson.h>
#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "strategy/strategy.h"

/* --- the sandboxed Lua state (strategy_state.c) ------------------------ */

/* State of one evaluation, reachable from the Lua state's allocator. */
typedef struct {
    size_t used, cap;
    int out_of_memory;           /* an allocation was refused for good */
    void *refused_ptr;           /* the last refusal, while Lua may still retry it */
    size_t refused_size;         /* (0: none pending) */
    int64_t deadline_ms;
    int timed_out;
    size_t gc_resume_at;         /* while the run holds the collector: used bytes that restart it (0: not held) */
    int gc_resume_asked;         /* the allocator asked the main thread's hook to restart it */
    char violation[160];
    const strategy_job_t *job;
} strategy_eval_t;

/* A Lua state with the safe libraries and the kernels, allocating through
 * `e` (capped at e->cap); NULL when it cannot be made. */
lua_State *strategy_state_new(strategy_eval_t *e);
/* The evaluation whose allocator the state uses. */
strategy_eval_t *strategy_eval_of(lua_State *L);
/* 1 when the strategy ran out of memory: a refusal stood, or the last one
 * still does (it was never retried). */
int strategy_eval_out_of_memory(strategy_eval_t *e);
/* Seeds math.random for one run (each sandbox is a fork of one state, whose
 * generator Lua seeded from the time and that state's address: every warm
 * run would draw the same numbers). */
void strategy_state_seed(lua_State *L, const uint64_t seed[2]);
/* In a sandbox child, as the strategy's code starts: arms a timer
 * (SIGALRM) for the evaluation's deadline_ms, past which the strategy fails
 * at its next instruction ("Strategy exceeded time limit"; coroutines
 * check every few thousand instructions), and holds the collector until
 * the run's memory has grown by GC_HOLD_MAX bytes or a quarter of the room
 * its memory limit leaves (strategy_state.c). One state at a time. */
void strategy_state_watch(lua_State *L);
/* Disarms the timer, removes the hook and ends the hold (the collector
 * stays as it is): before anything runs outside a protected call, and
 * before the state is closed. */
void strategy_state_unwatch(lua_State *L);

/* --- the warm state (strategy_warm.c) ---------------------------------- */

/* Before forking: when the previous run was over this frame too, builds
 * the columns it used into the warm state, within its bound. */
void strategy_warm_prepare(const strategy_frame_t *f);
/* After a run: remembers its frame and the columns it used. */
void strategy_warm_remember(const strategy_frame_t *f, const json_t *accessed);
/* In the sandbox child: the inherited warm state when it was made for
 * frame f, with *e its evaluation, allowed memory_bytes beyond what its
 * columns already take; NULL when there is none for f. */
lua_State *strategy_warm_take(const strategy_frame_t *f, size_t memory_bytes, strategy_eval_t **e);

/* --- the df and its kernels (strategy_frame.c, strategy_tostring.c) ---- */

/* Pushes the df table for frame (its columns materialise on first use, or
 * come from those built before); records the columns used. */
void strategy_push_frame(lua_State *L, const strategy_frame_t *frame);
/* Registers the array kernels (sma, ema, rsi, ..., crossover) as globals. */
void strategy_open_kernels(lua_State *L);
/* Replaces tostring, print and string.format with versions that name
 * tables, functions, coroutines and userdata without their address
 * ("table: #1"; strategy_tostring.c). */
void strategy_open_tostring(lua_State *L);
/* string.format's common cases written without Lua's printf calls (the
 * arguments from index 1, as string.format gets them): pushes the text
 * and returns 1, or returns 0 with the stack as it was, for Lua's own
 * format to do (strategy_format.c). */
int strategy_format_fast(lua_State *L);
/* Records `columns` (a JSON array of names) as the df columns used, for a
 * state that ran no Lua strategy (a Python strategy's result, read back). */
void strategy_set_used_columns(lua_State *L, const json_t *columns);
/* The df columns used (ticker and date too), as a JSON array (new reference). */
json_t *strategy_used_columns(lua_State *L);
/* Builds column `name` of frame into the state, for the df of later
 * evaluations, in a protected call: 0, or -1 when it is no column or the
 * state's allocator refused (nothing built). */
int strategy_build_column(lua_State *L, const strategy_frame_t *frame, const char *name);
/* Forgets a column built before (garbage for the next collection). */
void strategy_drop_column(lua_State *L, const char *name);

#endif
