/* cmd_types.c — `tickq types`: the task types producers accept beyond the
 * built-in ones (the Redis set queue_types_add fills), listed or added. */
#include "cmd/commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "core/job.h"
#include "core/task.h"

static const char usage[] =
    "usage: tickq types [add NAME...]\n"
    "\n"
    "Without arguments, lists the task types producers accept beyond the built-in\n"
    "ones: the handler types workers announced, and those added by hand. `add`\n"
    "adds names, so that jobs of a handler type can be enqueued before any worker\n"
    "serving it has started. Names are never removed by tickq.\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 ok, 64 bad usage, 69 Redis unavailable, 78 configuration error.\n";

static const struct option options[] = {
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int list_types(cli_session_t *cli)
{
    char key[256], err[1024];
    queue_types_key(&cli->q, key, sizeof key);
    redisReply *r = rconn_cmd(cli->conn, err, sizeof err, "SMEMBERS %s", key);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        int st = cli_fail(EX_UNAVAILABLE, "cannot read %s: %s", key, r && r->str ? r->str : err);
        freeReplyObject(r);
        return st;
    }
    const char **names = calloc(r->elements ? r->elements : 1, sizeof *names);
    for (size_t i = 0; names != NULL && i < r->elements; i++)
        names[i] = r->element[i]->str;
    if (names != NULL)
        qsort(names, r->elements, sizeof *names, cmp_str);
    for (size_t i = 0; names != NULL && i < r->elements; i++)
        printf("%s%s\n", names[i], task_find(names[i]) ? " (also built in)" : "");
    if (r->elements == 0)
        fprintf(stderr, "no task types beyond the built-in ones (`tickq tasks` lists those)\n");
    free(names);
    freeReplyObject(r);
    return 0;
}

int cmd_types(int argc, char **argv)
{
    config_t cfg;
    int st = cli_parse(argc, argv, options, usage, &cfg, NULL, NULL);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    int adding = optind < argc && strcmp(argv[optind], "add") == 0;
    if (optind < argc && !adding)
        return cli_usage_error(usage, "unknown action '%s' (use: tickq types, or tickq types add NAME...)",
                               argv[optind]);
    if (adding && optind + 1 == argc)
        return cli_usage_error(usage, "add needs at least one NAME");
    for (int i = optind + 1; adding && i < argc; i++) {
        if (!job_name_valid(argv[i], JOB_TYPE_MAX))
            return cli_usage_error(usage, "'%s' is not a task type name (1 to %d letters, digits, '_', '-' or '.')",
                                   argv[i], JOB_TYPE_MAX);
        if (task_find(argv[i]) != NULL)
            return cli_usage_error(usage, "'%s' is built into tickq already", argv[i]);
    }
    cli_session_t cli;
    memset(&cli, 0, sizeof cli);
    cli.cfg = cfg;
    if ((st = cli_connect(&cli.cfg, &cli.conn, &cli.q)) != 0)
        return st;
    if (!adding) {
        st = list_types(&cli);
    } else {
        char err[1024];
        queue_status_t qs = queue_types_add(&cli.q, (const char *const *)argv + optind + 1,
                                            (size_t)(argc - optind - 1), err, sizeof err);
        if (qs != QUEUE_OK)
            st = cli_fail(cli_queue_exit(qs), "cannot add the types: %s", err);
        else
            for (int i = optind + 1; i < argc; i++)
                printf("added %s\n", argv[i]);
    }
    cli_close(&cli);
    return st;
}
