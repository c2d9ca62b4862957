/* cmd_stats.c — `tickq stats`: queue depths, counters, dead letters and live
 * workers, as a table or as JSON. */
#include "cmd/commands.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "core/stats.h"
#include "cmd/text_table.h"

static const char usage[] =
    "usage: tickq stats [--json]\n"
    "\n"
    "Shows queue depths (ready, running, delayed, retrying, deferred: waiting for\n"
    "the jobs they depend on), counters per queue and in total, the dead-letter\n"
    "count, re-runs of finished jobs, the users' list\n"
    "protocol (tasks taken, duplicates, rejected entries kept: tickq rejected), the\n"
    "job history waiting in Redis, dropped (history_dropped) and refused by the\n"
    "database (history_refused) per database, and\n"
    "the live workers. Columns are as wide as their longest name. A queue's NOTE\n"
    "says `paused` (tickq pause) or `no live worker` (ready jobs, and no live\n"
    "worker's heartbeat lists the queue); then the paused queues and the per-type\n"
    "limits (tickq limit) with their running and held jobs.\n"
    "\n"
    "  --json               print one JSON object\n"
    CLI_COMMON_HELP;

static const struct option options[] = {
    { "json", no_argument, 0, OPT_JSON },
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

static long long num(json_t *o, const char *k) { return (long long)json_integer_value(json_object_get(o, k)); }

/* Adds a row of a name and numbers to t. 0, or -1 (out of memory). */
static int number_row(text_table_t *t, const char *name, json_t *o, const char *const *fields, size_t n)
{
    char nums[TEXT_TABLE_MAX_COLS][24];
    const char *cells[TEXT_TABLE_MAX_COLS];
    cells[0] = name;
    for (size_t c = 0; c < n; c++) {
        snprintf(nums[c], sizeof nums[c], "%lld", num(o, fields[c]));
        cells[c + 1] = nums[c];
    }
    return text_table_add(t, cells);
}

/* A depths row: the queue's numbers, then its note. 0, or -1. */
static int depth_row(text_table_t *t, json_t *d, const char *const *fields)
{
    char nums[5][24];
    const char *cells[7];
    cells[0] = json_string_value(json_object_get(d, "name"));
    for (size_t c = 0; c < 5; c++) {
        snprintf(nums[c], sizeof nums[c], "%lld", num(d, fields[c]));
        cells[c + 1] = nums[c];
    }
    cells[6] = json_is_true(json_object_get(d, "paused")) ? "paused"
               : json_is_true(json_object_get(d, "unserved")) ? "no live worker" : "";
    return text_table_add(t, cells);
}

/* The depths and counters tables, their columns as wide as their longest
 * name or number. 0, or -1 (out of memory). */
static int print_tables(json_t *s)
{
    static const char *const depth_fields[] = { "ready", "running", "delayed", "retrying", "deferred" };
    static const char *const depth_head[] = { "QUEUE", "READY", "RUNNING", "DELAYED", "RETRYING", "DEFERRED",
                                              "NOTE" };
    static const char *const counter_fields[] = { "submitted", "completed", "failed", "timeout", "retried",
                                                  "dead", "cancelled", "active" };
    static const char *const counter_head[] = { "COUNTERS", "submitted", "completed", "failed", "timeout",
                                                "retried", "dead", "cancelled", "active" };
    text_table_t *depths = text_table_new(7, "lrrrrrl"), *counters = text_table_new(9, "lrrrrrrrr");
    int rc = -1;
    if (depths == NULL || counters == NULL || text_table_add(depths, depth_head) != 0 ||
        text_table_add(counters, counter_head) != 0)
        goto cleanup;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(s, "queues"), i, v)
        if (depth_row(depths, v, depth_fields) != 0)
            goto cleanup;
    const char *name;
    json_t *all = json_object_get(s, "counters");
    json_object_foreach(all, name, v)
        if (strcmp(name, "total") != 0 && number_row(counters, name, v, counter_fields, 8) != 0)
            goto cleanup;
    if (number_row(counters, "total", json_object_get(all, "total"), counter_fields, 8) != 0)
        goto cleanup;
    text_table_print(depths, stdout);
    printf("\n");
    text_table_print(counters, stdout);
    rc = 0;
cleanup:
    text_table_free(depths);
    text_table_free(counters);
    return rc;
}

static int print_text(json_t *s)
{
    if (print_tables(s) != 0)
        return -1;
    size_t i;
    json_t *v;
    json_t *total = json_object_get(json_object_get(s, "counters"), "total");
    printf("\ndead letters: %lld\n", num(s, "dead_letter"));
    if (num(total, "reruns") > 0)
        printf("re-runs of finished jobs (--replace, the list, dlq retry): %lld\n", num(total, "reruns"));
    if (num(total, "list_imported") > 0 || num(total, "list_rejected") > 0 || num(total, "list_duplicates") > 0) {
        printf("list protocol: %lld tasks taken from the list, %lld malformed ones rejected\n",
               num(total, "list_imported"), num(total, "list_rejected"));
        printf("  duplicates (task_id still waiting or running, not run again): %lld\n",
               num(total, "list_duplicates"));
    }
    if (num(s, "rejected") > 0 || num(total, "list_rejected") > 0)
        printf("rejected list entries kept: %lld (see tickq rejected)\n", num(s, "rejected"));
    json_array_foreach(json_object_get(s, "history"), i, v) {
        printf("job history of %s: %lld rows waiting in Redis, %lld dropped (history_dropped; backlog up to "
               "%lld rows)\n", json_string_value(json_object_get(v, "database")), num(v, "waiting"),
               num(v, "history_dropped"), num(v, "cap"));
        if (num(v, "history_refused") > 0)
            printf("  %lld rows refused by the database, skipped (history_refused; the history process logged "
                   "each)\n", num(v, "history_refused"));
    }
    json_t *paused = json_object_get(s, "paused");
    if (json_array_size(paused) > 0) {
        printf("paused queues (tickq resume QUEUE):");
        json_array_foreach(paused, i, v)
            printf(" %s", json_string_value(v));
        printf("\n");
    }
    json_array_foreach(json_object_get(s, "queues"), i, v)
        if (json_is_true(json_object_get(v, "unserved")))
            printf("%s: %lld ready jobs and no live worker serves it\n", json_string_value(json_object_get(v, "name")),
                   num(v, "ready"));
    json_array_foreach(json_object_get(s, "limits"), i, v)
        printf("limit %s: %lld at once, %lld running, %lld held\n", json_string_value(json_object_get(v, "type")),
               num(v, "limit"), num(v, "running"), num(v, "held"));
    json_t *workers = json_object_get(s, "workers");
    printf("live workers: %zu\n", json_array_size(workers));
    json_array_foreach(workers, i, v)
        printf("  %s  queues=%s  children=%lld busy=%lld  completed=%lld failed=%lld  since %s\n",
               json_string_value(json_object_get(v, "id")), json_string_value(json_object_get(v, "queues")),
               num(v, "workers"), num(v, "busy"), num(v, "completed"), num(v, "failed"),
               json_string_value(json_object_get(v, "started_at")));
    return 0;
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
    char err[1024];
    int as_json = 0;
    const cli_spec_t spec = { options, usage, on_flag, &as_json, NULL };
    cli_session_t cli;
    int st = cli_open(argc, argv, &spec, &cli);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    json_t *s = stats_collect(&cli.q, err, sizeof err);
    cli_close(&cli);
    if (s == NULL)
        return cli_fail(EX_UNAVAILABLE, "cannot read stats: %s", err);
    if (as_json) {
        char *text = json_dumps(s, JSON_COMPACT);
        if (text)
            printf("%s\n", text);
        free(text);
    } else if (print_text(s) != 0) {
        json_decref(s);
        return cli_fail(EX_OSERR, "out of memory printing stats");
    }
    json_decref(s);
    return 0;
}
