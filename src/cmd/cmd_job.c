/* cmd_job.c — `tickq job`: show a job's record (state, run, attempts,
 * worker, timestamps, error) and its retry history as JSON, its fields in
 * one fixed order (field_order below, documented in docs/cli.md) whatever
 * order the record's hash holds them in. */
#include "cmd/commands.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "core/clock.h"
#include "core/job.h"

static const char usage[] =
    "usage: tickq job ID\n"
    "\n"
    "Prints the job's record and retry history as JSON, its fields always in the\n"
    "same order (id, type, state, run, attempts, ...: docs/cli.md lists it); `run`\n"
    "counts the runs of this id (1 for the first; a finished job enqueued again with\n"
    "--replace, or pushed again on the list, runs as run 2, ...).\n"
    "\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 found, 3 not found, 64 bad usage, 69 Redis unavailable.\n";

static const struct option options[] = { CLI_COMMON_OPTIONS, { 0, 0, 0, 0 } };

/* Fields stored as numbers in the hash come out as JSON numbers. */
static json_t *field_value(const char *name, const char *value)
{
    static const char *const numeric[] = { "attempts", "max_retries", "timeout_ms", "enqueued_us",
                                           "started_us", "finished_us", "run" };
    for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++)
        if (strcmp(name, numeric[i]) == 0)
            return json_integer(strtoll(value, NULL, 10));
    if (strcmp(name, "progress") == 0) /* a fraction from 0 to 1, written by tickq_p1_progress */
        return json_real(strtod(value, NULL));
    if (strcmp(name, "args") == 0) {
        json_t *v = json_loads(value, 0, NULL);
        if (v)
            return v;
    }
    return json_string(value);
}

/* The order `tickq job` prints fields in: who and where first, then what
 * went wrong, then when, then the job's input and the stored details.
 * Fields not listed (none today) follow in the record's order. */
static const char *const field_order[] = {
    "id", "type", "state", "run", "attempts", "max_retries", "queue", "priority", "worker", "running_for_ms",
    "progress", "progress_message", "error", "next_retry_at", "created_at", "scheduled_for", "enqueued_at", "started_at", "finished_at",
    "timeout_seconds", "args", "timeout_ms", "enqueued_us", "started_us", "finished_us", "stream", "entry",
    "dead_entry", "cancel_requested", "retries",
};

/* A new object with job's fields in field_order, then any others. */
static json_t *in_order(json_t *job)
{
    json_t *out = json_object();
    for (size_t i = 0; i < sizeof field_order / sizeof field_order[0]; i++) {
        json_t *v = json_object_get(job, field_order[i]);
        if (v != NULL)
            json_object_set(out, field_order[i], v);
    }
    const char *name;
    json_t *v;
    json_object_foreach(job, name, v)
        if (json_object_get(out, name) == NULL)
            json_object_set(out, name, v);
    return out;
}

int cmd_job(int argc, char **argv)
{
    char err[1024];
    const cli_spec_t spec = { options, usage, NULL, NULL, "job ID" };
    cli_session_t cli;
    int st = cli_open(argc, argv, &spec, &cli);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    char key[300], rkey[300];
    queue_job_key(&cli.q, cli.arg, key, sizeof key);
    queue_retries_key(&cli.q, cli.arg, rkey, sizeof rkey);
    redisReply *h = rconn_cmd(cli.conn, err, sizeof err, "HGETALL %s", key);
    redisReply *l = h ? rconn_cmd(cli.conn, err, sizeof err, "LRANGE %s 0 -1", rkey) : NULL;
    if (h == NULL || l == NULL) {
        freeReplyObject(h);
        cli_close(&cli);
        return cli_fail(EX_UNAVAILABLE, "%s", err);
    }
    int code = 0;
    if (h->type != REDIS_REPLY_ARRAY || h->elements == 0) {
        fprintf(stderr, "tickq: no job %s (unknown id, or its record expired)\n", cli.arg);
        code = 3;
    } else {
        json_t *job = json_object();
        for (size_t i = 0; i + 1 < h->elements; i += 2)
            json_object_set_new(job, h->element[i]->str, field_value(h->element[i]->str, h->element[i + 1]->str));
        /* A record from before runs were counted is its id's first run. */
        if (json_object_get(job, "run") == NULL)
            json_object_set_new(job, "run", json_integer(1));
        json_t *retries = json_array();
        for (size_t i = 0; l->type == REDIS_REPLY_ARRAY && i < l->elements; i++) {
            json_t *v = json_loads(l->element[i]->str, 0, NULL);
            json_array_append_new(retries, v ? v : json_string(l->element[i]->str));
        }
        json_object_set_new(job, "retries", retries);
        /* Times are stored as epoch microseconds; show them as ISO 8601 too. */
        static const char *const times[][2] = { { "enqueued_us", "enqueued_at" }, { "started_us", "started_at" },
                                                { "finished_us", "finished_at" } };
        for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
            json_t *us = json_object_get(job, times[i][0]);
            if (json_is_integer(us) && json_integer_value(us) > 0) {
                char iso[CLOCK_ISO_LEN];
                clock_iso8601(json_integer_value(us), iso);
                json_object_set_new(job, times[i][1], json_string(iso));
            }
        }
        /* A job enqueued without a timeout keeps timeout_ms 0: whichever
         * worker runs it gives it its own default, unknown here. */
        json_t *timeout = json_object_get(job, "timeout_ms");
        if (json_is_integer(timeout) && json_integer_value(timeout) == JOB_TIMEOUT_UNSET)
            json_object_set_new(job, "timeout_seconds", json_string("worker default"));
        else if (json_is_integer(timeout))
            json_object_set_new(job, "timeout_seconds", json_real((double)json_integer_value(timeout) / 1000.0));
        /* "running" is not stored: a queued job whose entry is pending in the
         * consumer group is being run, by the consumer holding it. */
        const char *state = json_string_value(json_object_get(job, "state"));
        const char *stream = json_string_value(json_object_get(job, "stream"));
        const char *entry = json_string_value(json_object_get(job, "entry"));
        if (state && strcmp(state, "queued") == 0 && stream && entry && *entry) {
            redisReply *p = rconn_cmd(cli.conn, err, sizeof err, "XPENDING %s %s %s %s 1", stream, cli.q.group, entry, entry);
            if (p && p->type == REDIS_REPLY_ARRAY && p->elements == 1 && p->element[0]->elements >= 4) {
                json_object_set_new(job, "state", json_string("running"));
                char worker[QUEUE_CONSUMER_MAX];
                queue_consumer_worker(p->element[0]->element[1]->str, worker, sizeof worker);
                json_object_set_new(job, "worker", json_string(worker));
                json_object_set_new(job, "running_for_ms", json_integer(p->element[0]->element[2]->integer));
            }
            freeReplyObject(p);
        }
        json_t *ordered = in_order(job);
        json_decref(job);
        job = ordered;
        char *text = json_dumps(job, JSON_INDENT(2));
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(job);
    }
    freeReplyObject(h);
    freeReplyObject(l);
    cli_close(&cli);
    return code;
}
