/* cli.h — what every tickq sub-command shares: the command table, usage
 * errors (exit 64), common flags (--redis-url, --prefix, --group, --config) and connecting to
 * Redis with the documented exit statuses (78 no/bad REDIS_URL, 69 Redis
 * unreachable, 75 Redis out of memory: cli_queue_exit; 4 a job id exists:
 * CLI_EXIT_EXISTS). */
#ifndef TICKQ_CLI_H
#define TICKQ_CLI_H

#include <getopt.h>
#include <jansson.h>

#include "core/config.h"
#include "core/queue.h"
#include "core/rconn.h"

/* Long-option codes shared by all commands (above any short option). */
enum {
    OPT_REDIS_URL = 1000,
    OPT_PREFIX,
    OPT_GROUP,
    OPT_JSON,
    OPT_CONFIG_FILE,
    OPT_FIRST_COMMAND_OPTION = 1100
};

/* --config FILE (core/config_file.h): every command takes it. */
#define CLI_CONFIG_OPTION { "config", required_argument, 0, OPT_CONFIG_FILE }

#define CLI_CONFIG_HELP \
    "  --config FILE        tickq's configuration file (default: $TICKQ_CONFIG);\n" \
    "                       a named file is checked whole (docs/cli.md)\n"

#define CLI_COMMON_OPTIONS \
    CLI_CONFIG_OPTION, \
    { "redis-url", required_argument, 0, OPT_REDIS_URL }, \
    { "prefix", required_argument, 0, OPT_PREFIX }, \
    { "group", required_argument, 0, OPT_GROUP }, \
    { "help", no_argument, 0, 'h' }

#define CLI_COMMON_HELP \
    CLI_CONFIG_HELP \
    "  --redis-url URL      Redis to use (default: $REDIS_URL)\n" \
    "  --prefix P           prefix of tickq's own keys (default: $TICKQ_PREFIX or tickq)\n" \
    "  --group NAME         consumer group of the workers (default: $TICKQ_GROUP or workers)\n" \
    "  -h, --help           this help\n"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command_t;

/* A command's own flag: called for each option that is not a common one.
 * Returns 0, or an exit status (usually from cli_usage_error). */
typedef int (*cli_flag_fn)(int opt, const char *arg, void *ctx);

#define CLI_HELP (-1)

/* The exit status of a command that enqueues (enqueue, enqueue --file, flow
 * add) when a job id it was given exists and nothing was enqueued for it. */
#define CLI_EXIT_EXISTS 4

/* Loads the environment settings into *cfg, then parses argv: the common
 * flags, --help (prints the usage and returns CLI_HELP), unknown flags
 * (cli_refused_option: what was wrong and the synopsis, 64) and the command's own flags through on_flag (may be NULL).
 * Then cfg->config_path is the file the user named (--config, else
 * $TICKQ_CONFIG, else NULL), checked (cli_check_config_file). Returns 0
 * with the positional arguments at argv[optind..], CLI_HELP, or an exit
 * status. */
int cli_parse(int argc, char **argv, const struct option *options, const char *usage,
              config_t *cfg, cli_flag_fn on_flag, void *ctx);

/* What a command that talks to Redis opens with (cli_open). */
typedef struct {
    const struct option *options;
    const char *usage;
    cli_flag_fn on_flag;         /* the command's own flags; may be NULL */
    void *ctx;                   /* on_flag's */
    const char *arg_name;        /* exactly one positional argument ("job ID"); NULL: none */
} cli_spec_t;

/* A command's session with Redis, opened by cli_open: its configuration,
 * its positional argument, the connection and the queue over it. */
typedef struct {
    config_t cfg;
    const char *arg;             /* the positional argument (spec->arg_name); NULL: none */
    rconn_t *conn;
    queue_t q;
} cli_session_t;

/* The opening of such a command: cli_parse, then its positional argument
 * (into cli->arg, when spec->arg_name) or none, then cli_connect. Returns 0
 * with cli->conn and cli->q ready (cli_close ends it), CLI_HELP, or an exit
 * status after printing why (nothing to close). */
int cli_open(int argc, char **argv, const cli_spec_t *spec, cli_session_t *cli);

/* cli_open for a command whose one positional argument is a logical queue
 * name (spec->arg_name is not used): the name is checked (queue_name_check)
 * before connecting, a bad one a usage error naming the rule (64). */
int cli_open_queue(int argc, char **argv, const cli_spec_t *spec, cli_session_t *cli);

/* After cli_parse: exactly one positional argument (`what`, e.g. "job
 * ID"): 0 and *out, or 64 after printing why. */
int cli_one_arg(int argc, char **argv, const char *usage, const char *what, const char **out);

/* Closes cli_open's connection. */
void cli_close(cli_session_t *cli);

/* The on_flag of a command whose only flag is --wait SECONDS (ctx: a
 * cli_wait_t holding the command's usage and its default wait). */
typedef struct {
    const char *usage;
    int64_t ms;
} cli_wait_t;
int cli_wait_flag(int opt, const char *arg, void *wait);

/* Checks the configuration file the user named (config_file_named(given):
 * --config, else $TICKQ_CONFIG) and returns it in *named (NULL: none), for
 * a command whatever sections it reads: 0, or 78 after printing why. */
int cli_check_config_file(const char *given, const char **named);

/* Parses a --wait style flag in seconds (fractions and units allowed). */
int cli_seconds(const char *usage, const char *flag, const char *arg, int64_t *ms);

/* Prints "tickq: message", the usage's synopsis and the command's --help
 * to stderr; returns 64. */
int cli_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For the option a command's table has and its on_flag does not (a bug):
 * asserts; 70 (EX_SOFTWARE) without assertions. */
int cli_unhandled_option(int opt);
/* After getopt_long returned '?' (with opterr 0): says what was wrong with
 * argv[optind - 1] as cli_usage_error does: an unknown option (with the
 * closest of `options` when it looks like a typo), an ambiguous
 * abbreviation, a value missing, or one given to a flag that takes none.
 * `shorts`: the short options' getopt string. Returns 64. */
int cli_refused_option(const char *usage, const struct option *options, const char *shorts, int argc, char **argv);

/* Prints an error "tickq: message" to stderr and returns `status`. */
int cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The exit status of a failed queue call, one mapping for every command:
 * 75 (EX_TEMPFAIL) when Redis refused to write for lack of memory (try
 * again later), 78 for another tickq protocol version, 65 for a refused
 * job, else 69 (Redis unavailable or answering with an error). */
int cli_queue_exit(queue_status_t st);

/* Resolves the config, connects and PINGs. Returns 0 with *conn set and *q
 * ready (queue_init + config_apply), or the exit status after printing why. */
int cli_connect(config_t *cfg, rconn_t **conn, queue_t *q);

/* Parses a non-negative integer flag value; -1 when it is not one. */
int cli_parse_int(const char *s, long long min, long long max, long long *out);

/* The value of `name` in a stream entry's field list (name, value, ...), or
 * "" when it has none. */
const char *cli_entry_field(const redisReply *fields, const char *name);

/* Prints o as one line of compact JSON, each real in its shortest exact
 * text (json_exact.h), and releases it (listings' --json). */
void cli_print_json_line(json_t *o);
/* The same, its reals with `digits` significant digits (1 to 17). */
void cli_print_json_line_digits(json_t *o, int digits);

#endif
