/* strategy_json.h — a strategy's result as JSON text, read back into a Lua
 * value, so that a Python strategy's result meets the same finish step as a
 * Lua one's (strategy.h). Objects become tables of string keys, arrays
 * sequences; null becomes strategy_push_null's value (nil would leave holes
 * in arrays and drop keys) and an empty array below the top
 * strategy_push_empty_list's (an empty table is written back as {}); the
 * tokens NaN, Infinity and -Infinity (which Python's json writes for float
 * values) become those numbers, as a Lua strategy's would be. */
#ifndef TICKQ_STRATEGY_JSON_H
#define TICKQ_STRATEGY_JSON_H

#include <stddef.h>

struct lua_State;

/* Pushes the value of `text` (len bytes). Allocates through the state's
 * allocator (an error there is reported, not thrown). 0, or -1 with why
 * (nothing pushed): malformed text, nesting past 64 levels, or out of
 * memory ("out of memory" in why). */
int strategy_json_push(struct lua_State *L, const char *text, size_t len, char *why, size_t whylen);

#endif
