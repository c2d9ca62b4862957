/* cmd_dlq.c — `tickq dlq`: list, retry and purge the dead-letter stream. */
#include "cmd/commands.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "cmd/text_table.h"

static const char usage[] =
    "usage: tickq dlq list [--limit N] [--json]\n"
    "       tickq dlq retry ID\n"
    "       tickq dlq retry-all\n"
    "       tickq dlq purge\n"
    "\n"
    "Jobs whose retries are spent land in the dead-letter stream. `retry` puts one\n"
    "back on its queue as a fresh job (attempts 0, same id); `retry-all` does it for\n"
    "every dead job; `purge` deletes the dead-letter stream. A retried job runs as its\n"
    "id's next run (RUN + 1). `list` sizes its columns to the longest value.\n"
    "\n"
    "  --limit N            list at most N entries, newest first (default: 20)\n"
    "  --json               list as JSON lines\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 ok, 3 no such dead job, 64 bad usage, 69 Redis unavailable,\n"
    "75 Redis out of memory (try again later).\n";

enum { OPT_LIMIT = OPT_FIRST_COMMAND_OPTION };

static const struct option options[] = {
    { "limit", required_argument, 0, OPT_LIMIT },
    { "json", no_argument, 0, OPT_JSON },
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

static int dlq_list(queue_t *q, const char *key, long long limit, int as_json)
{
    char err[1024];
    redisReply *r = rconn_cmd(q->conn, err, sizeof err, "XREVRANGE %s + - COUNT %lld", key, limit);
    if (r == NULL)
        return cli_fail(EX_UNAVAILABLE, "%s", err);
    static const char *const head[] = { "FAILED_AT", "JOB", "RUN", "TYPE", "QUEUE", "ATTEMPTS", "ERROR" };
    text_table_t *t = as_json ? NULL : text_table_new(7, "llrllrl");
    int st = 0;
    if (!as_json && (t == NULL || text_table_add(t, head) != 0))
        st = cli_fail(EX_OSERR, "out of memory listing the dead letters");
    for (size_t i = 0; st == 0 && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *f = r->element[i]->element[1];
        if (as_json) {
            json_t *o = json_object();
            json_object_set_new(o, "entry", json_string(r->element[i]->element[0]->str));
            for (size_t j = 0; j + 1 < f->elements; j += 2)
                json_object_set_new(o, f->element[j]->str, json_string(f->element[j + 1]->str));
            cli_print_json_line(o);
        } else {
            /* An entry from before runs were counted is a first run. */
            const char *run = *cli_entry_field(f, "run") ? cli_entry_field(f, "run") : "1";
            const char *row[] = { cli_entry_field(f, "failed_at"), cli_entry_field(f, "job"), run,
                                  cli_entry_field(f, "type"), cli_entry_field(f, "queue"),
                                  cli_entry_field(f, "attempts"), cli_entry_field(f, "error") };
            if (text_table_add(t, row) != 0)
                st = cli_fail(EX_OSERR, "out of memory listing the dead letters");
        }
    }
    if (st == 0 && t != NULL)
        text_table_print(t, stdout);
    text_table_free(t);
    freeReplyObject(r);
    return st;
}

/* The dead-letter entry of job `id`: from the job record, else by scanning. */
static int find_entry(queue_t *q, const char *key, const char *id, char *entry, size_t cap)
{
    char err[1024], jkey[300];
    queue_job_key(q, id, jkey, sizeof jkey);
    redisReply *r = rconn_cmd(q->conn, err, sizeof err, "HGET %s dead_entry", jkey);
    if (r && r->type == REDIS_REPLY_STRING) {
        redisReply *e = rconn_cmd(q->conn, err, sizeof err, "XRANGE %s %s %s", key, r->str, r->str);
        int found = e && e->type == REDIS_REPLY_ARRAY && e->elements == 1 &&
                    strcmp(cli_entry_field(e->element[0]->element[1], "job"), id) == 0;
        if (found)
            snprintf(entry, cap, "%s", r->str);
        freeReplyObject(e);
        freeReplyObject(r);
        if (found)
            return 0;
    } else {
        freeReplyObject(r);
    }
    char from[64] = "-";
    for (;;) {
        r = rconn_cmd(q->conn, err, sizeof err, "XRANGE %s %s + COUNT 1000", key, from);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
            freeReplyObject(r);
            return -1;
        }
        for (size_t i = 0; i < r->elements; i++) {
            if (strcmp(cli_entry_field(r->element[i]->element[1], "job"), id) == 0) {
                snprintf(entry, cap, "%s", r->element[i]->element[0]->str);
                freeReplyObject(r);
                return 0;
            }
        }
        snprintf(from, sizeof from, "(%s", r->element[r->elements - 1]->element[0]->str);
        freeReplyObject(r);
    }
}

static int dlq_retry_one(queue_t *q, const char *key, const char *id)
{
    char entry[64], err[1024];
    if (find_entry(q, key, id, entry, sizeof entry) != 0)
        return cli_fail(3, "no dead job %s in the dead-letter stream", id);
    const char *entries[1] = { entry };
    long long requeued = 0;
    queue_status_t st = queue_dlq_retry(q, entries, 1, &requeued, err, sizeof err);
    if (st != QUEUE_OK)
        return cli_fail(cli_queue_exit(st), "cannot retry: %s", err);
    if (requeued == 0)
        return cli_fail(1, "job %s was enqueued again meanwhile; dropped its dead-letter entry", id);
    printf("requeued %s\n", id);
    return 0;
}

static int dlq_retry_all(queue_t *q, const char *key)
{
    char err[1024];
    long long total = 0;
    for (;;) {
        redisReply *r = rconn_cmd(q->conn, err, sizeof err, "XRANGE %s - + COUNT 500", key);
        if (r == NULL)
            return cli_fail(EX_UNAVAILABLE, "%s", err);
        size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
        if (n == 0) {
            freeReplyObject(r);
            break;
        }
        const char *entries[500];
        for (size_t i = 0; i < n; i++)
            entries[i] = r->element[i]->element[0]->str;
        long long requeued = 0;
        queue_status_t st = queue_dlq_retry(q, entries, n, &requeued, err, sizeof err);
        freeReplyObject(r);
        if (st != QUEUE_OK)
            return cli_fail(cli_queue_exit(st), "cannot retry: %s (%lld requeued so far)", err, total);
        total += requeued;
    }
    printf("requeued %lld jobs\n", total);
    return 0;
}

typedef struct {
    long long limit;
    int as_json;
} list_flags_t;

static int on_flag(int opt, const char *arg, void *ctx)
{
    list_flags_t *f = ctx;
    if (opt == OPT_JSON) {
        f->as_json = 1;
        return 0;
    }
    if (cli_parse_int(arg, 1, 100000000, &f->limit) != 0)
        return cli_usage_error(usage, "--limit '%s' is not a positive number", arg);
    return 0;
}

int cmd_dlq(int argc, char **argv)
{
    config_t cfg;
    char err[1024];
    list_flags_t flags = { 20, 0 };
    int st = cli_parse(argc, argv, options, usage, &cfg, on_flag, &flags);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    long long limit = flags.limit;
    int as_json = flags.as_json;
    int rest = argc - optind;
    if (rest < 1)
        return cli_usage_error(usage, "missing action: list, retry ID, retry-all or purge");
    const char *action = argv[optind];
    int want = strcmp(action, "retry") == 0 ? 2 : 1;
    if (strcmp(action, "list") != 0 && strcmp(action, "retry") != 0 && strcmp(action, "retry-all") != 0 &&
        strcmp(action, "purge") != 0)
        return cli_usage_error(usage, "unknown action '%s': use list, retry ID, retry-all or purge", action);
    if (rest != want)
        return cli_usage_error(usage, want == 2 ? "retry needs one job ID" : "unexpected argument '%s'",
                               rest > 1 ? argv[optind + 1] : "");
    rconn_t *conn;
    queue_t q;
    if ((st = cli_connect(&cfg, &conn, &q)) != 0)
        return st;
    rconn_fail_on_noperm(conn); /* a refused read is no empty list */
    char key[256];
    queue_dead_key(&q, key, sizeof key);
    if (strcmp(action, "list") == 0) {
        st = dlq_list(&q, key, limit, as_json);
    } else if (strcmp(action, "retry") == 0) {
        st = dlq_retry_one(&q, key, argv[optind + 1]);
    } else if (strcmp(action, "retry-all") == 0) {
        st = dlq_retry_all(&q, key);
    } else {
        redisReply *n = rconn_cmd(conn, err, sizeof err, "XLEN %s", key);
        redisReply *d = n ? rconn_cmd(conn, err, sizeof err, "DEL %s", key) : NULL;
        if (d == NULL)
            st = cli_fail(EX_UNAVAILABLE, "%s", err);
        else
            printf("purged %lld dead jobs\n", n->type == REDIS_REPLY_INTEGER ? n->integer : 0LL);
        freeReplyObject(n);
        freeReplyObject(d);
    }
    rconn_free(conn);
    return st;
}
