/* job_batch.c — fuzz target: many jobs read together
 * (src/core/job_batch.c): the lines of `tickq enqueue --file` and the list
 * POST /api/tasks takes, each job read and checked before any is sent.
 *
 * Input: JSON text, one job a line (blank lines skipped), read as
 * enqueue --file reads them.
 *
 * Properties: job_batch_add answers 0 or JOB_JSON_BAD / JOB_JSON_NOMEM
 * with a message; the batch holds exactly the jobs it accepted, each with
 * its type and args (args no longer than the payload limit); a refused
 * job leaves the batch as it was. */
#include <jansson.h>

#include "cmd/tasks_all.h"
#include "core/job_batch.h"
#include "fuzz.h"

#define MAX_LINES 64
#define PAYLOAD_LIMIT 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tasks_register_all();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *line[MAX_LINES];
    size_t len[MAX_LINES], accepted = 0;
    size_t n = fuzz_split(data, size, "\n", line, len, MAX_LINES);
    json_t *tasks[MAX_LINES];
    size_t ntasks = 0;
    job_batch_t b;
    job_batch_init(&b);
    for (size_t i = 0; i < n; i++) {
        json_t *task = json_loadb((const char *)line[i], len[i], JSON_REJECT_DUPLICATES, NULL);
        if (task == NULL)
            continue;
        tasks[ntasks++] = task; /* the batch borrows from it until freed */
        char err[1024] = "";
        int rc = job_batch_add(&b, task, PAYLOAD_LIMIT, err, sizeof err);
        if (rc == 0) {
            accepted++;
        } else if ((rc != JOB_JSON_BAD && rc != JOB_JSON_NOMEM) || err[0] == '\0') {
            fuzz_fail("job_batch_add returned %d, message '%s'", rc, err);
        }
        if (b.n != accepted)
            fuzz_fail("the batch holds %zu jobs after %zu were accepted", b.n, accepted);
    }
    for (size_t k = 0; k < b.n; k++) {
        const job_spec_t *s = &b.specs[k];
        if (s->type == NULL || s->args == NULL || s->args_len != strlen(s->args))
            fuzz_fail("job %zu of the batch has no type or args", k);
        if (s->args_len > PAYLOAD_LIMIT)
            fuzz_fail("job %zu's args are %zu bytes, over the limit of %d", k, s->args_len, PAYLOAD_LIMIT);
    }
    job_batch_free(&b);
    for (size_t i = 0; i < ntasks; i++)
        json_decref(tasks[i]);
    return 0;
}
