/* cmd_result.c — `tickq result`: print a job's task_result, optionally
 * waiting for it to finish (a signal ends the wait: 128 + its number);
 * without one, say what the job waits for. */
#include "cmd/commands.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "core/clock.h"
#include "core/job_view.h"
#include "core/queue_controls.h"
#include "core/queue_names.h"
#include "core/stats.h"

static const char usage[] =
    "usage: tickq result ID [--wait S]\n"
    "\n"
    "Prints the job's task_result JSON. With --wait, polls up to S seconds until the\n"
    "status is completed or error. A job without a result yet is named as what it\n"
    "waits for: its delay (until when), the jobs it depends on (deferred), a queue\n"
    "no live worker serves, or that is paused, or a worker (not started yet).\n"
    "\n"
    "  --wait S             seconds to wait for the job to finish (default: 0)\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 completed, 1 error (failed, dead or cancelled), 3 not found or\n"
    "not finished in time, 64 bad usage, 69 Redis unavailable, 78 configuration error,\n"
    "130 interrupted while waiting (SIGINT, Ctrl-C; 143 SIGTERM).\n";

enum { OPT_WAIT = OPT_FIRST_COMMAND_OPTION };

static const struct option options[] = {
    { "wait", required_argument, 0, OPT_WAIT },
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

#define DUE_TEXT_MAX (CLOCK_ISO_LEN + 80)

/* "2026-01-15T10:30:00.000Z (in 3600 s)": an epoch ms ahead, for a person
 * (whole seconds, rounded up: "in 0 s" would read as due). */
static void describe_due(int64_t due_ms, char *out, size_t outlen)
{
    char iso[CLOCK_ISO_LEN];
    clock_iso8601(due_ms * 1000, iso);
    int64_t ms = due_ms - clock_now_ms();
    if (ms <= 0)
        snprintf(out, outlen, "%s (due now)", iso);
    else
        snprintf(out, outlen, "%s (in %lld s)", iso, (long long)((ms + 999) / 1000));
}

/* A queued job: delayed (due_ms, from job_view's due_at; 0: not), or
 * ready on a queue that is paused, that no live worker serves, or not
 * started yet. */
static void say_queued(queue_t *q, const char *id, const char *queue, const char *physical, int64_t due_ms)
{
    char err[1024];
    int served = 1, paused = queue_is_paused(q, queue, err, sizeof err);
    if (stats_queue_served(q, physical, &served, err, sizeof err) != 0)
        served = 1; /* cannot tell: say no more than before */
    if (due_ms > 0) {
        char due[DUE_TEXT_MAX];
        describe_due(due_ms, due, sizeof due);
        fprintf(stderr, "tickq: job %s is delayed on %s until %s", id, physical, due);
        if (paused == 1)
            fprintf(stderr, "; %s is paused (tickq resume %s)", physical, queue);
        else if (served == 0)
            fprintf(stderr, "; no live worker serves %s", physical);
        fputc('\n', stderr);
    } else if (paused == 1) {
        fprintf(stderr, "tickq: job %s is queued on %s, which is paused (tickq resume %s)\n", id, physical, queue);
    } else if (served == 0) {
        fprintf(stderr, "tickq: job %s is queued on %s, which no live worker serves\n", id, physical);
    } else {
        fprintf(stderr, "tickq: job %s is queued on %s, not started yet\n", id, physical);
    }
}

/* A deferred job: the jobs it still waits for (its depends_on that have
 * not completed; with after_any, one of them), then its delay, if any. */
static void say_deferred(const char *id, const char *physical, const json_t *job)
{
    char waits[1024] = "";
    size_t used = 0, left = 0, shown = 0, i;
    const json_t *dep;
    json_array_foreach(json_object_get(job, "depends_on"), i, dep) {
        const char *dep_id = json_string_value(json_object_get(dep, "id"));
        const char *state = json_string_value(json_object_get(dep, "state"));
        if (dep_id == NULL || (state != NULL && strcmp(state, "completed") == 0))
            continue;
        left++;
        if (used + strlen(dep_id) + 2 + 32 < sizeof waits) { /* room kept for " and N more" */
            used += (size_t)snprintf(waits + used, sizeof waits - used, "%s%s", shown ? ", " : "", dep_id);
            shown++;
        }
    }
    if (shown < left)
        snprintf(waits + used, sizeof waits - used, " and %zu more", left - shown);
    /* Its delay, while still ahead (ISO 8601 times of one format compare as text). */
    const char *not_before = json_string_value(json_object_get(job, "not_before"));
    char now[CLOCK_ISO_LEN];
    clock_iso8601(clock_now_us(), now);
    if (not_before != NULL && strcmp(not_before, now) <= 0)
        not_before = NULL;
    const char *how = json_is_true(json_object_get(job, "after_any")) && left > 1 ? "one of " : "";
    if (left == 0 && not_before != NULL) /* its dependencies have ended */
        fprintf(stderr, "tickq: job %s is deferred on %s: it waits for its delay until %s\n", id, physical,
                not_before);
    else if (left == 0) /* they have ended; it is being released */
        fprintf(stderr, "tickq: job %s is deferred on %s: its dependencies have ended\n", id, physical);
    else
        fprintf(stderr, "tickq: job %s is deferred on %s: it waits for %s%s to complete%s%s\n", id, physical, how,
                waits, not_before ? ", then for its delay until " : "", not_before ? not_before : "");
}

/* Says on stderr why job `id` has no result, from its record as `tickq
 * job` reads it (job_view_read): no record (unknown or expired), queued
 * (say_queued), deferred (say_deferred), or another state. */
static void no_result(queue_t *q, const char *id)
{
    char err[1024];
    json_t *job = NULL;
    if (job_view_read(q, id, &job, err, sizeof err) != 1) {
        fprintf(stderr, "tickq: no result for job %s (unknown id, not started yet, or expired)\n", id);
        return;
    }
    const char *state = json_string_value(json_object_get(job, "state"));
    const char *queue = json_string_value(json_object_get(job, "queue"));
    const char *stream = json_string_value(json_object_get(job, "stream"));
    char physical[QUEUE_PHYS_MAX];
    if (state == NULL || queue == NULL || stream == NULL) {
        fprintf(stderr, "tickq: no result for job %s (unknown id, not started yet, or expired)\n", id);
    } else {
        queue_stream_physical(q->prefix, stream, physical);
        if (strcmp(state, "queued") == 0 || strcmp(state, "delayed") == 0) /* job_view: due_at when delayed */
            say_queued(q, id, queue, physical,
                       clock_parse_iso_us(json_string_value(json_object_get(job, "due_at"))) / 1000);
        else if (strcmp(state, "deferred") == 0)
            say_deferred(id, physical, job);
        else
            fprintf(stderr, "tickq: no result for job %s, which is %s\n", id, state);
    }
    json_decref(job);
}

/* The signal that ends a --wait (SIGINT, SIGTERM); 0 while none came. */
static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    g_stop = sig;
}

/* As load-test: the first SIGINT or SIGTERM ends the wait with 128 + its
 * number, told apart from a timeout (3); a second one ends it at once. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* 0 completed, 1 error, 2 still running, -1 not JSON we know. */
static int status_of(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    const char *s = json_string_value(json_object_get(v, "status"));
    int r = s == NULL ? -1 : strcmp(s, "completed") == 0 ? 0 : strcmp(s, "error") == 0 ? 1 : 2;
    json_decref(v);
    return r;
}

int cmd_result(int argc, char **argv)
{
    char err[1024];
    cli_wait_t wait = { usage, 0 };
    const cli_spec_t spec = { options, usage, cli_wait_flag, &wait, "job ID" };
    cli_session_t cli;
    catch_signals();
    int st = cli_open(argc, argv, &spec, &cli);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    int64_t deadline = clock_mono_ms() + wait.ms;
    char key[300];
    queue_result_key(cli.arg, key, sizeof key);
    int code = 3;
    for (;;) {
        if (g_stop) {
            fprintf(stderr, "tickq: interrupted while waiting for job %s\n", cli.arg);
            cli_close(&cli);
            return 128 + (int)g_stop;
        }
        redisReply *r = rconn_cmd(cli.conn, err, sizeof err, "GET %s", key);
        if (r == NULL && g_stop) /* the signal cut the call short */
            continue;
        if (r == NULL) {
            cli_close(&cli);
            return cli_fail(EX_UNAVAILABLE, "%s", err);
        }
        int status = r->type == REDIS_REPLY_STRING ? status_of(r->str) : -2;
        int done = status == 0 || status == 1;
        if (done || clock_mono_ms() >= deadline) {
            if (r->type == REDIS_REPLY_STRING)
                printf("%s\n", r->str);
            else
                no_result(&cli.q, cli.arg);
            code = status == 0 ? 0 : status == 1 ? 1 : 3;
            freeReplyObject(r);
            break;
        }
        freeReplyObject(r);
        clock_sleep_ms(50, &g_stop);
    }
    cli_close(&cli);
    return code;
}
