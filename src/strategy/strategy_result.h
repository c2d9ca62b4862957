/* strategy_result.h — what a task's finish step (strategy.h,
 * strategy_finish_fn) reads the strategy's return value with, in the
 * sandbox child: a list of instances, their fields, any value as JSON.
 * Every function reads raw (no metamethods) and reports a broken contract
 * as -1 with `why`, which the run reports as "Strategy error: <why>". */
#ifndef TICKQ_STRATEGY_RESULT_H
#define TICKQ_STRATEGY_RESULT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/json_writer.h"

struct lua_State;

/* Checks a list of instances at `idx`: *n entries. nil (a strategy that
 * forgot its `return`) is an error; an empty list is no signals. */
int strategy_instances(struct lua_State *L, int idx, size_t *n, char *why, size_t whylen);
/* Pushes instance i (1-based) of the list at `list`; -1 with why when it is
 * not a table of fields (nothing pushed). */
int strategy_instance(struct lua_State *L, int list, size_t i, char *why, size_t whylen);
/* Where instance i (the table at idx) points: its `ticker` (a non-empty
 * string, valid while the table is) and its `date` (an ISO 8601 string, as
 * epoch seconds). -1 with why naming the instance and the key when either
 * is missing or malformed ("instance 3 has no 'ticker' (it has: date,
 * signal, symbol)"): a malformed signal is an error, never a signal that is
 * quietly dropped. Whether the place is a bar of the frame is the task's
 * question. */
int strategy_instance_where(struct lua_State *L, int idx, size_t i, const char **ticker, int64_t *ts, char *why,
                            size_t whylen);
/* Writes any Lua value as JSON (tables: arrays or objects of string keys,
 * at most 8 deep). 0, or -1 with why: where the bad value is, then what is
 * wrong with it, as the Python runner says it ("['a'][2] holds a
 * function; ...", "has a key 5 that is not a string"); at depth 1 (an
 * instance's fields) the place starts "key 'a'". */
int strategy_write_value(struct lua_State *L, int idx, json_writer_t *w, int depth, char *why, size_t whylen);
/* Writes the `"key":value` pairs of the table at idx, except the keys in
 * `skip` (NULL-terminated, may be NULL), each after a comma unless `first`
 * and none written yet. Returns the number written, or -1 with why. */
int strategy_write_fields(struct lua_State *L, int idx, json_writer_t *w, const char *const *skip, int first,
                          int depth, char *why, size_t whylen);
/* A write that failed (why) at `place` ("key 'a'", "['a']", "[2]"): why
 * becomes the place, then what it said (after a space unless it starts
 * with a place of its own). */
void strategy_failed_at(const char *place, char *why, size_t whylen);

/* A JSON null in a result read back from text (strategy_json.h): a value
 * no Lua strategy can make, written as null, described as None. */
void strategy_push_null(struct lua_State *L);
int strategy_is_null(struct lua_State *L, int idx);
/* Likewise an empty list inside a value read back from text: written as []. */
void strategy_push_empty_list(struct lua_State *L);
int strategy_is_empty_list(struct lua_State *L, int idx);
/* The type of the value at idx for a message: luaL_typename's, "None" for
 * the null above, "list" for the empty list. */
const char *strategy_typename(struct lua_State *L, int idx);

/* A string the strategy made, for an error message: its first 40 bytes,
 * printable ASCII only (others as '?'), "..." when cut; outlen >= 48. */
void strategy_quote(const char *s, char *out, size_t outlen);

/* A JSON string (new reference) of bytes that may not be UTF-8 (what a
 * strategy printed, its error message), made text as every foreign text is
 * (core/utf8.h: U+FFFD for what is not UTF-8, and for NUL). Never NULL but
 * out of memory. */
json_t *strategy_json_text(const char *s, size_t len);

/* What results report as the columns offered to a strategy: the named ones
 * (ticker, date, OHLCV, prev_close, gap_pct, return_pct, volume_ratio, macd,
 * macd_signal, macd_hist) and the parametric ones it used (sma_20 ...;
 * strategy_frame.c). */
#define STRATEGY_NAMED_COLUMNS 14
size_t strategy_offered_columns(struct lua_State *L);

#endif
