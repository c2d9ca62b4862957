/* job_children.c — a job's children with their results (job_children.h). */
#include "core/job_children.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/job.h"
#include "core/job_admit.h"
#include "core/job_json.h"
#include "core/uuid.h"

json_t *job_children_read(queue_t *q, const char *id, char *err, size_t errlen)
{
    char key[300];
    queue_job_key(q, id, key, sizeof key);
    redisReply *m = rconn_cmd(q->conn, err, errlen, "HGET %s waited_children", key);
    if (m == NULL)
        return NULL;
    int waited = m->type == REDIS_REPLY_STRING; /* this run asked for children (finish.lua) */
    freeReplyObject(m);
    return waited ? job_deps_read(q, id, 1, err, errlen) : json_array();
}

json_t *job_deps_read(queue_t *q, const char *id, int results, char *err, size_t errlen)
{
    char key[300];
    queue_deps_key(q, id, key, sizeof key);
    redisReply *l = rconn_cmd(q->conn, err, errlen, "LRANGE %s 0 -1", key);
    if (l == NULL)
        return NULL;
    size_t n = l->type == REDIS_REPLY_ARRAY ? l->elements : 0;
    int st = 0;
    for (size_t i = 0; i < n && st == 0; i++) {
        char jk[300], rk[300];
        queue_job_key(q, l->element[i]->str, jk, sizeof jk);
        queue_result_key(l->element[i]->str, rk, sizeof rk);
        const char *state[3] = { "HGET", jk, "state" }, *result[2] = { "GET", rk };
        st = rconn_append_argv(q->conn, 3, state, NULL) || (results && rconn_append_argv(q->conn, 2, result, NULL));
    }
    json_t *out = st == 0 ? json_array() : NULL;
    for (size_t i = 0; i < n && out != NULL; i++) {
        redisReply *s = rconn_read(q->conn, err, errlen), *r = s && results ? rconn_read(q->conn, err, errlen) : NULL;
        if (s == NULL || (results && r == NULL)) {
            freeReplyObject(s);
            json_decref(out);
            out = NULL;
            break;
        }
        json_t *one = json_pack("{s:s, s:s}", "id", l->element[i]->str, "state",
                                s->type == REDIS_REPLY_STRING ? s->str : "expired");
        if (results) {
            json_t *res = r->type == REDIS_REPLY_STRING ? json_loadb(r->str, r->len, 0, NULL) : NULL;
            json_object_set_new(one, "result", res ? res : json_null());
        }
        json_array_append_new(out, one);
        freeReplyObject(s);
        freeReplyObject(r);
    }
    if (out == NULL && err[0] == '\0')
        snprintf(err, errlen, "cannot read the job's children");
    freeReplyObject(l);
    return out;
}

typedef struct {
    const char *id;
    size_t at;
} id_at_t;

static int id_at_cmp(const void *a, const void *b)
{
    const id_at_t *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c != 0 ? c : (x->at > y->at) - (x->at < y->at);
}

int job_children_repeat(const char *const *ids, size_t n, size_t *first, size_t *again)
{
    id_at_t *s = malloc((n ? n : 1) * sizeof *s);
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        s[i] = (id_at_t){ ids[i], i };
    qsort(s, n, sizeof *s, id_at_cmp);
    int found = 0;
    /* Equal ids sit together, in their order: the second of a run is the
     * first repeat of that id. */
    for (size_t i = 1; i < n; i++)
        if (strcmp(s[i].id, s[i - 1].id) == 0 && (!found || s[i].at < *again)) {
            *first = s[i - 1].at;
            *again = s[i].at;
            found = 1;
        }
    free(s);
    return found;
}

char *job_children_payload(const json_t *data, const char *queue, size_t max_payload, size_t *len, char *err,
                           size_t errlen)
{
    const json_t *children = json_object_get(data, "children"), *policy = json_object_get(data, "policy");
    const char *pol = policy ? json_string_value(policy) : "fail";
    if (!json_is_array(children) || json_array_size(children) == 0 || json_array_size(children) > JOB_MAX_DEPS) {
        snprintf(err, errlen, "the task asked to wait for children but gave %s (1 to %d jobs)",
                 json_is_array(children) && json_array_size(children) ? "too many" : "none", JOB_MAX_DEPS);
        return NULL;
    }
    if (pol == NULL || (strcmp(pol, "fail") != 0 && strcmp(pol, "continue") != 0)) {
        snprintf(err, errlen, "the task's children policy must be fail or continue");
        return NULL;
    }
    json_t *list = json_array();
    size_t i;
    const json_t *child;
    json_array_foreach(children, i, child) {
        job_spec_t spec;
        job_json_text_t text;
        char why[1024], id[UUID_STR_LEN];
        int bad = job_json_spec(child, NULL, &spec, &text, why, sizeof why) != 0;
        if (!bad && json_object_get(child, "queue") == NULL)
            spec.queue = queue;
        if (!bad && spec.id == NULL) {
            uuid_v4(id);
            spec.id = id;
        }
        if (!bad && (spec.depends_on != NULL || spec.delay_ms != 0 || spec.expires_ms != 0 || spec.replace)) {
            snprintf(why, sizeof why, "a child takes no depends_on, delay, expires or replace");
            bad = 1;
        }
        if (!bad)
            bad = job_admit_check(&spec, max_payload, why, sizeof why) != 0;
        if (!bad)
            json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:I}", "id", spec.id, "type",
                                                  spec.type, "args", spec.args, "queue", spec.queue, "priority",
                                                  spec.priority, "max_retries", spec.max_retries, "timeout_ms",
                                                  (json_int_t)spec.timeout_ms));
        job_json_text_free(&text);
        if (bad) {
            snprintf(err, errlen, "child %zu of the task's children is refused: %s", i, why);
            json_decref(list);
            return NULL;
        }
    }
    size_t n = json_array_size(list), first, again;
    const char **ids = malloc((n ? n : 1) * sizeof *ids);
    for (i = 0; ids != NULL && i < n; i++)
        ids[i] = json_string_value(json_object_get(json_array_get(list, i), "id"));
    int repeat = ids ? job_children_repeat(ids, n, &first, &again) : -1;
    if (repeat != 0) {
        if (repeat > 0)
            snprintf(err, errlen, "child %zu of the task's children is refused: id %s repeats child %zu's (an id "
                     "names one job)", again, ids[again], first);
        else
            snprintf(err, errlen, "out of memory");
        free(ids);
        json_decref(list);
        return NULL;
    }
    free(ids);
    json_t *o = json_pack("{s:s, s:I, s:o}", "policy", pol, "max_payload", (json_int_t)max_payload, "children", list);
    char *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (out == NULL)
        snprintf(err, errlen, "out of memory");
    else
        *len = strlen(out);
    return out;
}
