/* landlock.h — confine a process's file access to reading a few folders.
 *
 * Landlock (Linux 5.13+) lets an unprivileged process give up file access
 * for itself and its descendants. tickq uses only ABI 1 features, which
 * every kernel with Landlock has: the Python sandbox may read files and
 * list folders below Python's own folders, and do nothing else with any
 * file (write, create, remove, execute). */
#ifndef TICKQ_LANDLOCK_H
#define TICKQ_LANDLOCK_H

#include <stddef.h>

/* The kernel's Landlock ABI version: >= 1 when it can be used, 0 when the
 * kernel has none (not built in, or not among the active security modules). */
int landlock_abi(void);

/* Restricts the calling thread (and what it forks) to reading below
 * `dirs` (NULL-terminated; missing ones are skipped). Needs no_new_privs
 * set first. 0, or -1 with err. */
int landlock_read_only(const char *const *dirs, char *err, size_t errlen);

#endif
