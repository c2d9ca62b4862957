/* strategy_arena.h — where a strategy's small Lua blocks live in its
 * sandbox child.
 *
 * A sandbox child is a fork of the worker: a block malloc hands it out of
 * the worker's own heap lands on a page shared with the worker, and the
 * first write to that page copies it (a copy-on-write fault, a TLB flush),
 * after a walk of the worker's fragmented free lists. A strategy that
 * builds 50,000 instance tables paid more for that than for its own code.
 * The arena gives the child's small blocks (tables, strings, closures)
 * pages of its own, filled in bulk, and reuses freed blocks by size. It
 * changes where blocks live, never how many bytes count against the
 * strategy's memory limit (the caller's allocator counts them). */
#ifndef TICKQ_STRATEGY_ARENA_H
#define TICKQ_STRATEGY_ARENA_H

#include <stddef.h>

/* In a sandbox child only, before its Lua state allocates: reserves
 * `bytes` of address space for small blocks. 0, or -1 when it cannot (the
 * blocks then come from malloc, as without it). */
int strategy_arena_start(size_t bytes);

/* Lua's allocation contract (lua_Alloc without ud): nsize 0 frees ptr (of
 * osize bytes); else returns a block of nsize bytes with the first
 * min(osize, nsize) bytes of ptr, or NULL with ptr untouched. Blocks from
 * malloc (the warm state's, made in the worker) are accepted too. */
void *strategy_arena_realloc(void *ptr, size_t osize, size_t nsize);

#endif
