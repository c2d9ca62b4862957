/* main.c — the `tickq` command: dispatches to its sub-commands. */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "commands.h"
#include "queue.h"

#define TICKQ_VERSION "0.1.0"

static const cli_command_t commands[] = {
    { "worker", cmd_worker, "run a supervisor and its worker children" },
    { "enqueue", cmd_enqueue, "put a job on a queue and print its id" },
    { "result", cmd_result, "print a job's task_result (optionally wait for it)" },
    { "job", cmd_job, "print a job's record and retry history" },
    { "cancel", cmd_cancel, "cancel a waiting or running job" },
    { "stats", cmd_stats, "queue depths, counters and live workers" },
    { "dlq", cmd_dlq, "list, retry or purge dead-letter jobs" },
    { "tasks", cmd_tasks, "list the task types this build runs" },
    { "data", cmd_data, "import, generate, list and show market data" },
    { "scheduler", cmd_scheduler, "fire the configured recurring jobs (one leader among replicas)" },
    { "schedule", cmd_schedule, "list the configured schedules; evaluate a cron expression" },
    { "options", cmd_options, "option prices, Greeks and implied volatility" },
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: tickq COMMAND [options]   (tickq COMMAND --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-10s %s\n", "version", "print the version and protocol");
    fprintf(out, "\nEnvironment: REDIS_URL (required for queue commands), RQ_QUEUES, TICKQ_PREFIX,\n"
                 "TICKQ_GROUP, TICKQ_LOG_FORMAT, TICKQ_LOG_LEVEL, TICKQ_RESULT_TTL, DATABASE_URL, TICKQ_DB,\n"
                 "TICKQ_SCHEDULES.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return EX_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0) {
        printf("tickq %s (protocol %s)\n", TICKQ_VERSION, TICKQ_PROTOCOL);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "tickq: unknown command '%s'\n\n", name);
    print_usage(stderr);
    return EX_USAGE;
}
