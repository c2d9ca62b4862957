/* cmd_flow.c — `tickq flow`: a parent job and its children added in one
 * transaction (`flow add`), and a job's tree of dependencies with states
 * and timings (`flow ID`). A flow is built on dependencies
 * (docs/protocol.md, "Dependencies"): the parent depends on its children,
 * with after_any for the policy `continue`, and is marked a flow's parent
 * so that cancelling it cancels them. */
#include "cmd/commands.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "core/clock.h"
#include "core/job.h"
#include "core/job_admit.h"
#include "core/job_children.h"
#include "core/job_json.h"
#include "core/job_view.h"
#include "core/json_exact.h"
#include "core/uuid.h"

static const char usage[] =
    "usage: tickq flow add FILE [--json]\n"
    "       tickq flow ID [--json]\n"
    "\n"
    "flow add: FILE ('-': standard input) holds one JSON object, the parent job\n"
    "with its children:\n"
    "  {\"type\": \"echo\", \"args\": {}, \"policy\": \"fail\",\n"
    "   \"children\": [{\"type\": \"backtest\", \"args\": {...}, \"queue\": \"sweep\"}, ...]}\n"
    "Every job takes the fields of POST /api/tasks (type, args, queue, priority,\n"
    "id, max_retries, timeout, ...: docs/http.md); children may go to other queues\n"
    "and priorities. The children and the parent are enqueued in one transaction.\n"
    "The parent waits (deferred) until its children have ended, then runs and\n"
    "reads their results (task_result:<child id>; `tickq job PARENT` lists them).\n"
    "policy fail (the default): a child that fails, dies or is cancelled fails the\n"
    "parent at once; continue: the parent runs once every child has ended, however.\n"
    "Cancelling the parent while it waits cancels its children, waiting or\n"
    "running. 1 to 10000 children, no two jobs with one id (the parent's\n"
    "included). Prints the parent's id.\n"
    "\n"
    "flow ID: the job and the jobs it depends on (a flow's children, a chain's\n"
    "earlier steps), as a tree: id, type, state (running while run), how long it\n"
    "waited (from enqueue to its start; to its end for one that ended without\n"
    "starting; else until now) and ran, and its error.\n"
    "\n"
    "  --json               add: print {\"id\", \"state\", \"children\": [ids]};\n"
    "                       ID: the tree as one JSON object\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 ok, 3 no such job (flow ID), 4 the parent's id exists (the\n"
    "parent not enqueued again; children with new ids were), 64 bad usage, 65 bad\n"
    "flow (two of its jobs share an id, ...: nothing enqueued), 66 FILE cannot be\n"
    "read, 69 Redis unavailable, 75 Redis out of memory (try again later), 78\n"
    "configuration error.\n";

static const struct option options[] = {
    { "json", no_argument, 0, OPT_JSON },
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

/* The keys of a flow's parent beyond a job's. */
static const char *const parent_extra[] = { "children", "policy", NULL };

#define EXIT_MISSING 3
#define FLOW_FILE_MAX (256u << 20)
#define TREE_DEPTH_MAX 32

static int on_flag(int opt, const char *arg, void *ctx)
{
    (void)arg;
    if (opt != OPT_JSON)
        return cli_unhandled_option(opt);
    *(int *)ctx = 1;
    return 0;
}

/* --- flow add ------------------------------------------------------------ */

/* The whole of `path` ('-': standard input), malloc'd; NULL with err. */
static char *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read %s: %m", path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *grown = cap >= FLOW_FILE_MAX ? NULL : realloc(buf, cap * 2);
        if (grown == NULL) {
            free(buf);
            buf = NULL;
            snprintf(err, errlen, "%s is over %u MiB", path, FLOW_FILE_MAX >> 20);
            break;
        }
        buf = grown;
        cap *= 2;
    }
    if (buf != NULL && ferror(f)) {
        snprintf(err, errlen, "cannot read %s", path);
        free(buf);
        buf = NULL;
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
}

typedef struct {
    size_t n;                    /* jobs: the children, then the parent */
    job_spec_t *specs;
    job_json_text_t *text;
    char (*ids)[UUID_STR_LEN];   /* generated ids, for jobs without one */
    char *parent_deps;           /* the children's ids, comma-separated */
} flow_t;

static void flow_free(flow_t *fl)
{
    for (size_t i = 0; fl->text != NULL && i < fl->n; i++)
        job_json_text_free(&fl->text[i]);
    free(fl->specs);
    free(fl->text);
    free(fl->ids);
    free(fl->parent_deps);
}

/* Reads job i of the flow from `task` (what names it in errors), with an
 * id of its own when it has none. 0, or 65 after printing why. */
static int flow_job(flow_t *fl, size_t i, const json_t *task, const char *const *extra, const char *what)
{
    char err[1024];
    if (job_json_spec(task, extra, &fl->specs[i], &fl->text[i], err, sizeof err) != 0)
        return cli_fail(EX_DATAERR, "flow refused: %s: %s", what, err);
    if (fl->specs[i].id == NULL) {
        uuid_v4(fl->ids[i]);
        fl->specs[i].id = fl->ids[i];
    }
    return 0;
}

/* Refuses a flow two of whose jobs share an id, parent included, before
 * anything is enqueued: an id names one job, so the second would silently
 * not be (a child), or the first would exist without its parent (the
 * parent). 0, or 65 after printing which. */
static int flow_ids_differ(const flow_t *fl)
{
    const char **ids = malloc(fl->n * sizeof *ids);
    if (ids == NULL)
        return cli_fail(EX_OSERR, "out of memory");
    for (size_t i = 0; i < fl->n; i++)
        ids[i] = fl->specs[i].id;
    size_t first = 0, again = 0;
    int repeat = job_children_repeat(ids, fl->n, &first, &again);
    free(ids);
    if (repeat < 0)
        return cli_fail(EX_OSERR, "out of memory");
    if (repeat == 0)
        return 0;
    if (again + 1 == fl->n) /* the parent comes last */
        return cli_fail(EX_DATAERR, "flow refused: children[%zu]: id %s is the parent's id: a child cannot have "
                        "its parent's id (nothing enqueued)", first, fl->specs[first].id);
    return cli_fail(EX_DATAERR, "flow refused: children[%zu]: id %s repeats children[%zu] (an id names one job; "
                    "nothing enqueued)", again, fl->specs[again].id, first);
}

/* The flow of `root` into *fl: children first, then the parent, which
 * depends on them all. 0, or 65 after printing why. */
static int flow_read(const json_t *root, flow_t *fl)
{
    memset(fl, 0, sizeof *fl);
    if (!json_is_object(root))
        return cli_fail(EX_DATAERR, "flow refused: the flow must be a JSON object: the parent job with "
                        "\"children\": [...]");
    const json_t *children = json_object_get(root, "children"), *policy = json_object_get(root, "policy");
    if (!json_is_array(children) || json_array_size(children) == 0 || json_array_size(children) > JOB_MAX_DEPS) {
        job_spec_t spec;        /* a misspelt "children" is named as such first */
        job_json_text_t text;
        char err[1024];
        int bad = job_json_spec(root, parent_extra, &spec, &text, err, sizeof err) != 0;
        job_json_text_free(&text);
        if (bad)
            return cli_fail(EX_DATAERR, "flow refused: the parent: %s", err);
        return cli_fail(EX_DATAERR, "flow refused: \"children\" must be a list of 1 to %d jobs", JOB_MAX_DEPS);
    }
    int after_any = 0;
    if (policy != NULL && !json_is_null(policy)) {
        const char *p = json_string_value(policy);
        if (p == NULL || (strcmp(p, "fail") != 0 && strcmp(p, "continue") != 0))
            return cli_fail(EX_DATAERR, "flow refused: policy must be \"fail\" (a failed child fails the parent, "
                            "the default) or \"continue\" (the parent runs once every child has ended)");
        after_any = strcmp(p, "continue") == 0;
    }
    fl->n = json_array_size(children) + 1;
    fl->specs = calloc(fl->n, sizeof *fl->specs);
    fl->text = calloc(fl->n, sizeof *fl->text);
    fl->ids = calloc(fl->n, sizeof *fl->ids);
    if (fl->specs == NULL || fl->text == NULL || fl->ids == NULL)
        return cli_fail(EX_OSERR, "out of memory");
    size_t i, len = 0;
    const json_t *child;
    json_array_foreach(children, i, child) {
        char what[40];
        snprintf(what, sizeof what, "children[%zu]", i);
        int st = flow_job(fl, i, child, NULL, what);
        if (st != 0)
            return st;
        len += strlen(fl->specs[i].id) + 1;
    }
    job_spec_t *parent = &fl->specs[fl->n - 1];
    int st = flow_job(fl, fl->n - 1, root, parent_extra, "the parent");
    if (st != 0)
        return st;
    if (parent->depends_on != NULL || parent->after_any)
        return cli_fail(EX_DATAERR, "flow refused: the parent depends on its children: it takes no depends_on or "
                        "after_any (policy \"continue\" is after_any)");
    if ((st = flow_ids_differ(fl)) != 0)
        return st;
    if ((fl->parent_deps = malloc(len + 1)) == NULL)
        return cli_fail(EX_OSERR, "out of memory");
    char *p = fl->parent_deps;
    for (i = 0; i + 1 < fl->n; i++) {
        if (strchr(fl->specs[i].id, ',') != NULL)
            return cli_fail(EX_DATAERR, "flow refused: children[%zu]: id '%s' holds a comma, which a parent "
                            "cannot name", i, fl->specs[i].id);
        p += sprintf(p, "%s%s", i ? "," : "", fl->specs[i].id);
    }
    parent->depends_on = fl->parent_deps;
    parent->after_any = after_any;
    parent->flow = 1;
    return 0;
}

/* Every job of the flow against the checks `tickq enqueue` makes. 0, or an
 * exit status after printing why. */
static int flow_admit(flow_t *fl, queue_t *q, size_t max_payload)
{
    char err[2048];
    for (size_t i = 0; i < fl->n; i++) {
        char what[40];
        if (i + 1 == fl->n)
            snprintf(what, sizeof what, "the parent");
        else
            snprintf(what, sizeof what, "children[%zu]", i);
        if (job_admit_check(&fl->specs[i], max_payload, err, sizeof err) != 0)
            return cli_fail(EX_DATAERR, "flow refused: %s: %s", what, err);
        int known = 1, seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(fl->specs[k].type, fl->specs[i].type) == 0;
        queue_status_t ks = seen ? QUEUE_OK : job_admit_type(q, fl->specs[i].type, &known, err, sizeof err);
        if (ks != QUEUE_OK)
            return cli_fail(cli_queue_exit(ks), "cannot check the task type: %s", err);
        if (!known)
            return cli_fail(EX_DATAERR, "flow refused: %s: %s", what, err);
    }
    return 0;
}

static int flow_add(int argc, char **argv, int as_json, config_t *cfg)
{
    if (argc - optind != 2)
        return cli_usage_error(usage, "flow add takes one FILE ('-' for standard input)");
    char err[1024];
    size_t len;
    char *text = read_all(argv[optind + 1], &len, err, sizeof err);
    if (text == NULL)
        return cli_fail(EX_NOINPUT, "%s", err);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (root == NULL)
        return cli_fail(EX_DATAERR, "flow refused: %s is not JSON: %s (line %d, column %d)", argv[optind + 1],
                        jerr.text, jerr.line, jerr.column);
    flow_t fl;
    int st = flow_read(root, &fl);
    rconn_t *conn = NULL;
    queue_t q;
    if (st == 0)
        st = cli_connect(cfg, &conn, &q);
    if (st == 0)
        st = flow_admit(&fl, &q, cfg->max_payload);
    enqueue_result_t *res = st == 0 ? calloc(fl.n, sizeof *res) : NULL;
    if (st == 0 && res == NULL)
        st = cli_fail(EX_OSERR, "out of memory");
    if (st == 0) {
        queue_status_t qs = queue_enqueue_chain(&q, fl.specs, fl.n, res, err, sizeof err);
        if (qs != QUEUE_OK) {
            st = cli_fail(cli_queue_exit(qs), qs == QUEUE_ERR_INVALID ? "flow refused: %s" : "cannot enqueue: %s",
                          err);
        } else {
            const enqueue_result_t *parent = &res[fl.n - 1];
            if (as_json) {
                json_t *ids = json_array();
                for (size_t i = 0; i + 1 < fl.n; i++)
                    json_array_append_new(ids, json_string(res[i].id));
                json_t *o = json_pack("{s:s, s:b, s:s, s:o}", "id", parent->id, "created", parent->created, "state",
                                      parent->state, "children", ids);
                char *out = json_dumps(o, JSON_COMPACT);
                printf("%s\n", out ? out : "{}");
                free(out);
                json_decref(o);
            } else {
                printf("%s\n", parent->id);
            }
            if (!parent->created) {
                size_t made = 0;
                for (size_t i = 0; i + 1 < fl.n; i++)
                    made += res[i].created != 0;
                fprintf(stderr, "tickq: the parent %s already exists (state %s), so it was not enqueued again; %zu "
                        "of its %zu children did not exist and were enqueued all the same, with no parent of this "
                        "flow waiting for them\n", parent->id, parent->state, made, fl.n - 1);
                st = CLI_EXIT_EXISTS;
            }
        }
    }
    free(res);
    if (conn != NULL)
        rconn_free(conn);
    flow_free(&fl);
    json_decref(root);
    return st;
}

/* --- flow ID ------------------------------------------------------------- */

/* The record fields a node is drawn from, in node_fields' order. */
enum { F_STATE, F_TYPE, F_ENQUEUED_US, F_STARTED_US, F_FINISHED_US, F_DEPS, F_ERROR, F_QUEUE, F_FINISHED_AT,
       F_STREAM, F_ENTRY, F_ATTEMPTS, NODE_FIELDS };
static const char *const node_fields[NODE_FIELDS] = { "state", "type", "enqueued_us", "started_us", "finished_us",
                                                      "deps", "error", "queue", "finished_at", "stream", "entry",
                                                      "attempts" };

/* Field f of a record read as node_fields (HMGET), or NULL. */
static const char *field(const redisReply *h, int f)
{
    if (h == NULL || h->type != REDIS_REPLY_ARRAY || h->elements != NODE_FIELDS)
        return NULL;
    return h->element[f]->type == REDIS_REPLY_STRING ? h->element[f]->str : NULL;
}

static int64_t field_us(const redisReply *h, int f)
{
    const char *v = field(h, f);
    return v ? strtoll(v, NULL, 10) : 0;
}

/* One job of the tree as JSON, with "children" to fill ({"id", "state":
 * "expired"} when its record is gone). A running job (run) waited until
 * its attempt started and has run since; a job that ended without starting
 * waited until it ended; one still waiting, until now. */
static json_t *node_json(const char *id, const redisReply *h, const job_running_t *run, int64_t now_us)
{
    const char *state = field(h, F_STATE);
    if (state == NULL)
        return json_pack("{s:s, s:s, s:[]}", "id", id, "state", "expired", "children");
    int64_t enq = field_us(h, F_ENQUEUED_US), start = field_us(h, F_STARTED_US), end = field_us(h, F_FINISHED_US);
    int final = job_state_is_final(state);
    if (run->running) {
        state = "running";
        start = run->started_us > 0 ? run->started_us : now_us - run->running_for_ms * 1000;
        end = 0;
    } else if (final && end == 0) { /* ended without starting (cancelled, failed by a dependency) */
        end = clock_parse_iso_us(field(h, F_FINISHED_AT));
    }
    const char *type = field(h, F_TYPE), *queue = field(h, F_QUEUE), *error = field(h, F_ERROR);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:[]}", "id", id, "type", type ? type : "", "state", state, "queue",
                          queue ? queue : "", "children");
    int64_t waited_to = start > 0 ? start : final ? end : now_us;
    if (enq > 0 && waited_to > 0)
        json_object_set_new(o, "waited_s", json_real((double)(waited_to - enq) / 1e6));
    if (start > 0)
        json_object_set_new(o, "ran_s", json_real((double)((end > 0 ? end : now_us) - start) / 1e6));
    if (error && *error)
        json_object_set_new(o, "error", json_string(error));
    json_object_set_new(o, "has_deps", json_boolean(field(h, F_DEPS) != NULL));
    return o;
}

/* The nodes of jobs ids[0..n), whose records hs were read as node_fields,
 * into nodes (which of them run is asked in one go: job_view_running).
 * 0, or -1 with err. */
static int nodes_make(queue_t *q, size_t n, const char *const *ids, redisReply *const *hs, json_t **nodes, char *err,
                      size_t errlen)
{
    job_running_t *runs = calloc(n ? n : 1, sizeof *runs);
    if (runs == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *state = field(hs[i], F_STATE);
        runs[i].id = ids[i];
        if (state != NULL && strcmp(state, "queued") == 0) {
            runs[i].stream = field(hs[i], F_STREAM);
            runs[i].entry = field(hs[i], F_ENTRY);
            runs[i].attempts = field_us(hs[i], F_ATTEMPTS);
            runs[i].ended_us = field_us(hs[i], F_FINISHED_US);
        }
    }
    int st = job_view_running(q, runs, n, err, errlen);
    int64_t now_us = clock_now_us();
    for (size_t i = 0; i < n && st == 0; i++)
        nodes[i] = node_json(ids[i], hs[i], &runs[i], now_us);
    free(runs);
    return st;
}

/* Fills the tree level by level: the dependency lists of the nodes of
 * `level` that have some, then their records, in two pipelined round trips
 * per level. 0, or -1 with err. */
static int tree_fill(queue_t *q, json_t *level, int depth, char *err, size_t errlen)
{
    if (depth >= TREE_DEPTH_MAX || json_array_size(level) == 0)
        return 0;
    size_t n = json_array_size(level), nl = 0, i;
    json_t **parents = calloc(n, sizeof *parents);
    redisReply **lists = calloc(n, sizeof *lists);
    json_t *next = json_array(), *node;
    int st = parents == NULL || lists == NULL ? -1 : 0;
    json_array_foreach(level, i, node) {
        if (st != 0 || !json_is_true(json_object_get(node, "has_deps")))
            continue;
        char key[300];
        queue_deps_key(q, json_string_value(json_object_get(node, "id")), key, sizeof key);
        const char *argv[4] = { "LRANGE", key, "0", "-1" };
        st = rconn_append_argv(q->conn, 4, argv, NULL);
        parents[nl++] = node;
    }
    for (size_t k = 0; k < nl && st == 0; k++)   /* round trip 1: every list */
        if ((lists[k] = rconn_read(q->conn, err, errlen)) == NULL)
            st = -1;
    size_t sent = 0;
    for (size_t k = 0; k < nl && st == 0; k++)   /* round trip 2: every child's record */
        for (size_t e = 0; lists[k]->type == REDIS_REPLY_ARRAY && e < lists[k]->elements && st == 0; e++) {
            char jk[300];
            queue_job_key(q, lists[k]->element[e]->str, jk, sizeof jk);
            const char *argv[2 + NODE_FIELDS] = { "HMGET", jk };
            for (int f = 0; f < NODE_FIELDS; f++)
                argv[2 + f] = node_fields[f];
            st = rconn_append_argv(q->conn, 2 + NODE_FIELDS, argv, NULL);
            sent += st == 0;
        }
    redisReply **hs = st == 0 ? calloc(sent + 1, sizeof *hs) : NULL;
    const char **ids = st == 0 ? calloc(sent + 1, sizeof *ids) : NULL;
    json_t **nodes = st == 0 ? calloc(sent + 1, sizeof *nodes) : NULL;
    size_t got = 0;
    if (st == 0 && (hs == NULL || ids == NULL || nodes == NULL))
        st = -1;
    for (size_t k = 0; k < nl && st == 0; k++)
        for (size_t e = 0; lists[k]->type == REDIS_REPLY_ARRAY && e < lists[k]->elements && st == 0; e++) {
            ids[got] = lists[k]->element[e]->str;
            if ((hs[got] = rconn_read(q->conn, err, errlen)) == NULL)
                st = -1;
            else
                got++;
        }
    if (st == 0)
        st = nodes_make(q, got, ids, hs, nodes, err, errlen);
    size_t at = 0;
    for (size_t k = 0; k < nl && st == 0; k++) {
        json_t *kids = json_object_get(parents[k], "children");
        for (size_t e = 0; lists[k]->type == REDIS_REPLY_ARRAY && e < lists[k]->elements; e++, at++) {
            json_array_append_new(kids, nodes[at]);
            json_array_append(next, nodes[at]);
        }
    }
    for (size_t g = 0; hs != NULL && g < got; g++)
        freeReplyObject(hs[g]);
    free(hs);
    free(ids);
    free(nodes);
    for (size_t k = 0; lists != NULL && k < nl; k++)
        freeReplyObject(lists[k]);
    free(lists);
    free(parents);
    if (st == 0)
        st = tree_fill(q, next, depth + 1, err, errlen);
    else if (err[0] == '\0')
        snprintf(err, errlen, "out of memory or a broken connection");
    json_decref(next);
    return st;
}

static void strip(json_t *node)
{
    json_object_del(node, "has_deps");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(node, "children"), i, c)
        strip(c);
}

static void print_node(const json_t *node, int depth)
{
    char waited[32] = "", ran[32] = "";
    json_t *w = json_object_get(node, "waited_s"), *r = json_object_get(node, "ran_s");
    if (w != NULL)
        snprintf(waited, sizeof waited, "  waited %.3fs", json_real_value(w));
    if (r != NULL)
        snprintf(ran, sizeof ran, "  ran %.3fs", json_real_value(r));
    const char *error = json_string_value(json_object_get(node, "error"));
    printf("%*s%s  %s  %s%s%s%s%s\n", depth * 2, "", json_string_value(json_object_get(node, "id")),
           json_string_value(json_object_get(node, "type")) ? json_string_value(json_object_get(node, "type")) : "",
           json_string_value(json_object_get(node, "state")), waited, ran, error ? "  error: " : "",
           error ? error : "");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(node, "children"), i, c)
        print_node(c, depth + 1);
}

static int flow_show(int argc, char **argv, int as_json, config_t *cfg)
{
    if (argc - optind != 1)
        return cli_usage_error(usage, "flow takes one job ID (or: flow add FILE)");
    const char *id = argv[optind];
    char err[1024];
    if (job_id_check(id, err, sizeof err) != 0)
        return cli_usage_error(usage, "%s", err);
    rconn_t *conn;
    queue_t q;
    int st = cli_connect(cfg, &conn, &q);
    if (st != 0)
        return st;
    char jk[300];
    queue_job_key(&q, id, jk, sizeof jk);
    const char *hargv[2 + NODE_FIELDS] = { "HMGET", jk };
    for (int f = 0; f < NODE_FIELDS; f++)
        hargv[2 + f] = node_fields[f];
    redisReply *h = rconn_argv(conn, 2 + NODE_FIELDS, hargv, NULL, err, sizeof err);
    if (h == NULL) {
        rconn_free(conn);
        return cli_fail(EX_UNAVAILABLE, "cannot read job %s: %s", id, err);
    }
    json_t *root = NULL;
    const char *ids[1] = { id };
    st = nodes_make(&q, 1, ids, &h, &root, err, sizeof err);
    freeReplyObject(h);
    if (st != 0) {
        rconn_free(conn);
        return cli_fail(EX_UNAVAILABLE, "cannot read job %s: %s", id, err);
    }
    if (strcmp(json_string_value(json_object_get(root, "state")), "expired") == 0) {
        json_decref(root);
        rconn_free(conn);
        fprintf(stderr, "tickq: no job %s (unknown id, or its record expired)\n", id);
        return EXIT_MISSING;
    }
    json_t *level = json_pack("[O]", root);
    st = tree_fill(&q, level, 0, err, sizeof err);
    json_decref(level);
    rconn_free(conn);
    if (st != 0) {
        json_decref(root);
        return cli_fail(EX_UNAVAILABLE, "cannot read the jobs %s depends on: %s", id, err);
    }
    strip(root);
    if (as_json) {
        char *out = json_exact_dumps(root, JSON_COMPACT);
        printf("%s\n", out ? out : "{}");
        free(out);
    } else {
        print_node(root, 0);
    }
    json_decref(root);
    return 0;
}

int cmd_flow(int argc, char **argv)
{
    config_t cfg;
    int as_json = 0;
    int st = cli_parse(argc, argv, options, usage, &cfg, on_flag, &as_json);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    if (argc - optind < 1)
        return cli_usage_error(usage, "missing what: flow add FILE, or flow ID");
    if (strcmp(argv[optind], "add") == 0)
        return flow_add(argc, argv, as_json, &cfg);
    return flow_show(argc, argv, as_json, &cfg);
}
