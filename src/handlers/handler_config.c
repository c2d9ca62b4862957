/* handler_config.c — reading and checking [handler NAME] sections
 * (handler_config.h). */
#include "handlers/handler_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/config_file.h"
#include "core/job.h"
#include "handlers/config_list.h"

#define DEFAULT_CANCEL_GRACE_MS 2000
#define DEFAULT_START_TIMEOUT_MS 30000

typedef struct {
    handler_set_t *set;
    const char *path;
    handler_builtin_fn builtin;
    const config_key_t *key;     /* the key being read */
    char *err;
    size_t errlen;
    int failed;
} reader_t;

/* Records "FILE:LINE: message" (about a key's value cut by an inline
 * comment, it says so); returns 0 (the parser stops). */
static int fail(reader_t *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(reader_t *r, int line, const char *fmt, ...)
{
    char msg[900], note[300] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->key != NULL && r->key->line == line)
        config_file_cut_note(r->key, note, sizeof note);
    snprintf(r->err, r->errlen, "%s:%d: %s%s", r->path, line, msg, note);
    r->failed = 1;
    return 0;
}

static handler_def_t *section_handler(reader_t *r, const char *name, int section_line)
{
    handler_set_t *set = r->set;
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->items[i].name, name) == 0) {
            if (set->items[i].line != section_line) {
                snprintf(r->err, r->errlen, "%s:%d: [handler %s] appears twice (first at line %d)", r->path,
                         section_line, name, set->items[i].line);
                r->failed = 1;
                return NULL;
            }
            return &set->items[i];
        }
    if (!job_name_valid(name, HANDLER_NAME_MAX)) {
        fail(r, section_line, "[handler %s]: a handler name is 1 to 64 letters, digits, '_', '-' or '.'", name);
        return NULL;
    }
    handler_def_t *grown = realloc(set->items, (set->n + 1) * sizeof *grown);
    if (grown == NULL) {
        fail(r, section_line, "out of memory");
        return NULL;
    }
    set->items = grown;
    handler_def_t *h = &set->items[set->n++];
    memset(h, 0, sizeof *h);
    snprintf(h->name, sizeof h->name, "%s", name);
    h->cancel_grace_ms = DEFAULT_CANCEL_GRACE_MS;
    h->start_timeout_ms = DEFAULT_START_TIMEOUT_MS;
    h->line = section_line;
    return h;
}

static int add_types(reader_t *r, handler_def_t *h, const char *value, int line)
{
    config_list_t list;
    char key[100], why[500];
    snprintf(key, sizeof key, "[handler %s]: types", h->name);
    if (config_list_split(key, value, &list, why, sizeof why) != 0)
        return fail(r, line, "%s", why);
    for (size_t e = 0; e < list.n && !r->failed; e++) {
        const char *t = list.items[e];
        if (!job_name_valid(t, JOB_TYPE_MAX)) {
            fail(r, line, "types: '%s' is not a task type name (1 to 64 letters, digits, '_', '-' or '.')", t);
            break;
        }
        if (r->builtin != NULL && r->builtin(t)) {
            fail(r, line, "types: '%s' is a task built into tickq; a handler cannot serve it", t);
            break;
        }
        for (size_t i = 0; i < r->set->n && !r->failed; i++)
            for (size_t k = 0; k < r->set->items[i].ntypes; k++)
                if (strcmp(r->set->items[i].types[k], t) == 0) {
                    snprintf(r->err, r->errlen, "%s:%d: types: '%s' is served by [handler %s] already", r->path,
                             line, t, r->set->items[i].name);
                    r->failed = 1;
                    break;
                }
        if (r->failed)
            break;
        if (h->ntypes == HANDLER_TYPES_MAX) {
            fail(r, line, "types: more than %d types in one handler", HANDLER_TYPES_MAX);
            break;
        }
        if ((h->types[h->ntypes] = strdup(t)) == NULL) {
            fail(r, line, "out of memory");
            break;
        }
        h->ntypes++;
    }
    config_list_free(&list);
    return !r->failed;
}

/* A duration key within [min_ms, max_ms], given once (set: already). */
static int duration(reader_t *r, handler_def_t *h, const config_key_t *k, int *set, int64_t min_ms, int64_t max_ms,
                    int64_t *out)
{
    char msg[700];
    if (*set)
        return fail(r, k->line, "[handler %s]: %s is given twice", h->name, k->key);
    if (config_file_duration(k, min_ms, max_ms, "2s, 500ms", out, msg, sizeof msg) != 0)
        return fail(r, k->line, "[handler %s]: %s", h->name, msg);
    *set = 1;
    return 1;
}

static int handler_key(reader_t *r, handler_def_t *h, const config_key_t *k)
{
    const char *key = k->key, *value = k->value;
    int line = k->line;
    if (strcmp(key, "command") == 0) {
        if (h->command != NULL)
            return fail(r, line, "[handler %s]: command is given twice", h->name);
        if (value[0] == '\0')
            return fail(r, line, "[handler %s]: command is empty", h->name);
        if ((h->command = strdup(value)) == NULL)
            return fail(r, line, "out of memory");
        return 1;
    }
    if (strcmp(key, "types") == 0) {
        if (h->ntypes > 0)
            return fail(r, line, "[handler %s]: types is given twice", h->name);
        return add_types(r, h, value, line);
    }
    if (strcmp(key, "cancel_grace") == 0)
        return duration(r, h, k, &h->cancel_grace_set, 0, HANDLER_CANCEL_GRACE_MAX_MS, &h->cancel_grace_ms);
    if (strcmp(key, "start_timeout") == 0)
        return duration(r, h, k, &h->start_timeout_set, HANDLER_START_TIMEOUT_MIN_MS, HANDLER_START_TIMEOUT_MAX_MS,
                        &h->start_timeout_ms);
    return fail(r, line, "[handler %s]: unknown key '%s' (known: command, types, cancel_grace, start_timeout)",
                h->name, key);
}

static int on_key(void *user, const config_key_t *k)
{
    reader_t *r = user;
    const char *name;
    config_section_t kind = config_file_section(k->section, &name);
    if (r->failed)
        return 0;
    if (kind == CONFIG_SECTION_UNKNOWN) {
        char msg[400];
        int line = config_file_unknown_section(k, msg, sizeof msg);
        snprintf(r->err, r->errlen, "%s:%d: %s", r->path, line, msg);
        r->failed = 1;
        return 0;
    }
    if (kind != CONFIG_SECTION_HANDLER)
        return 1;
    handler_def_t *h = section_handler(r, name, k->section_line);
    if (h == NULL)
        return 0;
    r->key = k;
    int ok = handler_key(r, h, k);
    r->key = NULL;
    return ok;
}

int handler_config_parse(handler_set_t *set, const char *text, const char *path, handler_builtin_fn builtin,
                         char *err, size_t errlen)
{
    memset(set, 0, sizeof *set);
    reader_t r = { set, path, builtin, NULL, err, errlen, 0 };
    int rc = config_file_parse(text, on_key, &r);
    if (!r.failed && rc > 0)
        fail(&r, rc, "not a setting (write key = value or [section])");
    else if (!r.failed && rc < 0)
        fail(&r, 0, "out of memory");
    for (size_t i = 0; i < set->n && !r.failed; i++) {
        if (set->items[i].command == NULL)
            fail(&r, set->items[i].line, "[handler %s] has no command", set->items[i].name);
        else if (set->items[i].ntypes == 0)
            fail(&r, set->items[i].line, "[handler %s] has no types (the task types it serves)",
                 set->items[i].name);
    }
    if (!r.failed && (set->path = strdup(path)) == NULL)
        fail(&r, 0, "out of memory");
    if (r.failed) {
        handler_config_free(set);
        return -1;
    }
    return 0;
}

int handler_config_load(handler_set_t *set, const char *path, handler_builtin_fn builtin, char *err,
                        size_t errlen)
{
    memset(set, 0, sizeof *set);
    char *text = config_file_read(path, err, errlen);
    if (text == NULL)
        return -1;
    int rc = handler_config_parse(set, text, path, builtin, err, errlen);
    free(text);
    return rc;
}

void handler_config_free(handler_set_t *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->items[i].command);
        for (size_t k = 0; k < set->items[i].ntypes; k++)
            free(set->items[i].types[k]);
    }
    free(set->items);
    free(set->path);
    memset(set, 0, sizeof *set);
}

const handler_def_t *handler_config_for_type(const handler_set_t *set, const char *type)
{
    for (size_t i = 0; i < set->n; i++)
        for (size_t k = 0; k < set->items[i].ntypes; k++)
            if (strcmp(set->items[i].types[k], type) == 0)
                return &set->items[i];
    return NULL;
}

void handler_types_text(const handler_def_t *h, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t k = 0; k < h->ntypes && used < outlen; k++) {
        int n = snprintf(out + used, outlen - used, "%s%s", k ? ", " : "", h->types[k]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}
