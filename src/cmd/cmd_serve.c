/* cmd_serve.c — `tickq serve`: the HTTP server alone, an API host with no
 * workers (docs/http.md): health, the cluster's metrics, the REST API. */
#include "cmd/commands.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/handler_setup.h"
#include "cmd/schedule_check.h"
#include "core/config_file.h"
#include "core/log.h"
#include "http/http_app.h"
#include "http/http_sampler.h"
#include "sched/schedule_config.h"

static const char usage[] =
    "usage: tickq serve [--http [ADDR:]PORT] [options]\n"
    "\n"
    "Serves health checks, Prometheus metrics (the cluster's: queue depths,\n"
    "totals, workers) and the REST API, with no workers (docs/http.md).\n"
    "\n"
    "  --http ADDR:PORT     where to listen (default: 127.0.0.1:8080); PORT alone\n"
    "                       binds 127.0.0.1; any other address needs\n"
    "                       $TICKQ_API_TOKEN (at least 16 characters), which every\n"
    "                       request but /health* must then send as\n"
    "                       'Authorization: Bearer TOKEN'\n"
    "  --log-format F       json (default) or logfmt\n"
    "  --log-level L        debug, info (default), warning or error\n"
    CLI_COMMON_HELP
    "\n"
    "The configuration file's schedules (--config) are what GET /api/schedules\n"
    "shows. Stops on SIGTERM or SIGINT.\n"
    "Exit status: 0 stopped, 64 bad usage, 69 cannot listen, 78 configuration\n"
    "error (a bad file, a non-loopback address without a token, a bad\n"
    "TICKQ_SAMPLE_MS).\n";

enum { OPT_HTTP = OPT_FIRST_COMMAND_OPTION, OPT_LOG_FORMAT, OPT_LOG_LEVEL };

static const struct option options[] = {
    { "http", required_argument, 0, OPT_HTTP },
    { "log-format", required_argument, 0, OPT_LOG_FORMAT },
    { "log-level", required_argument, 0, OPT_LOG_LEVEL },
    CLI_COMMON_OPTIONS,
    { 0, 0, 0, 0 }
};

typedef struct {
    config_t *cfg;
    http_bind_t bind;
} serve_flags_t;

static int on_flag(int opt, const char *arg, void *ctx)
{
    serve_flags_t *f = ctx;
    char why[300];
    switch (opt) {
    case OPT_HTTP:
        if (http_bind_parse(arg, &f->bind, why, sizeof why) != 0)
            return cli_usage_error(usage, "--http: %s", why);
        return 0;
    case OPT_LOG_FORMAT:
        if (log_parse_format(arg, &f->cfg->log_format) != 0)
            return cli_usage_error(usage, "--log-format '%s' is unknown: use json or logfmt", arg);
        return 0;
    case OPT_LOG_LEVEL:
        if (log_parse_level(arg, &f->cfg->log_level) != 0)
            return cli_usage_error(usage, "--log-level '%s' is unknown: use debug, info, warning or error", arg);
        return 0;
    default: return cli_unhandled_option(opt);
    }
}

int cmd_serve(int argc, char **argv)
{
    config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    serve_flags_t flags;
    memset(&flags, 0, sizeof flags);
    flags.cfg = &cfg;
    char err[1024];
    if (http_bind_parse("127.0.0.1:8080", &flags.bind, err, sizeof err) != 0)
        return cli_fail(EX_SOFTWARE, "%s", err);
    int st = cli_parse(argc, argv, options, usage, &cfg, on_flag, &flags);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    if (optind < argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    log_configure(cfg.log_format, cfg.log_level);
    if (config_resolve(&cfg, 1, err, sizeof err) != 0)
        return cli_fail(EX_CONFIG, "%s", err);
    const char *token = getenv("TICKQ_API_TOKEN");
    int64_t sample_ms;
    if (http_bind_check_token(&flags.bind, token, err, sizeof err) != 0 ||
        http_sampler_every_ms(&sample_ms, err, sizeof err) != 0)
        return cli_fail(EX_CONFIG, "%s", err);
    schedule_config_t schedules;
    memset(&schedules, 0, sizeof schedules);
    http_app_t app = { .cfg = &cfg, .role = HTTP_ROLE_SERVE, .cluster_metrics = 1, .instance = "" };
    const char *path = config_file_path(cfg.config_path);
    if (cfg.config_path != NULL || access(path, F_OK) == 0) {
        /* Its handler types first: a schedule may fire one of them. */
        if (handler_setup(path, NULL, NULL, 0, 0, err, sizeof err) != 0 ||
            schedule_config_load_any(&schedules, path, schedule_check_task, err, sizeof err) != 0)
            return cli_fail(EX_CONFIG, "%s", err);
        app.schedules = &schedules;
        app.schedules_path = path;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL); /* http_app_run waits for them */
    signal(SIGPIPE, SIG_IGN);
    st = http_app_run(&app, &flags.bind, token);
    http_app_close(&app);
    schedule_config_free(&schedules);
    return st;
}
