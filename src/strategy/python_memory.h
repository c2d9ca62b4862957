/* python_memory.h — whether a Python evaluation ran out of memory.
 *
 * An evaluation's address space is capped (RLIMIT_AS, sandbox.h); past it
 * an allocation fails and Python raises MemoryError, which a strategy can
 * catch and go on. As for Lua, a strategy that hit its limit broke it,
 * caught or not: hooks on Python's allocators (raw, mem, object, arenas)
 * and a numpy data-memory handler note every allocation that failed. */
#ifndef TICKQ_PYTHON_MEMORY_H
#define TICKQ_PYTHON_MEMORY_H

/* In the host, after numpy is imported and before any evaluation. 0, or
 * -1 with err. */
int python_memory_install(char *err, size_t errlen);

/* In an evaluation child: forget what happened before it (the host's own
 * allocations), then whether an allocation failed since. */
void python_memory_reset(void);
int python_memory_failed(void);

#endif
