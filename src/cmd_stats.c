/* cmd_stats.c — `tickq stats`: queue depths, counters, dead letters and live
 * workers, as a table or as JSON. */
#include "commands.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "stats.h"

static const char usage[] =
    "usage: tickq stats [--json]\n"
    "\n"
    "Shows queue depths (ready, running, delayed, retrying), counters per queue and\n"
    "in total, the dead-letter count and the live workers.\n"
    "\n"
    "  --json               print one JSON object\n"
    CLI_COMMON_HELP;

static const struct option options[] = {
    { "json", no_argument, 0, OPT_JSON },
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

static long long num(json_t *o, const char *k) { return (long long)json_integer_value(json_object_get(o, k)); }

static void print_table(json_t *s)
{
    size_t i;
    json_t *v;
    printf("%-32s %9s %9s %9s %9s\n", "QUEUE", "READY", "RUNNING", "DELAYED", "RETRYING");
    json_array_foreach(json_object_get(s, "queues"), i, v)
        printf("%-32s %9lld %9lld %9lld %9lld\n", json_string_value(json_object_get(v, "name")),
               num(v, "ready"), num(v, "running"), num(v, "delayed"), num(v, "retrying"));
    printf("\n%-20s", "COUNTERS");
    const char *cols[] = { "submitted", "completed", "failed", "timeout", "retried", "dead", "cancelled", "active" };
    for (size_t c = 0; c < 8; c++)
        printf(" %10s", cols[c]);
    printf("\n");
    const char *name;
    json_t *counters = json_object_get(s, "counters");
    json_object_foreach(counters, name, v) {
        if (strcmp(name, "total") == 0)
            continue;
        printf("%-20s", name);
        for (size_t c = 0; c < 8; c++)
            printf(" %10lld", num(v, cols[c]));
        printf("\n");
    }
    printf("%-20s", "total");
    for (size_t c = 0; c < 8; c++)
        printf(" %10lld", num(json_object_get(counters, "total"), cols[c]));
    printf("\n\ndead letters: %lld\n", num(s, "dead_letter"));
    json_t *total = json_object_get(counters, "total");
    if (num(total, "list_imported") > 0 || num(total, "list_rejected") > 0)
        printf("list protocol: %lld tasks taken from the list, %lld malformed ones rejected (see the worker log)\n",
               num(total, "list_imported"), num(total, "list_rejected"));
    json_t *workers = json_object_get(s, "workers");
    printf("live workers: %zu\n", json_array_size(workers));
    json_array_foreach(workers, i, v)
        printf("  %s  queues=%s  children=%lld busy=%lld  completed=%lld failed=%lld  since %s\n",
               json_string_value(json_object_get(v, "id")), json_string_value(json_object_get(v, "queues")),
               num(v, "workers"), num(v, "busy"), num(v, "completed"), num(v, "failed"),
               json_string_value(json_object_get(v, "started_at")));
}

static int on_flag(int opt, const char *arg, void *as_json)
{
    (void)opt; /* --json is the only one */
    (void)arg;
    *(int *)as_json = 1;
    return 0;
}

int cmd_stats(int argc, char **argv)
{
    static config_t cfg;
    char err[1024];
    int as_json = 0;
    int st = cli_parse(argc, argv, options, usage, &cfg, on_flag, &as_json);
    if (st == 0 && optind < argc)
        st = cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    rconn_t *conn;
    queue_t q;
    if ((st = cli_connect(&cfg, &conn, &q)) != 0)
        return st;
    json_t *s = stats_collect(&q, err, sizeof err);
    rconn_free(conn);
    if (s == NULL)
        return cli_fail(EX_UNAVAILABLE, "cannot read stats: %s", err);
    if (as_json) {
        char *text = json_dumps(s, JSON_COMPACT);
        if (text)
            printf("%s\n", text);
        free(text);
    } else {
        print_table(s);
    }
    json_decref(s);
    return 0;
}
