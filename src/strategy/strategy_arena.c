/* strategy_arena.c — the small-block arena of a strategy's sandbox child
 * (strategy_arena.h).
 *
 * Invariants:
 * (1) The arena exists only in a sandbox child (started there, never in the
 *     worker): its pages belong to that child alone.
 * (2) A block of the arena is a slot of one size class (a multiple of
 *     ARENA_GRAIN up to ARENA_SMALL_MAX); a free slot is on its class's
 *     list, a slot is never split or merged. Lua says every block's size
 *     when it frees or resizes it, so slots carry no header.
 * (3) Anything else (larger blocks, blocks made before the arena, any
 *     block once the reserve is used up) is malloc's, and told apart by
 *     its address: inside [base, end) is the arena's.
 * Measured (make bench-strategy's screen500, momentum.lua: 48,804 instance
 * tables): about a quarter of the job's CPU time went to malloc's walks
 * of the worker's free lists and to copy-on-write faults. (Stopping the
 * collector then saved under 5%; with the rest faster it saved a tenth,
 * and a run now holds it for its first allocations: strategy_state.c.) */
#include "strategy/strategy_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA_GRAIN 16
#define ARENA_SMALL_MAX 1024
#define ARENA_CLASSES (ARENA_SMALL_MAX / ARENA_GRAIN)
#define ARENA_FILL ((size_t)2 << 20)   /* pages filled at once, ahead of use */

static struct {
    char *base, *end;            /* the reserve */
    char *next;                  /* the first slot never used */
    char *filled;                /* pages below this are filled */
    void *free[ARENA_CLASSES + 1]; /* by class: a list linked through the slots */
} g_arena;

/* Under AddressSanitizer the blocks stay malloc's, so that it still sees
 * every use of a freed Lua object (it cannot look into the arena). */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_OFF 1
#endif
#endif

int strategy_arena_start(size_t bytes)
{
#ifdef ARENA_OFF
    (void)bytes;
    return -1;
#endif
    bytes = (bytes + ARENA_FILL - 1) / ARENA_FILL * ARENA_FILL;
    /* One ARENA_FILL more, to start on a boundary of it: each fill is then
     * one huge page where the kernel gives them (one fault, one zeroing,
     * one entry to tear down at exit, instead of 512). */
    char *p = mmap(NULL, bytes + ARENA_FILL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED)
        return -1;
    p += (ARENA_FILL - (uintptr_t)p % ARENA_FILL) % ARENA_FILL;
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* refused where the kernel has none: small pages */
    memset(&g_arena, 0, sizeof g_arena);
    g_arena.base = g_arena.next = g_arena.filled = p;
    g_arena.end = g_arena.base + bytes;
    return 0;
}

static size_t class_of(size_t size)
{
    return (size + ARENA_GRAIN - 1) / ARENA_GRAIN;
}

static int owned(const void *p)
{
    return (const char *)p >= g_arena.base && (const char *)p < g_arena.end;
}

/* A slot for `size` bytes (<= ARENA_SMALL_MAX), or NULL when the reserve is
 * used up. One fault a page costs more than filling many pages in one
 * call: pages are filled ARENA_FILL at a time (where the kernel cannot,
 * they fault one by one as before). */
static void *slot_take(size_t size)
{
    size_t c = class_of(size);
    void *p = g_arena.free[c];
    if (p != NULL) {
        g_arena.free[c] = *(void **)p;
        return p;
    }
    size_t bytes = c * ARENA_GRAIN;
    if ((size_t)(g_arena.end - g_arena.next) < bytes)
        return NULL;
    p = g_arena.next;
    g_arena.next += bytes;
    if (g_arena.next > g_arena.filled) {
#ifdef MADV_POPULATE_WRITE
        (void)madvise(g_arena.filled, ARENA_FILL, MADV_POPULATE_WRITE);
#endif
        g_arena.filled += ARENA_FILL; /* the reserve is a multiple of ARENA_FILL */
    }
    return p;
}

static void slot_give(void *p, size_t size)
{
    size_t c = class_of(size);
    *(void **)p = g_arena.free[c];
    g_arena.free[c] = p;
}

/* A new block: a slot when small and one is left, else malloc's. */
static void *block_new(size_t size)
{
    void *p = size <= ARENA_SMALL_MAX ? slot_take(size) : NULL;
    return p != NULL ? p : malloc(size);
}

static void block_free(void *p, size_t size)
{
    if (owned(p))
        slot_give(p, size);
    else
        free(p);
}

void *strategy_arena_realloc(void *ptr, size_t osize, size_t nsize)
{
    if (ptr == NULL)
        osize = 0;               /* (Lua passes the new object's type there) */
    if (g_arena.base == NULL) {  /* not started: malloc's, as without the arena */
        if (nsize == 0) {
            free(ptr);
            return NULL;
        }
        return realloc(ptr, nsize);
    }
    if (nsize == 0) {
        if (ptr != NULL)
            block_free(ptr, osize);
        return NULL;
    }
    if (ptr == NULL)
        return block_new(nsize);
    int mine = owned(ptr);
    if (!mine && nsize > ARENA_SMALL_MAX)
        return realloc(ptr, nsize);
    if (mine && nsize <= ARENA_SMALL_MAX && class_of(nsize) == class_of(osize))
        return ptr;              /* the slot has room */
    void *q = block_new(nsize);
    if (q == NULL)
        return NULL;             /* ptr untouched, as Lua expects */
    memcpy(q, ptr, osize < nsize ? osize : nsize);
    block_free(ptr, osize);
    return q;
}
