/* cmd_result.c — `tickq result`: print a job's task_result, optionally
 * waiting for it to finish. */
#include "commands.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "clock.h"

static const char usage[] =
    "usage: tickq result ID [--wait S]\n"
    "\n"
    "Prints the job's task_result JSON. With --wait, polls up to S seconds until the\n"
    "status is completed or error.\n"
    "\n"
    "  --wait S             seconds to wait for the job to finish (default: 0)\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 completed, 1 error (failed, dead or cancelled), 3 not found or\n"
    "not finished in time, 64 bad usage, 69 Redis unavailable, 78 configuration error.\n";

enum { OPT_WAIT = OPT_FIRST_COMMAND_OPTION };

static const struct option options[] = {
    { "wait", required_argument, 0, OPT_WAIT },
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

/* 0 completed, 1 error, 2 still running, -1 not JSON we know. */
static int status_of(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    const char *s = json_string_value(json_object_get(v, "status"));
    int r = s == NULL ? -1 : strcmp(s, "completed") == 0 ? 0 : strcmp(s, "error") == 0 ? 1 : 2;
    json_decref(v);
    return r;
}

int cmd_result(int argc, char **argv)
{
    static config_t cfg;
    char err[1024];
    if (config_init(&cfg, err, sizeof err) != 0)
        return cli_fail(EX_CONFIG, "%s", err);
    int64_t wait_ms = 0;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        int common = cli_common_option(opt, optarg, &cfg);
        if (common == 1)
            continue;
        if (common > 1)
            return common;
        switch (opt) {
        case 'h': fputs(usage, stdout); return 0;
        case OPT_WAIT:
            if (clock_parse_duration(optarg, 1000, &wait_ms) != 0)
                return cli_usage_error(usage, "--wait '%s' is not a number of seconds", optarg);
            break;
        default: return cli_usage_error(usage, "see the options below");
        }
    }
    if (argc - optind != 1)
        return cli_usage_error(usage, argc - optind < 1 ? "missing job ID" : "expected one job ID");
    const char *id = argv[optind];
    rconn_t *conn;
    queue_t q;
    int st = cli_connect(&cfg, &conn, &q);
    if (st != 0)
        return st;
    int64_t deadline = clock_mono_ms() + wait_ms;
    char key[300];
    snprintf(key, sizeof key, "task_result:%s", id);
    int code = 3;
    for (;;) {
        redisReply *r = rconn_cmd(conn, err, sizeof err, "GET %s", key);
        if (r == NULL) {
            rconn_free(conn);
            return cli_fail(EX_UNAVAILABLE, "%s", err);
        }
        int status = r->type == REDIS_REPLY_STRING ? status_of(r->str) : -2;
        int done = status == 0 || status == 1;
        if (done || clock_mono_ms() >= deadline) {
            if (r->type == REDIS_REPLY_STRING)
                printf("%s\n", r->str);
            else
                fprintf(stderr, "tickq: no result for job %s (unknown id, not started yet, or expired)\n", id);
            code = status == 0 ? 0 : status == 1 ? 1 : 3;
            freeReplyObject(r);
            break;
        }
        freeReplyObject(r);
        clock_sleep_ms(50, NULL);
    }
    rconn_free(conn);
    return code;
}
