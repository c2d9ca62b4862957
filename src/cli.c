/* cli.c — what every tickq sub-command shares. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

int cli_common_option(int opt, const char *arg, config_t *cfg)
{
    switch (opt) {
    case OPT_REDIS_URL:
        cfg->redis_url = arg;
        return 1;
    case OPT_PREFIX:
        if (config_set_name(cfg->prefix, sizeof cfg->prefix, arg) != 0)
            return cli_fail(EX_USAGE, "--prefix '%s' is not a valid key prefix: use 1-63 of A-Z a-z 0-9 _ - . { }", arg);
        return 1;
    default:
        return 0;
    }
}

int cli_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tickq: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n\n", stderr);
    fputs(usage, stderr);
    va_end(ap);
    return EX_USAGE;
}

int cli_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tickq: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

int cli_parse_int(const char *s, long long min, long long max, long long *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_connect(config_t *cfg, rconn_t **conn, queue_t *q)
{
    char err[1024];
    int st = config_resolve(cfg, 1, err, sizeof err);
    if (st != 0)
        return cli_fail(st, "%s", err);
    rconn_t *c = rconn_open(&cfg->url, cfg->command_timeout_ms, err, sizeof err);
    if (c == NULL)
        return cli_fail(EX_UNAVAILABLE, "%s", err);
    redisReply *r = rconn_cmd(c, err, sizeof err, "PING");
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        char where[4400];
        redis_url_describe(&cfg->url, where, sizeof where);
        cli_fail(EX_UNAVAILABLE, "Redis at %s does not answer PING: %s", where, r ? r->str : err);
        freeReplyObject(r);
        rconn_free(c);
        return EX_UNAVAILABLE;
    }
    freeReplyObject(r);
    *conn = c;
    queue_init(q, c);
    config_apply(cfg, q);
    return 0;
}
