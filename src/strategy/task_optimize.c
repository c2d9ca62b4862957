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
#include "data/task_env_data.h"
#include "strategy/optimize_space.h"
#include "strategy/task_strategy.h"

#define OPTIMIZE_TOP_MAX 10000
#define OPTIMIZE_CHUNKS_DEFAULT 16   /* chunks when chunk_size is not given */

/* optimize's own keys; the others are the strategy task's args. */
static const char *const own_keys[] = { "task", "params", "constraints", "objective", "direction", "top",
                                        "chunk_size" };
#define NOWN (sizeof own_keys / sizeof own_keys[0])

static int own_key(const char *k)
{
    for (size_t i = 0; i < NOWN; i++)
        if (strcmp(own_keys[i], k) == 0)
            return 1;
    return 0;
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

static const char *sub_name(const json_t *args)
{
    const char *t = json_string_value(json_object_get(args, "task"));
    return t ? t : "portfolio_backtest";
}

/* Checks optimize's own keys; the sub-task's name in *sub. 0, or -1. */
static int check_own(const json_t *args, const task_def_t **sub, char *err, size_t errlen)
{
    const json_t *task = json_object_get(args, "task"), *obj = json_object_get(args, "objective");
    const json_t *dir = json_object_get(args, "direction"), *top = json_object_get(args, "top");
    const json_t *chunk = json_object_get(args, "chunk_size");
    if (task != NULL && (!json_is_string(task) || (strcmp(json_string_value(task), "portfolio_backtest") != 0 &&
                                                   strcmp(json_string_value(task), "backtest") != 0 &&
                                                   strcmp(json_string_value(task), "screening") != 0))) {
        snprintf(err, errlen, "task must be portfolio_backtest (the default), backtest or screening");
        return -1;
    }
    if (json_object_get(args, "params") == NULL) {
        snprintf(err, errlen, "missing params: the grid ({\"fast\": [5, 10], \"slow\": {\"from\": 20, \"to\": 200, "
                 "\"step\": 20}}) or a random sample ({\"random\": N, \"space\": {...}})");
        return -1;
    }
    if (obj != NULL && (!json_is_string(obj) || json_string_length(obj) == 0 || json_string_length(obj) > 64)) {
        snprintf(err, errlen, "objective must name a metric of the task's result (\"sharpe\", \"total_return\", ...)");
        return -1;
    }
    if (dir != NULL && (!json_is_string(dir) || (strcmp(json_string_value(dir), "maximize") != 0 &&
                                                 strcmp(json_string_value(dir), "minimize") != 0))) {
        snprintf(err, errlen, "direction must be maximize (the default) or minimize");
        return -1;
    }
    if (top != NULL && (!json_is_integer(top) || json_integer_value(top) < 1 ||
                        json_integer_value(top) > OPTIMIZE_TOP_MAX)) {
        snprintf(err, errlen, "top must be an integer from 1 to %d", OPTIMIZE_TOP_MAX);
        return -1;
    }
    if (chunk != NULL && (!json_is_integer(chunk) || json_integer_value(chunk) < 1 ||
                          json_integer_value(chunk) > OPTIMIZE_MAX_COMBINATIONS)) {
        snprintf(err, errlen, "chunk_size must be an integer from 1 to %d", OPTIMIZE_MAX_COMBINATIONS);
        return -1;
    }
    if ((*sub = task_find(sub_name(args))) == NULL) {
        snprintf(err, errlen, "task %s is not registered in this build", sub_name(args));
        return -1;
    }
    return 0;
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
    if (json_object_get(sub_args, "params") != NULL) {
        snprintf(err, errlen, "params is the grid of combinations here, not the strategy's own params");
        return -1;
    }
    json_t *one = json_copy((json_t *)sub_args);
    json_object_set(one, "params", (json_t *)combo);
    char why[1500];
    int rc = task_check(sub, one, where, why, sizeof why);
    json_decref(one);
    if (rc != 0)
        snprintf(err, errlen, "%s", why);
    return rc;
}

static int optimize_check(const json_t *args, task_check_where_t where, char *err, size_t errlen)
{
    const task_def_t *sub;
    if (check_own(args, &sub, err, errlen) != 0)
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

static task_status_t task_optimize_chunk(const task_ctx_t *ctx, task_out_t *out)
{
    int64_t t0 = clock_mono_us();
    const json_t *args = ctx->args;
    const task_def_t *sub = task_find(json_string_value(json_object_get(args, "task")));
    const json_t *sub_args = json_object_get(args, "args"), *combos = json_object_get(args, "combinations");
    const char *objective = json_string_value(json_object_get(args, "objective"));
    json_t *rows = json_array();
    size_t i, failed = 0;
    const json_t *combo;
    double run_ms = 0;
    json_array_foreach(combos, i, combo) {
        if (ctx->stopping != NULL && *ctx->stopping) {
            json_decref(rows);
            return task_error(out, TASK_TRANSIENT, "the worker is stopping; the chunk runs again");
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
        task_status_t st = sub->run(&c, &o);
        run_ms += (double)(clock_mono_us() - r0) / 1000.0;
        json_t *row = json_pack("{s:O}", "params", combo);
        if (st == TASK_OK) {
            const json_t *v = objective_in(o.data, objective);
            if (v == NULL) {
                json_t *m = metrics_of(o.data);
                char *names = json_dumps(m, JSON_COMPACT);
                task_error(out, TASK_PERMANENT, "objective '%s' is not a metric of %s's result (it has: %.600s)",
                           objective, sub->name, names ? names : "");
                free(names);
                json_decref(m);
                json_decref(row);
                json_decref(o.data);
                json_decref(o.details);
                free(o.raw);
                json_decref(one);
                json_decref(rows);
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
    return TASK_OK;
}

static int chunk_check(const json_t *args, task_check_where_t where, char *err, size_t errlen)
{
    static const char *const keys[] = { "task", "args", "combinations", "objective" };
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)args, k, v) {
        int known = 0;
        for (size_t i = 0; i < 4 && !known; i++)
            known = strcmp(keys[i], k) == 0;
        if (!known) {
            snprintf(err, errlen, "unknown argument '%.60s' (optimize_chunk takes: task, args, combinations, "
                     "objective; an optimize job makes its chunks)", k);
            return -1;
        }
    }
    const task_def_t *sub = task_find(json_string_value(json_object_get(args, "task")) ?
                                      json_string_value(json_object_get(args, "task")) : "");
    const json_t *combos = json_object_get(args, "combinations");
    if (sub == NULL || !json_is_object(json_object_get(args, "args")) || !json_is_array(combos) ||
        json_array_size(combos) == 0 || !json_is_string(json_object_get(args, "objective"))) {
        snprintf(err, errlen, "optimize_chunk needs task, args (an object), combinations (a list) and objective");
        return -1;
    }
    size_t i;
    json_t *c;
    json_array_foreach(combos, i, c)
        if (!json_is_object(c)) {
            snprintf(err, errlen, "combinations[%zu] must be an object", i);
            return -1;
        }
    return check_sub(sub, json_object_get(args, "args"), json_array_get(combos, 0), where, err, errlen);
}

/* --- the ranking ------------------------------------------------------------ */

typedef struct {
    const json_t *row;
    double v;                    /* the objective; NaN: none (ranked last) */
    size_t at;                   /* its place in the table: ties keep it */
} ranked_t;

/* qsort_r's order: the best first (`minimize`: points to 1 for the
 * smallest objective first), rows without an objective last, ties by their
 * place in the table. */
static int cmp_ranked(const void *a, const void *b, void *minimize)
{
    const ranked_t *ra = a, *rb = b;
    int smallest_first = *(const int *)minimize;
    double x = ra->v, y = rb->v;
    if ((x != x) != (y != y))
        return (x != x) - (y != y);
    if (x == y || (x != x && y != y))
        return ra->at < rb->at ? -1 : ra->at > rb->at;
    return (smallest_first ? x < y : x > y) ? -1 : 1;
}

static int cmp_json_number(const void *a, const void *b)
{
    double x = json_number_value(*(json_t *const *)a), y = json_number_value(*(json_t *const *)b);
    return x < y ? -1 : x > y;
}

/* Sorts an axis of numbers ascending; an axis with another value keeps the
 * order it was met in. */
static void sort_values(json_t *axis)
{
    size_t n = json_array_size(axis), i;
    json_t *v, **items = malloc((n ? n : 1) * sizeof *items);
    if (items == NULL)
        return;
    json_array_foreach(axis, i, v) {
        if (!json_is_number(v)) {
            while (i > 0)
                json_decref(items[--i]);
            free(items);
            return;
        }
        items[i] = json_incref(v);
    }
    qsort(items, n, sizeof *items, cmp_json_number);
    json_array_clear(axis);
    for (i = 0; i < n; i++)
        json_array_append_new(axis, items[i]);
    free(items);
}

/* A heat map has at most this many cells (a random sample over real
 * ranges has as many values per axis as draws: its map would be N x N). */
#define HEAT_MAP_MAX_CELLS 10000

/* For exactly two parameters: {"x": {"name", "values"}, "y": {...}, "z":
 * [[objective or null, per x] per y]}, numeric axes ascending; NULL
 * otherwise, or when it would pass HEAT_MAP_MAX_CELLS. */
static json_t *heat_map(const json_t *params_space, const ranked_t *r, size_t n)
{
    if (json_object_size(params_space) != 2)
        return NULL;
    const char *names[2];
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)params_space, key, v)
        names[k++] = key;
    json_t *axes[2] = { json_array(), json_array() };
    for (size_t i = 0; i < n; i++)
        for (int a = 0; a < 2; a++) {
            const json_t *x = json_object_get(json_object_get(r[i].row, "params"), names[a]);
            size_t j, found = 0;
            json_t *e;
            json_array_foreach(axes[a], j, e)
                found |= json_equal(e, (json_t *)x);
            if (!found && x != NULL)
                json_array_append(axes[a], (json_t *)x);
        }
    if (json_array_size(axes[0]) * json_array_size(axes[1]) > HEAT_MAP_MAX_CELLS) {
        json_decref(axes[0]);
        json_decref(axes[1]);
        return NULL;
    }
    for (int a = 0; a < 2; a++)
        sort_values(axes[a]);
    json_t *z = json_array();
    for (size_t yi = 0; yi < json_array_size(axes[1]); yi++) {
        json_t *line = json_array();
        for (size_t xi = 0; xi < json_array_size(axes[0]); xi++)
            json_array_append_new(line, json_null());
        json_array_append_new(z, line);
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_object_get(r[i].row, "params");
        size_t xi = 0, yi = 0, j;
        json_t *e;
        json_array_foreach(axes[0], j, e)
            if (json_equal(e, json_object_get(p, names[0])))
                xi = j;
        json_array_foreach(axes[1], j, e)
            if (json_equal(e, json_object_get(p, names[1])))
                yi = j;
        json_array_set_new(json_array_get(z, yi), xi, json_number_or_null(r[i].v));
    }
    return json_pack("{s:{s:s, s:o}, s:{s:s, s:o}, s:o}", "x", "name", names[0], "values", axes[0], "y", "name",
                     names[1], "values", axes[1], "z", z);
}

/* Writes the whole ranked table (r, n rows) to the database, replacing
 * the job's earlier one: 0, or -1 with err. */
static int store_table(const task_ctx_t *ctx, const ranked_t *r, size_t n, char *err, size_t errlen)
{
    db_t *db = task_env_db(ctx->env, err, errlen);
    if (db == NULL)
        return -1;
    optimize_row_t *rows = calloc(n ? n : 1, sizeof *rows);
    int oom = rows == NULL;
    for (size_t i = 0; i < n && !oom; i++) {
        const json_t *metrics = json_object_get(r[i].row, "metrics");
        rows[i].rank = (int)i + 1;
        rows[i].objective = r[i].v;
        rows[i].params = json_dumps(json_object_get(r[i].row, "params"), JSON_COMPACT | JSON_ENCODE_ANY);
        rows[i].metrics = metrics ? json_dumps(metrics, JSON_COMPACT) : NULL;
        rows[i].error = (char *)json_string_value(json_object_get(r[i].row, "error"));
        oom = rows[i].params == NULL || (metrics != NULL && rows[i].metrics == NULL);
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

static task_status_t aggregate(const task_ctx_t *ctx, json_t *children, task_out_t *out)
{
    int64_t t0 = clock_mono_us();
    const char *objective = json_string_value(json_object_get(ctx->args, "objective"));
    objective = objective ? objective : "sharpe";
    const char *dir = json_string_value(json_object_get(ctx->args, "direction"));
    const json_t *top = json_object_get(ctx->args, "top");
    size_t ntop = top ? (size_t)json_integer_value(top) : 20;
    json_t *rows = json_array();
    double run_ms = 0, chunk_ms = 0;
    size_t failed = 0, i;
    json_t *child;
    json_array_foreach(children, i, child) {
        const json_t *res = json_object_get(child, "result");
        const json_t *data = json_object_get(res, "data");
        const char *status = json_string_value(json_object_get(res, "status"));
        if (status == NULL || strcmp(status, "completed") != 0 || !json_is_array(json_object_get(data, "rows"))) {
            json_decref(rows);
            return task_error(out, TASK_PERMANENT, "chunk %s ended %s: %s", json_string_value(json_object_get(child,
                              "id")), json_string_value(json_object_get(child, "state")),
                              json_string_value(json_object_get(data, "error")) ?
                              json_string_value(json_object_get(data, "error")) : "no rows");
        }
        json_array_extend(rows, json_object_get(data, "rows"));
        failed += (size_t)json_integer_value(json_object_get(data, "failed"));
        run_ms += json_number_value(json_object_get(data, "run_ms"));
        chunk_ms += json_number_value(json_object_get(data, "chunk_ms"));
    }
    size_t n = json_array_size(rows);
    ranked_t *r = calloc(n ? n : 1, sizeof *r);
    if (r == NULL) {
        json_decref(rows);
        return task_error(out, TASK_TRANSIENT, "out of memory ranking %zu combinations", n);
    }
    size_t valid = 0;
    json_t *row, *first_error = NULL;
    json_array_foreach(rows, i, row) {
        r[i].row = row;
        r[i].at = i;
        const json_t *v = json_object_get(json_object_get(row, "metrics"), objective);
        r[i].v = json_is_number(v) ? json_number_value(v) : NAN;
        valid += json_is_number(v);
        if (first_error == NULL && json_object_get(row, "error") != NULL)
            first_error = json_object_get(row, "error");
    }
    if (valid == 0) {
        task_status_t st = task_error(out, TASK_PERMANENT, "no combination of %zu gave a %s%s%s", n, objective,
                                      first_error ? ": " : "", first_error ? json_string_value(first_error) : "");
        free(r);
        json_decref(rows);
        return st;
    }
    int minimize = dir != NULL && strcmp(dir, "minimize") == 0;
    qsort_r(r, n, sizeof *r, cmp_ranked, &minimize);
    char err[1024];
    if (store_table(ctx, r, n, err, sizeof err) != 0) {
        free(r);
        json_decref(rows);
        return task_error(out, TASK_TRANSIENT, "cannot write the table of %zu combinations to the database: %s", n,
                          err);
    }
    json_t *results = json_array();
    for (i = 0; i < n && i < ntop; i++) {
        json_t *one = json_deep_copy(r[i].row);
        json_object_set_new(one, "rank", json_integer((json_int_t)i + 1));
        json_array_append_new(results, one);
    }
    const json_t *space = optimize_space_of(json_object_get(ctx->args, "params"));
    json_t *heat = heat_map(space, r, n);
    json_t *best = json_deep_copy(r[0].row);
    free(r);
    out->data = json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:I}", "objective", objective, "direction",
                          minimize ? "minimize" : "maximize", "task", sub_name(ctx->args), "best", best, "results",
                          results, "combinations", (json_int_t)n, "failed_combinations", (json_int_t)failed,
                          "chunks", (json_int_t)json_array_size(children), "ranked", (json_int_t)valid);
    if (heat != NULL)
        json_object_set_new(out->data, "heat_map", heat);
    if (first_error != NULL)
        json_object_set(out->data, "first_error", first_error);
    json_object_set_new(out->data, "timings", json_pack("{s:f, s:f, s:f, s:f}", "strategy_runs_ms", run_ms,
                                                        "chunks_ms", chunk_ms, "per_combination_ms",
                                                        n ? run_ms / (double)n : 0.0, "aggregate_ms",
                                                        (double)(clock_mono_us() - t0) / 1000.0));
    json_decref(rows);
    return TASK_OK;
}

/* --- the job ----------------------------------------------------------------- */

static task_status_t fan_out(const task_ctx_t *ctx, task_out_t *out)
{
    char err[1500];
    size_t space;
    json_t *combos = combinations_of(ctx->args, &space, err, sizeof err);
    if (combos == NULL)
        return task_error(out, TASK_PERMANENT, "%s", err);
    size_t n = json_array_size(combos);
    const json_t *cs = json_object_get(ctx->args, "chunk_size");
    size_t size = cs ? (size_t)json_integer_value(cs) : (n + OPTIMIZE_CHUNKS_DEFAULT - 1) / OPTIMIZE_CHUNKS_DEFAULT;
    if (size == 0)
        size = 1;
    if ((n + size - 1) / size > JOB_MAX_DEPS) {
        json_decref(combos);
        return task_error(out, TASK_PERMANENT, "%zu combinations in chunks of %zu make more than %d chunks: raise "
                          "chunk_size", n, size, JOB_MAX_DEPS);
    }
    const char *objective = json_string_value(json_object_get(ctx->args, "objective"));
    json_t *sub_args = task_args_of(ctx->args), *children = json_array();
    for (size_t at = 0; at < n; at += size) {
        json_t *part = json_array();
        for (size_t k = at; k < n && k < at + size; k++)
            json_array_append(part, json_array_get(combos, k));
        json_t *args = json_pack("{s:s, s:O, s:o, s:s}", "task", sub_name(ctx->args), "args", sub_args,
                                 "combinations", part, "objective", objective ? objective : "sharpe");
        json_array_append_new(children, json_pack("{s:s, s:o, s:i, s:I}", "type", "optimize_chunk", "args", args,
                                                  "max_retries", ctx->max_retries, "timeout",
                                                  (json_int_t)(ctx->timeout_ms / 1000 > 0 ? ctx->timeout_ms / 1000
                                                                                          : 1)));
    }
    json_decref(sub_args);
    json_decref(combos);
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
    "optimize", task_optimize,
    "a strategy task over a grid or random sample of params, fanned out over the workers; ranks the combinations",
    NULL, optimize_check, 0, NULL
};

const task_def_t task_def_optimize_chunk = {
    "optimize_chunk", task_optimize_chunk, "one chunk of an optimize job's combinations (made by optimize)", NULL,
    chunk_check, 0, NULL
};
