/* job_json.c — a job described as a JSON object, and what an enqueue did
 * to it (job_json.h). */
#include "core/job_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/close_match.h"
#include "core/json_exact.h"

static const char *const task_fields[] = { "type", "args", "queue", "priority", "id", "max_retries", "timeout",
                                           "delay", "replace", "expires", "depends_on", "after_any" };
#define NFIELDS (sizeof task_fields / sizeof task_fields[0])
#define NAMES_MAX 24

void job_json_text_free(job_json_text_t *t)
{
    free(t->args);
    free(t->deps);
    t->args = t->deps = NULL;
}

/* An unknown key of `task` (neither a task field nor one of `extra`):
 * 0 when there is none, else JOB_JSON_BAD with err naming it. */
static int unknown_field(const json_t *task, const char *const *extra, char *err, size_t errlen)
{
    const char *names[NAMES_MAX];
    size_t n = 0;
    for (size_t i = 0; i < NFIELDS; i++)
        names[n++] = task_fields[i];
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < NAMES_MAX; i++)
        names[n++] = extra[i];
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)task, key, v) {
        int known = 0;
        for (size_t i = 0; i < n && !known; i++)
            known = strcmp(names[i], key) == 0;
        if (known)
            continue;
        size_t best = 0;
        char hint[80] = "", list[400] = "";
        if (close_match_find(key, names, n, &best, 1) == 1)
            snprintf(hint, sizeof hint, " (did you mean '%s'?)", names[best]);
        for (size_t i = 0, at = 0; i < n && at < sizeof list; i++)
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", i ? ", " : "", names[i]);
        snprintf(err, errlen, "unknown field '%.60s'%s; a task takes: %s", key, hint, list);
        return JOB_JSON_BAD;
    }
    return 0;
}

/* Seconds (a JSON number) as milliseconds: 0, or JOB_JSON_BAD with err. */
static int seconds_field(const json_t *task, const char *name, int positive, int64_t max_ms, int64_t *ms, char *err,
                         size_t errlen)
{
    const json_t *v = json_object_get(task, name);
    if (v == NULL || json_is_null(v))
        return 0;
    double s = json_number_value(v);
    if (!json_is_number(v) || !isfinite(s) || s < 0 || (positive && s <= 0) || s * 1000 > (double)max_ms) {
        snprintf(err, errlen, "%s must be a number of seconds %s and at most %lld", name,
                 positive ? "above 0" : "from 0", (long long)(max_ms / 1000));
        return JOB_JSON_BAD;
    }
    *ms = (int64_t)llround(s * 1000);
    if (positive && *ms == 0) { /* 0.0004 s is 0 ms: "not set", never meant */
        snprintf(err, errlen, "%s must be at least 0.001 seconds", name);
        return JOB_JSON_BAD;
    }
    return 0;
}

/* A string field (NULL when absent): 0, or JOB_JSON_BAD with err. */
static int string_field(const json_t *task, const char *name, const char **out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(task, name);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        snprintf(err, errlen, "%s must be a string", name);
        return JOB_JSON_BAD;
    }
    *out = json_string_value(v);
    return 0;
}

/* A boolean field (left as is when absent): 0, or JOB_JSON_BAD with err. */
static int bool_field(const json_t *task, const char *name, int *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(task, name);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v)) {
        snprintf(err, errlen, "%s must be true or false", name);
        return JOB_JSON_BAD;
    }
    *out = json_is_true(v);
    return 0;
}

/* depends_on (a list of job ids) as the comma-separated text job_spec_t
 * takes, malloc'd into *text (NULL when absent): 0, or an error with err. */
static int depends_field(const json_t *task, char **text, char *err, size_t errlen)
{
    const json_t *v = json_object_get(task, "depends_on");
    *text = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) == 0) {
        snprintf(err, errlen, "depends_on must be a non-empty list of job ids, e.g. [\"id1\", \"id2\"]");
        return JOB_JSON_BAD;
    }
    size_t len = 0, i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e) || strchr(json_string_value(e), ',') != NULL) {
            snprintf(err, errlen, "depends_on[%zu] must be a job id (a string without commas)", i);
            return JOB_JSON_BAD;
        }
        len += json_string_length(e) + 1;
    }
    if ((*text = malloc(len + 1)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return JOB_JSON_NOMEM;
    }
    char *p = *text;
    json_array_foreach(v, i, e)
        p += sprintf(p, "%s%s", i ? "," : "", json_string_value(e));
    return 0;
}

int job_json_spec(const json_t *task, const char *const *extra, job_spec_t *spec, job_json_text_t *text, char *err,
                  size_t errlen)
{
    job_spec_init(spec);
    text->args = text->deps = NULL;
    if (!json_is_object(task)) {
        snprintf(err, errlen, "a task must be a JSON object like {\"type\": \"echo\", \"args\": {}}");
        return JOB_JSON_BAD;
    }
    int st;
    if ((st = unknown_field(task, extra, err, errlen)) != 0)
        return st;
    const json_t *type = json_object_get(task, "type"), *args = json_object_get(task, "args");
    const json_t *retries = json_object_get(task, "max_retries");
    if (!json_is_string(type)) {
        snprintf(err, errlen, "type must be a string naming the task (`tickq tasks` lists them)");
        return JOB_JSON_BAD;
    }
    spec->type = json_string_value(type);
    if (args != NULL && !json_is_null(args) && !json_is_object(args)) {
        snprintf(err, errlen, "args must be a JSON object");
        return JOB_JSON_BAD;
    }
    if ((st = string_field(task, "queue", &spec->queue, err, errlen)) != 0 ||
        (st = string_field(task, "priority", &spec->priority, err, errlen)) != 0 ||
        (st = string_field(task, "id", &spec->id, err, errlen)) != 0 ||
        (st = seconds_field(task, "timeout", 1, JOB_MAX_TIMEOUT_MS, &spec->timeout_ms, err, errlen)) != 0 ||
        (st = seconds_field(task, "delay", 0, JOB_MAX_DELAY_MS, &spec->delay_ms, err, errlen)) != 0 ||
        (st = seconds_field(task, "expires", 1, JOB_MAX_EXPIRES_MS, &spec->expires_ms, err, errlen)) != 0 ||
        (st = bool_field(task, "replace", &spec->replace, err, errlen)) != 0 ||
        (st = bool_field(task, "after_any", &spec->after_any, err, errlen)) != 0)
        return st;
    if (retries != NULL && !json_is_null(retries)) {
        if (!json_is_integer(retries) || json_integer_value(retries) < 0 ||
            json_integer_value(retries) > JOB_MAX_RETRIES_LIMIT) {
            snprintf(err, errlen, "max_retries must be an integer from 0 to %d", JOB_MAX_RETRIES_LIMIT);
            return JOB_JSON_BAD;
        }
        spec->max_retries = (int)json_integer_value(retries);
    }
    if (spec->replace && spec->id == NULL) {
        snprintf(err, errlen, "replace needs an id: it runs an existing job again");
        return JOB_JSON_BAD;
    }
    if ((st = depends_field(task, &text->deps, err, errlen)) != 0)
        return st;
    spec->depends_on = text->deps;
    text->args = args != NULL && !json_is_null(args) ? json_exact_dumps(args, JSON_COMPACT) : strdup("{}");
    if (text->args == NULL) {
        snprintf(err, errlen, "out of memory");
        return JOB_JSON_NOMEM;
    }
    spec->args = text->args;
    spec->args_len = strlen(text->args);
    return 0;
}

json_t *job_json_enqueue_result(const enqueue_result_t *r)
{
    json_t *o = json_pack("{s:s, s:b, s:s, s:i}", "id", r->id, "created", r->created, "state", r->state, "run",
                          r->run);
    if (o != NULL && r->created && r->previous[0])
        json_object_set_new(o, "replaced", json_string(r->previous));
    return o;
}
