/* cmd_enqueue.c — `tickq enqueue`: validate a job and put it on its queue. */
#include "cmd/commands.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "cmd/enqueue_file.h"
#include "core/job_admit.h"
#include "core/clock.h"
#include "core/job.h"
#include "core/job_json.h"
#include "core/json_exact.h"

static const char usage[] =
    "usage: tickq enqueue TYPE [ARGS_JSON] [options]\n"
    "       tickq enqueue --file JOBS.jsonl [--json]\n"
    "\n"
    "Enqueues one job and prints its id. ARGS_JSON is a JSON object (default {});\n"
    "'-' reads it from standard input. An --id that already exists enqueues nothing:\n"
    "it prints the id, says on stderr that the job exists and its state, and exits 4.\n"
    "\n"
    "  --file PATH          many jobs, one JSON object a line as POST /api/tasks takes\n"
    "                       one ({\"type\", \"args\", \"queue\", \"priority\", \"id\",\n"
    "                       \"max_retries\", \"timeout\", \"delay\", \"replace\",\n"
    "                       \"expires\"}; no dependencies), '-' standard input. Every\n"
    "                       line is checked first (a bad one enqueues nothing), then\n"
    "                       the jobs go in 400 to a Redis call; prints one id a line\n"
    "                       (with --json, one object a line). Job options come from\n"
    "                       the lines, not from the command line\n"
    "  --queue Q            logical queue (default: backtest)\n"
    "  --priority P         high, normal (default) or low\n"
    "  --id ID              job id (default: a new UUID)\n"
    "  --replace            with --id: a job of that id that has finished (completed,\n"
    "                       failed, dead, cancelled) runs again as its next run\n"
    "                       (attempts from 0, run number + 1, its result replaced);\n"
    "                       one still waiting or running is not replaced (exit 4)\n"
    "  --max-retries N      retries after the first attempt (default: 3)\n"
    "  --timeout S          seconds an attempt may run, at most 7 days (default: the\n"
    "                       worker's default, 1h unless its pool's job_timeout or\n"
    "                       its --job-timeout says otherwise)\n"
    "  --delay S            seconds before the job may start (default: 0)\n"
    "  --arg-file KEY=PATH  set args[KEY] to the text of a file, e.g.\n"
    "                       --arg-file strategy_code=examples/strategies/gap_up.lua\n"
    "                       (repeatable)\n"
    "  --expires S          the job ends cancelled (\"Job expired\") unless it starts\n"
    "                       (a first attempt or a retry) within S seconds of now; at\n"
    "                       most a year, and more than --delay (default: never)\n"
    "  --after ID[,ID...]   the job waits (state deferred) until these jobs have all\n"
    "                       completed, then runs; if one fails, dies or is cancelled,\n"
    "                       it fails (\"dependency ID ended STATE\"). An unknown or\n"
    "                       expired id, or one already ended other than completed,\n"
    "                       is refused (exit 65). At most 10000 ids\n"
    "  --after-any          with --after: run once they have all ended, however\n"
    "  --json               print {\"id\", \"created\", \"state\", \"run\"} instead of the id\n"
    "                       (with \"replaced\": the state the run before ended in)\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 enqueued, 4 the id exists (nothing enqueued; with --file, some\n"
    "ids existed and the others went in), 64 bad usage, 65 bad job (with --file, a\n"
    "bad line: nothing enqueued; or one Redis refused: the batches before it went\n"
    "in, as stderr says), 66 --file cannot be opened, 69 Redis unavailable,\n"
    "75 Redis out of memory (try again later), 78 configuration error.\n";

enum {
    OPT_QUEUE = OPT_FIRST_COMMAND_OPTION, OPT_PRIORITY, OPT_ID, OPT_MAX_RETRIES, OPT_TIMEOUT, OPT_DELAY,
    OPT_ARG_FILE, OPT_REPLACE, OPT_EXPIRES, OPT_AFTER, OPT_AFTER_ANY, OPT_FILE
};

#define ARG_FILES_MAX 16

static const struct option options[] = {
    { "queue", required_argument, 0, OPT_QUEUE },
    { "priority", required_argument, 0, OPT_PRIORITY },
    { "id", required_argument, 0, OPT_ID },
    { "replace", no_argument, 0, OPT_REPLACE },
    { "max-retries", required_argument, 0, OPT_MAX_RETRIES },
    { "timeout", required_argument, 0, OPT_TIMEOUT },
    { "delay", required_argument, 0, OPT_DELAY },
    { "arg-file", required_argument, 0, OPT_ARG_FILE },
    { "expires", required_argument, 0, OPT_EXPIRES },
    { "after", required_argument, 0, OPT_AFTER },
    { "after-any", no_argument, 0, OPT_AFTER_ANY },
    { "file", required_argument, 0, OPT_FILE },
    { "json", no_argument, 0, OPT_JSON },
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

static char *read_stdin(size_t limit, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (n + 1 >= cap) {
            if (cap > limit + 2) /* enough to know it is over the limit */
                break;
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, stdin);
        n += got;
        if (got == 0)
            break;
    }
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

/* Seconds (fractions allowed) or a duration with a unit, for --timeout,
 * --delay and --expires. */
static int seconds_flag(const char *flag, const char *arg, int64_t *ms)
{
    const char *problem = clock_duration_problem(arg, 1000, ms);
    if (problem != NULL)
        return cli_fail(EX_DATAERR, "invalid %s '%s': it is %s; give seconds (e.g. 30 or 0.5, at least 0.001) or a "
                        "duration (500ms, 5m)", flag, arg, problem);
    return 0;
}

/* Reads a whole file of at most `limit` bytes; NULL with err. */
static char *read_file(const char *path, size_t limit, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (n == cap) {
            if (cap > limit) {
                snprintf(err, errlen, "%s is over the payload limit of %zu bytes", path, limit);
                free(buf);
                buf = NULL;
                break;
            }
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (buf != NULL && ferror(f)) { /* a directory, an I/O error: not an empty text */
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        free(buf);
        buf = NULL;
    }
    if (buf == NULL && err[0] == '\0')
        snprintf(err, errlen, "out of memory reading %s", path);
    fclose(f);
    *len = n;
    return buf;
}

/* ARGS_JSON with each --arg-file KEY=PATH set as args[KEY]: a new JSON
 * text (the caller frees it), or NULL with err. */
static char *with_arg_files(const char *args, size_t args_len, const char *const *files, int n, size_t limit,
                            char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *obj = args ? json_loadb(args, args_len, 0, &jerr) : json_object();
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "ARGS_JSON must be a JSON object to take --arg-file values");
        json_decref(obj);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(files[i], '=');
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(eq - files[i]), files[i]);
        if (json_object_get(obj, key) != NULL) { /* the file would silently replace it */
            int by_file = 0;
            for (int j = 0; j < i; j++)
                by_file |= strncmp(files[j], files[i], (size_t)(eq - files[i]) + 1) == 0;
            snprintf(err, errlen, "args '%s' is given twice (%s, and --arg-file %s): give it once", key,
                     by_file ? "by an --arg-file before" : "in ARGS_JSON", files[i]);
            json_decref(obj);
            return NULL;
        }
        size_t len;
        err[0] = '\0';
        char *text = read_file(eq + 1, limit, &len, err, errlen);
        if (text == NULL) {
            json_decref(obj);
            return NULL;
        }
        const char *nul = memchr(text, '\0', len);
        if (nul != NULL) {
            snprintf(err, errlen, "%s holds a NUL byte (byte %zu): --arg-file takes text", eq + 1,
                     (size_t)(nul - text) + 1);
            free(text);
            json_decref(obj);
            return NULL;
        }
        json_t *value = json_stringn(text, len);
        free(text);
        if (value == NULL) {
            snprintf(err, errlen, "%s is not UTF-8 text", eq + 1);
            json_decref(obj);
            return NULL;
        }
        json_object_set_new(obj, key, value);
    }
    char *out = json_exact_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (out == NULL)
        snprintf(err, errlen, "out of memory");
    return out;
}

/* The job's args against the task's table (job_spec_check has made sure
 * they are a JSON object). */
typedef struct {
    job_spec_t spec;
    int as_json;
    const char *arg_files[ARG_FILES_MAX];
    int narg_files;
    const char *file;  /* --file */
    int job_option;    /* the last option that describes one job (0: none), which --file refuses */
} enqueue_flags_t;

static int on_flag(int opt, const char *arg, void *ctx)
{
    enqueue_flags_t *f = ctx;
    long long v;
    int st;
    if (opt >= OPT_QUEUE && opt <= OPT_AFTER_ANY)
        f->job_option = opt;
    switch (opt) {
    case OPT_FILE: f->file = arg; return 0;
    case OPT_QUEUE: f->spec.queue = arg; return 0;
    case OPT_PRIORITY: f->spec.priority = arg; return 0;
    case OPT_ID: f->spec.id = arg; return 0;
    case OPT_REPLACE: f->spec.replace = 1; return 0;
    case OPT_MAX_RETRIES:
        if (cli_parse_int(arg, 0, JOB_MAX_RETRIES_LIMIT, &v) != 0)
            return cli_fail(EX_DATAERR, "invalid --max-retries '%s': use an integer from 0 to %d",
                            arg, JOB_MAX_RETRIES_LIMIT);
        f->spec.max_retries = (int)v;
        return 0;
    case OPT_TIMEOUT:
        if ((st = seconds_flag("--timeout", arg, &f->spec.timeout_ms)) != 0)
            return st;
        /* Given, it is the job's own: never the "not set" 0. */
        if (!job_timeout_valid(f->spec.timeout_ms))
            return cli_fail(EX_DATAERR, "invalid timeout: --timeout %s must be more than 0 and at most 7 days "
                            "(604800 s); leave --timeout out for the worker's default", arg);
        return 0;
    case OPT_DELAY: return seconds_flag("--delay", arg, &f->spec.delay_ms);
    case OPT_JSON: f->as_json = 1; return 0;
    case OPT_ARG_FILE:
        if (f->narg_files == ARG_FILES_MAX)
            return cli_fail(EX_USAGE, "at most %d --arg-file options", ARG_FILES_MAX);
        if (strchr(arg, '=') == NULL || arg[0] == '=' || strchr(arg, '=')[1] == '\0')
            return cli_fail(EX_USAGE, "invalid --arg-file '%s': use KEY=PATH, e.g. strategy_code=my_strategy.lua", arg);
        f->arg_files[f->narg_files++] = arg;
        return 0;
    case OPT_EXPIRES:
        if (seconds_flag("--expires", arg, &f->spec.expires_ms) != 0)
            return EX_DATAERR;
        if (f->spec.expires_ms == 0)
            return cli_fail(EX_DATAERR, "invalid --expires '%s': it must be more than 0 (leave it out for none)", arg);
        return 0;
    case OPT_AFTER:
        if (f->spec.depends_on != NULL)
            return cli_usage_error(usage, "--after given twice: list every id in one, --after ID,ID");
        if (*arg == '\0') /* an unset variable would make a dependent job run at once */
            return cli_fail(EX_DATAERR, "invalid --after '': give the ids of the jobs it waits for, --after ID,ID");
        f->spec.depends_on = arg;
        return 0;
    case OPT_AFTER_ANY: f->spec.after_any = 1; return 0;
    default: return cli_unhandled_option(opt);
    }
}

/* Prints what the enqueue did; returns the exit status: 0 enqueued (a new
 * job or a new run), CLI_EXIT_EXISTS when the id exists and nothing was. */
static int report(const job_spec_t *spec, const enqueue_result_t *res, int as_json)
{
    int run = res->run;
    if (as_json)
        cli_print_json_line(job_json_enqueue_result(res));
    else
        printf("%s\n", res->id);
    if (res->created) {
        if (res->previous[0])
            fprintf(stderr, "tickq: job %s had ended %s; run %d enqueued (attempts from 0, its result replaced)\n",
                    res->id, res->previous, run);
        return 0;
    }
    if (spec->replace && !job_state_is_final(res->state))
        fprintf(stderr, "tickq: job %s is still %s (run %d); not replaced: --replace runs again only a job "
                "that has finished (completed, failed, dead or cancelled); `tickq cancel %s` first to stop it\n",
                res->id, res->state, run, res->id);
    else if (spec->replace)  /* finished, yet not replaced: an older function library answered */
        fprintf(stderr, "tickq: job %s already exists (state %s) and Redis runs a tickq library without "
                "--replace: upgrade every tickq process; nothing enqueued\n", res->id, res->state);
    else
        fprintf(stderr, "tickq: job %s already exists (state %s, run %d); nothing enqueued%s\n", res->id,
                res->state, run, job_state_is_final(res->state) ? " (--replace runs it again)" : "");
    return CLI_EXIT_EXISTS;
}

int cmd_enqueue(int argc, char **argv)
{
    config_t cfg;
    char err[1024];
    enqueue_flags_t flags;
    memset(&flags, 0, sizeof flags);
    job_spec_init(&flags.spec);
    flags.as_json = 0;
    flags.narg_files = 0;
    int st = cli_parse(argc, argv, options, usage, &cfg, on_flag, &flags);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    job_spec_t spec = flags.spec;
    int as_json = flags.as_json;
    int rest = argc - optind;
    if (flags.file != NULL) {
        for (const struct option *o = options; flags.job_option && o->name != NULL; o++)
            if (o->val == flags.job_option)
                return cli_usage_error(usage, "--%s is not taken with --file: each job's options come from its "
                                       "line (keys such as \"queue\", \"max_retries\", \"timeout\")", o->name);
        if (rest > 0)
            return cli_usage_error(usage, "unexpected argument '%s': with --file the jobs come from the file",
                                   argv[optind]);
        return enqueue_file(&cfg, flags.file, as_json);
    }
    if (rest < 1)
        return cli_fail(EX_DATAERR, "missing task type: `tickq enqueue TYPE [ARGS_JSON]`, e.g. "
                        "tickq enqueue echo '{\"x\": 1}' (see tickq tasks)");
    if (rest > 2)
        return cli_usage_error(usage, "unexpected argument '%s' (quote ARGS_JSON as one argument)", argv[optind + 2]);
    if (spec.replace && spec.id == NULL)
        return cli_usage_error(usage, "--replace needs --id ID: it runs an existing job again");
    if (spec.after_any && spec.depends_on == NULL)
        return cli_usage_error(usage, "--after-any needs --after ID[,ID]: the jobs to run after");
    spec.type = argv[optind];
    char *owned = NULL;
    if (rest == 2) {
        if (strcmp(argv[optind + 1], "-") == 0) {
            owned = read_stdin(cfg.max_payload, &spec.args_len);
            if (owned == NULL)
                return cli_fail(EX_OSERR, "cannot read ARGS_JSON from standard input");
            spec.args = owned;
        } else {
            spec.args = argv[optind + 1];
            spec.args_len = strlen(spec.args);
        }
    }
    st = 0;
    if (flags.narg_files > 0) {
        char *merged = with_arg_files(spec.args, spec.args_len, flags.arg_files, flags.narg_files, cfg.max_payload,
                                      err, sizeof err);
        if (merged == NULL) {
            st = cli_fail(EX_DATAERR, "job refused: %s", err);
            goto done;
        }
        free(owned);
        owned = merged;
        spec.args = owned;
        spec.args_len = strlen(owned);
    }
    if (job_admit_check(&spec, cfg.max_payload, err, sizeof err) != 0) {
        st = cli_fail(EX_DATAERR, "job refused: %s", err);
        goto done;
    }
    rconn_t *conn;
    queue_t q;
    if ((st = cli_connect(&cfg, &conn, &q)) != 0)
        goto done;
    int known;
    queue_status_t ks = job_admit_type(&q, spec.type, &known, err, sizeof err);
    if (ks != QUEUE_OK || !known) {
        rconn_free(conn);
        st = ks != QUEUE_OK ? cli_fail(cli_queue_exit(ks), "cannot check the task type: %s", err)
                            : cli_fail(EX_DATAERR, "job refused: %s", err);
        goto done;
    }
    enqueue_result_t res;
    queue_status_t qs = queue_enqueue(&q, &spec, &res, err, sizeof err);
    rconn_free(conn);
    if (qs == QUEUE_ERR_INVALID) {
        st = cli_fail(cli_queue_exit(qs), "job refused: %s", err);
    } else if (qs == QUEUE_ERR_PROTOCOL) {
        st = cli_fail(cli_queue_exit(qs), "%s", err);
    } else if (qs != QUEUE_OK) {
        st = cli_fail(cli_queue_exit(qs), "cannot enqueue: %s", err);
    } else {
        st = report(&spec, &res, as_json);
    }
done:
    free(owned);
    return st;
}
