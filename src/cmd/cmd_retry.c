/* cmd_retry.c — `tickq retry`: run a failed or dead job again, as its id's
 * next run (queue_retry: a dead job the dead-letter way, tickq dlq retry's). */
#include "cmd/commands.h"

#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "core/queue_controls.h"

static const char usage[] =
    "usage: tickq retry ID\n"
    "\n"
    "Runs a failed or dead job again, as its id's next run (RUN + 1, attempts from\n"
    "0, same queue, args and retries); its previous result and retry list go (the\n"
    "job history keeps them). A dead job leaves the dead-letter stream, as with\n"
    "`tickq dlq retry`. A job in any other state is left as it is.\n"
    "\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 requeued, 1 not failed or dead (the message names its state), 3 no\n"
    "such job (or its record expired: `tickq dlq retry` still finds a dead one), 64\n"
    "bad usage, 69 Redis unavailable, 75 Redis out of memory (try again later), 78\n"
    "configuration error.\n";

static const struct option options[] = { CLI_COMMON_OPTIONS, { 0, 0, 0, 0 } };

/* What to do instead, per state a retry refuses. */
static const char *advice(const char *state)
{
    if (strcmp(state, "completed") == 0 || strcmp(state, "cancelled") == 0)
        return "`tickq enqueue --id ID --replace` runs a finished job again";
    if (strcmp(state, "retrying") == 0)
        return "it will run again by itself";
    return "it has not finished";
}

int cmd_retry(int argc, char **argv)
{
    char err[1024], state[JOB_STATE_MAX];
    const cli_spec_t spec = { options, usage, NULL, NULL, "job ID" };
    cli_session_t cli;
    int st = cli_open(argc, argv, &spec, &cli);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    retry_status_t res;
    int run = 0;
    const char *id = cli.arg; /* in argv: outlives the session */
    queue_status_t qs = queue_retry(&cli.q, id, &res, &run, state, err, sizeof err);
    cli_close(&cli);
    if (qs != QUEUE_OK)
        return cli_fail(cli_queue_exit(qs), "cannot retry: %s", err);
    if (res == RETRY_MISSING)
        return cli_fail(3, "no job %s (unknown id, or its record expired)", id);
    if (res == RETRY_REFUSED)
        return cli_fail(1, "job %s is %s, not failed or dead: nothing to retry (%s)", id, state,
                        advice(state));
    printf("requeued %s (run %d)\n", id, run);
    return 0;
}
