/* handler_setup.c — reading and registering the handlers (handler_setup.h). */
#include "cmd/handler_setup.h"

#include <stdio.h>

#include "core/task.h"
#include "handlers/handler_config.h"
#include "handlers/handler_tasks.h"

static handler_set_t g_handlers; /* lives as long as the process: the registry points into it */

static int is_builtin(const char *type)
{
    return task_find(type) != NULL;
}

int handler_setup(const char *path, char *err, size_t errlen)
{
    if (path == NULL)
        return 0;
    if (handler_config_load(&g_handlers, path, is_builtin, err, errlen) != 0)
        return -1;
    if (g_handlers.n > 0 && handler_tasks_register(&g_handlers) != 0) {
        snprintf(err, errlen, "out of memory registering the handlers of %s", path);
        return -1;
    }
    return 0;
}
