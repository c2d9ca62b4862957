/* cmd_cancel.c — `tickq cancel`: cancel a waiting job at once, or have a
 * running one killed by its supervisor, and report the outcome. */
#include "cmd/commands.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "core/clock.h"

static const char usage[] =
    "usage: tickq cancel ID [--wait S]\n"
    "\n"
    "Cancels a job. A queued, delayed, held, deferred or retrying job is removed at\n"
    "once; a running job's worker child is killed by its supervisor. Its state\n"
    "becomes cancelled and its task_result says so. Jobs that depend on it fail\n"
    "(enqueue --after); a flow's parent cancelled while it waits cancels its\n"
    "children too (tickq flow).\n"
    "\n"
    "  --wait S             seconds to wait for a running job to stop (default: 10)\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 cancelled, 1 already finished, 2 still running after --wait,\n"
    "3 not found, 64 bad usage, 69 Redis unavailable, 75 Redis out of memory (try\n"
    "again later), 78 configuration error.\n";

enum { OPT_WAIT = OPT_FIRST_COMMAND_OPTION };

static const struct option options[] = {
    { "wait", required_argument, 0, OPT_WAIT },
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

int cmd_cancel(int argc, char **argv)
{
    char err[1024];
    cli_wait_t wait = { usage, 10000 };
    const cli_spec_t spec = { options, usage, cli_wait_flag, &wait, "job ID" };
    cli_session_t cli;
    int st = cli_open(argc, argv, &spec, &cli);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    cancel_status_t res;
    char state[JOB_STATE_MAX];
    queue_status_t qs = queue_cancel(&cli.q, cli.arg, &res, state, err, sizeof err);
    if (qs != QUEUE_OK) {
        cli_close(&cli);
        return cli_fail(cli_queue_exit(qs), "cannot cancel: %s", err);
    }
    int code;
    if (res == CANCEL_DONE) {
        printf("cancelled %s\n", cli.arg);
        code = 0;
    } else if (res == CANCEL_MISSING) {
        fprintf(stderr, "tickq: no job %s (unknown id, or its record expired)\n", cli.arg);
        code = 3;
    } else if (res == CANCEL_FINAL) {
        fprintf(stderr, "tickq: job %s already finished (state %s); nothing to cancel\n", cli.arg, state);
        code = 1;
    } else {
        /* Running: its supervisor sees the flag within a fraction of a second. */
        int64_t deadline = clock_mono_ms() + wait.ms;
        code = 2;
        for (;;) {
            char now[JOB_STATE_MAX];
            queue_status_t read = queue_job_state(&cli.q, cli.arg, now, err, sizeof err);
            if (strcmp(now, "cancelled") == 0) {
                printf("cancelled %s (it was running)\n", cli.arg);
                code = 0;
            } else if (job_state_is_final(now)) {
                fprintf(stderr, "tickq: job %s finished as %s before it could be cancelled\n", cli.arg, now);
                code = 1;
            }
            if (code != 2 || read == QUEUE_ERR_IO || clock_mono_ms() >= deadline)
                break;
            clock_sleep_ms(50, NULL);
        }
        if (code == 2)
            fprintf(stderr, "tickq: cancel requested for running job %s; its worker has not "
                    "stopped it yet (a dead worker's job is settled within the claim timeout)\n", cli.arg);
    }
    cli_close(&cli);
    return code;
}
