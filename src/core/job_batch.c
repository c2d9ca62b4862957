/* job_batch.c — many jobs read from JSON and enqueued together (job_batch.h). */
#include "core/job_batch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/job_admit.h"

void job_batch_init(job_batch_t *b)
{
    memset(b, 0, sizeof *b);
}

void job_batch_free(job_batch_t *b)
{
    for (size_t i = 0; i < b->n; i++)
        job_json_text_free(&b->texts[i]);
    free(b->specs);
    free(b->texts);
    job_batch_init(b);
}

static int grow(job_batch_t *b)
{
    if (b->n < b->cap)
        return 0;
    size_t cap = b->cap ? b->cap * 2 : 64;
    job_spec_t *specs = realloc(b->specs, cap * sizeof *specs);
    if (specs == NULL)
        return -1;
    b->specs = specs;
    job_json_text_t *texts = realloc(b->texts, cap * sizeof *texts);
    if (texts == NULL)
        return -1;
    b->texts = texts;
    b->cap = cap;
    return 0;
}

int job_batch_add(job_batch_t *b, const json_t *task, size_t max_payload, char *err, size_t errlen)
{
    if (grow(b) != 0) {
        snprintf(err, errlen, "out of memory");
        return JOB_JSON_NOMEM;
    }
    job_spec_t *spec = &b->specs[b->n];
    job_json_text_t *text = &b->texts[b->n];
    int st = job_json_spec(task, NULL, spec, text, err, errlen);
    if (st == 0 && spec->depends_on != NULL && spec->depends_on[0] != '\0') {
        snprintf(err, errlen, "depends_on is not taken in a batch (its jobs go in together): enqueue a job with "
                 "dependencies on its own, or use `tickq flow`");
        st = JOB_JSON_BAD;
    } else if (st == 0 && spec->after_any) {
        snprintf(err, errlen, "after_any is not taken in a batch (it goes with depends_on)");
        st = JOB_JSON_BAD;
    } else if (st == 0 && job_admit_check(spec, max_payload, err, errlen) != 0) {
        st = JOB_JSON_BAD;
    }
    if (st != 0) {
        job_json_text_free(text);
        return st;
    }
    b->n++;
    return 0;
}

queue_status_t job_batch_types(queue_t *q, const job_batch_t *b, size_t *bad, char *err, size_t errlen)
{
    *bad = SIZE_MAX;
    const char **asked = NULL; /* the distinct types asked about: a batch has few */
    size_t nasked = 0;
    queue_status_t st = QUEUE_OK;
    for (size_t i = 0; i < b->n && st == QUEUE_OK && *bad == SIZE_MAX; i++) {
        int seen = 0;
        for (size_t k = 0; k < nasked && !seen; k++)
            seen = strcmp(asked[k], b->specs[i].type) == 0;
        if (seen)
            continue;
        const char **more = realloc(asked, (nasked + 1) * sizeof *asked);
        if (more == NULL) {
            snprintf(err, errlen, "out of memory");
            st = QUEUE_ERR_REPLY;
            break;
        }
        asked = more;
        asked[nasked++] = b->specs[i].type;
        int known;
        st = job_admit_type(q, b->specs[i].type, &known, err, errlen);
        if (st == QUEUE_OK && !known)
            *bad = i;
    }
    free(asked);
    return st;
}
