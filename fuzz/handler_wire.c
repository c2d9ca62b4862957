/* handler_wire.c — fuzz target: what a handler process says on its fd 4
 * (src/handlers/handler_wire.c: the announcement and the job messages) and
 * the [handler NAME] / [pool NAME] sections of the configuration file
 * (handler_config.c, pool_config.c), as `tickq worker` reads them.
 *
 * Input: one line for the wire (hello first, then as a job message), or,
 * when it holds "[", the file's text too. Properties: a refused message
 * says why; an accepted hello has 1 to 1000 max_jobs and only non-empty
 * string types; an accepted job message has an id, a fraction in [0, 1]
 * for progress and data for a result; a refused file names it
 * ("fuzz.ini:LINE: ..."); an accepted one has a command and types for each
 * handler, queues for each pool, a pool's job_timeout unset or within
 * its bounds, and every pool's listed types served. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "cmd/tasks_all.h"
#include "core/job.h"
#include "core/task.h"
#include "handlers/handler_config.h"
#include "handlers/handler_wire.h"
#include "handlers/pool_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tasks_register_all();
    return 0;
}

static int builtin(const char *type)
{
    return task_find(type) != NULL;
}

static void wire(const char *line, size_t len)
{
    char err[400] = "";
    handler_hello_t h;
    if (handler_wire_hello(line, len, &h, err, sizeof err) == 0) {
        if (h.max_jobs < 1 || h.max_jobs > HANDLER_MAX_JOBS_LIMIT || json_array_size(h.types) == 0)
            fuzz_fail("hello accepted with max_jobs %d and %zu types", h.max_jobs, json_array_size(h.types));
        for (size_t i = 0; i < json_array_size(h.types); i++)
            if (json_string_length(json_array_get(h.types, i)) == 0)
                fuzz_fail("hello accepted with an empty type");
        handler_hello_clear(&h);
    } else if (err[0] == '\0') {
        fuzz_fail("hello refused without a reason");
    }
    handler_msg_t m;
    err[0] = '\0';
    if (handler_wire_message(line, len, &m, err, sizeof err) == 0) {
        if (m.id[0] == '\0')
            fuzz_fail("a message accepted without an id");
        if (m.kind == HANDLER_MSG_PROGRESS && !(m.fraction >= 0 && m.fraction <= 1))
            fuzz_fail("progress accepted with fraction %g", m.fraction);
        if (m.kind == HANDLER_MSG_RESULT && m.data == NULL)
            fuzz_fail("a result accepted without data");
        if (m.kind == HANDLER_MSG_ERROR && m.error == NULL)
            fuzz_fail("an error accepted without its text");
        handler_msg_clear(&m);
    } else if (err[0] == '\0') {
        fuzz_fail("a message refused without a reason");
    }
}

static void config(const char *text)
{
    char err[1024] = "";
    handler_set_t handlers;
    if (handler_config_parse(&handlers, text, "fuzz.ini", builtin, err, sizeof err) != 0) {
        if (strncmp(err, "fuzz.ini:", 9) != 0)
            fuzz_fail("a refused file's message does not name it: %s", err);
        return;
    }
    for (size_t i = 0; i < handlers.n; i++)
        if (handlers.items[i].command == NULL || handlers.items[i].ntypes == 0)
            fuzz_fail("[handler %s] accepted without a command or types", handlers.items[i].name);
    pool_set_t pools;
    if (pool_config_parse(&pools, text, "fuzz.ini", &handlers, builtin, 256, err, sizeof err) != 0) {
        if (strncmp(err, "fuzz.ini:", 9) != 0)
            fuzz_fail("a refused file's message does not name it: %s", err);
    } else {
        for (size_t i = 0; i < pools.n; i++) {
            if (pools.items[i].queues == NULL)
                fuzz_fail("[pool %s] accepted without queues", pools.items[i].name);
            if (pools.items[i].job_timeout_ms != 0 && !job_timeout_valid(pools.items[i].job_timeout_ms))
                fuzz_fail("[pool %s] accepted with job_timeout %lld ms", pools.items[i].name,
                          (long long)pools.items[i].job_timeout_ms);
            for (size_t t = 0; t < pools.items[i].ntypes; t++)
                if (!pool_serves(&pools, &pools.items[i], pools.items[i].types[t]))
                    fuzz_fail("[pool %s] lists %s and does not serve it", pools.items[i].name,
                              pools.items[i].types[t]);
        }
        pool_config_free(&pools);
    }
    handler_config_free(&handlers);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    wire(text, size);
    if (memchr(text, '[', size) != NULL)
        config(text);
    free(text);
    return 0;
}
