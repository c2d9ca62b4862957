/* handler_config.c — fuzz target: the [handler NAME] and [pool NAME]
 * sections of the configuration file (src/handlers/handler_config.c,
 * pool_config.c, their lists split by config_list.c, the INI read by
 * core/config_file.c through libinih), read as `tickq worker --config FILE`
 * reads them (cmd/handler_setup.c): handler_config_load, then
 * pool_config_load against its handlers, on a file.
 *
 * Input: the file's text, written to a file in the target's temp folder.
 * Properties:
 * - the text read from memory (handler_config_parse, pool_config_parse)
 *   gives the same answer, message for message, as the file;
 * - a refused file's message names the file and a line of it
 *   ("PATH:LINE: ..."; line 0 only for "out of memory"), and a message
 *   about a section ("unknown section [...]", "[handler h] appears twice",
 *   "[pool p] has no queues", ...) names the line of a section header;
 *   the set is left empty;
 * - an accepted file's handlers each have a name that is valid and written
 *   in the text as "[handler NAME]", at the line recorded; a command; 1 to
 *   64 valid types, none built in, each served by that handler only; their
 *   durations within bounds;
 * - its pools each have a valid name written as "[pool NAME]" at its line,
 *   found by pool_config_find; queues that parse; workers unset or 1 to
 *   WORKERS_MAX; handlers of the file; listed types they serve; a
 *   job_timeout unset or valid;
 * - the whole text as one comma-separated list (config_list_split): an
 *   accepted list has one entry per comma plus one, each non-empty,
 *   trimmed, without a comma; a refused one has a message and no entries. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "cmd/tasks_all.h"
#include "core/config.h"
#include "core/job.h"
#include "core/queue_names.h"
#include "core/task.h"
#include "handlers/config_list.h"
#include "handlers/handler_config.h"
#include "handlers/pool_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char g_folder[64];
static char g_path[128];

static void remove_folder(void)
{
    fuzz_remove_temp_folder(g_folder);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tasks_register_all();
    fuzz_temp_folder(g_folder, "hc"); /* short: the path must fit 64 bytes */
    snprintf(g_path, sizeof g_path, "%s/tickq.ini", g_folder);
    atexit(remove_folder);
    return 0;
}

/* As cmd/handler_setup.c's, before any handler is registered. */
static int builtin(const char *type)
{
    return task_find(type) != NULL;
}

/* The text of line `line` (1-based) of text, and its length; NULL when the
 * text has no such line. */
static const char *line_of(const char *text, int line, size_t *len)
{
    const char *p = text;
    for (int i = 1; i < line; i++) {
        p = strchr(p, '\n');
        if (p == NULL)
            return NULL;
        p++;
    }
    if (line < 1 || (*p == '\0' && line > 1 && p[-1] == '\n'))
        return NULL;
    const char *nl = strchr(p, '\n');
    *len = nl ? (size_t)(nl - p) : strlen(p);
    return p;
}

/* Whether the line is a section header as libinih reads one: blanks
 * skipped (and a UTF-8 BOM on line 1), then '['. */
static int header_line(const char *text, int line)
{
    size_t len;
    const char *p = line_of(text, line, &len), *end;
    if (p == NULL)
        return 0;
    end = p + len;
    if (line == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < end && isspace((unsigned char)*p))
        p++;
    return p < end && *p == '[';
}

/* Whether "[KIND NAME]" is written at the start of the line (after
 * blanks and a BOM). */
static int header_names(const char *text, int line, const char *kind, const char *name)
{
    char want[HANDLER_NAME_MAX + 16];
    size_t len, n = (size_t)snprintf(want, sizeof want, "[%s %s]", kind, name);
    const char *p = line_of(text, line, &len), *end;
    if (p == NULL)
        return 0;
    end = p + len;
    if (line == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < end && isspace((unsigned char)*p))
        p++;
    return (size_t)(end - p) >= n && memcmp(p, want, n) == 0;
}

/* Checks a refusal's message: "PATH:LINE: what" with LINE a line of the
 * text, a header's when the message is about a section. */
static void check_refusal(const char *what, const char *text, const char *path, const char *err)
{
    size_t plen = strlen(path);
    if (strncmp(err, path, plen) != 0 || err[plen] != ':' || !isdigit((unsigned char)err[plen + 1]))
        fuzz_fail("%s: the message does not name %s and a line: '%s'", what, path, err);
    char *end;
    errno = 0;
    long line = strtol(err + plen + 1, &end, 10);
    if (errno != 0 || strncmp(end, ": ", 2) != 0)
        fuzz_fail("%s: the message does not name a line: '%s'", what, err);
    const char *msg = end + 2;
    size_t len;
    if (line == 0) {
        if (strcmp(msg, "out of memory") != 0)
            fuzz_fail("%s: line 0 for '%s'", what, msg);
        return;
    }
    if (line > INT32_MAX || line_of(text, (int)line, &len) == NULL)
        fuzz_fail("%s: line %ld is not a line of the text: '%s'", what, line, err);
    /* A message about a section: "[KIND NAME]" then one of these, NAME
     * having no ']' (libinih's header ends at the first). */
    int about_section = strncmp(msg, "unknown section [", 17) == 0;
    int handler = strncmp(msg, "[handler ", 9) == 0, pool = strncmp(msg, "[pool ", 6) == 0;
    if (!about_section && (handler || pool)) {
        const char *name = msg + (handler ? 9 : 6), *close = strchr(msg, ']');
        about_section = close != NULL &&
                        (strncmp(close, "] appears twice", 15) == 0 || strncmp(close, "] has no ", 9) == 0 ||
                         strncmp(close, "]: a handler name is", 20) == 0 || strncmp(close, "]: a pool name is", 17) == 0);
        /* of a valid name: its own header */
        if (about_section && close[1] != ':' && (size_t)(close - name) <= HANDLER_NAME_MAX) {
            char own[HANDLER_NAME_MAX + 1];
            memcpy(own, name, (size_t)(close - name));
            own[close - name] = '\0';
            if (!header_names(text, (int)line, handler ? "handler" : "pool", own))
                fuzz_fail("%s: line %ld is not the header [%s %s]: '%s'", what, line, handler ? "handler" : "pool",
                          own, err);
        }
    }
    if (about_section && !header_line(text, (int)line))
        fuzz_fail("%s: a message about a section names line %ld, which is not a section header: '%s'", what, line,
                  err);
}

static void check_handlers(const char *text, const handler_set_t *set)
{
    if (set->path == NULL || strcmp(set->path, g_path) != 0)
        fuzz_fail("accepted handlers without the file's path");
    for (size_t i = 0; i < set->n; i++) {
        const handler_def_t *h = &set->items[i];
        if (!job_name_valid(h->name, HANDLER_NAME_MAX))
            fuzz_fail("[handler %s] accepted with an invalid name", h->name);
        if (!header_names(text, h->line, "handler", h->name))
            fuzz_fail("[handler %s] is not written at its line %d", h->name, h->line);
        for (size_t j = 0; j < i; j++)
            if (strcmp(set->items[j].name, h->name) == 0)
                fuzz_fail("[handler %s] accepted twice", h->name);
        if (h->command == NULL || h->command[0] == '\0')
            fuzz_fail("[handler %s] accepted without a command", h->name);
        if (h->ntypes == 0 || h->ntypes > HANDLER_TYPES_MAX)
            fuzz_fail("[handler %s] accepted with %zu types", h->name, h->ntypes);
        for (size_t t = 0; t < h->ntypes; t++) {
            if (!job_name_valid(h->types[t], JOB_TYPE_MAX))
                fuzz_fail("[handler %s] accepted with the type '%s'", h->name, h->types[t]);
            if (builtin(h->types[t]))
                fuzz_fail("[handler %s] accepted with the built-in type %s", h->name, h->types[t]);
            if (handler_config_for_type(set, h->types[t]) != h)
                fuzz_fail("%s is served by [handler %s] and another", h->types[t], h->name);
        }
        if (h->cancel_grace_ms < 0 || h->cancel_grace_ms > HANDLER_CANCEL_GRACE_MAX_MS ||
            h->start_timeout_ms < HANDLER_START_TIMEOUT_MIN_MS || h->start_timeout_ms > HANDLER_START_TIMEOUT_MAX_MS)
            fuzz_fail("[handler %s] accepted with cancel_grace %lld ms, start_timeout %lld ms", h->name,
                      (long long)h->cancel_grace_ms, (long long)h->start_timeout_ms);
        char small[8], all[HANDLER_TYPES_MAX * (JOB_TYPE_MAX + 2) + 1];
        handler_types_text(h, small, sizeof small);
        handler_types_text(h, all, sizeof all);
        if (strncmp(all, h->types[0], strlen(h->types[0])) != 0 || strlen(small) >= sizeof small)
            fuzz_fail("[handler %s]: its types' text is '%s'", h->name, all);
    }
}

static void check_pools(const char *text, const pool_set_t *set, const handler_set_t *handlers)
{
    for (size_t i = 0; i < set->n; i++) {
        const pool_def_t *p = &set->items[i];
        if (!job_name_valid(p->name, HANDLER_NAME_MAX))
            fuzz_fail("[pool %s] accepted with an invalid name", p->name);
        if (!header_names(text, p->line, "pool", p->name))
            fuzz_fail("[pool %s] is not written at its line %d", p->name, p->line);
        if (pool_config_find(set, p->name) != p)
            fuzz_fail("[pool %s] is not the one pool_config_find finds", p->name);
        queue_list_t queues;
        char why[400];
        if (p->queues == NULL || queue_list_parse(p->queues, "tickq", &queues, why, sizeof why) != 0)
            fuzz_fail("[pool %s] accepted with queues the worker refuses", p->name);
        if (p->workers < 0 || p->workers > WORKERS_MAX)
            fuzz_fail("[pool %s] accepted with %d workers", p->name, p->workers);
        if (p->job_timeout_ms != 0 && !job_timeout_valid(p->job_timeout_ms))
            fuzz_fail("[pool %s] accepted with job_timeout %lld ms", p->name, (long long)p->job_timeout_ms);
        if (p->nhandlers > HANDLER_TYPES_MAX || p->ntypes > POOL_TYPES_MAX)
            fuzz_fail("[pool %s] accepted with %zu handlers, %zu types", p->name, p->nhandlers, p->ntypes);
        for (size_t k = 0; k < p->nhandlers; k++) {
            int found = 0;
            for (size_t h = 0; h < handlers->n && !found; h++)
                found = strcmp(handlers->items[h].name, p->handlers[k]) == 0;
            if (!found || !pool_uses_handler(p, p->handlers[k]))
                fuzz_fail("[pool %s] accepted with the handler '%s', not of the file", p->name, p->handlers[k]);
        }
        for (size_t t = 0; t < p->ntypes; t++)
            if (p->types[t][0] == '\0' || !pool_serves(set, p, p->types[t]))
                fuzz_fail("[pool %s] lists '%s' and does not serve it", p->name, p->types[t]);
        char small[8], all[8192];
        pool_types_text(set, p, small, sizeof small);
        pool_types_text(set, p, all, sizeof all);
        if (strlen(small) >= sizeof small || all[0] == '\0')
            fuzz_fail("[pool %s]: its types' text is '%s'", p->name, all);
    }
}

/* The whole text as a list value. */
static void check_list(const char *text)
{
    config_list_t l;
    char err[600] = "";
    if (config_list_split("[pool p]: types", text, &l, err, sizeof err) != 0) {
        if (err[0] == '\0' || l.n != 0 || l.items != NULL)
            fuzz_fail("a list refused without a message, or with entries left");
        return;
    }
    size_t commas = 0;
    for (const char *c = text; (c = strchr(c, ',')) != NULL; c++)
        commas++;
    if (l.n != commas + 1)
        fuzz_fail("a list with %zu commas split into %zu entries", commas, l.n);
    for (size_t i = 0; i < l.n; i++) {
        size_t n = strlen(l.items[i]);
        if (n == 0 || strchr(l.items[i], ',') != NULL || strchr(" \t", l.items[i][0]) != NULL ||
            strchr(" \t", l.items[i][n - 1]) != NULL)
            fuzz_fail("a list entry '%s'", l.items[i]);
    }
    config_list_free(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(g_path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        fuzz_fail("cannot write %s", g_path);
    char *text = fuzz_strndup(data, size);
    check_list(text);

    handler_set_t handlers, handlers2;
    char err[1024] = "", err2[1024] = "";
    int rc = handler_config_load(&handlers, g_path, builtin, err, sizeof err);
    int rc2 = handler_config_parse(&handlers2, text, g_path, builtin, err2, sizeof err2);
    if (rc != rc2 || (rc != 0 && strcmp(err, err2) != 0) || handlers.n != handlers2.n)
        fuzz_fail("the file and its text differ: %d '%s' / %d '%s'", rc, err, rc2, err2);
    handler_config_free(&handlers2);
    if (rc != 0) {
        check_refusal("handlers", text, g_path, err);
        if (handlers.n != 0 || handlers.items != NULL || handlers.path != NULL)
            fuzz_fail("handlers refused, and the set is not empty");
        free(text);
        return 0;
    }
    check_handlers(text, &handlers);

    pool_set_t pools, pools2;
    rc = pool_config_load(&pools, g_path, &handlers, builtin, WORKERS_MAX, err, sizeof err);
    rc2 = pool_config_parse(&pools2, text, g_path, &handlers, builtin, WORKERS_MAX, err2, sizeof err2);
    if (rc != rc2 || (rc != 0 && strcmp(err, err2) != 0) || pools.n != pools2.n)
        fuzz_fail("the file and its text differ for pools: %d '%s' / %d '%s'", rc, err, rc2, err2);
    pool_config_free(&pools2);
    if (rc != 0) {
        check_refusal("pools", text, g_path, err);
        if (pools.n != 0 || pools.items != NULL)
            fuzz_fail("pools refused, and the set is not empty");
    } else {
        check_pools(text, &pools, &handlers);
        pool_config_free(&pools);
    }
    handler_config_free(&handlers);
    free(text);
    return 0;
}
