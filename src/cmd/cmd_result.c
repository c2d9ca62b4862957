/* cmd_result.c — `tickq result`: print a job's task_result, optionally
 * waiting for it to finish. */
#include "cmd/commands.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "core/clock.h"
#include "core/queue_controls.h"
#include "core/stats.h"

static const char usage[] =
    "usage: tickq result ID [--wait S]\n"
    "\n"
    "Prints the job's task_result JSON. With --wait, polls up to S seconds until the\n"
    "status is completed or error. A job without a result yet is named as what it\n"
    "waits for: queued on a queue no live worker serves, or that is paused, or not\n"
    "started yet.\n"
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

/* Says on stderr why job `id` has no result: no record (unknown or
 * expired), or queued on a queue that no live worker serves, that is
 * paused, or not started yet. */
static void no_result(queue_t *q, const char *id)
{
    char key[QUEUE_JOB_KEY_MAX], err[1024];
    queue_job_key(q, id, key, sizeof key);
    redisReply *h = rconn_cmd(q->conn, err, sizeof err, "HMGET %s state queue stream", key);
    const char *state = h && h->type == REDIS_REPLY_ARRAY && h->elements == 3 ? h->element[0]->str : NULL;
    if (state == NULL || strcmp(state, "queued") != 0 || h->element[2]->str == NULL) {
        fprintf(stderr, "tickq: no result for job %s (unknown id, not started yet, or expired)\n", id);
        freeReplyObject(h);
        return;
    }
    const char *queue = h->element[1]->str ? h->element[1]->str : "", *stream = h->element[2]->str;
    char physical[QUEUE_PHYS_MAX];
    queue_stream_physical(q->prefix, stream, physical);
    int served = 1, paused = queue_is_paused(q, queue, err, sizeof err);
    if (stats_queue_served(q, physical, &served, err, sizeof err) != 0)
        served = 1; /* cannot tell: say no more than before */
    if (paused == 1)
        fprintf(stderr, "tickq: job %s is queued on %s, which is paused (tickq resume %s)\n", id, physical, queue);
    else if (served == 0)
        fprintf(stderr, "tickq: job %s is queued on %s, which no live worker serves\n", id, physical);
    else
        fprintf(stderr, "tickq: job %s is queued on %s, not started yet\n", id, physical);
    freeReplyObject(h);
}

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
                no_result(&cli.q, cli.arg);
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
