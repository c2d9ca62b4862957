/* task_env_data.c — the task environment of tickq's worker children
 * (task_env_data.h). */
#include "data/task_env_data.h"

#include <stdlib.h>

#define BAR_CACHE_BYTES (20u * 1000 * 1000)

struct task_env {
    const config_t *cfg;
    db_t *db;                    /* opened on first use */
    bar_cache_t *cache;          /* made on first use */
};

static task_env_t *env_open(const config_t *cfg)
{
    task_env_t *env = calloc(1, sizeof *env);
    if (env != NULL)
        env->cfg = cfg;
    return env;
}

static void env_close(task_env_t *env)
{
    if (env == NULL)
        return;
    bar_cache_free(env->cache);
    db_close(env->db);
    free(env);
}

const task_env_provider_t task_env_data = { env_open, env_close };

db_t *task_env_db(task_env_t *env, char *err, size_t errlen)
{
    if (env->db != NULL && db_connection_lost(env->db)) {
        /* The server went away (restarted, failed over): every statement
         * on this handle would fail, job after job, until the worker
         * restarted. Open the database again. */
        db_close(env->db);
        env->db = NULL;
    }
    if (env->db == NULL) {
        int st = db_open(env->cfg->database_url, env->cfg->db_path, &env->db, NULL, err, errlen);
        if (st != 0)
            env->db = NULL;
    }
    return env->db;
}

bar_cache_t *task_env_cache(task_env_t *env)
{
    if (env->cache == NULL)
        env->cache = bar_cache_new(BAR_CACHE_BYTES);
    return env->cache;
}
