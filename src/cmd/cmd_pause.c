/* cmd_pause.c — `tickq pause` and `tickq resume`: stop and restart claims
 * from a logical queue on every worker (queue_pause). The two commands are
 * one switch, turned either way, so they share this file. */
#include "cmd/commands.h"

#include <stdio.h>

#include "cmd/cli.h"
#include "core/queue_controls.h"

static const char pause_usage[] =
    "usage: tickq pause QUEUE\n"
    "\n"
    "Stops claims from a logical queue (all its priorities) on every worker, until\n"
    "`tickq resume QUEUE`. Running jobs finish; enqueues still go in and wait; retries\n"
    "and delayed jobs come due as usual and wait too. A worker idle at that moment\n"
    "may take one more job within its wait (1 s at most). `tickq stats` lists the\n"
    "paused queues.\n"
    "\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 paused (or already paused), 64 bad usage, 69 Redis unavailable,\n"
    "75 Redis out of memory (try again later), 78 configuration error.\n";

static const char resume_usage[] =
    "usage: tickq resume QUEUE\n"
    "\n"
    "Lets workers claim from a queue `tickq pause` paused; its waiting jobs run in\n"
    "their order.\n"
    "\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 resumed (or was not paused), 64 bad usage, 69 Redis unavailable,\n"
    "78 configuration error.\n";

static const struct option options[] = { CLI_COMMON_OPTIONS, { 0, 0, 0, 0 } };

static int switch_queue(int argc, char **argv, int pause)
{
    char err[1024];
    const cli_spec_t spec = { options, pause ? pause_usage : resume_usage, NULL, NULL, NULL };
    cli_session_t cli;
    int st = cli_open_queue(argc, argv, &spec, &cli);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    const char *queue = cli.arg;
    int changed = 0;
    purge_count_t n = { 0, 0, 0, 0, 0, 0 };
    queue_status_t qs = queue_pause(&cli.q, queue, pause, &changed, err, sizeof err);
    if (qs == QUEUE_OK)
        qs = queue_purge_count(&cli.q, queue, &n, err, sizeof err);
    cli_close(&cli);
    if (qs != QUEUE_OK)
        return cli_fail(cli_queue_exit(qs), "cannot %s %s: %s", pause ? "pause" : "resume", queue, err);
    if (pause && changed)
        printf("paused %s", queue);
    else if (pause)
        printf("%s was already paused", queue);
    else
        printf(changed ? "resumed %s" : "%s was not paused", queue);
    if (pause)
        printf(": no worker claims from it until `tickq resume %s` (%lld ready; %lld running finish)\n", queue,
               n.ready, n.running);
    else
        printf(" (%lld ready)\n", n.ready);
    return 0;
}

int cmd_pause(int argc, char **argv) { return switch_queue(argc, argv, 1); }
int cmd_resume(int argc, char **argv) { return switch_queue(argc, argv, 0); }
