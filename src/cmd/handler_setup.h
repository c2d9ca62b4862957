/* handler_setup.h — the configuration file's handlers, read and registered
 * as tasks for a command that runs or lists them (worker, tasks). */
#ifndef TICKQ_HANDLER_SETUP_H
#define TICKQ_HANDLER_SETUP_H

#include <stddef.h>

/* Reads the [handler NAME] sections of `path` (NULL: no file named, no
 * handlers) and registers their types after the built-in tasks. Call once,
 * after tasks_register_all. 0, or -1 with err naming the file and line. */
int handler_setup(const char *path, char *err, size_t errlen);

#endif
