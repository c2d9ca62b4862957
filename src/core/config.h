/* config.h — settings shared by tickq's commands, from flags and environment.
 *
 * Precedence: command-line flag, then environment variable, then default.
 * REDIS_URL and RQ_QUEUES keep the names the users' current workers read. */
#ifndef TICKQ_CONFIG_H
#define TICKQ_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "core/queue_names.h"
#include "core/redis_url.h"

/* The most worker children one supervisor runs (--workers; the default,
 * the number of online CPUs, is clamped to it). Each child is one consumer
 * its heartbeat renews, so TOUCH_CONSUMERS_MAX (queue.h) must hold it. */
#define WORKERS_MAX 256
/* The longest result TTL (--result-ttl, TICKQ_RESULT_TTL) and retry delay
 * (--retry-base, --retry-max) a worker takes. */
#define CONFIG_RESULT_TTL_MAX_MS (365 * 86400 * 1000LL)
#define CONFIG_RETRY_DELAY_MAX_MS (7 * 86400 * 1000LL)

typedef struct {
    const char *redis_url;       /* NULL: not given */
    redis_url_t url;             /* parsed by config_resolve */
    /* TLS settings of a rediss:// URL, as given (NULL: unset): TICKQ_REDIS_CACERT,
     * TICKQ_REDIS_CERT, TICKQ_REDIS_KEY, TICKQ_REDIS_TLS_VERIFY; checked and put in
     * url.tls by config_resolve. */
    const char *redis_cacert, *redis_cert, *redis_key, *redis_tls_verify;
    char prefix[64];
    char group[64];
    const char *queues_spec;     /* --queues, else RQ_QUEUES, else default */
    queue_list_t queues;         /* parsed by config_resolve */
    int workers;
    int burst;
    int history;                 /* record job history in the database (--no-history: 0) */
    int history_days;            /* history older than this is deleted; 0: kept for ever */
    long long history_backlog;   /* rows Redis keeps waiting for the history process (--history-backlog) */
    char history_stream[128];    /* the database's job history stream (history.h); set by `tickq worker` */
    int check;
    int64_t grace_ms;
    int64_t job_timeout_ms;      /* the timeout of jobs enqueued without one: worker
                                  * --job-timeout, else its pool's job_timeout, else 1 h */
    log_format_t log_format;
    log_level_t log_level;
    int64_t result_ttl_s;
    int64_t retry_base_ms;
    int64_t retry_max_ms;
    int64_t claim_timeout_ms;
    int64_t heartbeat_ms;
    int64_t stats_interval_ms;
    int64_t dlq_cap;
    size_t max_payload;
    int64_t batch_budget_us;     /* work a child claims at once (adaptive batches) */
    int command_timeout_ms;
    const char *database_url;    /* DATABASE_URL: PostgreSQL; NULL: SQLite */
    const char *db_path;         /* --db, else TICKQ_DB; NULL: the default file (db.h, db_locate) */
    char list_queue[200];        /* the users' LPUSH list ("" = off), default strategy_queue */
    const char *list_target_spec; /* --list-target (checked as given), else TICKQ_LIST_TARGET; NULL: the default */
    char list_target[QUEUE_NAME_MAX + 1]; /* the logical queue the list feeds (its normal level), default QUEUE_DEFAULT;
                                           * set by config_resolve_list_target */
    int scheduler;               /* worker --scheduler: also fire the schedules */
    const char *config_path;     /* --config, else TICKQ_CONFIG (core/config_file.h); NULL: not named */
    const char *schedules_path;  /* worker --schedules, the deprecated alias of --config: warned about */
    /* worker --pool NAME: a job of a type the pool does not run fails at
     * once, naming the pool and pool_types (the types it runs). NULL: every
     * registered task runs. */
    const char *pool;
    int (*pool_serves)(const char *type);
    const char *pool_types;
} config_t;

/* The defaults alone, without the environment: every setting's default
 * lives here (queue_init sets none). */
void config_defaults(config_t *c);

/* The default number of worker children for `cpus` online CPUs (sysconf's
 * answer, -1 when unknown): cpus, at least 1 and at most WORKERS_MAX. */
int config_default_workers(long cpus);

/* config_defaults, overridden by REDIS_URL (and its TLS settings,
 * TICKQ_REDIS_*), RQ_QUEUES, TICKQ_PREFIX, TICKQ_GROUP,
 * TICKQ_LOG_FORMAT, TICKQ_LOG_LEVEL, TICKQ_RESULT_TTL, DATABASE_URL,
 * TICKQ_DB, TICKQ_LIST_TARGET (kept as given: only the worker reads it,
 * config_resolve_list_target). Returns 0, or -1 with err when an
 * environment value is malformed. */
int config_init(config_t *c, char *err, size_t errlen);

/* Parses the Redis URL (when `need_redis`: with its TLS settings, whose
 * files must be readable and usable) and the queue list. Returns 0, or -1
 * with err filled (a command exits with EX_CONFIG). */
int config_resolve(config_t *c, int need_redis, char *err, size_t errlen);

/* The worker's list target: list_target_spec, when given, checked into
 * list_target. Returns 0, or -1 with err (the worker exits with EX_CONFIG);
 * other commands never look at it, so a bad TICKQ_LIST_TARGET stops only
 * the worker. */
int config_resolve_list_target(config_t *c, char *err, size_t errlen);

/* Copies the queue settings (prefix, group, TTL, backoff...) into q. */
struct queue; /* queue_t, core/queue.h */
void config_apply(const config_t *c, struct queue *q);

/* Sets a string field from a flag; -1 when too long. */
int config_set_name(char *dst, size_t cap, const char *value);

#endif
