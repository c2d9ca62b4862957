/* main.c — the `tickq` command: dispatches to its sub-commands. */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/huge_pages.h"
#include "cmd/tasks_all.h"
#include "core/close_match.h"
#include "core/queue.h"

#define TICKQ_VERSION "0.1.0"

static const cli_command_t commands[] = {
    { "worker", cmd_worker, "run a supervisor and its worker children" },
    { "enqueue", cmd_enqueue, "put a job on a queue and print its id" },
    { "result", cmd_result, "print a job's task_result (optionally wait for it)" },
    { "job", cmd_job, "print a job's record and retry history" },
    { "cancel", cmd_cancel, "cancel a waiting or running job" },
    { "stats", cmd_stats, "queue depths, counters and live workers" },
    { "dlq", cmd_dlq, "list, retry or purge dead-letter jobs" },
    { "rejected", cmd_rejected, "list or purge the list entries that could not be used" },
    { "tasks", cmd_tasks, "list the task types this build runs" },
    { "types", cmd_types, "list or add the task types producers accept beyond the built-in ones" },
    { "data", cmd_data, "import, generate, list and show market data" },
    { "scheduler", cmd_scheduler, "fire the configured recurring jobs (one leader among replicas)" },
    { "schedule", cmd_schedule, "list the configured schedules; evaluate a cron expression; show the market calendar" },
    { "options", cmd_options, "option prices, Greeks and implied volatility" },
    { "jobs", cmd_jobs, "list jobs by state (failed and dead first), queue, type and age" },
    { "retry", cmd_retry, "run a failed or dead job again" },
    { "delete", cmd_delete, "delete a finished job from Redis" },
    { "purge", cmd_purge, "cancel every job waiting in a queue (--yes)" },
    { "pause", cmd_pause, "stop claims from a queue on every worker" },
    { "resume", cmd_resume, "let workers claim from a paused queue again" },
    { "limit", cmd_limit, "list, set or clear per-type concurrency limits" },
    { "flow", cmd_flow, "add a parent job with children; show a job's tree of dependencies" },
    { "serve", cmd_serve, "serve health, metrics and the REST API (no workers)" },
    { "load-test", cmd_load_test, "enqueue synthetic jobs, wait for the workers; throughput and latency" },
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: tickq [--redis-url URL] [--prefix P] [--group NAME] [--config FILE] COMMAND [options]\n"
                 "       (tickq COMMAND --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-10s %s\n", "version", "print the version and protocol");
    fprintf(out, "\nEnvironment: REDIS_URL (required for queue commands), RQ_QUEUES, TICKQ_PREFIX,\n"
                 "TICKQ_GROUP, TICKQ_LOG_FORMAT, TICKQ_LOG_LEVEL, TICKQ_RESULT_TTL, DATABASE_URL, TICKQ_DB,\n"
                 "TICKQ_LIST_TARGET (worker), TICKQ_CONFIG (the configuration file; TICKQ_SCHEDULES, its\n"
                 "old name, for the schedules); for rediss:// TICKQ_REDIS_CACERT, TICKQ_REDIS_CERT,\n"
                 "TICKQ_REDIS_KEY, TICKQ_REDIS_TLS_VERIFY (docs/production-redis.md); TICKQ_API_TOKEN\n"
                 "(serve, worker --http: docs/http.md).\n");
}

/* The flags every command shares, each with a value. */
static const char *const shared_flags[] = { "--redis-url", "--prefix", "--group", "--config" };
#define N_SHARED_FLAGS (sizeof shared_flags / sizeof shared_flags[0])

/* The shared flag arg is ("--prefix" or "--prefix=..."), as an index of
 * shared_flags; -1 for none. */
static int shared_flag(const char *arg)
{
    for (size_t i = 0; i < N_SHARED_FLAGS; i++) {
        size_t len = strlen(shared_flags[i]);
        if (strncmp(arg, shared_flags[i], len) == 0 && (arg[len] == '\0' || arg[len] == '='))
            return (int)i;
    }
    return -1;
}

/* The flags every command shares may also come before the command
 * (`tickq --redis-url URL stats`): they are moved behind it, where the
 * command's own parser reads them. Returns argc, with argv reordered in
 * place; a flag missing its value is left for the command to refuse. */
static int shared_flags_first(int argc, char **argv)
{
    int at = 1;
    while (at < argc && argv[at][0] == '-') {
        int f = shared_flag(argv[at]);
        if (f < 0)
            break;
        int n = argv[at][strlen(shared_flags[f])] == '=' ? 1 : at + 1 < argc ? 2 : 0;
        if (n == 0)
            break;
        at += n;
    }
    if (at == 1 || at >= argc)
        return argc;
    /* argv[1 .. at) are shared flags, argv[at] the command: rotate it first. */
    char *command = argv[at];
    memmove(argv + 2, argv + 1, (size_t)(at - 1) * sizeof *argv);
    argv[1] = command;
    return argc;
}

/* argv[1] is no command: says why (a shared flag with no command after it,
 * another flag, a misspelt command) and prints the usage; 64. */
static int refuse_command(int argc, char **argv)
{
    const char *name = argv[1];
    int f = shared_flag(name);
    if (f >= 0) {
        const char *flag = shared_flags[f];
        if (name[strlen(flag)] == '=' || argc > 2)
            return cli_fail(EX_USAGE, "a command must follow %s VALUE: tickq %s VALUE COMMAND ...", flag, flag);
        return cli_fail(EX_USAGE, "%s needs a value, and a command after it: tickq %s VALUE COMMAND ...", flag, flag);
    }
    if (name[0] == '-') {
        fprintf(stderr, "tickq: unknown option '%s' before the command (only ", name);
        for (size_t i = 0; i < N_SHARED_FLAGS; i++)
            fprintf(stderr, "%s%s", i == 0 ? "" : i + 1 < N_SHARED_FLAGS ? ", " : " and ", shared_flags[i]);
        fprintf(stderr, " may come there)\n\n");
    } else {
        const char *names[sizeof commands / sizeof commands[0] + 1];
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            names[i] = commands[i].name;
        names[sizeof commands / sizeof commands[0]] = "version";
        size_t best;
        if (close_match_find(name, names, sizeof names / sizeof names[0], &best, 1) == 1)
            fprintf(stderr, "tickq: unknown command '%s' (did you mean %s?)\n\n", name, names[best]);
        else
            fprintf(stderr, "tickq: unknown command '%s'\n\n", name);
    }
    print_usage(stderr);
    return EX_USAGE;
}

int main(int argc, char **argv)
{
    tasks_register_all();
    argc = shared_flags_first(argc, argv);
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
    if (strcmp(name, "worker") == 0)
        huge_pages_exec(argv); /* argv as ordered: the same command line */
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    return refuse_command(argc, argv);
}
