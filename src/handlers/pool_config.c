/* pool_config.c — reading and checking [pool NAME] sections (pool_config.h). */
#include "handlers/pool_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/config_file.h"
#include "core/job.h"
#include "core/queue_names.h"
#include "handlers/config_list.h"

typedef struct {
    pool_set_t *set;
    const char *path;
    int workers_max;
    const config_key_t *key;     /* the key being read */
    char *err;
    size_t errlen;
    int failed;
} reader_t;

/* Records "FILE:LINE: msg" (about a key's value cut by an inline comment,
 * it says so); returns 0 (the parser stops). */
static int fail(reader_t *r, int line, const char *msg)
{
    char note[300] = "";
    if (r->key != NULL && r->key->line == line)
        config_file_cut_note(r->key, note, sizeof note);
    snprintf(r->err, r->errlen, "%s:%d: %s%s", r->path, line, msg, note);
    r->failed = 1;
    return 0;
}

static pool_def_t *section_pool(reader_t *r, const char *name, int section_line)
{
    pool_set_t *set = r->set;
    char msg[300];
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->items[i].name, name) == 0) {
            if (set->items[i].line == section_line)
                return &set->items[i];
            snprintf(msg, sizeof msg, "[pool %s] appears twice (first at line %d)", name, set->items[i].line);
            fail(r, section_line, msg);
            return NULL;
        }
    if (!job_name_valid(name, HANDLER_NAME_MAX)) {
        snprintf(msg, sizeof msg, "[pool %.80s]: a pool name is 1 to 64 letters, digits, '_', '-' or '.'", name);
        fail(r, section_line, msg);
        return NULL;
    }
    pool_def_t *grown = realloc(set->items, (set->n + 1) * sizeof *grown);
    if (grown == NULL) {
        fail(r, section_line, "out of memory");
        return NULL;
    }
    set->items = grown;
    pool_def_t *p = &set->items[set->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->line = section_line;
    return p;
}

/* Splits a comma-separated value (config_list) into up to max malloc'd
 * items; `key` names it in an error ("[pool p]: types"). */
static int split_list(reader_t *r, const char *key, const char *value, int line, char **out, size_t max, size_t *n)
{
    config_list_t list;
    char msg[500];
    if (config_list_split(key, value, &list, msg, sizeof msg) != 0)
        return fail(r, line, msg);
    if (list.n > max) {
        snprintf(msg, sizeof msg, "%s: more than %zu items", key, max);
        config_list_free(&list);
        return fail(r, line, msg);
    }
    for (size_t i = 0; i < list.n; i++)
        out[(*n)++] = list.items[i]; /* taken: the list keeps none of them */
    free(list.items);
    return 1;
}

static int pool_key(reader_t *r, pool_def_t *p, const config_key_t *k)
{
    const char *key = k->key, *value = k->value;
    int line = k->line;
    char msg[900];
    if (strcmp(key, "queues") == 0) {
        queue_list_t list; /* checked with the default prefix: the worker parses it again with its own */
        char why[400];
        if (p->queues != NULL) {
            snprintf(msg, sizeof msg, "[pool %s]: queues is given twice", p->name);
            return fail(r, line, msg);
        }
        if (queue_list_parse(value, "tickq", &list, why, sizeof why) != 0) {
            snprintf(msg, sizeof msg, "[pool %s]: queues: %s", p->name, why);
            return fail(r, line, msg);
        }
        if ((p->queues = strdup(value)) == NULL)
            return fail(r, line, "out of memory");
        return 1;
    }
    if (strcmp(key, "workers") == 0) {
        char *end;
        long v = strtol(value, &end, 10);
        if (p->workers != 0 || *value == '\0' || *end != '\0' || v < 1 || v > r->workers_max) {
            snprintf(msg, sizeof msg, "[pool %s]: workers = %.40s is not a number from 1 to %d%s", p->name, value,
                     r->workers_max, p->workers != 0 ? " (or is given twice)" : "");
            return fail(r, line, msg);
        }
        p->workers = (int)v;
        return 1;
    }
    if (strcmp(key, "handlers") == 0) {
        if (p->nhandlers > 0) {
            snprintf(msg, sizeof msg, "[pool %s]: handlers is given twice", p->name);
            return fail(r, line, msg);
        }
        snprintf(msg, sizeof msg, "[pool %s]: handlers", p->name);
        if (!split_list(r, msg, value, line, p->handlers, HANDLER_TYPES_MAX, &p->nhandlers))
            return 0;
        for (size_t i = 0; i < p->nhandlers; i++) {
            int found = 0;
            for (size_t h = 0; r->set->handlers != NULL && h < r->set->handlers->n && !found; h++)
                found = strcmp(r->set->handlers->items[h].name, p->handlers[i]) == 0;
            if (!found) {
                snprintf(msg, sizeof msg, "[pool %s]: handlers: there is no [handler %.64s] in this file", p->name,
                         p->handlers[i]);
                return fail(r, line, msg);
            }
        }
        return 1;
    }
    if (strcmp(key, "types") == 0) {
        if (p->ntypes > 0) {
            snprintf(msg, sizeof msg, "[pool %s]: types is given twice", p->name);
            return fail(r, line, msg);
        }
        p->types_line = line;
        snprintf(msg, sizeof msg, "[pool %s]: types", p->name);
        return split_list(r, msg, value, line, p->types, POOL_TYPES_MAX, &p->ntypes);
    }
    if (strcmp(key, "job_timeout") == 0) {
        /* The worker's default for jobs that set none (0 on the wire). */
        int64_t ms;
        if (p->job_timeout_ms != 0) {
            snprintf(msg, sizeof msg, "[pool %s]: job_timeout is given twice", p->name);
            return fail(r, line, msg);
        }
        char why[700];
        if (config_file_duration(k, 1, JOB_MAX_TIMEOUT_MS, "600, 90s, 10m, 2h", &ms, why, sizeof why) != 0) {
            snprintf(msg, sizeof msg, "[pool %s]: %s", p->name, why);
            return fail(r, line, msg);
        }
        p->job_timeout_ms = ms;
        return 1;
    }
    snprintf(msg, sizeof msg, "[pool %s]: unknown key '%.64s' (known: queues, workers, types, handlers, "
             "job_timeout)", p->name, key);
    return fail(r, line, msg);
}

static int on_key(void *user, const config_key_t *k)
{
    reader_t *r = user;
    const char *name;
    char msg[600];
    if (r->failed)
        return 0;
    config_section_t kind = config_file_section(k->section, &name);
    if (kind == CONFIG_SECTION_UNKNOWN) {
        int line = config_file_unknown_section(k, msg, sizeof msg);
        return fail(r, line, msg);
    }
    if (kind != CONFIG_SECTION_POOL)
        return 1;
    pool_def_t *p = section_pool(r, name, k->section_line);
    if (p == NULL)
        return 0;
    r->key = k;
    int ok = pool_key(r, p, k);
    r->key = NULL;
    return ok;
}

int pool_config_parse(pool_set_t *set, const char *text, const char *path, const handler_set_t *handlers,
                      handler_builtin_fn builtin, int workers_max, char *err, size_t errlen)
{
    memset(set, 0, sizeof *set);
    set->handlers = handlers;
    set->builtin = builtin;
    reader_t r = { set, path, workers_max, NULL, err, errlen, 0 };
    int rc = config_file_parse(text, on_key, &r);
    if (!r.failed && rc != 0)
        fail(&r, rc > 0 ? rc : 0, rc > 0 ? "not a setting (write key = value or [section])" : "out of memory");
    char msg[600];
    for (size_t i = 0; i < set->n && !r.failed; i++) {
        pool_def_t *p = &set->items[i];
        if (p->queues == NULL) {
            snprintf(msg, sizeof msg, "[pool %s] has no queues (the queues it serves, as --queues takes them)",
                     p->name);
            fail(&r, p->line, msg);
        }
        /* Each listed type must be one it can run: built in, or one of
         * its handlers'. */
        for (size_t t = 0; t < p->ntypes && !r.failed; t++) {
            const handler_def_t *h = handlers ? handler_config_for_type(handlers, p->types[t]) : NULL;
            int ok = builtin(p->types[t]) || (h != NULL && pool_uses_handler(p, h->name));
            if (!ok) {
                snprintf(msg, sizeof msg, "[pool %s]: types: '%.64s' is neither built in nor served by one of its "
                         "handlers%s%s", p->name, p->types[t], h ? " (it is [handler " : "", h ? h->name : "");
                if (h)
                    snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "]: add it to handlers)");
                fail(&r, p->types_line, msg);
            }
        }
    }
    if (r.failed) {
        pool_config_free(set);
        return -1;
    }
    return 0;
}

int pool_config_load(pool_set_t *set, const char *path, const handler_set_t *handlers, handler_builtin_fn builtin,
                     int workers_max, char *err, size_t errlen)
{
    memset(set, 0, sizeof *set);
    char *text = config_file_read(path, err, errlen);
    if (text == NULL)
        return -1;
    int rc = pool_config_parse(set, text, path, handlers, builtin, workers_max, err, errlen);
    free(text);
    return rc;
}

void pool_config_free(pool_set_t *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->items[i].queues);
        for (size_t k = 0; k < set->items[i].nhandlers; k++)
            free(set->items[i].handlers[k]);
        for (size_t k = 0; k < set->items[i].ntypes; k++)
            free(set->items[i].types[k]);
    }
    free(set->items);
    memset(set, 0, sizeof *set);
}

const pool_def_t *pool_config_find(const pool_set_t *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->items[i].name, name) == 0)
            return &set->items[i];
    return NULL;
}

int pool_uses_handler(const pool_def_t *pool, const char *name)
{
    for (size_t i = 0; i < pool->nhandlers; i++)
        if (strcmp(pool->handlers[i], name) == 0)
            return 1;
    return 0;
}

int pool_serves(const pool_set_t *set, const pool_def_t *pool, const char *type)
{
    if (pool->ntypes > 0) {
        for (size_t i = 0; i < pool->ntypes; i++)
            if (strcmp(pool->types[i], type) == 0)
                return 1;
        return 0;
    }
    if (set->builtin(type))
        return 1;
    const handler_def_t *h = set->handlers ? handler_config_for_type(set->handlers, type) : NULL;
    return h != NULL && pool_uses_handler(pool, h->name);
}

void pool_types_text(const pool_set_t *set, const pool_def_t *pool, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    if (pool->ntypes == 0)
        used = (size_t)snprintf(out, outlen, "every built-in task");
    for (size_t i = 0; pool->ntypes == 0 && set->handlers && i < set->handlers->n && used < outlen; i++) {
        if (!pool_uses_handler(pool, set->handlers->items[i].name))
            continue;
        for (size_t k = 0; k < set->handlers->items[i].ntypes && used < outlen; k++)
            used += (size_t)snprintf(out + used, outlen - used, ", %s", set->handlers->items[i].types[k]);
    }
    for (size_t i = 0; i < pool->ntypes && used < outlen; i++)
        used += (size_t)snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", pool->types[i]);
}
