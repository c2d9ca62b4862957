/* test_task_schema.c — task argument tables: validation messages, typo
 * suggestions, defaults, and every registered table keeping the rules. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "core/task.h"
#include "unit.h"

/* Checks args (JSON text) for a registered task; returns the error text
 * ("" when they pass). */
static const char *check(const char *task, const char *args_text)
{
    static char err[1024];
    json_t *args = json_loads(args_text, 0, NULL);
    err[0] = '\0';
    if (args == NULL)
        return "(bad test JSON)";
    if (task_check(task_find(task), args, TASK_CHECK_CLIENT, err, sizeof err) == 0)
        err[0] = '\0';
    json_decref(args);
    return err;
}

static const char *const code = "\"strategy_code\": \"function s(df) return {} end\", \"symbols\": [\"AAA\"], "
                                "\"start_date\": \"2024-01-01\", \"end_date\": \"2024-12-31\"";

static int contains(const char *s, const char *part)
{
    if (strstr(s, part) != NULL)
        return 1;
    fprintf(stderr, "    \"%s\" does not contain \"%s\"\n", s, part);
    return 0;
}

TEST(schema_unknown_argument_names_the_close_match_and_the_accepted_ones)
{
    char args[512];
    snprintf(args, sizeof args, "{%s, \"hold_bar\": 5}", code);
    const char *e = check("backtest", args);
    CHECK(contains(e, "unknown argument 'hold_bar' (did you mean 'hold_bars'?)"));
    CHECK(contains(e, "(backtest takes: strategy_code, symbols, start_date, end_date, hold_bars, commission_bps"));
    snprintf(args, sizeof args, "{%s, \"comission_bps\": 5}", code);
    CHECK(contains(check("backtest", args), "unknown argument 'comission_bps' (did you mean 'commission_bps'?)"));
    snprintf(args, sizeof args, "{%s, \"Hold_Bars\": 5}", code);
    CHECK(contains(check("backtest", args), "(did you mean 'hold_bars'?)"));
    /* Far from every name: no guess. */
    snprintf(args, sizeof args, "{%s, \"colour\": \"red\"}", code);
    e = check("backtest", args);
    CHECK(contains(e, "unknown argument 'colour' (backtest takes:"));
    CHECK(strstr(e, "did you mean") == NULL);
    /* A task without arguments says so. */
    CHECK(contains(check("noop", "{\"x\": 1}"), "unknown argument 'x' (noop takes no arguments)"));
    /* echo takes any object. */
    CHECK_STR(check("echo", "{\"anything\": [1, {\"a\": null}]}"), "");
}

TEST(schema_outer_table_passes_other_keys_to_the_inner_one)
{
    const task_arg_t own[] = { { .name = "objective", .type = TASK_ARG_STRING, .str = "sharpe", .doc = "d" },
                               { .name = "params", .type = TASK_ARG_BOOL, .doc = "d" }, { .name = NULL } };
    const task_arg_t in[] = { { .name = "hold_bars", .type = TASK_ARG_INT, .min = 1, .max = 9, .num = 1, .doc = "d" },
                              { .name = "params", .type = TASK_ARG_BOOL, .doc = "d" }, { .name = NULL } };
    char err[512];
    /* A key of neither: the close match among both, both lists (params,
     * the outer task's, once); the inner task's values are not judged. */
    json_t *a = json_pack("{s:s, s:i}", "objectiv", "x", "hold_bars", 50);
    CHECK(task_schema_check_outer("outer", own, "inner", in, a, err, sizeof err) == -1);
    CHECK_STR(err, "unknown argument 'objectiv' (did you mean 'objective'?) (outer takes: objective, params; the "
                   "others go to inner, which takes: hold_bars)");
    json_decref(a);
    a = json_pack("{s:i}", "hold_bar", 5);
    CHECK(task_schema_check_outer("outer", own, "inner", in, a, err, sizeof err) == -1);
    CHECK(contains(err, "unknown argument 'hold_bar' (did you mean 'hold_bars'?)"));
    /* No inner task named: the other keys unjudged; an inner task that
     * takes any object: every key its. Its own values still checked. */
    CHECK(task_schema_check_outer("outer", own, NULL, NULL, a, err, sizeof err) == 0);
    CHECK(task_schema_check_outer("outer", own, "inner", NULL, a, err, sizeof err) == 0);
    json_object_set_new(a, "objective", json_integer(5));
    CHECK(task_schema_check_outer("outer", own, NULL, NULL, a, err, sizeof err) == -1);
    CHECK(contains(err, "objective must be a non-empty string, got 5"));
    json_decref(a);
}

TEST(schema_optimize_takes_its_own_keys_and_its_strategy_tasks)
{
    char args[768];
    const char *grid = "\"params\": {\"fast\": [5, 10]}";
    /* Its own key misspelt: the close match, its names and the strategy
     * task's (params once: optimize's own). */
    snprintf(args, sizeof args, "{%s, %s, \"objectiv\": \"sharpe\"}", code, grid);
    const char *e = check("optimize", args);
    CHECK(contains(e, "unknown argument 'objectiv' (did you mean 'objective'?) (optimize takes: task, params, "
                      "constraints, objective, direction, top, chunk_size, walk_forward; the others go to "
                      "portfolio_backtest, which takes: strategy_code, symbols, start_date, end_date, score_from,"));
    CHECK(strstr(strstr(e, "the others go to"), "params") == NULL);
    snprintf(args, sizeof args, "{%s, %s, \"chunksize\": 5}", code, grid);
    CHECK(contains(check("optimize", args), "unknown argument 'chunksize' (did you mean 'chunk_size'?)"));
    /* The strategy task's misspelt, by the task it names. */
    snprintf(args, sizeof args, "{%s, %s, \"task\": \"backtest\", \"hold_bar\": 5}", code, grid);
    e = check("optimize", args);
    CHECK(contains(e, "unknown argument 'hold_bar' (did you mean 'hold_bars'?)"));
    CHECK(contains(e, "; the others go to backtest, which takes: strategy_code,"));
    snprintf(args, sizeof args, "{%s, %s, \"comission_bps\": 5}", code, grid);
    CHECK(contains(check("optimize", args), "unknown argument 'comission_bps' (did you mean 'commission_bps'?)"));
    /* Its own values by its table, the strategy task's by the task's. */
    snprintf(args, sizeof args, "{%s, %s, \"top\": 0, \"direction\": \"up\"}", code, grid);
    CHECK_STR(check("optimize", args), "direction must be one of maximize, minimize, got \"up\"; "
                                       "top must be an integer from 1 to 10000, got 0");
    snprintf(args, sizeof args, "{%s, %s, \"commission_bps\": -1}", code, grid);
    CHECK(contains(check("optimize", args), "commission_bps must be a number from 0 to 10000, got -1"));
    snprintf(args, sizeof args, "{%s}", code);
    CHECK(contains(check("optimize", args), "missing params: the grid ("));
    /* A task it does not run: that alone, the other keys unjudged. */
    snprintf(args, sizeof args, "{%s, %s, \"task\": \"echo\", \"x\": 1}", code, grid);
    CHECK_STR(check("optimize", args), "task must be one of portfolio_backtest, backtest, screening, got \"echo\"");
    /* null is absent; what passes both tables and the checks passes. */
    snprintf(args, sizeof args, "{%s, %s, \"walk_forward\": null, \"top\": null, \"constraints\": \"fast > 5\", "
             "\"commission_bps\": 5}", code, grid);
    CHECK_STR(check("optimize", args), "");
    /* A chunk made by hand is checked by its table. */
    CHECK(contains(check("optimize_chunk", "{\"task\": \"backtest\"}"),
                   "missing args, combinations and objective (tickq tasks optimize_chunk says what each is)"));
}

TEST(schema_types_ranges_and_required)
{
    char args[512];
    snprintf(args, sizeof args, "{%s, \"hold_bars\": 0}", code);
    CHECK_STR(check("backtest", args), "hold_bars must be an integer from 1 to 10000, got 0");
    snprintf(args, sizeof args, "{%s, \"hold_bars\": \"5\"}", code);
    CHECK_STR(check("backtest", args), "hold_bars must be an integer from 1 to 10000, got \"5\"");
    snprintf(args, sizeof args, "{%s, \"hold_bars\": 2.5}", code);
    CHECK_STR(check("backtest", args), "hold_bars must be an integer from 1 to 10000, got 2.5");
    snprintf(args, sizeof args, "{%s, \"commission_bps\": -1}", code);
    CHECK_STR(check("backtest", args), "commission_bps must be a number from 0 to 10000, got -1");
    snprintf(args, sizeof args, "{%s, \"strategy_timeout_seconds\": 0}", code);
    CHECK_STR(check("backtest", args),
              "strategy_timeout_seconds must be a number above 0 and at most 86400, got 0");
    snprintf(args, sizeof args, "{%s, \"language\": \"ruby\"}", code);
    CHECK_STR(check("backtest", args), "language must be one of lua, python, got \"ruby\"");
    snprintf(args, sizeof args, "{%s, \"interval\": \"daily\"}", code);
    CHECK_STR(check("backtest", args), "interval must be like 1d, 1h, 15m or 1wk, got 'daily'");
    CHECK(contains(check("backtest", "{\"symbols\": [\"AAA\"], \"start_date\": \"2024-01-01\", "
                                     "\"end_date\": \"2024-01-02\"}"),
                   "missing strategy_code: "));
    CHECK(contains(check("backtest", "{\"strategy_code\": \"x\", \"symbols\": [\"A B\"], "
                                     "\"start_date\": \"2024-01-01\", \"end_date\": \"2024-01-02\"}"),
                   "symbols[0] is not a valid symbol"));
    CHECK(contains(check("backtest", "{\"strategy_code\": \"x\", \"symbols\": [], "
                                     "\"start_date\": \"2024-01-01\", \"end_date\": \"2024-01-02\"}"),
                   "symbols must be a non-empty list"));
    CHECK(contains(check("backtest", "{\"strategy_code\": \"x\", \"symbols\": [\"AAA\"], "
                                     "\"start_date\": \"2024-13-01\", \"end_date\": \"2024-01-02\"}"),
                   "start_date must be an ISO 8601 date or time"));
    /* The task's own check: one argument against another. */
    CHECK_STR(check("backtest", "{\"strategy_code\": \"x\", \"symbols\": [\"AAA\"], "
                                "\"start_date\": \"2024-02-01\", \"end_date\": \"2024-01-02\"}"),
              "start_date 2024-02-01 is after end_date 2024-01-02");
    /* Several problems are named together. */
    const char *e = check("scan_opportunities", "{\"limit\": 0, \"min_volume\": 1.5, \"as_of\": \"May 1\"}");
    CHECK(contains(e, "as_of must be a date like 2024-03-15, from 1970-01-01 to 9999-12-31, got \"May 1\""));
    CHECK(contains(e, "min_volume must be an integer from 0 to 1e15, got 1.5"));
    CHECK(contains(e, "limit must be an integer from 1 to 100000, got 0"));
    /* Before 1970 an options date would read as "absent": refused instead. */
    CHECK_STR(check("calculate_iv_analysis", "{\"symbols\": [\"AAA\"], \"as_of\": \"1969-12-31\"}"),
              "as_of must be a date like 2024-03-15, from 1970-01-01 to 9999-12-31, got \"1969-12-31\"");
    /* null is absent; "all" where a list or "all" is taken. */
    CHECK_STR(check("scan_opportunities", "{\"limit\": null, \"symbols\": \"all\"}"), "");
    CHECK_STR(check("calculate_iv_analysis", "{\"symbols\": \"everything\"}"),
              "symbols is the string 'everything': give a list like [\"AAPL\", \"MSFT\"], or \"all\"");
    CHECK(contains(check("calculate_iv_analysis", "{\"symbols\": 5}"),
                   "symbols must be a non-empty list or \"all\" (of at most 5000 symbols"));
    CHECK(contains(check("update_options_data", "{\"symbols\": [\"AAA\"], \"provider\": {\"type\": \"nope\"}}"),
                   "provider.type 'nope' is unknown"));
}

TEST(schema_defaults_come_from_the_table)
{
    json_t *args = json_pack("{s:s, s:n}", "strategy_code", "x", "hold_bars");
    const task_def_t *bt = task_find("backtest");
    task_ctx_t ctx = { .job_id = "id", .type = "backtest", .queue = "q", .worker_id = "w", .attempt = 1, .args = args, .timeout_ms = 1000, .task = bt };
    CHECK_INT(task_arg_int(&ctx, "hold_bars"), 1);
    CHECK(task_arg_number(&ctx, "commission_bps") == 0);
    CHECK(task_arg_number(&ctx, "strategy_timeout_seconds") == 30);
    CHECK_STR(task_arg_string(&ctx, "interval"), "1d");
    CHECK(task_arg_string(&ctx, "language") == NULL);
    CHECK(!task_arg_given(&ctx, "hold_bars"));
    json_object_set_new(args, "hold_bars", json_integer(7));
    CHECK_INT(task_arg_int(&ctx, "hold_bars"), 7);
    CHECK(task_arg_given(&ctx, "hold_bars"));
    json_decref(args);
}

TEST(schema_suggestions)
{
    const task_arg_t *t = task_find("screening")->args;
    CHECK_STR(task_schema_suggest(t, "univers"), "universe");
    CHECK_STR(task_schema_suggest(t, "lookback"), "lookback_bars") ; /* 5 edits, but a prefix of 8 */
    CHECK(task_schema_suggest(t, "x") == NULL);
}

TEST(schema_every_registered_table_keeps_the_rules)
{
    size_t n;
    const task_def_t *const *all = task_all(&n);
    CHECK(n >= 11);
    for (size_t i = 0; i < n; i++) {
        char err[256];
        if (task_schema_lint(all[i]->args, err, sizeof err) != 0)
            unit_fail(__FILE__, __LINE__, "task %s: %s", all[i]->name, err);
        CHECK(all[i]->summary != NULL && all[i]->summary[0] != '\0');
        /* Every task declares its arguments; only echo takes any object. */
        if (all[i]->args == NULL && strcmp(all[i]->name, "echo") != 0)
            unit_fail(__FILE__, __LINE__, "task %s declares no argument table", all[i]->name);
        if (all[i]->inner != NULL && (all[i]->args == NULL || all[i]->inner_doc == NULL))
            unit_fail(__FILE__, __LINE__, "task %s runs an inner task without its own table and inner_doc",
                      all[i]->name);
    }
}

TEST(schema_lint_finds_broken_tables)
{
    char err[256];
    const task_arg_t twice[] = { { .name = "a", .type = TASK_ARG_BOOL, .doc = "x" },
                                 { .name = "a", .type = TASK_ARG_BOOL, .doc = "x" }, { .name = NULL } };
    CHECK(task_schema_lint(twice, err, sizeof err) != 0);
    const task_arg_t no_default[] = { { .name = "s", .type = TASK_ARG_STRING, .doc = "x" }, { .name = NULL } };
    CHECK(task_schema_lint(no_default, err, sizeof err) != 0);
    const task_arg_t out_of_range[] = { { .name = "n", .type = TASK_ARG_INT, .min = 1, .max = 5, .num = 9,
                                          .doc = "x" }, { .name = NULL } };
    CHECK(task_schema_lint(out_of_range, err, sizeof err) != 0);
    const task_arg_t no_doc[] = { { .name = "b", .type = TASK_ARG_BOOL }, { .name = NULL } };
    CHECK(task_schema_lint(no_doc, err, sizeof err) != 0);
    const task_arg_t any_unsaid[] = { { .name = "v", .type = TASK_ARG_ANY, .flags = TASK_ARG_REQUIRED, .doc = "x" },
                                      { .name = NULL } };
    CHECK(task_schema_lint(any_unsaid, err, sizeof err) != 0);
}

TEST(schema_message_order_unknown_then_values_then_missing)
{
    /* The accepted names follow the unknown keys, not the last problem. */
    CHECK_STR(check("screening", "{\"limt\": 5, \"lookback_bars\": 0}"),
              "unknown argument 'limt' (did you mean 'limit'?) (screening takes: strategy_code, universe, limit, "
              "as_of, lookback_bars, interval, language, entry, strategy_timeout_seconds, memory_mb, params); "
              "lookback_bars must be an integer from 1 to 100000, got 0; "
              "missing strategy_code and universe (tickq tasks screening says what each is)");
    CHECK_STR(check("sleep", "{}"), "missing ms: milliseconds to sleep (through signals: a graceful shutdown lets it "
                                    "finish)");
}
