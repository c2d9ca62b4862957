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
    json_t *workers = json_object_get(s, "workers");
    printf("live workers: %zu\n", json_array_size(workers));
    json_array_foreach(workers, i, v)
        printf("  %s  queues=%s  children=%lld busy=%lld  completed=%lld failed=%lld  since %s\n",
               json_string_value(json_object_get(v, "id")), json_string_value(json_object_get(v, "queues")),
               num(v, "workers"), num(v, "busy"), num(v, "completed"), num(v, "failed"),
               json_string_value(json_object_get(v, "started_at")));
}

int cmd_stats(int argc, char **argv)
{
    static config_t cfg;
    char err[1024];
    if (config_init(&cfg, err, sizeof err) != 0)
        return cli_fail(EX_CONFIG, "%s", err);
    int as_json = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        int common = cli_common_option(opt, optarg, &cfg);
        if (common == 1)
            continue;
        if (common > 1)
            return common;
        switch (opt) {
        case 'h': fputs(usage, stdout); return 0;
        case OPT_JSON: as_json = 1; break;
        default: return cli_usage_error(usage, "see the options below");
        }
    }
    if (optind < argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    rconn_t *conn;
    queue_t q;
    int st = cli_connect(&cfg, &conn, &q);
    if (st != 0)
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
