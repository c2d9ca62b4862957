/* job_json.c — fuzz target: a job written as a JSON object
 * (src/core/job_json.c: the body of POST /api/tasks, a flow's parent and
 * children, a task's children), then the checks every producer makes
 * (job_admit_check).
 *
 * Input: the JSON text of one job.
 *
 * Properties: job_json_spec returns 0 (a spec with a type and args) or an
 * error with a message, its text freed either way; job_admit_check of a
 * spec it made returns 0, or -1 with a message. */
#include <jansson.h>

#include "cmd/tasks_all.h"
#include "core/job_admit.h"
#include "core/job_json.h"
#include "fuzz.h"

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
    static const char *const extra[] = { "children", "policy", NULL };
    json_t *task = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (task == NULL)
        return 0;
    for (int e = 0; e < 2; e++) {
        job_spec_t spec;
        job_json_text_t text;
        char err[2048] = "";
        int rc = job_json_spec(task, e ? extra : NULL, &spec, &text, err, sizeof err);
        if (rc != 0 && (err[0] == '\0' || (rc != JOB_JSON_BAD && rc != JOB_JSON_NOMEM)))
            fuzz_fail("job_json_spec returned %d, message '%s'", rc, err);
        if (rc == 0) {
            if (spec.type == NULL || spec.args == NULL || spec.args_len != strlen(spec.args))
                fuzz_fail("a spec without its type or args");
            err[0] = '\0';
            int ok = job_admit_check(&spec, 1 << 20, err, sizeof err);
            if ((ok != 0 && ok != -1) || (ok == -1 && err[0] == '\0'))
                fuzz_fail("job_admit_check returned %d, message '%s'", ok, err);
        }
        job_json_text_free(&text);
    }
    json_decref(task);
    return 0;
}
