/* cmd_limit.c — `tickq limit`: per-type concurrency limits across every
 * worker host (queue_limit_*: enforced in the claim, src/lua/admit.lua),
 * listed, set or cleared. */
#include "cmd/commands.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "cmd/text_table.h"
#include "core/job.h"
#include "core/queue_controls.h"
#include "core/task.h"

static const char usage[] =
    "usage: tickq limit [--json]\n"
    "       tickq limit TYPE N\n"
    "       tickq limit TYPE --clear\n"
    "\n"
    "At most N jobs of task type TYPE run at once, across every worker and host (a\n"
    "data vendor's rate limit, say); 0 holds every job of the type. The claim\n"
    "enforces it: a job of a type at its limit is set aside (held) and goes back to\n"
    "its queue when a slot frees, while jobs of other types behind it are claimed.\n"
    "Without arguments, lists the limits: TYPE, LIMIT, RUNNING (slots taken), HELD.\n"
    "--clear removes a limit; its held jobs go back to their queues.\n"
    "\n"
    "  --clear              remove TYPE's limit\n"
    "  --json               list as JSON lines\n"
    CLI_COMMON_HELP
    "\n"
    "Exit status: 0 ok, 64 bad usage, 65 unknown task type (neither built in nor in\n"
    "`tickq types`), 69 Redis unavailable, 75 Redis out of memory (try again later),\n"
    "78 configuration error.\n";

enum { OPT_CLEAR = OPT_FIRST_COMMAND_OPTION };

static const struct option options[] = {
    { "clear", no_argument, 0, OPT_CLEAR },
    { "json", no_argument, 0, OPT_JSON },
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

typedef struct {
    int clear;
    int as_json;
} limit_flags_t;

static int on_flag(int opt, const char *arg, void *ctx)
{
    (void)arg;
    limit_flags_t *f = ctx;
    if (opt == OPT_CLEAR)
        f->clear = 1;
    else
        f->as_json = 1;
    return 0;
}

static int list_limits(queue_t *q, int as_json)
{
    static type_limit_t limits[QUEUE_LIMITS_MAX];
    char err[1024];
    size_t n = 0;
    queue_status_t qs = queue_limit_list(q, limits, QUEUE_LIMITS_MAX, &n, err, sizeof err);
    if (qs != QUEUE_OK)
        return cli_fail(cli_queue_exit(qs), "cannot read the limits: %s", err);
    if (as_json) {
        for (size_t i = 0; i < n; i++)
            cli_print_json_line(json_pack("{s:s, s:I, s:I, s:I}", "type", limits[i].type, "limit",
                                          (json_int_t)limits[i].slots, "running", (json_int_t)limits[i].running,
                                          "held", (json_int_t)limits[i].held));
        return 0;
    }
    if (n == 0) {
        fprintf(stderr, "no limits (tickq limit TYPE N sets one)\n");
        return 0;
    }
    static const char *const head[] = { "TYPE", "LIMIT", "RUNNING", "HELD" };
    text_table_t *t = text_table_new(4, "lrrr");
    int st = t == NULL || text_table_add(t, head) != 0;
    for (size_t i = 0; !st && i < n; i++) {
        char nums[3][24];
        snprintf(nums[0], sizeof nums[0], "%lld", limits[i].slots);
        snprintf(nums[1], sizeof nums[1], "%lld", limits[i].running);
        snprintf(nums[2], sizeof nums[2], "%lld", limits[i].held);
        const char *row[] = { limits[i].type, nums[0], nums[1], nums[2] };
        st = text_table_add(t, row) != 0;
    }
    if (!st)
        text_table_print(t, stdout);
    text_table_free(t);
    return st ? cli_fail(EX_OSERR, "out of memory listing the limits") : 0;
}

/* 0 when `type` is a task type producers may enqueue (built in, or in the
 * types set), else the exit status after saying why. */
static int known_type(queue_t *q, const char *type)
{
    char err[1024];
    int known = task_find(type) != NULL;
    queue_status_t qs = known ? QUEUE_OK : queue_type_known(q, type, &known, err, sizeof err);
    if (qs != QUEUE_OK)
        return cli_fail(cli_queue_exit(qs), "%s", err);
    if (!known)
        return cli_fail(EX_DATAERR, "unknown task type '%s': not built in (tickq tasks) and not in tickq types "
                        "(`tickq types add %s` if a handler serves it)", type, type);
    return 0;
}

static int set_limit(queue_t *q, const char *type, long long slots)
{
    char err[1024];
    long long previous = 0, running = 0;
    int st = known_type(q, type);
    if (st != 0)
        return st;
    queue_status_t qs = queue_limit_set(q, type, slots, &previous, &running, err, sizeof err);
    if (qs != QUEUE_OK)
        return cli_fail(cli_queue_exit(qs), "cannot set the limit: %s", err);
    if (previous < 0)
        printf("limited %s to %lld running at once (%lld running now)\n", type, slots, running);
    else
        printf("limited %s to %lld running at once, was %lld (%lld running now)\n", type, slots, previous, running);
    return 0;
}

static int clear_limit(queue_t *q, const char *type)
{
    char err[1024];
    long long previous = 0, held = 0;
    queue_status_t qs = queue_limit_clear(q, type, &previous, &held, err, sizeof err);
    if (qs != QUEUE_OK)
        return cli_fail(cli_queue_exit(qs), "cannot clear the limit: %s", err);
    if (previous < 0)
        printf("%s had no limit\n", type);
    else
        printf("cleared the limit of %s (was %lld); %lld held jobs go back to their queues\n", type, previous, held);
    return 0;
}

/* 1 when arg is a number with a minus sign ("-1", "-.5"): getopt would read
 * it as short flags ("unknown option '-1'"), not as the limit it is. */
static int negative_number(const char *arg)
{
    return arg[0] == '-' && (isdigit((unsigned char)arg[1]) || (arg[1] == '.' && isdigit((unsigned char)arg[2])));
}

/* 1 when arg is a long flag whose value is the next argument ("--prefix
 * -1": a prefix, however odd, not a limit). */
static int value_of_flag(const char *arg)
{
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0' || strchr(arg, '=') != NULL)
        return 0;
    for (const struct option *o = options; o->name != NULL; o++)
        if (o->has_arg == required_argument && strncmp(o->name, arg + 2, strlen(arg + 2)) == 0)
            return 1;
    return 0;
}

static int limit_main(int argc, char **argv)
{
    limit_flags_t flags = { 0, 0 };
    cli_session_t cli;
    memset(&cli, 0, sizeof cli);
    int st = cli_parse(argc, argv, options, usage, &cli.cfg, on_flag, &flags);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    int rest = argc - optind;
    const char *type = rest > 0 ? argv[optind] : NULL;
    if (rest > 2)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind + 2]);
    if (flags.clear && rest != 1)
        return cli_usage_error(usage, "--clear takes one TYPE and no number");
    if (!flags.clear && rest == 1)
        return cli_usage_error(usage, "missing the limit N for %s (or --clear)", type);
    if (flags.as_json && rest > 0)
        return cli_usage_error(usage, "--json is for the list (tickq limit --json)");
    if (type != NULL && !job_name_valid(type, JOB_TYPE_MAX))
        return cli_usage_error(usage, "'%s' is not a task type name (1 to %d letters, digits, '_', '-' or '.')", type,
                               JOB_TYPE_MAX);
    long long slots = 0;
    if (rest == 2 && cli_parse_int(argv[optind + 1], 0, QUEUE_LIMIT_MAX_SLOTS, &slots) != 0)
        return cli_usage_error(usage, "the limit '%s' is not a whole number from 0 to %d", argv[optind + 1],
                               QUEUE_LIMIT_MAX_SLOTS);
    if ((st = cli_connect(&cli.cfg, &cli.conn, &cli.q)) != 0)
        return st;
    if (type == NULL)
        st = list_limits(&cli.q, flags.as_json);
    else if (flags.clear)
        st = clear_limit(&cli.q, type);
    else
        st = set_limit(&cli.q, type, slots);
    cli_close(&cli);
    return st;
}

int cmd_limit(int argc, char **argv)
{
    /* No flag of this command takes a negative value: a negative number
     * is the limit N, refused as a limit. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (negative_number(argv[i]) && !value_of_flag(argv[i - 1]))
            return cli_usage_error(usage, "the limit '%s' is not a whole number from 0 to %d", argv[i],
                                   QUEUE_LIMIT_MAX_SLOTS);
    return limit_main(argc, argv);
}
