/* cmd_delete.c — `tickq delete`: delete a finished job from Redis
 * (queue_delete: its record, result, retry list, state index entry and
 * dead-letter entry; the counters and the job history keep it). */
#include "cmd/commands.h"

#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "core/queue_controls.h"

static const char usage[] =
    "usage: tickq delete ID\n"
    "\n"
    "Deletes a finished job (completed, failed, dead or cancelled) from Redis: its\n"
    "record, its result (task_result:ID), its retry list, its entry in the state\n"
    "index and, for a dead job, its dead-letter entry. The queue counters and the\n"
    "job history database keep it. A job that has not finished is left as it is\n"
    "(`tickq cancel` it first), and so is one whose result waiting jobs depend on.\n"
    "\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 deleted, 1 not finished or needed by waiting jobs (the message\n"
    "says which), 3 no such job (or its record expired), 64 bad usage, 69 Redis\n"
    "unavailable, 75 Redis out of memory (try again later), 78 configuration error.\n";

static const struct option options[] = { CLI_COMMON_OPTIONS, { 0, 0, 0, 0 } };

int cmd_delete(int argc, char **argv)
{
    char err[1024], state[JOB_STATE_MAX];
    const cli_spec_t spec = { options, usage, NULL, NULL, "job ID" };
    cli_session_t cli;
    int st = cli_open(argc, argv, &spec, &cli);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    delete_status_t res;
    long long needed_by = 0;
    const char *id = cli.arg; /* in argv: outlives the session */
    queue_status_t qs = queue_delete(&cli.q, id, &res, state, &needed_by, err, sizeof err);
    cli_close(&cli);
    if (qs != QUEUE_OK)
        return cli_fail(cli_queue_exit(qs), "cannot delete: %s", err);
    if (res == DELETE_MISSING)
        return cli_fail(3, "no job %s (unknown id, or its record expired)", id);
    if (res == DELETE_REFUSED)
        return cli_fail(1, "job %s is %s, not finished: not deleted (`tickq cancel %s` first)", id, state, id);
    if (res == DELETE_NEEDED)
        return cli_fail(1, "job %s is needed by %lld waiting job(s) that depend on its result: not deleted", id,
                        needed_by);
    printf("deleted %s (was %s)\n", id, state);
    return 0;
}
