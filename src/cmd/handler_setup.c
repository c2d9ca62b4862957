/* handler_setup.c — reading and registering the handlers and pools
 * (handler_setup.h). */
#include "cmd/handler_setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/task.h"
#include "handlers/handler_config.h"
#include "handlers/handler_tasks.h"
#include "handlers/pool_config.h"

/* What one reading of the file gave. */
typedef struct {
    handler_set_t handlers;
    handler_set_t pool_handlers; /* the pool's, sharing handlers' strings */
    pool_set_t pools;
    const pool_def_t *pool;      /* worker --pool's, or NULL */
} setup_t;

/* The one in use lives as long as it is: the registry points into it. */
static setup_t g_setup;
static char g_path[4096], g_pool_name[HANDLER_NAME_MAX + 1];
static int g_have_pool;
static char g_pool_types[4096], g_pool_queues[4096];

static int is_builtin(const char *type)
{
    return task_find(type) != NULL && !handler_tasks_serves(type);
}

static int pool_serves_type(const char *type)
{
    return pool_serves(&g_setup.pools, g_setup.pool, type);
}

static void setup_free(setup_t *s)
{
    free(s->pool_handlers.items);
    pool_config_free(&s->pools);
    handler_config_free(&s->handlers);
    memset(s, 0, sizeof *s);
}

/* Reads path into s (zeroed first): its handlers, its pools (checked even
 * when none is run), and with `pool` that pool and its handlers. */
static int setup_read(setup_t *s, const char *path, const char *pool, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (handler_config_load(&s->handlers, path, is_builtin, err, errlen) != 0)
        return -1;
    if (pool_config_load(&s->pools, path, &s->handlers, is_builtin, WORKERS_MAX, err, errlen) != 0) {
        setup_free(s);
        return -1;
    }
    if (pool == NULL)
        return 0;
    if ((s->pool = pool_config_find(&s->pools, pool)) == NULL) {
        char names[1024] = "";
        for (size_t i = 0; i < s->pools.n; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                     s->pools.items[i].name);
        snprintf(err, errlen, "--pool %s: %s has no [pool %s] (%s%s)", pool, path, pool,
                 s->pools.n ? "its pools: " : "it defines no pool", names);
        setup_free(s);
        return -1;
    }
    s->pool_handlers.items = calloc(s->pool->nhandlers ? s->pool->nhandlers : 1, sizeof *s->pool_handlers.items);
    if (s->pool_handlers.items == NULL) {
        snprintf(err, errlen, "out of memory");
        setup_free(s);
        return -1;
    }
    for (size_t i = 0; i < s->handlers.n; i++)
        if (pool_uses_handler(s->pool, s->handlers.items[i].name))
            s->pool_handlers.items[s->pool_handlers.n++] = s->handlers.items[i];
    return 0;
}

/* Makes what s says the one in use and registers it (the old one freed);
 * on failure nothing changes and s is still the caller's. */
static int setup_use(setup_t *s, char *err, size_t errlen)
{
    /* Room in the registry: the built-in tasks and these types. */
    const handler_set_t *wanted = s->pool != NULL ? &s->pool_handlers : &s->handlers;
    size_t all, mine = 0, types = 0;
    task_all(&all);
    for (size_t i = 0; g_setup.pool == NULL && i < g_setup.handlers.n; i++)
        mine += g_setup.handlers.items[i].ntypes;
    for (size_t i = 0; g_setup.pool != NULL && i < g_setup.pool_handlers.n; i++)
        mine += g_setup.pool_handlers.items[i].ntypes;
    for (size_t i = 0; i < wanted->n; i++)
        types += wanted->items[i].ntypes;
    if (all - mine + types > TASKS_MAX) {
        snprintf(err, errlen, "%s: %zu handler types are more than tickq takes (%zu beside the built-in tasks)", g_path,
                 types, (size_t)TASKS_MAX - (all - mine));
        return -1;
    }
    setup_t old = g_setup;
    g_setup = *s; /* registered from its home: the registry keeps the pointer */
    g_setup.pools.handlers = &g_setup.handlers; /* the pools were checked against s's */
    const handler_set_t *used = g_setup.pool != NULL ? &g_setup.pool_handlers : &g_setup.handlers;
    if ((used->n > 0 || handler_tasks_set() != NULL) && handler_tasks_register(used) != 0) {
        g_setup = old;
        s->pools.handlers = &s->handlers;
        snprintf(err, errlen, "out of memory registering the handlers of %s", g_path);
        return -1;
    }
    setup_free(&old);
    if (g_setup.pool != NULL)
        pool_types_text(&g_setup.pools, g_setup.pool, g_pool_types, sizeof g_pool_types);
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
    snprintf(g_path, sizeof g_path, "%s", path);
    setup_t s;
    if (setup_read(&s, path, pool, err, errlen) != 0)
        return -1;
    if (setup_use(&s, err, errlen) != 0) {
        setup_free(&s);
        return -1;
    }
    if (pool != NULL) {
        g_have_pool = 1;
        snprintf(g_pool_name, sizeof g_pool_name, "%s", pool);
        if (cfg != NULL) {
            snprintf(g_pool_queues, sizeof g_pool_queues, "%s", g_setup.pool->queues);
            if (!queues_flag)
                cfg->queues_spec = g_pool_queues;
            if (!workers_flag && g_setup.pool->workers > 0)
                cfg->workers = g_setup.pool->workers;
            cfg->pool = g_pool_name;
            cfg->pool_serves = pool_serves_type;
            cfg->pool_types = g_pool_types;
        }
    }
    return 0;
}

int handler_setup_reload(char *err, size_t errlen)
{
    if (g_path[0] == '\0')
        return 0; /* no file: nothing to read, the children are replaced all the same */
    setup_t s;
    if (setup_read(&s, g_path, g_have_pool ? g_pool_name : NULL, err, errlen) != 0)
        return -1;
    if (s.pool != NULL && g_setup.pool != NULL &&
        (strcmp(s.pool->queues, g_setup.pool->queues) != 0 || s.pool->workers != g_setup.pool->workers ||
         s.pool->job_timeout_ms != g_setup.pool->job_timeout_ms))
        log_warn("reload: the pool's queues, workers and job_timeout change only when the worker restarts",
                 LF_S("pool", g_pool_name), LF_S("config", g_path));
    if (setup_use(&s, err, errlen) != 0) {
        setup_free(&s);
        return -1;
    }
    return 0;
}

int handler_setup_pools_unused(char *out, size_t outlen)
{
    if (g_path[0] == '\0' || g_have_pool || g_setup.pools.n == 0)
        return 0;
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < g_setup.pools.n && at < outlen; i++)
        at += (size_t)snprintf(out + at, outlen - at, "%s%s", i ? ", " : "", g_setup.pools.items[i].name);
    return 1;
}

int64_t handler_setup_pool_job_timeout_ms(void)
{
    return g_setup.pool != NULL ? g_setup.pool->job_timeout_ms : 0;
}

const char *handler_setup_path(void)
{
    return g_path[0] ? g_path : NULL;
}
