/* enqueue_file.c — `tickq enqueue --file`: many jobs from a JSON Lines
 * file (enqueue_file.h). */
#include "cmd/enqueue_file.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "core/job_batch.h"
#include "core/job_json.h"

typedef struct {
    json_t **tasks;     /* one per job, kept alive: the specs borrow from them */
    size_t *lines;      /* each job's line number */
    size_t n, cap;
} lines_t;

static void lines_free(lines_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        json_decref(l->tasks[i]);
    free(l->tasks);
    free(l->lines);
}

static int lines_add(lines_t *l, json_t *task, size_t line)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        json_t **tasks = realloc(l->tasks, cap * sizeof *tasks);
        if (tasks == NULL)
            return -1;
        l->tasks = tasks;
        size_t *lines = realloc(l->lines, cap * sizeof *lines);
        if (lines == NULL)
            return -1;
        l->lines = lines;
        l->cap = cap;
    }
    l->tasks[l->n] = task;
    l->lines[l->n++] = line;
    return 0;
}

/* Reads and checks every line of `in` into *l and *b. 0, or the exit status
 * after saying which line is wrong. */
static int read_lines(FILE *in, const char *name, size_t max_payload, lines_t *l, job_batch_t *b)
{
    char *line = NULL, err[1024];
    size_t cap = 0, number = 0;
    ssize_t len;
    int st = 0;
    errno = 0;
    while (st == 0 && (len = getline(&line, &cap, in)) >= 0) {
        number++;
        size_t k = 0;
        while (k < (size_t)len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r' || line[k] == '\n'))
            k++;
        if (k == (size_t)len)
            continue; /* a blank line */
        json_error_t jerr;
        json_t *task = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
        if (task == NULL) {
            st = cli_fail(EX_DATAERR, "%s line %zu is not JSON: %s (column %d); nothing enqueued", name, number,
                          jerr.text, jerr.column);
        } else if (lines_add(l, task, number) != 0) {
            json_decref(task);
            st = cli_fail(EX_OSERR, "out of memory at %s line %zu; nothing enqueued", name, number);
        } else if (job_batch_add(b, task, max_payload, err, sizeof err) != 0) {
            st = cli_fail(EX_DATAERR, "%s line %zu: job refused: %s; nothing enqueued", name, number, err);
        }
    }
    if (st == 0 && ferror(in))
        st = cli_fail(EX_IOERR, "cannot read %s: %s; nothing enqueued", name, strerror(errno));
    free(line);
    if (st == 0 && b->n == 0)
        st = cli_fail(EX_DATAERR, "%s holds no job (one JSON object a line, e.g. {\"type\": \"echo\", "
                      "\"args\": {\"x\": 1}}); nothing enqueued", name);
    return st;
}

int enqueue_file(config_t *cfg, const char *path, int as_json)
{
    int from_stdin = strcmp(path, "-") == 0;
    const char *name = from_stdin ? "standard input" : path;
    FILE *in = from_stdin ? stdin : fopen(path, "r");
    if (in == NULL)
        return cli_fail(EX_NOINPUT, "cannot open %s: %s", path, strerror(errno));
    lines_t l = { NULL, NULL, 0, 0 };
    job_batch_t b;
    job_batch_init(&b);
    enqueue_result_t *res = NULL;
    rconn_t *conn = NULL;
    char err[1024];
    int st = read_lines(in, name, cfg->max_payload, &l, &b);
    if (!from_stdin)
        fclose(in);
    if (st != 0)
        goto out;
    queue_t q;
    if ((st = cli_connect(cfg, &conn, &q)) != 0)
        goto out;
    size_t bad, done = 0, refused;
    queue_status_t qs = job_batch_types(&q, &b, &bad, err, sizeof err);
    if (qs != QUEUE_OK) {
        st = cli_fail(cli_queue_exit(qs), "cannot check the task types: %s; nothing enqueued", err);
        goto out;
    }
    if (bad != SIZE_MAX) {
        st = cli_fail(EX_DATAERR, "%s line %zu: job refused: %s; nothing enqueued", name, l.lines[bad], err);
        goto out;
    }
    res = calloc(b.n, sizeof *res);
    if (res == NULL) {
        st = cli_fail(EX_OSERR, "out of memory for %zu jobs; nothing enqueued", b.n);
        goto out;
    }
    qs = queue_enqueue_batch(&q, b.specs, b.n, res, &done, &refused, err, sizeof err);
    size_t existing = 0;
    for (size_t i = 0; i < done; i++) {
        if (as_json)
            cli_print_json_line(job_json_enqueue_result(&res[i]));
        else
            printf("%s\n", res[i].id);
        if (!res[i].created) {
            existing++;
            fprintf(stderr, "tickq: %s line %zu: job %s already exists (state %s, run %d); nothing enqueued for "
                    "it\n", name, l.lines[i], res[i].id, res[i].state, res[i].run);
        }
    }
    if (qs != QUEUE_OK) {
        if (refused != SIZE_MAX)
            st = cli_fail(cli_queue_exit(qs), "%s line %zu: job refused: (%s): %s; the %zu jobs before its batch "
                          "(from line %zu) were enqueued (printed above), none from it on", name, l.lines[refused],
                          res[refused].id, err, done, l.lines[done]);
        else if (qs == QUEUE_ERR_IO)
            st = cli_fail(cli_queue_exit(qs), "cannot enqueue: %s; the first %zu jobs were enqueued (printed "
                          "above); the batch from line %zu may or may not have gone in (Redis was cut off while "
                          "it ran; `tickq job ID` tells, for lines with an id); none after it", err, done,
                          l.lines[done]);
        else
            st = cli_fail(cli_queue_exit(qs), "cannot enqueue: %s; the first %zu jobs were enqueued (printed "
                          "above), none after them", err, done);
    } else {
        st = existing > 0 ? CLI_EXIT_EXISTS : 0;
    }
out:
    if (conn != NULL)
        rconn_free(conn);
    free(res);
    job_batch_free(&b);
    lines_free(&l);
    return st;
}
