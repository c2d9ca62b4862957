/* cmd_purge.c — `tickq purge`: empty a logical queue (every priority): its
 * waiting jobs end cancelled with the error "Job purged" (queue_purge);
 * without --yes it only says what that would cancel. */
#include "cmd/commands.h"

#include <stdio.h>

#include "cmd/cli.h"
#include "core/queue_controls.h"

static const char usage[] =
    "usage: tickq purge QUEUE [--yes]\n"
    "\n"
    "Empties a logical queue, all its priorities: every job waiting in it (ready,\n"
    "delayed, retrying, held for its type's limit, deferred) ends cancelled with the error\n"
    "\"Job purged\", its task_result written so that clients polling it stop. Running\n"
    "jobs finish. Without --yes nothing is done: it says how many jobs it would\n"
    "cancel. Jobs are cancelled in atomic batches of 1000.\n"
    "\n"
    "  --yes                do it\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 purged (or nothing to purge), 1 not done: --yes missing, 64 bad\n"
    "usage, 69 Redis unavailable, 75 Redis out of memory (try again later), 78\n"
    "configuration error.\n";

enum { OPT_YES = OPT_FIRST_COMMAND_OPTION };

static const struct option options[] = {
    { "yes", no_argument, 0, OPT_YES },
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

static int on_flag(int opt, const char *arg, void *yes)
{
    (void)opt; /* --yes is the only one */
    (void)arg;
    *(int *)yes = 1;
    return 0;
}

int cmd_purge(int argc, char **argv)
{
    char err[1024];
    int yes = 0;
    const cli_spec_t spec = { options, usage, on_flag, &yes, NULL };
    cli_session_t cli;
    int st = cli_open_queue(argc, argv, &spec, &cli);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    const char *queue = cli.arg;
    purge_count_t n;
    queue_status_t qs = queue_purge_count(&cli.q, queue, &n, err, sizeof err);
    if (qs != QUEUE_OK) {
        cli_close(&cli);
        return cli_fail(cli_queue_exit(qs), "cannot purge %s: %s", queue, err);
    }
    long long waiting = n.ready + n.delayed + n.retrying + n.held + n.deferred;
    if (waiting == 0) {
        printf("queue %s has no waiting jobs: nothing to purge (%lld running)\n", queue, n.running);
        cli_close(&cli);
        return 0;
    }
    if (!yes) {
        cli_close(&cli);
        return cli_fail(1, "purge %s would cancel %lld jobs (%lld ready, %lld delayed, %lld retrying, %lld held "
                        "for a type limit, %lld deferred); %lld running jobs would finish. Nothing done: run "
                        "`tickq purge %s --yes` to purge it", queue, waiting, n.ready, n.delayed, n.retrying,
                        n.held, n.deferred, n.running, queue);
    }
    long long cancelled = 0;
    qs = queue_purge(&cli.q, queue, &cancelled, err, sizeof err);
    cli_close(&cli);
    if (qs != QUEUE_OK)
        return cli_fail(cli_queue_exit(qs), "purge of %s stopped after %lld jobs: %s", queue, cancelled, err);
    printf("purged %s: %lld jobs cancelled (\"Job purged\"); %lld running jobs finish\n", queue, cancelled,
           n.running);
    return 0;
}
