/* queue_names.c — logical and physical queue names, and worker queue lists. */
#include "core/queue_names.h"

#include "core/clock.h"
#include "core/comma_list.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

const char *const queue_priorities[3] = { "high", "normal", "low" };

static int has_priority_suffix(const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < 3; i++) {
        size_t s = strlen(queue_priorities[i]);
        if (n > s + 1 && name[n - s - 1] == '_' && strcmp(name + n - s, queue_priorities[i]) == 0)
            return 1;
    }
    return 0;
}

static int name_chars_ok(const char *name, size_t max)
{
    size_t n = strlen(name);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

int queue_name_check(const char *name, char *err, size_t errlen)
{
    if (!name_chars_ok(name, QUEUE_NAME_MAX)) {
        snprintf(err, errlen, "invalid queue name '%s': use 1-%d characters from A-Z a-z 0-9 _ - .",
                 name, QUEUE_NAME_MAX);
        return -1;
    }
    if (has_priority_suffix(name)) {
        const char *level = strrchr(name, '_');
        char base[QUEUE_NAME_MAX + 1];
        snprintf(base, sizeof base, "%.*s", (int)(level - name), name);
        if (has_priority_suffix(base))
            snprintf(err, errlen, "invalid queue name '%s': a queue name may not end in _high, _normal or _low "
                     "(those are priority levels)", name);
        else
            snprintf(err, errlen, "invalid queue name '%s': a queue name may not end in _high, _normal or _low "
                     "(those are its priority levels: queue '%s' with priority %s)", name, base, level + 1);
        return -1;
    }
    return 0;
}

int queue_priority_check(const char *p)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(p, queue_priorities[i]) == 0)
            return 0;
    return -1;
}

void queue_physical(const char *queue, const char *priority, char out[QUEUE_PHYS_MAX])
{
    snprintf(out, QUEUE_PHYS_MAX, "%.*s_%s", QUEUE_NAME_MAX, queue, priority); /* a checked name fits whole */
}

const char *queue_logical(const char *physical, char *out, size_t cap)
{
    const char *us = strrchr(physical, '_');
    size_t n = us != NULL ? (size_t)(us - physical) : strlen(physical);
    snprintf(out, cap, "%.*s", (int)n, physical);
    return us != NULL ? us + 1 : "";
}

void queue_stream_key(const char *prefix, const char *physical, char out[QUEUE_KEY_MAX])
{
    snprintf(out, QUEUE_KEY_MAX, "%s:queue:%s", prefix, physical);
}

void queue_stream_physical(const char *prefix, const char *stream, char out[QUEUE_PHYS_MAX])
{
    char head[QUEUE_KEY_MAX];
    queue_stream_key(prefix, "", head);
    size_t n = strlen(head);
    snprintf(out, QUEUE_PHYS_MAX, "%s", strncmp(stream, head, n) == 0 ? stream + n : stream);
}

static int list_add(queue_list_t *l, const char *prefix, const char *phys, char *err, size_t errlen)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->name[i], phys) == 0)
            return 0;
    if (l->n == QUEUE_LIST_MAX) {
        snprintf(err, errlen, "too many queues (at most %d physical queues)", QUEUE_LIST_MAX);
        return -1;
    }
    snprintf(l->name[l->n], QUEUE_PHYS_MAX, "%s", phys);
    queue_stream_key(prefix, phys, l->key[l->n]);
    l->n++;
    return 0;
}

/* Adds the physical queues an entry of a worker's list names: one
 * (backtest_high) or a logical queue's three, in priority order. */
static int list_add_entry(queue_list_t *out, const char *prefix, const char *entry, char *err, size_t errlen)
{
    if (has_priority_suffix(entry)) {
        if (!name_chars_ok(entry, QUEUE_PHYS_MAX - 1)) {
            snprintf(err, errlen, "invalid queue name '%s': use characters from A-Z a-z 0-9 _ - .", entry);
            return -1;
        }
        return list_add(out, prefix, entry, err, errlen);
    }
    if (queue_name_check(entry, err, errlen) != 0)
        return -1;
    for (int p = 0; p < 3; p++) {
        char phys[QUEUE_PHYS_MAX];
        queue_physical(entry, queue_priorities[p], phys);
        if (list_add(out, prefix, phys, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int queue_list_parse(const char *spec, const char *prefix, queue_list_t *out,
                     char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (spec == NULL)
        return queue_list_parse(QUEUE_DEFAULT, prefix, out, err, errlen);
    enum { SPEC_MAX = 4096 };
    if (strlen(spec) >= SPEC_MAX) {
        snprintf(err, errlen, "queue list is too long");
        return -1;
    }
    comma_list_t it;
    comma_list_start(&it, spec);
    const char *entry;
    size_t len;
    int got;
    while ((got = comma_list_next(&it, &entry, &len)) != 0) {
        if (got < 0) {
            snprintf(err, errlen, "'%.200s' %s", spec,
                     comma_list_blank(spec) ? "names no queue" : COMMA_LIST_EMPTY_ENTRY);
            return -1;
        }
        char name[SPEC_MAX];
        memcpy(name, entry, len);
        name[len] = '\0';
        if (list_add_entry(out, prefix, name, err, errlen) != 0)
            return -1;
    }
    return 0;
}

void queue_list_describe(const queue_list_t *l, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < l->n && used + 1 < outlen; i++) {
        int w = snprintf(out + used, outlen - used, "%s%s", i ? "," : "", l->name[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

void queue_instance_id(char *out, size_t cap)
{
    char host[128];
    if (gethostname(host, sizeof host) != 0)
        strcpy(host, "localhost");
    host[sizeof host - 1] = '\0';
    unsigned short tag = 0;
    if (getrandom(&tag, sizeof tag, GRND_NONBLOCK) != sizeof tag)
        tag = (unsigned short)(clock_now_us() & 0xffff);
    snprintf(out, cap, "%s:%d.%04x", host, (int)getpid(), tag);
}

void queue_worker_id(const char *instance, int slot, char *out, size_t cap)
{
    snprintf(out, cap, "%s:%d", instance, slot);
}

int queue_worker_instance(const char *worker_id, char *out, size_t cap)
{
    const char *colon = strrchr(worker_id, ':');
    if (colon == NULL || colon == worker_id || colon[1] == '\0' ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) || (size_t)(colon - worker_id) >= cap)
        return -1;
    memcpy(out, worker_id, (size_t)(colon - worker_id));
    out[colon - worker_id] = '\0';
    return 0;
}

void queue_consumer_name(const char *worker_id, unsigned long generation, char *out, size_t cap)
{
    snprintf(out, cap, "%s%c%lu", worker_id, QUEUE_CONSUMER_SEP, generation);
}

void queue_consumer_worker(const char *consumer, char *out, size_t cap)
{
    size_t n = strlen(consumer);
    const char *sep = strrchr(consumer, QUEUE_CONSUMER_SEP);
    int generation = sep != NULL && sep > consumer && sep[1] != '\0' &&
                     strspn(sep + 1, "0123456789") == strlen(sep + 1);
    if (generation)
        n = (size_t)(sep - consumer);
    snprintf(out, cap, "%.*s", (int)n, consumer);
}
