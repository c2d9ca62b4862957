/* strategy_task.c — what the strategy tasks share. */
#include "strategy_task.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bar_cache.h"
#include "clock.h"
#include "db.h"

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

static double number_arg(const json_t *args, const char *field, double dflt, int *bad)
{
    json_t *v = json_object_get(args, field);
    if (v == NULL || json_is_null(v))
        return dflt;
    if (!json_is_number(v)) {
        *bad = 1;
        return dflt;
    }
    return json_number_value(v);
}

task_status_t strategy_task_args(const task_ctx_t *ctx, strategy_task_t *t, task_out_t *out)
{
    memset(t, 0, sizeof *t);
    const json_t *a = ctx->args;
    json_t *code = json_object_get(a, "strategy_code");
    if (!json_is_string(code) || json_string_length(code) == 0)
        return task_error(out, TASK_PERMANENT, "missing strategy_code: give the strategy's Lua source as a string");
    t->job.code = json_string_value(code);
    t->job.code_len = json_string_length(code);
    json_t *lang = json_object_get(a, "language");
    if (lang != NULL && !json_is_null(lang)) {
        if (!json_is_string(lang))
            return task_error(out, TASK_PERMANENT, "language must be a string (lua)");
        if (strcmp(json_string_value(lang), "python") == 0)
            return task_error(out, TASK_PERMANENT, "Python strategies are not supported yet");
        if (strcmp(json_string_value(lang), "lua") != 0)
            return task_error(out, TASK_PERMANENT, "unsupported language '%s' (use lua)", json_string_value(lang));
    } else if (strategy_is_python(t->job.code)) {
        return task_error(out, TASK_PERMANENT, "Python strategies are not supported yet");
    }
    json_t *entry = json_object_get(a, "entry");
    if (entry != NULL && !json_is_null(entry)) {
        if (!json_is_string(entry) || json_string_length(entry) == 0)
            return task_error(out, TASK_PERMANENT, "entry must be the name of a function the strategy defines");
        t->job.entry = json_string_value(entry);
    }
    int bad = 0;
    double secs = number_arg(a, "strategy_timeout_seconds", 30, &bad);
    if (bad || !(secs > 0))
        return task_error(out, TASK_PERMANENT, "strategy_timeout_seconds must be a number above 0");
    t->job.time_limit_ms = (int64_t)(secs * 1000); /* clamped to the job's time left at the run */
    double mb = number_arg(a, "memory_mb", 512, &bad);
    if (bad || mb < 16 || mb > 65536)
        return task_error(out, TASK_PERMANENT, "memory_mb must be a number from 16 to 65536");
    t->job.memory_bytes = (size_t)mb << 20;
    json_t *interval = json_object_get(a, "interval");
    const char *iv = "1d";
    if (interval != NULL && !json_is_null(interval)) {
        if (!json_is_string(interval) || bar_interval_seconds(json_string_value(interval)) < 0)
            return task_error(out, TASK_PERMANENT, "interval must be like 1d, 1h, 15m or 1wk");
        iv = json_string_value(interval);
    }
    snprintf(t->interval, sizeof t->interval, "%s", iv);
    return TASK_OK;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

task_status_t strategy_task_symbols(const task_ctx_t *ctx, const char *field, strategy_task_t *t, task_out_t *out)
{
    json_t *list = json_object_get(ctx->args, field);
    if (!json_is_array(list) || json_array_size(list) == 0)
        return task_error(out, TASK_PERMANENT, "%s must be a non-empty list of symbols, e.g. [\"AAPL\", \"MSFT\"]", field);
    size_t n = json_array_size(list);
    if (n > STRATEGY_MAX_SYMBOLS)
        return task_error(out, TASK_PERMANENT, "%s has %zu symbols (at most %d)", field, n, STRATEGY_MAX_SYMBOLS);
    t->symbols = malloc(n * sizeof *t->symbols);
    if (t->symbols == NULL)
        return task_error(out, TASK_TRANSIENT, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(list, i);
        if (!json_is_string(s) || bar_symbol_check(json_string_value(s), json_string_length(s)) != 0)
            return task_error(out, TASK_PERMANENT, "%s[%zu] is not a valid symbol", field, i);
        t->symbols[i] = json_string_value(s);
    }
    qsort(t->symbols, n, sizeof *t->symbols, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(t->symbols[k - 1], t->symbols[i]) != 0)
            t->symbols[k++] = t->symbols[i];
    t->nsymbols = k;
    return TASK_OK;
}

task_status_t strategy_task_time(const task_ctx_t *ctx, const char *field, int required, int end_of_day,
                                 int64_t dflt, int64_t *ts, task_out_t *out)
{
    json_t *v = json_object_get(ctx->args, field);
    if (v == NULL || json_is_null(v)) {
        if (required)
            return task_error(out, TASK_PERMANENT, "missing %s (an ISO 8601 date like 2024-01-31)", field);
        *ts = dflt;
        return TASK_OK;
    }
    int date_only;
    if (!json_is_string(v) || clock_parse_iso8601(json_string_value(v), ts, &date_only) != 0)
        return task_error(out, TASK_PERMANENT, "%s must be an ISO 8601 date or time (2024-01-31, "
                          "2024-01-31T15:30:00Z), got %s", field,
                          json_is_string(v) ? json_string_value(v) : "a non-string");
    if (date_only && end_of_day)
        *ts += 86399;
    return TASK_OK;
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

task_status_t strategy_task_bps(const task_ctx_t *ctx, const char *field, double *fraction, task_out_t *out)
{
    json_t *v = json_object_get(ctx->args, field);
    *fraction = 0;
    if (v == NULL || json_is_null(v))
        return TASK_OK;
    if (!json_is_number(v) || !(json_number_value(v) >= 0) || json_number_value(v) > 10000)
        return task_error(out, TASK_PERMANENT, "%s must be a number of basis points from 0 to 10000", field);
    *fraction = json_number_value(v) / 10000.0;
    return TASK_OK;
}

task_status_t strategy_task_range(const task_ctx_t *ctx, strategy_task_t *t, int64_t *start, int64_t *end,
                                  size_t *processed, task_out_t *out)
{
    const char *first = json_string_value(json_object_get(ctx->args, "start_date"));
    const char *last = json_string_value(json_object_get(ctx->args, "end_date"));
    task_status_t st = strategy_task_time(ctx, "start_date", 1, 0, 0, start, out);
    if (st == TASK_OK)
        st = strategy_task_time(ctx, "end_date", 1, 1, 0, end, out);
    if (st != TASK_OK)
        return st;
    if (*start > *end)
        return task_error(out, TASK_PERMANENT, "start_date %s is after end_date %s", first, last);
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

int strategy_task_eval(const task_ctx_t *ctx, strategy_task_t *t, strategy_finish_fn finish, void *finish_ctx,
                       json_t **result, char **raw, size_t *raw_len, char *error, size_t errlen)
{
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
        if (t->job.time_limit_ms > left - margin)
            t->job.time_limit_ms = left - margin > 1 ? left - margin : 1;
    }
    t->job.frame = &t->frame;
    t->job.finish = finish;
    t->job.finish_ctx = finish_ctx;
    return strategy_run(&t->job, result, raw, raw_len, error, errlen);
}

task_status_t strategy_task_run(const task_ctx_t *ctx, strategy_task_t *t, strategy_finish_fn finish,
                                void *finish_ctx, const char *raw_key, json_t **data, task_out_t *out)
{
    *data = NULL;
    char msg[sizeof out->error];
    json_t *env;
    char *raw;
    size_t raw_len;
    int rc = strategy_task_eval(ctx, t, finish, finish_ctx, &env, &raw, &raw_len, msg, sizeof msg);
    if (rc != 0) { /* strategy problems are permanent: the same code fails the same way */
        if (env != NULL) { /* what it printed goes into the error result too */
            out->details = json_object();
            json_t *printed = json_object_get(env, "output");
            if (printed != NULL)
                json_object_set(out->details, "strategy_output", printed);
            if (json_is_true(json_object_get(env, "output_truncated")))
                json_object_set_new(out->details, "strategy_output_truncated", json_true());
            json_decref(env);
        }
        return task_error(out, rc == STRATEGY_NOT_STARTED ? TASK_TRANSIENT : TASK_PERMANENT, "%s", msg);
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
    bar_cache_warm(t->features, columns);
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
