/* handler_setup.c — reading and registering the handlers and pools
 * (handler_setup.h). */
#include "cmd/handler_setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/task.h"
#include "handlers/handler_config.h"
#include "handlers/handler_tasks.h"
#include "handlers/pool_config.h"

/* They live as long as the process: the registry points into them. */
static handler_set_t g_handlers;
static handler_set_t g_pool_handlers; /* the pool's, sharing g_handlers' strings */
static pool_set_t g_pools;
static const pool_def_t *g_pool;
static char g_pool_types[4096];

static int is_builtin(const char *type)
{
    return task_find(type) != NULL && !handler_tasks_serves(type);
}

static int pool_serves_type(const char *type)
{
    return pool_serves(&g_pools, g_pool, type);
}

static int use_pool(const char *path, const char *name, config_t *cfg, int queues_flag, int workers_flag, char *err,
                    size_t errlen)
{
    if (pool_config_load(&g_pools, path, &g_handlers, is_builtin, WORKERS_MAX, err, errlen) != 0)
        return -1;
    if ((g_pool = pool_config_find(&g_pools, name)) == NULL) {
        char names[1024] = "";
        for (size_t i = 0; i < g_pools.n; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                     g_pools.items[i].name);
        snprintf(err, errlen, "--pool %s: %s has no [pool %s] (%s%s)", name, path, name,
                 g_pools.n ? "its pools: " : "it defines no pool", names);
        return -1;
    }
    g_pool_handlers.items = calloc(g_pool->nhandlers ? g_pool->nhandlers : 1, sizeof *g_pool_handlers.items);
    if (g_pool_handlers.items == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < g_handlers.n; i++)
        if (pool_uses_handler(g_pool, g_handlers.items[i].name))
            g_pool_handlers.items[g_pool_handlers.n++] = g_handlers.items[i];
    g_pool_handlers.path = g_handlers.path;
    pool_types_text(&g_pools, g_pool, g_pool_types, sizeof g_pool_types);
    if (cfg != NULL) {
        if (!queues_flag)
            cfg->queues_spec = g_pool->queues;
        if (!workers_flag && g_pool->workers > 0)
            cfg->workers = g_pool->workers;
        cfg->pool = g_pool->name;
        cfg->pool_serves = pool_serves_type;
        cfg->pool_types = g_pool_types;
    }
    return 0;
}

int handler_setup(const char *path, const char *pool, config_t *cfg, int queues_flag, int workers_flag, char *err,
                  size_t errlen)
{
    if (path == NULL) {
        if (pool != NULL) {
            snprintf(err, errlen, "--pool %s needs the configuration file that defines it (--config FILE, or "
                     "TICKQ_CONFIG)", pool);
            return -1;
        }
        return 0;
    }
    if (handler_config_load(&g_handlers, path, is_builtin, err, errlen) != 0)
        return -1;
    const handler_set_t *used = &g_handlers;
    if (pool != NULL) {
        if (use_pool(path, pool, cfg, queues_flag, workers_flag, err, errlen) != 0)
            return -1;
        used = &g_pool_handlers;
    } else {
        /* Pools are checked even when none is run: a bad one is found now. */
        pool_set_t check;
        if (pool_config_load(&check, path, &g_handlers, is_builtin, WORKERS_MAX, err, errlen) != 0)
            return -1;
        pool_config_free(&check);
    }
    if (used->n > 0 && handler_tasks_register(used) != 0) {
        snprintf(err, errlen, "out of memory registering the handlers of %s", path);
        return -1;
    }
    return 0;
}
