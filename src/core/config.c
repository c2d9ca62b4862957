/* config.c — settings shared by tickq's commands, from flags and environment. */
#include "core/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/queue.h"
#include "core/rtransport.h"

int config_set_name(char *dst, size_t cap, const char *value)
{
    size_t n = strlen(value);
    if (n == 0 || n >= cap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char ch = value[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.' || ch == '{' || ch == '}'))
            return -1;
    }
    memcpy(dst, value, n + 1);
    return 0;
}

int config_default_workers(long cpus)
{
    if (cpus < 1)
        return 1;
    return cpus > WORKERS_MAX ? WORKERS_MAX : (int)cpus;
}

void config_defaults(config_t *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->prefix, "tickq");
    strcpy(c->group, "workers");
    c->workers = config_default_workers(sysconf(_SC_NPROCESSORS_ONLN));
    c->history = 1;
    c->history_days = 90;
    c->history_backlog = 1000000; /* rows (--history-backlog) */
    c->grace_ms = 30000;
    c->job_timeout_ms = JOB_DEFAULT_TIMEOUT_MS;
    c->log_format = LOG_FORMAT_JSON;
    c->log_level = LOG_INFO;
    c->result_ttl_s = 86400;
    c->retry_base_ms = 2000;
    c->retry_max_ms = 3600 * 1000;
    c->claim_timeout_ms = 30000;
    c->heartbeat_ms = 5000;
    c->stats_interval_ms = 10000;
    c->dlq_cap = 100000;
    c->max_payload = JOB_DEFAULT_MAX_PAYLOAD;
    c->batch_budget_us = 2000;
    c->command_timeout_ms = 5000;
    strcpy(c->list_queue, "strategy_queue");
    strcpy(c->list_target, QUEUE_DEFAULT);
}

int config_init(config_t *c, char *err, size_t errlen)
{
    config_defaults(c);
    const char *v;
    if ((v = getenv("REDIS_URL")) != NULL && *v)
        c->redis_url = v;
    c->redis_cacert = getenv("TICKQ_REDIS_CACERT");
    c->redis_cert = getenv("TICKQ_REDIS_CERT");
    c->redis_key = getenv("TICKQ_REDIS_KEY");
    c->redis_tls_verify = getenv("TICKQ_REDIS_TLS_VERIFY");
    c->queues_spec = getenv("RQ_QUEUES");
    if (c->queues_spec != NULL && *c->queues_spec == '\0')
        c->queues_spec = NULL; /* RQ_QUEUES= is unset, as a shell's empty variable is */
    if ((v = getenv("DATABASE_URL")) != NULL && *v)
        c->database_url = v;
    if ((v = getenv("TICKQ_DB")) != NULL && *v)
        c->db_path = v;
    if ((v = getenv("TICKQ_PREFIX")) != NULL && *v && config_set_name(c->prefix, sizeof c->prefix, v) != 0) {
        snprintf(err, errlen, "TICKQ_PREFIX='%s' is not a valid key prefix: use 1-63 of A-Z a-z 0-9 _ - . { }", v);
        return -1;
    }
    if ((v = getenv("TICKQ_GROUP")) != NULL && *v && config_set_name(c->group, sizeof c->group, v) != 0) {
        snprintf(err, errlen, "TICKQ_GROUP='%s' is not a valid group name: use 1-63 of A-Z a-z 0-9 _ - .", v);
        return -1;
    }
    if ((v = getenv("TICKQ_LOG_FORMAT")) != NULL && *v && log_parse_format(v, &c->log_format) != 0) {
        snprintf(err, errlen, "TICKQ_LOG_FORMAT='%s' is unknown: use json or logfmt", v);
        return -1;
    }
    if ((v = getenv("TICKQ_LOG_LEVEL")) != NULL && *v && log_parse_level(v, &c->log_level) != 0) {
        snprintf(err, errlen, "TICKQ_LOG_LEVEL='%s' is unknown: use debug, info, warning or error", v);
        return -1;
    }
    if ((v = getenv("TICKQ_LIST_TARGET")) != NULL && *v)
        c->list_target_spec = v;
    if ((v = getenv("TICKQ_RESULT_TTL")) != NULL && *v) {
        int64_t ms;
        if (clock_parse_duration(v, 1000, &ms) != 0 || ms < 1000 || ms > CONFIG_RESULT_TTL_MAX_MS) {
            snprintf(err, errlen, "TICKQ_RESULT_TTL='%s' is not a duration from 1 s to 365 days (e.g. 86400 or 24h)",
                     v);
            return -1;
        }
        c->result_ttl_s = ms / 1000;
    }
    return 0;
}

int config_resolve(config_t *c, int need_redis, char *err, size_t errlen)
{
    if (need_redis) {
        if (c->redis_url == NULL) {
            snprintf(err, errlen, "REDIS_URL is not set: export REDIS_URL=redis://host:6379/0 "
                     "(or unix:///path/to/redis.sock), or pass --redis-url URL");
            return -1;
        }
        char why[600];
        if (redis_url_parse(c->redis_url, &c->url, why, sizeof why) != 0) {
            snprintf(err, errlen, "bad Redis URL: %s", why);
            return -1;
        }
        if (redis_url_set_tls(&c->url, c->redis_cacert, c->redis_cert, c->redis_key, c->redis_tls_verify, err,
                              errlen) != 0)
            return -1;
        if (c->url.tls.enabled && rtls_check(&c->url.tls, err, errlen) != 0)
            return -1;
    }
    char why[600];
    if (queue_list_parse(c->queues_spec, c->prefix, &c->queues, why, sizeof why) != 0) {
        snprintf(err, errlen, "bad queue list: %s", why);
        return -1;
    }
    return 0;
}

int config_resolve_list_target(config_t *c, char *err, size_t errlen)
{
    if (c->list_target_spec == NULL)
        return 0;
    char why[400];
    if (queue_name_check(c->list_target_spec, why, sizeof why) != 0) {
        snprintf(err, errlen, "TICKQ_LIST_TARGET: %s", why);
        return -1;
    }
    snprintf(c->list_target, sizeof c->list_target, "%s", c->list_target_spec);
    return 0;
}

void config_apply(const config_t *c, struct queue *q)
{
    snprintf(q->prefix, sizeof q->prefix, "%s", c->prefix);
    snprintf(q->group, sizeof q->group, "%s", c->group);
    q->result_ttl_s = c->result_ttl_s;
    q->dlq_cap = c->dlq_cap;
    q->retry_base_ms = c->retry_base_ms;
    q->retry_max_ms = c->retry_max_ms;
    q->max_payload = c->max_payload;
    q->default_timeout_ms = c->job_timeout_ms;
    snprintf(q->history, sizeof q->history, "%s", c->history ? c->history_stream : "");
}
