/* cmd_rejected.c — `tickq rejected`: list or purge the entries of the users'
 * list protocol that could not be used (not JSON, not an object, no usable
 * task_id, a bad task_type or args). The list import keeps each in the
 * capped stream <prefix>:rejected (src/lua/list_import.lua) instead of
 * dropping it, so a lost task can be found and pushed again. */
#include "cmd/commands.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "cmd/text_table.h"

static const char usage[] =
    "usage: tickq rejected [--count N] [--json]\n"
    "       tickq rejected purge\n"
    "\n"
    "Entries the users' clients pushed on the list (LPUSH strategy_queue) that could\n"
    "not be used (not JSON, not a JSON object, no usable task_id, a bad task_type or\n"
    "args) are kept in the stream <prefix>:rejected: about the last 1,000, each with\n"
    "the first 4 KiB of the entry. Lists them, newest first: when, the list, the\n"
    "task_id (when the entry had a usable one; it also got an error result), the\n"
    "error (a JSON parse error names its column) and the start of the entry.\n"
    "`purge` deletes them all.\n"
    "\n"
    "  --count N            list at most N entries (default: 20)\n"
    "  --json               one JSON object per line: id, at, list, queue, task_id,\n"
    "                       error, position, entry, entry_bytes, truncated\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 ok, 64 bad usage, 69 Redis unavailable.\n";

enum { OPT_COUNT = OPT_FIRST_COMMAND_OPTION };

static const struct option options[] = {
    { "count", required_argument, 0, OPT_COUNT },
    { "json", no_argument, 0, OPT_JSON },
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

#define SHOWN_CHARS 50 /* characters of an entry in the text listing */

typedef struct {
    long long count;
    int as_json;
} rejected_flags_t;

static int on_flag(int opt, const char *arg, void *ctx)
{
    rejected_flags_t *f = ctx;
    if (opt == OPT_JSON) {
        f->as_json = 1;
        return 0;
    }
    if (cli_parse_int(arg, 1, 100000000, &f->count) != 0)
        return cli_usage_error(usage, "invalid --count '%s': use a positive whole number", arg);
    return 0;
}

/* The start of an entry: at most SHOWN_CHARS characters, "..." when there
 * is more (the table shows control characters escaped). */
static void entry_start(const char *s, int more, char *out, size_t cap)
{
    size_t n = 0, chars = 0;
    for (; *s && n + 4 < cap; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80 && chars++ == SHOWN_CHARS) {
            more = 1;
            break;
        }
        out[n++] = *s;
    }
    out[n] = '\0';
    if (more)
        memcpy(out + n, "...", 4);
}

/* The entry as a JSON string; text that is not UTF-8 has its bytes from
 * 0x80 up written as \xNN. */
static json_t *entry_string(const char *s, size_t len)
{
    json_t *v = json_stringn(s, len);
    if (v != NULL)
        return v;
    char *esc = malloc(len * 4 + 1);
    if (esc == NULL)
        return json_null();
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 || c == 0)
            n += (size_t)sprintf(esc + n, "\\x%02x", c);
        else
            esc[n++] = (char)c;
    }
    v = json_stringn(esc, n);
    free(esc);
    return v ? v : json_null();
}

static void print_json(const redisReply *e)
{
    const redisReply *f = e->element[1];
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(e->element[0]->str));
    json_object_set_new(o, "at", json_string(cli_entry_field(f, "at")));
    json_object_set_new(o, "list", json_string(cli_entry_field(f, "list")));
    json_object_set_new(o, "queue", json_string(cli_entry_field(f, "queue")));
    const char *id = cli_entry_field(f, "task_id");
    json_object_set_new(o, "task_id", *id ? json_string(id) : json_null());
    json_object_set_new(o, "error", json_string(cli_entry_field(f, "error")));
    const char *pos = cli_entry_field(f, "position");
    json_object_set_new(o, "position", *pos ? json_integer(atoll(pos)) : json_null());
    const redisReply *entry = NULL;
    for (size_t i = 0; i + 1 < f->elements; i += 2)
        if (strcmp(f->element[i]->str, "entry") == 0)
            entry = f->element[i + 1];
    json_object_set_new(o, "entry", entry ? entry_string(entry->str, entry->len) : json_string(""));
    json_object_set_new(o, "entry_bytes", json_integer(atoll(cli_entry_field(f, "entry_bytes"))));
    json_object_set_new(o, "truncated", json_boolean(strcmp(cli_entry_field(f, "truncated"), "1") == 0));
    cli_print_json_line(o);
}

static int list(queue_t *q, const char *key, long long count, int as_json)
{
    char err[1024];
    redisReply *r = rconn_cmd(q->conn, err, sizeof err, "XREVRANGE %s + - COUNT %lld", key, count);
    if (r == NULL)
        return cli_fail(EX_UNAVAILABLE, "%s", err);
    static const char *const head[] = { "AT", "LIST", "TASK_ID", "ERROR", "ENTRY" };
    text_table_t *t = as_json ? NULL : text_table_new(5, NULL);
    int st = 0;
    if (!as_json && (t == NULL || text_table_add(t, head) != 0))
        st = cli_fail(EX_OSERR, "out of memory listing the rejected entries");
    size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
    for (size_t i = 0; st == 0 && i < n; i++) {
        const redisReply *e = r->element[i];
        if (as_json) {
            print_json(e);
            continue;
        }
        const redisReply *f = e->element[1];
        char start[SHOWN_CHARS * 4 + 8];
        entry_start(cli_entry_field(f, "entry"), strcmp(cli_entry_field(f, "truncated"), "1") == 0, start, sizeof start);
        const char *id = cli_entry_field(f, "task_id");
        const char *row[] = { cli_entry_field(f, "at"), cli_entry_field(f, "list"), *id ? id : "-", cli_entry_field(f, "error"), start };
        if (text_table_add(t, row) != 0)
            st = cli_fail(EX_OSERR, "out of memory listing the rejected entries");
    }
    if (st == 0 && t != NULL) {
        if (n == 0)
            printf("no rejected list entries\n");
        else
            text_table_print(t, stdout);
    }
    text_table_free(t);
    freeReplyObject(r);
    return st;
}

static int purge(queue_t *q, const char *key)
{
    char err[1024];
    redisReply *n = rconn_cmd(q->conn, err, sizeof err, "XLEN %s", key);
    redisReply *d = n ? rconn_cmd(q->conn, err, sizeof err, "DEL %s", key) : NULL;
    int st = 0;
    if (d == NULL)
        st = cli_fail(EX_UNAVAILABLE, "%s", err);
    else
        printf("purged %lld rejected entries\n", n->type == REDIS_REPLY_INTEGER ? n->integer : 0LL);
    freeReplyObject(n);
    freeReplyObject(d);
    return st;
}

int cmd_rejected(int argc, char **argv)
{
    config_t cfg;
    rejected_flags_t flags = { 20, 0 };
    int st = cli_parse(argc, argv, options, usage, &cfg, on_flag, &flags);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    int rest = argc - optind;
    int purging = rest >= 1 && strcmp(argv[optind], "purge") == 0;
    if (rest > 1 || (rest == 1 && !purging))
        return cli_usage_error(usage, "unexpected argument '%s' (the only action is purge)",
                               argv[optind + (purging ? 1 : 0)]);
    rconn_t *conn;
    queue_t q;
    if ((st = cli_connect(&cfg, &conn, &q)) != 0)
        return st;
    rconn_fail_on_noperm(conn); /* a refused read is no empty list */
    char key[256];
    queue_rejected_key(&q, key, sizeof key);
    st = purging ? purge(&q, key) : list(&q, key, flags.count, flags.as_json);
    rconn_free(conn);
    return st;
}
