/* cli.c — what every tickq sub-command shares. */
#include "cmd/cli.h"

#include "core/clock.h"
#include "core/close_match.h"
#include "core/config_file.h"
#include "core/json_exact.h"

#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

static int common_option(int opt, const char *arg, config_t *cfg)
{
    switch (opt) {
    case OPT_CONFIG_FILE:
        cfg->config_path = arg;
        return 1;
    case OPT_REDIS_URL:
        cfg->redis_url = arg;
        return 1;
    case OPT_PREFIX:
        if (config_set_name(cfg->prefix, sizeof cfg->prefix, arg) != 0)
            return cli_fail(EX_USAGE, "--prefix '%s' is not a valid key prefix: use 1-63 of A-Z a-z 0-9 _ - . { }", arg);
        return 1;
    case OPT_GROUP:
        if (config_set_name(cfg->group, sizeof cfg->group, arg) != 0)
            return cli_fail(EX_USAGE, "--group '%s' is not a valid name: use 1-63 of A-Z a-z 0-9 _ - .", arg);
        return 1;
    default:
        return 0;
    }
}

int cli_parse(int argc, char **argv, const struct option *options, const char *usage,
              config_t *cfg, cli_flag_fn on_flag, void *ctx)
{
    char err[1024];
    if (config_init(cfg, err, sizeof err) != 0)
        return cli_fail(EX_CONFIG, "%s", err);
    int opt;
    opterr = 0; /* cli_refused_option says what was wrong */
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        int common = common_option(opt, optarg, cfg);
        if (common == 1)
            continue;
        if (common > 1)
            return common;
        if (opt == 'h') {
            fputs(usage, stdout);
            return CLI_HELP;
        }
        if (opt == '?')
            return cli_refused_option(usage, options, "h", argc, argv);
        if (on_flag == NULL)
            return cli_unhandled_option(opt);
        int st = on_flag(opt, optarg, ctx);
        if (st != 0)
            return st;
    }
    return cli_check_config_file(cfg->config_path, &cfg->config_path);
}

int cli_check_config_file(const char *given, const char **named)
{
    char err[1024];
    *named = config_file_named(given);
    if (*named != NULL && config_file_check(*named, err, sizeof err) != 0)
        return cli_fail(EX_CONFIG, "%s", err);
    return 0;
}

int cli_one_arg(int argc, char **argv, const char *usage, const char *what, const char **out)
{
    if (argc - optind < 1)
        return cli_usage_error(usage, "missing %s", what);
    if (argc - optind > 1)
        return cli_usage_error(usage, "expected one %s, got '%s' too", what, argv[optind + 1]);
    *out = argv[optind];
    return 0;
}

int cli_open(int argc, char **argv, const cli_spec_t *spec, cli_session_t *cli)
{
    memset(cli, 0, sizeof *cli);
    int st = cli_parse(argc, argv, spec->options, spec->usage, &cli->cfg, spec->on_flag, spec->ctx);
    if (st != 0)
        return st;
    if (spec->arg_name != NULL)
        st = cli_one_arg(argc, argv, spec->usage, spec->arg_name, &cli->arg);
    else if (optind < argc)
        st = cli_usage_error(spec->usage, "unexpected argument '%s'", argv[optind]);
    if (st != 0)
        return st;
    if ((st = cli_connect(&cli->cfg, &cli->conn, &cli->q)) == 0)
        rconn_fail_on_noperm(cli->conn); /* a refused read is no "not found" */
    return st;
}

void cli_close(cli_session_t *cli)
{
    rconn_free(cli->conn);
    cli->conn = NULL;
}

int cli_wait_flag(int opt, const char *arg, void *wait)
{
    (void)opt; /* --wait is the only one */
    cli_wait_t *w = wait;
    return cli_seconds(w->usage, "--wait", arg, &w->ms);
}

int cli_seconds(const char *usage, const char *flag, const char *arg, int64_t *ms)
{
    if (clock_parse_duration(arg, 1000, ms) != 0)
        return cli_usage_error(usage, "%s '%s' is not a number of seconds (e.g. 10, 0.5, 2m)", flag, arg);
    return 0;
}

/* The usage's synopsis (its lines up to the first blank one) and where
 * the rest is: "Run 'tickq enqueue --help' for every option.", the
 * command being the word after "usage: tickq ". */
static void print_synopsis(FILE *out, const char *usage)
{
    const char *blank = strstr(usage, "\n\n");
    fwrite(usage, 1, blank != NULL ? (size_t)(blank - usage) + 1 : strlen(usage), out);
    static const char lead[] = "usage: tickq ";
    if (strncmp(usage, lead, sizeof lead - 1) != 0)
        return;
    const char *cmd = usage + sizeof lead - 1;
    size_t len = strspn(cmd, "abcdefghijklmnopqrstuvwxyz-");
    if (len > 0 && cmd[0] != '-')
        fprintf(out, "Run 'tickq %.*s --help' for every option.\n", (int)len, cmd);
}

int cli_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tickq: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    print_synopsis(stderr, usage);
    va_end(ap);
    return EX_USAGE;
}

int cli_unhandled_option(int opt)
{
    assert(!"an option of the command's table has no case in its on_flag");
    return cli_fail(EX_SOFTWARE, "internal error: option %d has no handler", opt);
}

int cli_refused_option(const char *usage, const struct option *options, const char *shorts, int argc, char **argv)
{
    const char *given = optind - 1 < argc && optind > 0 ? argv[optind - 1] : "";
    /* Inside a bundle of short flags ("-json": j unknown, s o n still to
     * come) getopt has not moved optind past it yet. */
    const char *next = optind < argc ? argv[optind] : "";
    if (optopt > 0 && optopt < 256 && next[0] == '-' && next[1] != '-' && strchr(next + 1, optopt) != NULL)
        given = next;
    if (strncmp(given, "--", 2) != 0) { /* a short one: -x unknown, or -n without its value */
        for (size_t i = 0; given[0] == '-' && given[1] != '\0' && options[i].name != NULL; i++)
            if (strcmp(options[i].name, given + 1) == 0 && !strchr(shorts, optopt))
                return cli_usage_error(usage, "unknown option '-%c' (in '%s': did you mean --%s?)", optopt, given,
                                       options[i].name);
        if (optopt != 0 && optopt != ':' && strchr(shorts, optopt) != NULL)
            return cli_usage_error(usage, "-%c needs a value", optopt);
        return cli_usage_error(usage, "unknown option '-%c'", optopt != 0 ? optopt : '?');
    }
    const char *name = given + 2, *eq = strchr(name, '=');
    size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    const char *names[128];
    size_t n = 0, prefixed = 0, exact = (size_t)-1;
    for (size_t i = 0; options[i].name != NULL; i++, n++) {
        assert(n < sizeof names / sizeof names[0]); /* a command's table: 50 options at most today */
        names[n] = options[i].name;
        if (strncmp(names[n], name, len) == 0) {
            prefixed++;
            if (names[n][len] == '\0')
                exact = n;
        }
    }
    if (exact != (size_t)-1 || prefixed == 1) { /* known: a value missing, or one it takes none of */
        if (eq != NULL)
            return cli_usage_error(usage, "--%.*s takes no value (got '%s')", (int)len, name, eq + 1);
        return cli_usage_error(usage, "%s needs a value", given);
    }
    if (prefixed > 1) {
        char list[512] = "";
        size_t used = 0;
        for (size_t i = 0; i < n && used < sizeof list; i++)
            if (strncmp(names[i], name, len) == 0)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s--%s", used ? ", " : "", names[i]);
        return cli_usage_error(usage, "option '--%.*s' is ambiguous: %s", (int)len, name, list);
    }
    char word[80];
    snprintf(word, sizeof word, "%.*s", (int)(len < 70 ? len : 70), name);
    size_t best;
    if (close_match_find(word, names, n, &best, 1) == 1)
        return cli_usage_error(usage, "unknown option '--%.*s' (did you mean --%s?)", (int)len, name, names[best]);
    return cli_usage_error(usage, "unknown option '--%.*s'", (int)len, name);
}

int cli_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tickq: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

int cli_parse_int(const char *s, long long min, long long max, long long *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_queue_exit(queue_status_t st)
{
    switch (st) {
    case QUEUE_ERR_OOM: return EX_TEMPFAIL;
    case QUEUE_ERR_PROTOCOL: return EX_CONFIG;
    case QUEUE_ERR_INVALID: return EX_DATAERR;
    default: return EX_UNAVAILABLE;
    }
}

int cli_connect(config_t *cfg, rconn_t **conn, queue_t *q)
{
    char err[1024];
    if (config_resolve(cfg, 1, err, sizeof err) != 0)
        return cli_fail(EX_CONFIG, "%s", err);
    rconn_t *c = rconn_open(&cfg->url, cfg->command_timeout_ms, err, sizeof err);
    if (c == NULL)
        return cli_fail(EX_UNAVAILABLE, "%s", err);
    redisReply *r = rconn_cmd(c, err, sizeof err, "PING");
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        char where[4400];
        redis_url_describe(&cfg->url, where, sizeof where);
        cli_fail(EX_UNAVAILABLE, "Redis at %s does not answer PING: %s", where, r ? r->str : err);
        freeReplyObject(r);
        rconn_free(c);
        return EX_UNAVAILABLE;
    }
    freeReplyObject(r);
    *conn = c;
    queue_init(q, c);
    config_apply(cfg, q);
    return 0;
}

const char *cli_entry_field(const redisReply *fields, const char *name)
{
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        if (strcmp(fields->element[i]->str, name) == 0)
            return fields->element[i + 1]->str;
    return "";
}

/* Prints text (o's dump; taken, may be NULL) as one line and releases o. */
static void print_dump_line(char *text, json_t *o)
{
    if (text != NULL)
        printf("%s\n", text);
    free(text);
    json_decref(o);
}

void cli_print_json_line(json_t *o)
{
    print_dump_line(json_exact_dumps(o, JSON_COMPACT), o);
}

void cli_print_json_line_digits(json_t *o, int digits)
{
    print_dump_line(json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(digits)), o);
}

int cli_open_queue(int argc, char **argv, const cli_spec_t *spec, cli_session_t *cli)
{
    char err[256];
    memset(cli, 0, sizeof *cli);
    int st = cli_parse(argc, argv, spec->options, spec->usage, &cli->cfg, spec->on_flag, spec->ctx);
    if (st == 0)
        st = cli_one_arg(argc, argv, spec->usage, "queue name", &cli->arg);
    if (st != 0)
        return st;
    if (queue_name_check(cli->arg, err, sizeof err) != 0)
        return cli_usage_error(spec->usage, "%s (a logical queue: all its priorities)", err);
    return cli_connect(&cli->cfg, &cli->conn, &cli->q);
}
