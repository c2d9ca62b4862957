/* job.c — job fields, defaults and the checks a new job must pass. */
#include "core/job.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

const char *job_outcome_name(job_outcome_kind_t kind)
{
    switch (kind) {
    case OUTCOME_OK: return "ok";
    case OUTCOME_TRANSIENT: return "transient";
    case OUTCOME_PERMANENT: return "permanent";
    case OUTCOME_TIMEOUT: return "timeout";
    case OUTCOME_CRASH: return "crash";
    case OUTCOME_CANCEL: return "cancel";
    case OUTCOME_SHUTDOWN: return "shutdown";
    case OUTCOME_CHILDREN: return "children";
    }
    return "transient";
}

void job_spec_init(job_spec_t *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->args = "{}";
    spec->args_len = 2;
    spec->queue = QUEUE_DEFAULT;
    spec->priority = "normal";
    spec->max_retries = JOB_DEFAULT_MAX_RETRIES;
    spec->timeout_ms = JOB_TIMEOUT_UNSET;
}

int job_id_check(const char *id, char *err, size_t errlen)
{
    size_t n = strlen(id);
    if (n == 0 || n > JOB_ID_MAX) {
        snprintf(err, errlen, "invalid job id: use 1-%d characters", JOB_ID_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c <= 0x20 || c == 0x7f) {
            snprintf(err, errlen, "invalid job id '%s': spaces and control characters are not allowed", id);
            return -1;
        }
    }
    return 0;
}

int job_name_valid(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.'))
            return 0;
    }
    return 1;
}

static int type_check(const char *type, char *err, size_t errlen)
{
    if (type == NULL || *type == '\0') {
        snprintf(err, errlen, "missing task type: give one, e.g. `tickq enqueue echo '{\"x\":1}'`");
        return -1;
    }
    if (!job_name_valid(type, JOB_TYPE_MAX)) {
        snprintf(err, errlen, "invalid task type '%s': use 1-%d characters from A-Z a-z 0-9 _ - .", type,
                 JOB_TYPE_MAX);
        return -1;
    }
    return 0;
}

/* How deep v's objects and arrays nest (a scalar: 0). Jansson's parser
 * stops at 2048 levels, so the recursion is bounded. */
static int json_depth(const json_t *v)
{
    int deepest = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e) {
            int d = json_depth(e);
            deepest = d > deepest ? d : deepest;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            int d = json_depth(e);
            deepest = d > deepest ? d : deepest;
        }
    } else {
        return 0;
    }
    return deepest + 1;
}

void job_args_json_error(const json_error_t *jerr, char *err, size_t errlen)
{
    if (json_error_code(jerr) == json_error_null_character)
        snprintf(err, errlen, "args hold a NUL character (\\u0000, line %d, column %d): tickq takes text without "
                 "NUL", jerr->line, jerr->column);
    else
        snprintf(err, errlen, "args are not valid JSON: %s (line %d, column %d)", jerr->text, jerr->line,
                 jerr->column);
}

static int args_check(const char *args, size_t len, size_t max_payload, char *err, size_t errlen)
{
    if (len > max_payload) {
        snprintf(err, errlen, "args are %zu bytes, over the payload limit of %zu bytes", len, max_payload);
        return -1;
    }
    json_error_t jerr;
    json_t *v = json_loadb(args, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (v == NULL) {
        job_args_json_error(&jerr, err, errlen);
        return -1;
    }
    const char *kind = json_is_object(v) ? NULL : json_is_array(v) ? "an array" : "a scalar";
    int depth = json_depth(v);
    json_decref(v);
    if (kind != NULL) {
        snprintf(err, errlen, "args must be a JSON object like {\"symbol\": \"AAPL\"}, not %s", kind);
        return -1;
    }
    if (depth > JOB_ARGS_MAX_DEPTH) {
        snprintf(err, errlen, "args are nested %d levels deep, more than the %d Redis reads", depth,
                 JOB_ARGS_MAX_DEPTH);
        return -1;
    }
    return 0;
}

/* The expiry (0: none) is at most a year and later than the delay: a job
 * that expires before it may start could never run. */
static int job_expiry_check(const job_spec_t *s, char *err, size_t errlen)
{
    if (s->expires_ms == 0)
        return 0;
    if (s->expires_ms < 0 || s->expires_ms > JOB_MAX_EXPIRES_MS) {
        snprintf(err, errlen, "invalid expiry: use more than 0 and at most a year (31536000 s)");
        return -1;
    }
    if (s->expires_ms <= s->delay_ms) {
        snprintf(err, errlen, "invalid expiry: the job would expire (after %.3f s) before its delay ends "
                 "(%.3f s); expires must be later than the delay", (double)s->expires_ms / 1000.0,
                 (double)s->delay_ms / 1000.0);
        return -1;
    }
    return 0;
}

int job_timeout_valid(int64_t ms)
{
    return ms > 0 && ms <= JOB_MAX_TIMEOUT_MS;
}

int job_spec_check(const job_spec_t *s, size_t max_payload, char *err, size_t errlen)
{
    if (s->id != NULL && job_id_check(s->id, err, errlen) != 0)
        return -1;
    if (type_check(s->type, err, errlen) != 0)
        return -1;
    if (args_check(s->args, s->args_len, max_payload, err, errlen) != 0)
        return -1;
    if (queue_name_check(s->queue, err, errlen) != 0)
        return -1;
    if (queue_priority_check(s->priority) != 0) {
        snprintf(err, errlen, "invalid priority '%s': use high, normal or low", s->priority);
        return -1;
    }
    if (s->max_retries < 0 || s->max_retries > JOB_MAX_RETRIES_LIMIT) {
        snprintf(err, errlen, "invalid max_retries %d: use 0-%d", s->max_retries, JOB_MAX_RETRIES_LIMIT);
        return -1;
    }
    if (s->timeout_ms != JOB_TIMEOUT_UNSET && !job_timeout_valid(s->timeout_ms)) {
        snprintf(err, errlen, "invalid timeout: it must be more than 0 and at most 7 days (604800 s), or not set "
                 "(the worker's default)");
        return -1;
    }
    if (s->delay_ms < 0 || s->delay_ms > JOB_MAX_DELAY_MS) {
        snprintf(err, errlen, "invalid delay: use 0 to 1 year");
        return -1;
    }
    if (job_expiry_check(s, err, errlen) != 0)
        return -1;
    return job_depends_check(s->depends_on, s->after_any, err, errlen);
}

int job_depends_check(const char *list, int after_any, char *err, size_t errlen)
{
    if (list == NULL || *list == '\0') {
        if (after_any) {
            snprintf(err, errlen, "after_any needs depends_on: the jobs it runs after");
            return -1;
        }
        return 0;
    }
    size_t n = 0;
    for (const char *p = list;; n++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char id[JOB_ID_MAX + 2];
        if (len == 0) {
            snprintf(err, errlen, "depends_on has an empty job id (ids are separated by single commas)");
            return -1;
        }
        if (len > JOB_ID_MAX) {
            snprintf(err, errlen, "depends_on: job id '%.40s...' is over %d characters", p, JOB_ID_MAX);
            return -1;
        }
        memcpy(id, p, len);
        id[len] = '\0';
        char why[JOB_ID_MAX + 128];
        if (job_id_check(id, why, sizeof why) != 0) {
            snprintf(err, errlen, "depends_on: %s", why);
            return -1;
        }
        if (n + 1 > JOB_MAX_DEPS) {
            snprintf(err, errlen, "depends_on lists more than %d jobs", JOB_MAX_DEPS);
            return -1;
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return 0;
}

int job_state_is_final(const char *state)
{
    return strcmp(state, "completed") == 0 || strcmp(state, "failed") == 0 || strcmp(state, "dead") == 0 ||
           strcmp(state, "cancelled") == 0;
}
