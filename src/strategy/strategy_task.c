/* strategy_task.c — what the strategy tasks share. */
#include "strategy/strategy_task.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/bar_cache.h"
#include "core/clock.h"
#include "data/db.h"
#include "data/task_env_data.h"

size_t strategy_lower_bound(const int64_t *ts, size_t n, int64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ts[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t strategy_upper_bound(const int64_t *ts, size_t n, int64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ts[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

task_status_t strategy_task_args(const task_ctx_t *ctx, strategy_task_t *t, task_out_t *out)
{
    memset(t, 0, sizeof *t);
    const json_t *code = json_object_get(ctx->args, "strategy_code");
    t->job.code = json_string_value(code);
    t->job.code_len = json_string_length(code);
    const char *lang = task_arg_string(ctx, "language");
    t->job.python = lang != NULL ? strcmp(lang, "python") == 0 : strategy_is_python(t->job.code);
    t->job.entry_point = task_arg_string(ctx, "entry");
    /* Clamped to the job's time left at the run. */
    t->job.time_limit_ms = (int64_t)(task_arg_number(ctx, "strategy_timeout_seconds") * 1000);
    t->time_limit_asked_ms = t->job.time_limit_ms;
    t->job.memory_bytes = (size_t)task_arg_int(ctx, "memory_mb") << 20;
    if (t->job.python && task_arg_int(ctx, "memory_mb") < STRATEGY_PYTHON_MIN_MB)
        return task_error(out, TASK_PERMANENT, "memory_mb %lld is too small for a Python strategy: at least %d",
                          (long long)task_arg_int(ctx, "memory_mb"), STRATEGY_PYTHON_MIN_MB);
    snprintf(t->interval, sizeof t->interval, "%s", task_arg_string(ctx, "interval"));
    const json_t *params = json_object_get(ctx->args, "params");
    t->job.params = json_is_object(params) ? params : NULL;
    return TASK_OK;
}

static int json_depth(const json_t *v)
{
    int deepest = 0;
    size_t i;
    const char *key;
    json_t *item;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, item) {
            int d = json_depth(item);
            deepest = d > deepest ? d : deepest;
        }
        return deepest + 1;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, item) {
            int d = json_depth(item);
            deepest = d > deepest ? d : deepest;
        }
        return deepest + 1;
    }
    return 0;
}

int strategy_params_check(const char *what, const json_t *v, char *err, size_t errlen)
{
    if (json_depth(v) > STRATEGY_PARAMS_MAX_DEPTH) {
        snprintf(err, errlen, "%s is nested more than %d levels deep", what, STRATEGY_PARAMS_MAX_DEPTH);
        return -1;
    }
    char *text = json_dumps(v, JSON_COMPACT);
    size_t len = text ? strlen(text) : 0;
    free(text);
    if (len > STRATEGY_PARAMS_MAX_BYTES) {
        snprintf(err, errlen, "%s is %zu bytes of JSON, over the %d KiB a strategy's parameters may take", what, len,
                 STRATEGY_PARAMS_MAX_BYTES / 1024);
        return -1;
    }
    return 0;
}

int strategy_window_check(const json_t *args, task_check_where_t where, char *err, size_t errlen)
{
    (void)where;
    int64_t start, end;
    int date_only;
    const char *first = json_string_value(json_object_get(args, "start_date"));
    const char *last = json_string_value(json_object_get(args, "end_date"));
    if (clock_parse_iso8601(first, &start, &date_only) != 0)
        return -1; /* the table refuses it first */
    if (clock_parse_iso8601(last, &end, &date_only) != 0)
        return -1;
    if (date_only)
        end += 86399;
    if (start > end) {
        snprintf(err, errlen, "start_date %s is after end_date %s", first, last);
        return -1;
    }
    return 0;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

task_status_t strategy_task_symbols(const task_ctx_t *ctx, const char *field, strategy_task_t *t, task_out_t *out)
{
    const json_t *list = json_object_get(ctx->args, field);
    size_t n = json_array_size(list);
    t->symbols = malloc((n ? n : 1) * sizeof *t->symbols);
    if (t->symbols == NULL)
        return task_error(out, TASK_TRANSIENT, "out of memory");
    for (size_t i = 0; i < n; i++)
        t->symbols[i] = json_string_value(json_array_get(list, i));
    qsort(t->symbols, n, sizeof *t->symbols, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(t->symbols[k - 1], t->symbols[i]) != 0)
            t->symbols[k++] = t->symbols[i];
    t->nsymbols = k;
    return TASK_OK;
}

int64_t strategy_task_time(const task_ctx_t *ctx, const char *field, int end_of_day, int64_t dflt)
{
    const char *v = task_arg_string(ctx, field);
    int64_t ts;
    int date_only;
    if (v == NULL || clock_parse_iso8601(v, &ts, &date_only) != 0)
        return dflt;
    return date_only && end_of_day ? ts + 86399 : ts;
}

task_status_t strategy_task_load(const task_ctx_t *ctx, strategy_task_t *t, task_out_t *out)
{
    char err[1024];
    db_t *db = task_env_db(ctx->env, err, sizeof err);
    if (db == NULL)
        return task_error(out, TASK_TRANSIENT, "database unavailable: %s", err);
    if (task_env_cache(ctx->env) == NULL)
        return task_error(out, TASK_TRANSIENT, "out of memory for the bar cache");
    if (bar_cache_load(task_env_cache(ctx->env), db, t->interval, t->symbols, t->nsymbols, &t->set, &t->features,
                       &t->frame.generation, err, sizeof err) != 0)
        return task_error(out, TASK_TRANSIENT, "cannot load bars: %s", err);
    size_t n = t->set->n ? t->set->n : 1;
    t->lo = calloc(n, sizeof *t->lo);
    t->hi = calloc(n, sizeof *t->hi);
    if (t->lo == NULL || t->hi == NULL)
        return task_error(out, TASK_TRANSIENT, "out of memory");
    return TASK_OK;
}

double strategy_task_bps(const task_ctx_t *ctx, const char *field)
{
    return task_arg_number(ctx, field) / 10000.0;
}

task_status_t strategy_task_range(const task_ctx_t *ctx, strategy_task_t *t, int64_t *start, int64_t *end,
                                  size_t *processed, task_out_t *out)
{
    const char *first = task_arg_string(ctx, "start_date");
    const char *last = task_arg_string(ctx, "end_date");
    *start = strategy_task_time(ctx, "start_date", 0, 0);
    *end = strategy_task_time(ctx, "end_date", 1, 0);
    task_status_t st;
    if ((st = strategy_task_load(ctx, t, out)) != TASK_OK)
        return st;
    char missing[600];
    strategy_task_missing(t, missing, sizeof missing);
    if (missing[0])
        return task_error(out, TASK_PERMANENT, "unknown symbols: %s (no %s bars stored; import them with "
                          "tickq data import)", missing, t->interval);
    size_t rows = 0;
    *processed = 0;
    for (size_t i = 0; i < t->set->n; i++) {
        const bar_series_t *s = &t->set->series[i];
        t->lo[i] = strategy_lower_bound(s->ts, s->n, *start);
        t->hi[i] = strategy_upper_bound(s->ts, s->n, *end);
        rows += t->hi[i] - t->lo[i];
        *processed += t->hi[i] > t->lo[i];
    }
    if (rows == 0)
        return task_error(out, TASK_PERMANENT, "no %s bars between %s and %s for these symbols", t->interval,
                          first, last);
    return TASK_OK;
}

void strategy_task_missing(const strategy_task_t *t, char *out, size_t outlen)
{
    size_t used = 0;
    int shown = 0, missing = 0;
    out[0] = '\0';
    for (size_t i = 0; i < t->nsymbols; i++) {
        if (bar_set_find(t->set, t->symbols[i]) != NULL)
            continue;
        missing++;
        if (shown < 20 && used + 40 < outlen) {
            used += (size_t)snprintf(out + used, outlen - used, "%s%s", shown ? ", " : "", t->symbols[i]);
            shown++;
        }
    }
    if (missing > shown && used + 30 < outlen)
        snprintf(out + used, outlen - used, " and %d more", missing - shown);
}

/* The frame from the windows, the finish step, and the strategy's time
 * limit clamped to the job's time left; returns that time left (minus a
 * margin), or INT64_MAX for a job without a timeout. */
static int64_t prepare(const task_ctx_t *ctx, strategy_task_t *t, strategy_finish_fn finish, void *finish_ctx)
{
    int64_t usable = INT64_MAX;
    t->frame.set = t->set;
    t->frame.features = t->features;
    t->frame.lo = t->lo;
    t->frame.hi = t->hi;
    t->frame.rows = 0;
    for (size_t i = 0; i < t->set->n; i++)
        t->frame.rows += t->hi[i] - t->lo[i];
    t->frame.daily = bar_interval_is_daily(t->interval);
    if (ctx->timeout_ms > 0) {
        /* Never past the job's own timeout, and a little before it, so that
         * the strategy's clear (permanent) error wins over the worker
         * killing the whole job (a transient timeout, retried). Loading
         * bars (and earlier runs: a look-ahead check re-runs it) took part
         * of the job's time: the strategy gets what is left. */
        int64_t left = ctx->started_ms + ctx->timeout_ms - clock_mono_ms();
        int64_t margin = left / 10 < 500 ? left / 10 : 500;
        usable = left - margin > 1 ? left - margin : 1;
        if (t->job.time_limit_ms > usable)
            t->job.time_limit_ms = usable;
    }
    t->job.frame = &t->frame;
    t->job.finish = finish;
    t->job.finish_ctx = finish_ctx;
    return usable;
}

int strategy_task_eval(const task_ctx_t *ctx, strategy_task_t *t, strategy_finish_fn finish, void *finish_ctx,
                       json_t **result, char **raw, size_t *raw_len, strategy_failure_t *failure, char *error,
                       size_t errlen)
{
    prepare(ctx, t, finish, finish_ctx);
    return strategy_run(&t->job, result, raw, raw_len, failure, error, errlen);
}

int strategy_task_eval_batch(const task_ctx_t *ctx, strategy_task_t *t, strategy_finish_fn finish, void *finish_ctx,
                             const json_t *params, json_t **datas, strategy_split_t *splits, char *error,
                             size_t errlen)
{
    int64_t usable = prepare(ctx, t, finish, finish_ctx);
    size_t n = json_array_size(params);
    int64_t wall = t->job.time_limit_ms * (int64_t)(n ? n : 1);
    return strategy_run_batch(&t->job, params, wall < usable ? wall : usable, datas, splits, error, errlen);
}

task_status_t strategy_task_run(const task_ctx_t *ctx, strategy_task_t *t, strategy_finish_fn finish,
                                void *finish_ctx, const char *raw_key, json_t **data, task_out_t *out)
{
    *data = NULL;
    char msg[sizeof out->error];
    json_t *env;
    char *raw;
    size_t raw_len;
    strategy_failure_t failure;
    if (strategy_task_eval(ctx, t, finish, finish_ctx, &env, &raw, &raw_len, &failure, msg, sizeof msg) != 0) { /* strategy problems are permanent: the same code fails the same way */
        if (env != NULL) { /* what it printed goes into the error result too */
            out->details = json_object();
            json_t *printed = json_object_get(env, "output");
            if (printed != NULL)
                json_object_set(out->details, "strategy_output", printed);
            if (json_is_true(json_object_get(env, "output_truncated")))
                json_object_set_new(out->details, "strategy_output_truncated", json_true());
            json_decref(env);
        }
        return task_error(out, strategy_failure_transient(failure) ? TASK_TRANSIENT : TASK_PERMANENT, "%s", msg);
    }
    json_t *columns = json_object_get(env, "columns");
    *data = json_incref(json_object_get(env, "data"));
    json_t *printed = json_object_get(env, "output");
    if (printed != NULL)
        json_object_set(*data, "strategy_output", printed);
    if (json_is_true(json_object_get(env, "output_truncated")))
        json_object_set_new(*data, "strategy_output_truncated", json_true());
    if (raw != NULL) {
        out->raw = raw;
        out->raw_len = raw_len;
        out->raw_key = raw_key;
    }
    bar_cache_warm(t->features, columns, STRATEGY_WARM_COLUMNS);
    json_decref(env);
    return TASK_OK;
}

void strategy_task_free(strategy_task_t *t)
{
    free(t->symbols);
    free(t->lo);
    free(t->hi);
    t->symbols = NULL;
    t->lo = t->hi = NULL;
}

task_status_t strategy_task_done(strategy_task_t *t, task_status_t st, json_t *data, int64_t t0, task_out_t *out)
{
    if (st == TASK_OK) {
        json_object_set_new(data, "execution_time_ms", json_real((double)(clock_mono_us() - t0) / 1000.0));
        out->data = data;
    } else {
        json_decref(data);
    }
    strategy_task_free(t);
    return st;
}
