/* cmd_result.c — `tickq result`: print a job's task_result, optionally
 * waiting for it to finish. */
#include "cmd/commands.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "core/clock.h"

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
    char err[1024];
    cli_wait_t wait = { usage, 0 };
    const cli_spec_t spec = { options, usage, cli_wait_flag, &wait, "job ID" };
    cli_session_t cli;
    int st = cli_open(argc, argv, &spec, &cli);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    int64_t deadline = clock_mono_ms() + wait.ms;
    char key[300];
    queue_result_key(cli.arg, key, sizeof key);
    int code = 3;
    for (;;) {
        redisReply *r = rconn_cmd(cli.conn, err, sizeof err, "GET %s", key);
        if (r == NULL) {
            cli_close(&cli);
            return cli_fail(EX_UNAVAILABLE, "%s", err);
        }
        int status = r->type == REDIS_REPLY_STRING ? status_of(r->str) : -2;
        int done = status == 0 || status == 1;
        if (done || clock_mono_ms() >= deadline) {
            if (r->type == REDIS_REPLY_STRING)
                printf("%s\n", r->str);
            else
                fprintf(stderr, "tickq: no result for job %s (unknown id, not started yet, or expired)\n", cli.arg);
            code = status == 0 ? 0 : status == 1 ? 1 : 3;
            freeReplyObject(r);
            break;
        }
        freeReplyObject(r);
        clock_sleep_ms(50, NULL);
    }
    cli_close(&cli);
    return code;
}
