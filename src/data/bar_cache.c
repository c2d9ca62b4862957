/* bar_cache.c — a worker child's cache of loaded bars and their features.
 * A handful of entries, least recently used evicted first, bounded by the
 * total number of bars held; their computed feature columns share one
 * bound in bytes (share_features). */
#include "data/bar_cache.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENTRIES 4

typedef struct {
    int used;
    char interval[BAR_INTERVAL_MAX + 1];
    char *key;                   /* the symbols, comma-joined */
    long long version;
    unsigned long long last_use;
    uint64_t generation;         /* unique per load */
    bar_set_t set;
    feature_frame_t features;
} entry_t;

struct bar_cache {
    entry_t e[ENTRIES];
    size_t max_rows;
    unsigned long long clock;
    uint64_t loads;
};

bar_cache_t *bar_cache_new(size_t max_rows)
{
    bar_cache_t *c = calloc(1, sizeof *c);
    if (c != NULL)
        c->max_rows = max_rows;
    return c;
}

static void drop(entry_t *e)
{
    if (!e->used)
        return;
    feature_frame_free(&e->features);
    bar_set_free(&e->set);
    free(e->key);
    memset(e, 0, sizeof *e);
}

void bar_cache_free(bar_cache_t *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < ENTRIES; i++)
        drop(&c->e[i]);
    free(c);
}

static char *join(const char *const *symbols, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(symbols[i]) + 1;
    char *key = malloc(len), *p = key;
    if (key == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s%s", i ? "," : "", symbols[i]);
    *p = '\0';
    return key;
}

static size_t held_rows(const bar_cache_t *c)
{
    size_t n = 0;
    for (int i = 0; i < ENTRIES; i++)
        if (c->e[i].used)
            n += bar_set_rows(&c->e[i].set);
    return n;
}

/* Gives the entry in use the room the others leave of the features'
 * bound, after shrinking the others (the least recently used first) to at
 * most half of it: all computed columns together stay within the bound. */
static void share_features(bar_cache_t *c, entry_t *cur)
{
    size_t others = 0;
    for (int i = 0; i < ENTRIES; i++)
        if (c->e[i].used && &c->e[i] != cur)
            others += c->e[i].features.held;
    while (others > BAR_CACHE_FEATURE_BYTES / 2) {
        entry_t *old = NULL;
        for (int i = 0; i < ENTRIES; i++) {
            entry_t *e = &c->e[i];
            if (e->used && e != cur && e->features.held > 0 && (old == NULL || e->last_use < old->last_use))
                old = e;
        }
        assert(old != NULL); /* others > 0: some entry holds columns */
        size_t before = old->features.held, excess = others - BAR_CACHE_FEATURE_BYTES / 2;
        feature_frame_shrink(&old->features, before > excess ? before - excess : 0);
        others -= before - old->features.held;
    }
    feature_frame_bound(&cur->features, BAR_CACHE_FEATURE_BYTES - others);
}

int bar_cache_load(bar_cache_t *c, db_t *db, const char *interval, const char *const *symbols,
                   size_t nsymbols, bar_set_t **set, feature_frame_t **features, uint64_t *generation,
                   char *err, size_t errlen)
{
    long long version;
    if (db_bars_version(db, &version, err, errlen) != 0)
        return -1;
    char *key = join(symbols, nsymbols);
    if (key == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->clock++;
    entry_t *hit = NULL, *victim = &c->e[0];
    for (int i = 0; i < ENTRIES; i++) {
        entry_t *e = &c->e[i];
        if (e->used && e->version != version)
            drop(e); /* bars changed since: stale */
        if (e->used && strcmp(e->interval, interval) == 0 && strcmp(e->key, key) == 0)
            hit = e;
        if (!e->used || (victim->used && e->last_use < victim->last_use))
            victim = e;
    }
    if (hit != NULL) {
        free(key);
        hit->last_use = c->clock;
        share_features(c, hit);
        *set = &hit->set;
        *features = &hit->features;
        *generation = hit->generation;
        return 0;
    }
    drop(victim);
    entry_t *e = victim;
    if (db_bars_get(db, interval, symbols, nsymbols, INT64_MIN, INT64_MAX, &e->set, err, errlen) != 0) {
        bar_set_free(&e->set);
        free(key);
        return -1;
    }
    e->used = 1;
    e->key = key;
    e->version = version;
    e->last_use = c->clock;
    e->generation = ++c->loads;
    snprintf(e->interval, sizeof e->interval, "%s", interval);
    feature_frame_init(&e->features, &e->set);
    /* Keep the total bounded: evict older entries, never the new one. */
    while (held_rows(c) > c->max_rows) {
        entry_t *old = NULL;
        for (int i = 0; i < ENTRIES; i++)
            if (c->e[i].used && &c->e[i] != e && (old == NULL || c->e[i].last_use < old->last_use))
                old = &c->e[i];
        if (old == NULL)
            break;
        drop(old);
    }
    share_features(c, e);
    *set = &e->set;
    *generation = e->generation;
    *features = &e->features;
    return 0;
}

void bar_cache_warm(feature_frame_t *features, const json_t *columns, size_t max_new)
{
    size_t n = json_array_size(columns), k = 0;
    const char **names = malloc((n ? n : 1) * sizeof *names);
    if (names == NULL)
        return; /* nothing warmed: computed on use, as before */
    for (size_t i = 0; i < n; i++)
        if (json_is_string(json_array_get(columns, i)))
            names[k++] = json_string_value(json_array_get(columns, i));
    feature_frame_warm(features, names, k, max_new);
    free(names);
}
