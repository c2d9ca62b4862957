/* task_optimize.c — the `optimize` task: one strategy task (portfolio_backtest
 * by default, backtest, screening) run over many parameter combinations,
 * fanned out over every worker (docs/optimize.md).
 *
 * An optimize job runs twice. Its first attempt works out the combinations
 * (optimize_space.h), splits them into chunks and asks to wait for one
 * child job per chunk (TASK_WAIT_CHILDREN: the queue enqueues them and
 * defers the job until they have all ended). Each child, an `optimize_chunk`
 * job, runs the strategy task once per combination of its chunk, with the
 * combination as the strategy's params; the bars, features and the warm
 * frame come from the worker child's caches, so they are loaded once per
 * chunk, not per combination. When the children have completed, the job
 * runs again (its next attempt): it reads their rows (hooks->children),
 * ranks them by the objective and keeps the best, the top N and, for two
 * parameters, a heat map in its result, and the whole ranked table in the
 * database (optimize_results). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/job.h"
#include "core/json_exact.h"
#include "data/task_env_data.h"
#include "strategy/optimize_rank.h"
#include "strategy/optimize_space.h"
#include "strategy/optimize_walk.h"
#include "strategy/strategy.h"
#include "strategy/task_strategy.h"

#define OPTIMIZE_TOP_MAX 10000
#define OPTIMIZE_CHUNKS_DEFAULT 16   /* chunks when chunk_size is not given */
#define OBJECTIVE_MAX 64             /* bytes of a metric's name */

static int params_check(const char *what, const json_t *v, char *err, size_t errlen)
{
    (void)what;
    return optimize_space_check(v, err, errlen);
}

static int constraints_check(const char *what, const json_t *v, char *err, size_t errlen)
{
    (void)what;
    return optimize_constraints_check(v, err, errlen);
}

static int walk_forward_check(const char *what, const json_t *v, char *err, size_t errlen)
{
    walk_forward_t wf;
    (void)what;
    return walk_forward_parse(v, &wf, err, errlen);
}

/* optimize's own arguments; every other key is the strategy task's
 * (optimize_inner). What the table cannot say (constraints against params,
 * walk_forward against task and score_from, the strategy task's args with
 * one combination as its params) is optimize_check's. */
static const task_arg_t optimize_args[] = {
    { .name = "task", .type = TASK_ARG_ENUM, .choices = "portfolio_backtest, backtest, screening",
      .str = "portfolio_backtest", .doc = "the strategy task run for each combination" },
    { .name = "params", .type = TASK_ARG_OBJECT, .flags = TASK_ARG_REQUIRED, .check = params_check,
      .doc = "the grid ({\"fast\": [5, 10], \"slow\": {\"from\": 20, \"to\": 200, \"step\": 20}}) or a random sample "
             "({\"random\": N, \"seed\": S, \"space\": {...}}); each combination is the strategy's params" },
    { .name = "constraints", .type = TASK_ARG_ANY, .type_doc = "expression or list of expressions",
      .default_doc = "none", .check = constraints_check,
      .doc = "what a combination must meet (\"fast < slow\"); a list: all must hold (at most 32 of 512 characters)" },
    { .name = "objective", .type = TASK_ARG_STRING, .max = OBJECTIVE_MAX, .str = "sharpe",
      .doc = "the metric to rank by: a number in the task's performance_metrics, else its summary, else its result "
             "(total_return, max_drawdown, win_rate, ...)" },
    { .name = "direction", .type = TASK_ARG_ENUM, .choices = "maximize, minimize", .str = "maximize",
      .doc = "whether the best objective is the largest or the smallest" },
    { .name = "top", .type = TASK_ARG_INT, .min = 1, .max = OPTIMIZE_TOP_MAX, .num = 20,
      .doc = "how many ranked combinations the result lists" },
    { .name = "chunk_size", .type = TASK_ARG_INT, .min = 1, .max = OPTIMIZE_MAX_COMBINATIONS,
      .default_doc = "the combinations / 16, rounded up",
      .doc = "combinations per chunk job (a job makes at most 10000 chunks, all walk_forward folds together)" },
    { .name = "walk_forward", .type = TASK_ARG_OBJECT, .default_doc = "none", .check = walk_forward_check,
      .doc = "{\"train_bars\": N, \"test_bars\": N, \"anchored\": false}: rank on each fold's train window, run "
             "the best on its test window (portfolio_backtest only)" },
    { .name = NULL }
};

static int own_key(const char *k)
{
    return task_schema_find(optimize_args, k) != NULL;
}

/* The strategy task's args: args without optimize's keys (a new object). */
static json_t *task_args_of(const json_t *args)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)args, k, v)
        if (!own_key(k))
            json_object_set(out, k, v);
    return out;
}

/* The strategy task's name (args that passed the table). */
static const char *sub_name(const json_t *args)
{
    return task_schema_string(optimize_args, args, "task");
}

/* The task that takes the keys optimize's table does not: the strategy
 * task args name, NULL when their task is not one optimize runs. */
static const task_def_t *optimize_inner(const json_t *args)
{
    const json_t *t = json_object_get(args, "task");
    if (t != NULL && !json_is_null(t) && !task_schema_valid(task_schema_find(optimize_args, "task"), t))
        return NULL;
    return task_find(sub_name(args));
}

/* The combinations of args' params and constraints (a new array), or NULL
 * with err. */
static json_t *combinations_of(const json_t *args, size_t *space, char *err, size_t errlen)
{
    optimize_constraints_t *c = NULL;
    const json_t *params = json_object_get(args, "params");
    if (optimize_constraints_parse(json_object_get(args, "constraints"), params, &c, err, errlen) != 0)
        return NULL;
    json_t *out = optimize_combinations(params, c, space, err, errlen);
    optimize_constraints_free(c);
    return out;
}

/* The strategy task's args with one combination as params, checked as the
 * worker checks a job. 0, or -1 with err. */
static int check_sub(const task_def_t *sub, const json_t *sub_args, const json_t *combo, task_check_where_t where,
                     char *err, size_t errlen)
{
    json_t *one = json_copy((json_t *)sub_args);
    json_object_set(one, "params", (json_t *)combo);
    char why[1500];
    int rc = task_check(sub, one, where, why, sizeof why);
    json_decref(one);
    if (rc != 0)
        snprintf(err, errlen, "%s", why);
    return rc;
}

/* What optimize's table cannot say (it has passed): walk_forward against
 * task and score_from, constraints against params, and the strategy task's
 * args with the first combination as its params. */
static int optimize_check(const json_t *args, task_check_where_t where, char *err, size_t errlen)
{
    const task_def_t *sub = task_find(sub_name(args));
    if (sub == NULL) {
        snprintf(err, errlen, "task %s is not registered in this build", sub_name(args));
        return -1;
    }
    walk_forward_t wf;
    int on;
    if (walk_forward_read(args, &on, &wf, err, errlen) != 0)
        return -1;
    size_t space;
    json_t *combos = combinations_of(args, &space, err, errlen);
    if (combos == NULL)
        return -1;
    json_t *sub_args = task_args_of(args);
    int rc = check_sub(sub, sub_args, json_array_get(combos, 0), where, err, errlen);
    json_decref(sub_args);
    json_decref(combos);
    return rc;
}

/* --- the chunks ------------------------------------------------------------ */

/* The objective's value in a strategy task's result data: its
 * performance_metrics, else its summary, else the data itself; NULL when
 * none of them has it as a number (or null). */
static const json_t *objective_in(const json_t *data, const char *objective)
{
    static const char *const places[] = { "performance_metrics", "summary" };
    for (size_t i = 0; i < 2; i++) {
        const json_t *v = json_object_get(json_object_get(data, places[i]), objective);
        if (json_is_number(v) || json_is_null(v))
            return v;
    }
    const json_t *v = json_object_get(data, objective);
    return json_is_number(v) || json_is_null(v) ? v : NULL;
}

/* The metrics a row keeps: performance_metrics and summary when the task
 * gives them, else the numbers of its data. */
static json_t *metrics_of(const json_t *data)
{
    json_t *m = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(data, "performance_metrics"), k, v)
        json_object_set(m, k, v);
    json_object_foreach(json_object_get(data, "summary"), k, v)
        if (json_is_number(v) && json_object_get(m, k) == NULL)
            json_object_set(m, k, v);
    json_object_foreach((json_t *)data, k, v)
        if (json_is_number(v) && json_object_get(m, k) == NULL && strcmp(k, "execution_time_ms") != 0 &&
            strcmp(k, "execution_time_seconds") != 0)
            json_object_set(m, k, v);
    return m;
}

/* A chunk's batch results (task_portfolio_sweep), freed. */
static void batch_free(json_t **batch, strategy_split_t *splits, size_t n)
{
    for (size_t k = 0; batch != NULL && k < n; k++)
        json_decref(batch[k]);
    free(batch);
    free(splits);
}

static task_status_t task_optimize_chunk(const task_ctx_t *ctx, task_out_t *out)
{
    int64_t t0 = clock_mono_us();
    const json_t *args = ctx->args;
    const task_def_t *sub = task_find(json_string_value(json_object_get(args, "task")));
    const json_t *sub_args = json_object_get(args, "args"), *combos = json_object_get(args, "combinations");
    const char *objective = json_string_value(json_object_get(args, "objective"));
    json_t *rows = json_array();
    size_t i, failed = 0, measured = 0;
    const json_t *combo;
    double run_ms = 0, split[4] = { 0, 0, 0, 0 }; /* strategy, finish, sandbox, the task's own setup */
    size_t n = json_array_size(combos);
    json_t **batch = calloc(n ? n : 1, sizeof *batch);
    strategy_split_t *bsplit = calloc(n ? n : 1, sizeof *bsplit);
    double batch_setup_ms = 0; /* per run the batch gave: its share of the task's own setup */
    if (batch != NULL && bsplit != NULL && strcmp(sub->name, "portfolio_backtest") == 0) {
        /* The fast path: every combination in one sandbox. What it did not
         * complete (an error, a limit) runs alone below, for its own
         * outcome, exactly as a single run gives it. */
        task_ctx_t c = *ctx;
        c.args = sub_args;
        c.task = sub;
        c.type = sub->name;
        task_out_t o;
        memset(&o, 0, sizeof o);
        int64_t b0 = clock_mono_us();
        task_portfolio_sweep(&c, combos, batch, bsplit, &o);
        double batch_ms = (double)(clock_mono_us() - b0) / 1000.0, in_runs = 0;
        size_t got = 0;
        for (size_t k = 0; k < n; k++)
            if (batch[k] != NULL) {
                got++;
                in_runs += bsplit[k].total_ms;
            }
        run_ms += batch_ms;
        batch_setup_ms = got ? (batch_ms - in_runs) / (double)got : 0;
    }
    json_array_foreach(combos, i, combo) {
        if (ctx->stopping != NULL && *ctx->stopping) {
            json_decref(rows);
            batch_free(batch, bsplit, n);
            return task_error(out, TASK_TRANSIENT, "the worker is stopping; the chunk runs again");
        }
        if (batch != NULL && batch[i] != NULL && objective_in(batch[i], objective) != NULL) {
            json_array_append_new(rows, json_pack("{s:O, s:o}", "params", combo, "metrics", metrics_of(batch[i])));
            measured++;
            split[0] += bsplit[i].strategy_ms;
            split[1] += bsplit[i].finish_ms;
            split[2] += bsplit[i].total_ms - bsplit[i].strategy_ms - bsplit[i].finish_ms;
            split[3] += batch_setup_ms;
            continue;
        }
        json_t *one = json_copy((json_t *)sub_args);
        json_object_set(one, "params", (json_t *)combo);
        task_ctx_t c = *ctx;
        c.args = one;
        c.task = sub;
        c.type = sub->name;
        task_out_t o;
        memset(&o, 0, sizeof o);
        int64_t r0 = clock_mono_us();
        strategy_split_reset();
        task_status_t st = sub->run(&c, &o);
        double one_ms = (double)(clock_mono_us() - r0) / 1000.0;
        run_ms += one_ms;
        strategy_split_t sp = strategy_split_read();
        if (st == TASK_OK && sp.known) {
            measured++;
            split[0] += sp.strategy_ms;
            split[1] += sp.finish_ms;
            split[2] += sp.total_ms - sp.strategy_ms - sp.finish_ms;
            split[3] += one_ms - sp.total_ms;
        }
        json_t *row = json_pack("{s:O}", "params", combo);
        if (st == TASK_OK) {
            const json_t *v = objective_in(o.data, objective);
            if (v == NULL) {
                json_t *m = metrics_of(o.data);
                char names[640] = "";
                size_t at = 0;
                const char *k;
                json_t *mv;
                json_object_foreach(m, k, mv)
                    if (at < sizeof names)
                        at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", at ? ", " : "", k);
                task_error(out, TASK_PERMANENT, "objective '%s' is not a metric of %s's result (it has: %s)",
                           objective, sub->name, names);
                json_decref(m);
                json_decref(row);
                json_decref(o.data);
                json_decref(o.details);
                free(o.raw);
                json_decref(one);
                json_decref(rows);
                batch_free(batch, bsplit, n);
                return TASK_PERMANENT;
            }
            json_object_set_new(row, "metrics", metrics_of(o.data));
        } else if (st == TASK_PERMANENT) {
            json_object_set_new(row, "error", json_string(o.error));
            failed++;
        } else { /* a transient trouble (database, sandbox start): the chunk runs again */
            task_error(out, st, "combination %zu: %s", i, o.error);
            json_decref(row);
            json_decref(o.data);
            json_decref(o.details);
            free(o.raw);
            json_decref(one);
            json_decref(rows);
            batch_free(batch, bsplit, n);
            return st;
        }
        json_array_append_new(rows, row);
        json_decref(o.data);
        json_decref(o.details);
        free(o.raw);
        json_decref(one);
    }
    out->data = json_pack("{s:o, s:I, s:f, s:f}", "rows", rows, "failed", (json_int_t)failed, "run_ms", run_ms,
                          "chunk_ms", (double)(clock_mono_us() - t0) / 1000.0);
    json_object_set_new(out->data, "split", json_pack("{s:I, s:f, s:f, s:f, s:f}", "runs", (json_int_t)measured,
                                                      "strategy_ms", split[0], "finish_ms", split[1], "sandbox_ms",
                                                      split[2], "task_ms", split[3]));
    if (task_schema_given(args, "fold")) /* walk-forward: the ranking groups the rows by it */
        json_object_set(out->data, "fold", json_object_get(args, "fold"));
    batch_free(batch, bsplit, n);
    return TASK_OK;
}

/* optimize_chunk's args are made by an optimize job (fan_out) from args
 * that passed optimize's checks; a chunk enqueued by hand is checked the
 * same way: its table, then its strategy task's args with its first
 * combination as params (chunk_check). */
static int chunk_args_check(const char *what, const json_t *v, char *err, size_t errlen)
{
    if (json_object_get(v, "params") != NULL) {
        snprintf(err, errlen, "%s holds params: each combination is the strategy's params", what);
        return -1;
    }
    return 0;
}

static int combinations_check(const char *what, const json_t *v, char *err, size_t errlen)
{
    size_t i;
    const json_t *c;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > OPTIMIZE_MAX_COMBINATIONS) {
        snprintf(err, errlen, "%s must be a list of 1 to %d params objects", what, OPTIMIZE_MAX_COMBINATIONS);
        return -1;
    }
    json_array_foreach(v, i, c)
        if (!json_is_object(c)) {
            snprintf(err, errlen, "%s[%zu] must be an object", what, i);
            return -1;
        }
    return 0;
}

static int fold_check(const char *what, const json_t *v, char *err, size_t errlen)
{
    const json_t *k = json_object_get(v, "fold");
    if (!json_is_integer(k) || json_integer_value(k) < 1 || json_integer_value(k) > WALK_FOLDS_MAX) {
        snprintf(err, errlen, "%s must be a walk-forward fold {\"fold\": 1 to %d, ...}", what, WALK_FOLDS_MAX);
        return -1;
    }
    return 0;
}

static const task_arg_t chunk_args[] = {
    { .name = "task", .type = TASK_ARG_ENUM, .flags = TASK_ARG_REQUIRED,
      .choices = "portfolio_backtest, backtest, screening", .doc = "the strategy task run for each combination" },
    { .name = "args", .type = TASK_ARG_OBJECT, .flags = TASK_ARG_REQUIRED, .check = chunk_args_check,
      .doc = "the strategy task's args, all but params" },
    { .name = "combinations", .type = TASK_ARG_ANY, .flags = TASK_ARG_REQUIRED, .type_doc = "list of params objects",
      .check = combinations_check, .doc = "the chunk's combinations: the task runs once with each as its params" },
    { .name = "objective", .type = TASK_ARG_STRING, .flags = TASK_ARG_REQUIRED, .max = OBJECTIVE_MAX,
      .doc = "the metric each run must give (the optimize job's)" },
    { .name = "fold", .type = TASK_ARG_OBJECT, .default_doc = "none (no walk-forward)", .check = fold_check,
      .doc = "the walk-forward fold whose train window args hold, {\"fold\", \"train\", \"test\"}, passed on to the "
             "ranking" },
    { .name = NULL }
};

static int chunk_check(const json_t *args, task_check_where_t where, char *err, size_t errlen)
{
    const task_def_t *sub = task_find(task_schema_string(chunk_args, args, "task"));
    if (sub == NULL) {
        snprintf(err, errlen, "task %s is not registered in this build", task_schema_string(chunk_args, args, "task"));
        return -1;
    }
    const json_t *combos = json_object_get(args, "combinations");
    return check_sub(sub, json_object_get(args, "args"), json_array_get(combos, 0), where, err, errlen);
}

/* --- the ranking ------------------------------------------------------------ */

/* One fold's rows (the whole job's without walk-forward), ranked. */
typedef struct {
    const json_t *fold;          /* the fold's {"fold", "train", "test"}; NULL: no walk-forward */
    json_t *rows;                /* {params, metrics | error}, as the chunks gave them */
    optimize_ranked_t *r;        /* rows ranked */
    size_t valid;                /* rows with an objective */
    const json_t *first_error;
} ranking_t;

static void rankings_free(ranking_t *g, size_t n)
{
    for (size_t i = 0; g != NULL && i < n; i++) {
        free(g[i].r);
        json_decref(g[i].rows);
    }
    free(g);
}

/* The chunks' rows grouped by fold (one group without walk-forward) into
 * *groups, ranked; the chunks' failures and times summed. TASK_OK, or the
 * failure with out filled. */
static task_status_t gather(const json_t *children, const char *objective, int minimize, ranking_t **groups,
                            size_t *ngroups, size_t *failed, double *run_ms, double *chunk_ms, double split[5],
                            task_out_t *out)
{
    size_t i, n = 0;
    const json_t *child;
    json_array_foreach((json_t *)children, i, child) { /* folds are numbered 1, 2, ... */
        json_int_t k = json_integer_value(json_object_get(json_object_get(json_object_get(json_object_get(child,
                                          "result"), "data"), "fold"), "fold"));
        if (k > 0 && (size_t)k > n)
            n = (size_t)k;
    }
    n = n ? n : 1;
    ranking_t *g = calloc(n, sizeof *g);
    if (g == NULL)
        return task_error(out, TASK_TRANSIENT, "out of memory ranking the combinations");
    for (size_t k = 0; k < n; k++)
        g[k].rows = json_array();
    json_array_foreach((json_t *)children, i, child) {
        const json_t *res = json_object_get(child, "result");
        const json_t *data = json_object_get(res, "data");
        const char *status = json_string_value(json_object_get(res, "status"));
        if (status == NULL || strcmp(status, "completed") != 0 || !json_is_array(json_object_get(data, "rows"))) {
            rankings_free(g, n);
            return task_error(out, TASK_PERMANENT, "chunk %s ended %s: %s",
                              json_string_value(json_object_get(child, "id")),
                              json_string_value(json_object_get(child, "state")),
                              json_string_value(json_object_get(data, "error")) ?
                              json_string_value(json_object_get(data, "error")) : "no rows");
        }
        const json_t *fold = json_object_get(data, "fold");
        json_int_t k = fold ? json_integer_value(json_object_get(fold, "fold")) : 1;
        g[k - 1].fold = fold;
        json_array_extend(g[k - 1].rows, json_object_get(data, "rows"));
        *failed += (size_t)json_integer_value(json_object_get(data, "failed"));
        *run_ms += json_number_value(json_object_get(data, "run_ms"));
        *chunk_ms += json_number_value(json_object_get(data, "chunk_ms"));
        static const char *const parts[5] = { "runs", "strategy_ms", "finish_ms", "sandbox_ms", "task_ms" };
        for (int p = 0; p < 5; p++)
            split[p] += json_number_value(json_object_get(json_object_get(data, "split"), parts[p]));
    }
    for (size_t k = 0; k < n; k++) {
        g[k].r = optimize_rank(g[k].rows, objective, minimize, &g[k].valid, &g[k].first_error);
        if (g[k].r == NULL) {
            rankings_free(g, n);
            return task_error(out, TASK_TRANSIENT, "out of memory ranking the combinations");
        }
        if (n > 1 && g[k].fold == NULL) {
            rankings_free(g, n);
            return task_error(out, TASK_PERMANENT, "walk_forward fold %zu has no chunk", k + 1);
        }
    }
    *groups = g;
    *ngroups = n;
    return TASK_OK;
}

/* Writes the whole ranked table (every group's rows; with walk-forward
 * numbered by fold) to the database, replacing the job's earlier one: 0,
 * or -1 with err. */
static int store_table(const task_ctx_t *ctx, const ranking_t *g, size_t ngroups, char *err, size_t errlen)
{
    db_t *db = task_env_db(ctx->env, err, errlen);
    if (db == NULL)
        return -1;
    size_t n = 0, at = 0;
    for (size_t k = 0; k < ngroups; k++)
        n += json_array_size(g[k].rows);
    optimize_row_t *rows = calloc(n ? n : 1, sizeof *rows);
    int oom = rows == NULL;
    for (size_t k = 0; k < ngroups && !oom; k++) {
        for (size_t i = 0; i < json_array_size(g[k].rows) && !oom; i++, at++) {
            const optimize_ranked_t *r = &g[k].r[i];
            const json_t *metrics = json_object_get(r->row, "metrics");
            rows[at].fold = g[k].fold ? (int)json_integer_value(json_object_get(g[k].fold, "fold")) : 0;
            rows[at].rank = (int)i + 1;
            rows[at].objective = r->v;
            /* Stored as text, read by people and other programs too: each
             * real in its shortest exact digits (k 0.1, not 0.10000000000000001). */
            rows[at].params = json_exact_dumps(json_object_get(r->row, "params"), JSON_COMPACT | JSON_ENCODE_ANY);
            rows[at].metrics = metrics ? json_exact_dumps(metrics, JSON_COMPACT) : NULL;
            rows[at].error = (char *)json_string_value(json_object_get(r->row, "error"));
            oom = rows[at].params == NULL || (metrics != NULL && rows[at].metrics == NULL);
        }
    }
    int rc = -1;
    if (oom)
        snprintf(err, errlen, "out of memory writing the table of %zu combinations", n);
    else if (db_begin(db, err, errlen) == 0) {
        rc = db_optimize_put(db, ctx->job_id, rows, n, err, errlen) == 0 ? db_commit(db, err, errlen) : -1;
        if (rc != 0)
            db_rollback(db);
    }
    for (size_t i = 0; rows != NULL && i < n; i++) {
        free(rows[i].params);
        free(rows[i].metrics);
    }
    free(rows);
    return rc;
}

/* One ranked row as the result shows it: a copy with its rank. */
static json_t *ranked_row(const optimize_ranked_t *r, size_t rank)
{
    json_t *one = json_deep_copy(r->row);
    json_object_set_new(one, "rank", json_integer((json_int_t)rank));
    return one;
}

/* The best combination of a portfolio_backtest sweep run once more, alone,
 * for its equity curve (a sweep's runs keep only their metrics): into
 * best (a copy of the best row) as "equity_curve", or "equity_curve_error"
 * when that run fails; *ms its time. */
static void best_curve(const task_ctx_t *ctx, json_t *best, double *ms)
{
    int64_t t0 = clock_mono_us();
    const task_def_t *sub = task_find(sub_name(ctx->args));
    json_t *args = task_args_of(ctx->args);
    json_object_set(args, "params", json_object_get(best, "params"));
    task_ctx_t c = *ctx;
    c.args = args;
    c.task = sub;
    c.type = sub->name;
    task_out_t o;
    memset(&o, 0, sizeof o);
    task_status_t st = sub->run(&c, &o);
    const json_t *curve = json_object_get(o.data, "equity_curve");
    if (st == TASK_OK && json_is_array(curve))
        json_object_set(best, "equity_curve", (json_t *)curve);
    else {
        json_t *why = json_string(st == TASK_OK ? "the run gave no equity curve" : o.error);
        json_object_set_new(best, "equity_curve_error",
                            why ? why : json_string("the run failed (its error is not UTF-8 text)"));
    }
    json_decref(o.data);
    json_decref(o.details);
    free(o.raw);
    json_decref(args);
    *ms = (double)(clock_mono_us() - t0) / 1000.0;
}

/* The result without walk-forward: the best (with its equity curve for
 * portfolio_backtest), the top rows, the heat map. */
static json_t *plain_result(const task_ctx_t *ctx, const ranking_t *g, size_t ntop, double *curve_ms)
{
    size_t n = json_array_size(g->rows);
    json_t *results = json_array();
    for (size_t i = 0; i < n && i < ntop; i++)
        json_array_append_new(results, ranked_row(&g->r[i], i + 1));
    json_t *best = json_deep_copy(g->r[0].row);
    if (strcmp(sub_name(ctx->args), "portfolio_backtest") == 0)
        best_curve(ctx, best, curve_ms);
    json_t *data = json_pack("{s:o, s:o}", "best", best, "results", results);
    json_t *heat = optimize_heat_map(optimize_space_of(json_object_get(ctx->args, "params")), g->r, n);
    if (heat != NULL)
        json_object_set_new(data, "heat_map", heat);
    return data;
}

/* The result with walk-forward: each fold's chosen params (the best on its
 * train window) run on its test window, and the test runs stitched; the
 * best is the last fold's choice (what the walk-forward trades next).
 * NULL with *st and out filled when a test run fails. */
static json_t *walk_result(const task_ctx_t *ctx, const ranking_t *g, size_t ngroups, double *test_ms,
                           task_status_t *st, task_out_t *out)
{
    const task_def_t *sub = task_find(sub_name(ctx->args));
    json_t *sub_args = task_args_of(ctx->args), *folds = json_array(), *tests = json_array();
    int64_t t0 = clock_mono_us();
    for (size_t k = 0; k < ngroups; k++) {
        const json_t *best = g[k].r[0].row;
        json_t *test;
        *st = walk_forward_test(ctx, sub, sub_args, g[k].fold, json_object_get(best, "params"), &test, out);
        if (*st != TASK_OK) {
            json_decref(sub_args);
            json_decref(folds);
            json_decref(tests);
            return NULL;
        }
        json_t *f = json_deep_copy(g[k].fold);
        json_object_set(f, "params", json_object_get(best, "params"));
        json_object_set(f, "in_sample", json_object_get(best, "metrics"));
        json_object_set_new(f, "out_of_sample", metrics_of(test));
        json_object_set_new(f, "combinations", json_integer((json_int_t)json_array_size(g[k].rows)));
        json_object_set_new(f, "ranked", json_integer((json_int_t)g[k].valid));
        json_array_append_new(folds, f);
        json_array_append_new(tests, test);
    }
    *test_ms = (double)(clock_mono_us() - t0) / 1000.0;
    task_ctx_t c = *ctx;
    c.args = sub_args;
    c.task = sub;
    json_t *oos = walk_forward_stitch(tests, task_arg_number(&c, "initial_capital"));
    walk_forward_t wf;
    int on;
    char err[300];
    walk_forward_read(ctx->args, &on, &wf, err, sizeof err); /* checked at enqueue */
    json_t *data = json_pack("{s:O, s:o, s:o, s:{s:I, s:I, s:b}}", "best", g[ngroups - 1].r[0].row, "folds", folds,
                             "out_of_sample", oos, "walk_forward", "train_bars", (json_int_t)wf.train_bars,
                             "test_bars", (json_int_t)wf.test_bars, "anchored", wf.anchored);
    json_decref(tests);
    json_decref(sub_args);
    return data;
}

static task_status_t aggregate(const task_ctx_t *ctx, json_t *children, task_out_t *out)
{
    int64_t t0 = clock_mono_us();
    const char *objective = task_schema_string(optimize_args, ctx->args, "objective");
    int minimize = strcmp(task_schema_string(optimize_args, ctx->args, "direction"), "minimize") == 0;
    size_t ntop = (size_t)task_schema_int(optimize_args, ctx->args, "top");
    ranking_t *g = NULL;
    size_t ngroups = 0, failed = 0, combinations = 0, valid = 0;
    double run_ms = 0, chunk_ms = 0, test_ms = 0, curve_ms = -1, split[5] = { 0, 0, 0, 0, 0 };
    task_status_t st = gather(children, objective, minimize, &g, &ngroups, &failed, &run_ms, &chunk_ms, split, out);
    if (st != TASK_OK)
        return st;
    const json_t *first_error = NULL;
    for (size_t k = 0; k < ngroups; k++) {
        combinations += json_array_size(g[k].rows);
        valid += g[k].valid;
        first_error = first_error ? first_error : g[k].first_error;
        if (g[k].valid == 0) {
            char where[200] = "";
            if (g[k].fold != NULL)
                snprintf(where, sizeof where, " on walk_forward fold %lld's train window (%s..%s)",
                         (long long)json_integer_value(json_object_get(g[k].fold, "fold")),
                         json_string_value(json_object_get(json_object_get(g[k].fold, "train"), "start")),
                         json_string_value(json_object_get(json_object_get(g[k].fold, "train"), "end")));
            st = task_error(out, TASK_PERMANENT, "no combination of %zu gave a %s%s%s%s",
                                          json_array_size(g[k].rows), objective, where,
                                          g[k].first_error ? ": " : "",
                                          g[k].first_error ? json_string_value(g[k].first_error) : "");
            rankings_free(g, ngroups);
            return st;
        }
    }
    json_t *data = g[0].fold == NULL ? plain_result(ctx, g, ntop, &curve_ms)
                                     : walk_result(ctx, g, ngroups, &test_ms, &st, out);
    char err[1024];
    if (data != NULL && store_table(ctx, g, ngroups, err, sizeof err) != 0) {
        json_decref(data);
        rankings_free(g, ngroups);
        return task_error(out, TASK_TRANSIENT, "cannot write the table of %zu combinations to the database: %s",
                          combinations, err);
    }
    if (data == NULL) {
        rankings_free(g, ngroups);
        return st;
    }
    json_t *head = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "objective", objective, "direction",
                             minimize ? "minimize" : "maximize", "task", sub_name(ctx->args), "combinations",
                             (json_int_t)combinations, "failed_combinations", (json_int_t)failed, "chunks",
                             (json_int_t)json_array_size(children), "ranked", (json_int_t)valid);
    json_object_update(head, data);
    json_decref(data);
    if (first_error != NULL)
        json_object_set(head, "first_error", (json_t *)first_error);
    json_t *timings = json_pack("{s:f, s:f, s:f, s:f}", "strategy_runs_ms", run_ms, "chunks_ms", chunk_ms,
                                "per_combination_ms", combinations ? run_ms / (double)combinations : 0.0,
                                "aggregate_ms", (double)(clock_mono_us() - t0) / 1000.0);
    if (g[0].fold != NULL)
        json_object_set_new(timings, "test_runs_ms", json_real(test_ms));
    if (curve_ms >= 0)
        json_object_set_new(timings, "best_curve_ms", json_real(curve_ms));
    if (split[0] > 0) /* the mean of the runs that completed */
        json_object_set_new(timings, "per_combination_split_ms",
                            json_pack("{s:f, s:f, s:f, s:f, s:I}", "strategy", split[1] / split[0],
                                      "simulation_and_metrics", split[2] / split[0], "sandbox", split[3] / split[0],
                                      "task_setup", split[4] / split[0], "runs", (json_int_t)split[0]));
    json_object_set_new(head, "timings", timings);
    rankings_free(g, ngroups);
    out->data = head;
    return TASK_OK;
}

/* --- the job ----------------------------------------------------------------- */

/* The walk-forward folds of the job (a new array), or a one-element array
 * holding null without walk-forward; NULL with *st and out filled. */
static json_t *folds_of(const task_ctx_t *ctx, const json_t *sub_args, task_status_t *st, task_out_t *out)
{
    walk_forward_t wf;
    int on;
    char err[300];
    if (walk_forward_read(ctx->args, &on, &wf, err, sizeof err) != 0) {
        *st = task_error(out, TASK_PERMANENT, "%s", err);
        return NULL;
    }
    if (!on)
        return json_pack("[n]");
    json_t *folds;
    *st = walk_forward_folds(ctx, task_find(sub_name(ctx->args)), sub_args, &wf, &folds, out);
    return folds;
}

/* Drops the job's table from an earlier run: until this run ranks its own,
 * the job has none (tickq job ID --table: not ranked yet). */
static task_status_t drop_table(const task_ctx_t *ctx, task_out_t *out)
{
    char err[1024];
    db_t *db = task_env_db(ctx->env, err, sizeof err);
    if (db == NULL || db_begin(db, err, sizeof err) != 0)
        return task_error(out, TASK_TRANSIENT, "cannot clear the job's earlier table: %s", err);
    if (db_optimize_put(db, ctx->job_id, NULL, 0, err, sizeof err) != 0 || db_commit(db, err, sizeof err) != 0) {
        db_rollback(db);
        return task_error(out, TASK_TRANSIENT, "cannot clear the job's earlier table: %s", err);
    }
    return TASK_OK;
}

static task_status_t fan_out(const task_ctx_t *ctx, task_out_t *out)
{
    char err[1500];
    size_t space;
    task_status_t cleared = drop_table(ctx, out);
    if (cleared != TASK_OK)
        return cleared;
    json_t *combos = combinations_of(ctx->args, &space, err, sizeof err);
    if (combos == NULL)
        return task_error(out, TASK_PERMANENT, "%s", err);
    json_t *sub_args = task_args_of(ctx->args);
    task_status_t st = TASK_OK;
    json_t *folds = folds_of(ctx, sub_args, &st, out);
    if (folds == NULL) {
        json_decref(combos);
        json_decref(sub_args);
        return st;
    }
    size_t n = json_array_size(combos), nfolds = json_array_size(folds);
    size_t size = task_schema_given(ctx->args, "chunk_size")
                      ? (size_t)task_schema_int(optimize_args, ctx->args, "chunk_size")
                      : (n + OPTIMIZE_CHUNKS_DEFAULT - 1) / OPTIMIZE_CHUNKS_DEFAULT;
    if (size == 0)
        size = 1;
    if (n * nfolds > OPTIMIZE_MAX_COMBINATIONS) {
        json_decref(combos);
        json_decref(sub_args);
        json_decref(folds);
        return task_error(out, TASK_PERMANENT, "%zu combinations on each of %zu walk_forward folds make %zu runs, "
                          "more than %d: fewer combinations, or a larger test_bars", n, nfolds, n * nfolds,
                          OPTIMIZE_MAX_COMBINATIONS);
    }
    if ((n + size - 1) / size * nfolds > JOB_MAX_DEPS) {
        json_decref(combos);
        json_decref(sub_args);
        json_decref(folds);
        return task_error(out, TASK_PERMANENT, "%zu combinations in chunks of %zu%s make more than %d chunks: raise "
                          "chunk_size", n, size, nfolds > 1 ? ", on each walk_forward fold," : "", JOB_MAX_DEPS);
    }
    const char *objective = task_schema_string(optimize_args, ctx->args, "objective");
    json_t *children = json_array();
    size_t f;
    const json_t *fold;
    json_array_foreach(folds, f, fold) {
        /* A fold's chunks rank its train window; the fold rides along. */
        json_t *window = json_is_null(fold) ? json_incref(sub_args) : walk_forward_window(sub_args, fold, "train");
        for (size_t at = 0; at < n; at += size) {
            json_t *part = json_array();
            for (size_t k = at; k < n && k < at + size; k++)
                json_array_append(part, json_array_get(combos, k));
            json_t *args = json_pack("{s:s, s:O, s:o, s:s}", "task", sub_name(ctx->args), "args", window,
                                     "combinations", part, "objective", objective);
            if (!json_is_null(fold))
                json_object_set(args, "fold", (json_t *)fold);
            json_array_append_new(children, json_pack("{s:s, s:o, s:i, s:I}", "type", "optimize_chunk", "args",
                                                      args, "max_retries", ctx->max_retries, "timeout",
                                                      (json_int_t)(ctx->timeout_ms / 1000 > 0
                                                                   ? ctx->timeout_ms / 1000 : 1)));
        }
        json_decref(window);
    }
    json_decref(sub_args);
    json_decref(combos);
    json_decref(folds);
    out->data = json_pack("{s:o, s:s}", "children", children, "policy", "fail");
    return TASK_WAIT_CHILDREN;
}

static task_status_t task_optimize(const task_ctx_t *ctx, task_out_t *out)
{
    char err[600] = "";
    json_t *children = ctx->hooks->children ? ctx->hooks->children(ctx->hooks->user, err, sizeof err) : NULL;
    if (children == NULL && ctx->hooks->children != NULL)
        return task_error(out, TASK_TRANSIENT, "cannot read the optimize job's chunks: %s", err);
    task_status_t st = children != NULL && json_array_size(children) > 0 ? aggregate(ctx, children, out)
                                                                          : fan_out(ctx, out);
    json_decref(children);
    return st;
}

const task_def_t task_def_optimize = {
    .name = "optimize",
    .run = task_optimize,
    .summary =
        "a strategy task over a grid or random sample of params, fanned out over the workers; ranks the combinations",
    .args = optimize_args,
    .check = optimize_check,
    .inner = optimize_inner,
    .inner_doc =
        "Any other key is an argument of the strategy task named by task, checked against its table "
        "(tickq tasks portfolio_backtest, backtest or screening).",
};

const task_def_t task_def_optimize_chunk = {
    .name = "optimize_chunk",
    .run = task_optimize_chunk,
    .summary = "one chunk of an optimize job's combinations (an optimize job enqueues its chunks)",
    .args = chunk_args,
    .check = chunk_check,
};
