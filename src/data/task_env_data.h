/* task_env_data.h — the task environment of tickq's worker children
 * (core/task_env.h): the database, opened on first use so tasks that need
 * none pay nothing, and a cache of bars kept across the child's jobs. */
#ifndef TICKQ_TASK_ENV_DATA_H
#define TICKQ_TASK_ENV_DATA_H

#include <stddef.h>

#include "core/task_env.h"
#include "data/bar_cache.h"
#include "data/db.h"

/* The provider `tickq worker` plugs into its worker children. */
extern const task_env_provider_t task_env_data;

/* The worker child's database connection (opened on the first call), or
 * NULL with err. */
db_t *task_env_db(task_env_t *env, char *err, size_t errlen);
/* The child's cache of bars (made on the first call), or NULL when out of
 * memory. */
bar_cache_t *task_env_cache(task_env_t *env);

#endif
