/* cmd_job.c — `tickq job`: show a job's record (state, run, attempts,
 * worker, timestamps, error) and its retry history as JSON, its fields in
 * one fixed order (field_order below, documented in docs/cli.md) whatever
 * order the record's hash holds them in; with --table, an optimize job's
 * whole ranked table from the database instead. */
#include "cmd/commands.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "cmd/db_exit.h"
#include "cmd/text_table.h"
#include "core/job_view.h"
#include "core/json_exact.h"
#include "core/numfmt.h"
#include "data/optimize_table.h"

#define TABLE_ROWS_MAX 100000000LL

static const char usage[] =
    "usage: tickq job ID\n"
    "       tickq job ID --table [--offset N] [--limit N] [--json] [--db PATH]\n"
    "\n"
    "Prints the job's record and retry history as JSON, its fields always in the\n"
    "same order (id, type, state, run, attempts, ...: docs/cli.md lists it); `run`\n"
    "counts the runs of this id (1 for the first; a finished job enqueued again with\n"
    "--replace, or pushed again on the list, runs as run 2, ...). A job being run\n"
    "shows state running, the worker, attempts counting the attempt running,\n"
    "started_at when that attempt started (when known) and running_for_ms.\n"
    "\n"
    "  --table              an optimize job's whole ranked table, from the database\n"
    "                       (every combination; task_result holds the top rows):\n"
    "                       RANK, OBJECTIVE, PARAMS, ERROR (walk-forward: FOLD first)\n"
    "  --offset N           skip the first N rows (default: 0)\n"
    "  --limit N            at most N rows (default: all)\n"
    "  --json               with --table: one JSON object per row {rank, objective,\n"
    "                       params, metrics | error}\n"
    "  --db PATH            the SQLite database (default: $TICKQ_DB;\n"
    "                       DATABASE_URL: PostgreSQL)\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 found, 3 not found (no such job; with --table: no table for\n"
    "it), 64 bad usage, 69 Redis or PostgreSQL unavailable, 73 the SQLite file\n"
    "cannot be opened, 78 configuration error.\n";

enum { OPT_TABLE = OPT_FIRST_COMMAND_OPTION, OPT_OFFSET, OPT_LIMIT, OPT_DB };

static const struct option options[] = {
    { "table", no_argument, 0, OPT_TABLE },
    { "offset", required_argument, 0, OPT_OFFSET },
    { "limit", required_argument, 0, OPT_LIMIT },
    { "json", no_argument, 0, OPT_JSON },
    { "db", required_argument, 0, OPT_DB },
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 },
};

typedef struct {
    config_t *cfg;
    int table, as_json;
    const char *table_only;      /* a --table flag given (for the error without --table) */
    long long offset, limit;
} job_flags_t;

static int on_flag(int opt, const char *arg, void *ctx)
{
    job_flags_t *j = ctx;
    switch (opt) {
    case OPT_TABLE:
        j->table = 1;
        return 0;
    case OPT_OFFSET:
        j->table_only = "--offset";
        if (cli_parse_int(arg, 0, TABLE_ROWS_MAX, &j->offset) != 0)
            return cli_usage_error(usage, "--offset '%s' is not a number from 0 to %lld", arg, TABLE_ROWS_MAX);
        return 0;
    case OPT_LIMIT:
        j->table_only = "--limit";
        if (cli_parse_int(arg, 1, TABLE_ROWS_MAX, &j->limit) != 0)
            return cli_usage_error(usage, "--limit '%s' is not a number from 1 to %lld", arg, TABLE_ROWS_MAX);
        return 0;
    case OPT_DB:
        j->table_only = "--db";
        j->cfg->db_path = arg;
        return 0;
    default: /* OPT_JSON */
        j->table_only = "--json";
        j->as_json = 1;
        return 0;
    }
}

/* A row's params as `name=value ...`. */
static char *params_text(const json_t *params)
{
    size_t cap = 256, len = 0;
    char *out = malloc(cap);
    const char *k;
    const json_t *v;
    if (out == NULL)
        return NULL;
    out[0] = '\0';
    json_object_foreach((json_t *)params, k, v) {
        char *value = json_exact_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        size_t need = strlen(k) + (value ? strlen(value) : 0) + 3;
        if (len + need > cap) {
            char *bigger = realloc(out, cap = (len + need) * 2);
            if (bigger == NULL) {
                free(value);
                free(out);
                return NULL;
            }
            out = bigger;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s%s=%s", len ? " " : "", k, value ? value : "?");
        free(value);
    }
    return out;
}

static int print_table(const json_t *rows, int as_json)
{
    size_t i;
    const json_t *row;
    if (as_json) {
        json_array_foreach(rows, i, row) {
            char *line = json_exact_dumps(row, JSON_COMPACT);
            if (line == NULL)
                return cli_fail(EX_OSERR, "out of memory");
            printf("%s\n", line);
            free(line);
        }
        return 0;
    }
    int folds = json_object_get(json_array_get(rows, 0), "fold") != NULL; /* walk-forward: FOLD first */
    text_table_t *t = text_table_new(folds ? 5 : 4, folds ? "rrr" : "rr");
    const char *head[5] = { "FOLD", "RANK", "OBJECTIVE", "PARAMS", "ERROR" };
    int bad = t == NULL || text_table_add(t, head + !folds) != 0;
    json_array_foreach(rows, i, row) {
        if (bad)
            break;
        char fold[24], rank[24], objective[NUMFMT_MAX] = "-";
        snprintf(fold, sizeof fold, "%lld", (long long)json_integer_value(json_object_get(row, "fold")));
        snprintf(rank, sizeof rank, "%lld", (long long)json_integer_value(json_object_get(row, "rank")));
        if (json_is_number(json_object_get(row, "objective")))
            numfmt_shortest(json_number_value(json_object_get(row, "objective")), objective);
        char *params = params_text(json_object_get(row, "params"));
        const char *cells[5] = { fold, rank, objective, params, json_string_value(json_object_get(row, "error")) };
        bad = params == NULL || text_table_add(t, cells + !folds) != 0;
        free(params);
    }
    if (bad) {
        text_table_free(t);
        return cli_fail(EX_OSERR, "out of memory");
    }
    text_table_print(t, stdout);
    text_table_free(t);
    return 0;
}

static int show_table(config_t *cfg, const char *id, const job_flags_t *j)
{
    char err[1024];
    db_t *db;
    db_failure_t failure;
    if (db_open(cfg->database_url, cfg->db_path, &db, &failure, err, sizeof err) != 0)
        return cli_fail(db_exit_status(failure), "cannot read the optimize table: %s", err);
    long long total;
    json_t *rows = optimize_table_read(db, id, (size_t)j->offset, j->limit ? (size_t)j->limit : (size_t)TABLE_ROWS_MAX,
                                       &total, err, sizeof err);
    db_close(db);
    if (rows == NULL)
        return cli_fail(EX_UNAVAILABLE, "cannot read the optimize table: %s", err);
    int st = 0;
    if (total == 0) {
        fprintf(stderr, "tickq: no optimize table for job %s (not an optimize job, not ranked yet, or another "
                "database)\n", id);
        st = 3;
    } else {
        st = print_table(rows, j->as_json);
    }
    json_decref(rows);
    return st;
}

int cmd_job(int argc, char **argv)
{
    char err[1024];
    cli_session_t cli;
    memset(&cli, 0, sizeof cli);
    job_flags_t j = { &cli.cfg, 0, 0, NULL, 0, 0 };
    int st = cli_parse(argc, argv, options, usage, &cli.cfg, on_flag, &j);
    if (st == 0)
        st = cli_one_arg(argc, argv, usage, "job ID", &cli.arg);
    if (st == 0 && !j.table && j.table_only != NULL)
        st = cli_usage_error(usage, "%s goes with --table", j.table_only);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    if (j.table)
        return show_table(&cli.cfg, cli.arg, &j);
    if ((st = cli_connect(&cli.cfg, &cli.conn, &cli.q)) != 0)
        return st;
    rconn_fail_on_noperm(cli.conn); /* a refused read is no "not found" */
    json_t *job;
    int found = job_view_read(&cli.q, cli.arg, &job, err, sizeof err);
    cli_close(&cli);
    if (found < 0)
        return cli_fail(EX_UNAVAILABLE, "%s", err);
    if (found == 0) {
        fprintf(stderr, "tickq: no job %s (unknown id, or its record expired)\n", cli.arg);
        return 3;
    }
    char *text = json_exact_dumps(job, JSON_INDENT(2)); /* timeout_seconds 0.1, not 0.10000000000000001 */
    json_decref(job);
    if (text == NULL)
        return cli_fail(EX_OSERR, "out of memory printing job %s", cli.arg);
    printf("%s\n", text);
    free(text);
    return 0;
}
