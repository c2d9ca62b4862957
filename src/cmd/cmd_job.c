/* cmd_job.c — `tickq job`: show a job's record (state, run, attempts,
 * worker, timestamps, error) and its retry history as JSON, its fields in
 * one fixed order (field_order below, documented in docs/cli.md) whatever
 * order the record's hash holds them in. */
#include "cmd/commands.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "core/job_view.h"

static const char usage[] =
    "usage: tickq job ID\n"
    "\n"
    "Prints the job's record and retry history as JSON, its fields always in the\n"
    "same order (id, type, state, run, attempts, ...: docs/cli.md lists it); `run`\n"
    "counts the runs of this id (1 for the first; a finished job enqueued again with\n"
    "--replace, or pushed again on the list, runs as run 2, ...).\n"
    "\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 found, 3 not found, 64 bad usage, 69 Redis unavailable.\n";

static const struct option options[] = { CLI_COMMON_OPTIONS, { 0, 0, 0, 0 } };

int cmd_job(int argc, char **argv)
{
    char err[1024];
    const cli_spec_t spec = { options, usage, NULL, NULL, "job ID" };
    cli_session_t cli;
    int st = cli_open(argc, argv, &spec, &cli);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    json_t *job;
    int found = job_view_read(&cli.q, cli.arg, &job, err, sizeof err);
    cli_close(&cli);
    if (found < 0)
        return cli_fail(EX_UNAVAILABLE, "%s", err);
    if (found == 0) {
        fprintf(stderr, "tickq: no job %s (unknown id, or its record expired)\n", cli.arg);
        return 3;
    }
    char *text = json_dumps(job, JSON_INDENT(2));
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(job);
    return 0;
}
