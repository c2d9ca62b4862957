/* bar_cache.h — a worker child's cache of loaded bars and their features.
 *
 * Repeated backtests over the same universe skip the database: an entry
 * holds every stored bar of a symbol set (one interval) with its feature
 * frame, and is valid while the database's bars version is unchanged. Since
 * a feature at bar t depends only on bars up to t, whole-history frames
 * serve any date window. Columns a strategy used are computed into the
 * cached frame afterwards, so the next evaluation (a forked sandbox, which
 * inherits this memory) finds them ready.
 *
 * The computed columns of all entries take at most BAR_CACHE_FEATURE_BYTES
 * (feature.h, bounded frames): the entry in use may fill what the others
 * leave, and they keep at most half of it. */
#ifndef TICKQ_BAR_CACHE_H
#define TICKQ_BAR_CACHE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "data/bars.h"
#include "data/db.h"
#include "data/feature.h"

#define BAR_CACHE_FEATURE_BYTES ((size_t)64 << 20)

typedef struct bar_cache bar_cache_t;

bar_cache_t *bar_cache_new(size_t max_rows);
void bar_cache_free(bar_cache_t *c);

/* Every stored bar of `symbols` (sorted, distinct) at `interval`, with its
 * feature frame; valid until the next call. *generation identifies this
 * load of the entry (it changes when the entry is loaded again), for
 * caches built on top. 0, or -1 with err. */
int bar_cache_load(bar_cache_t *c, db_t *db, const char *interval, const char *const *symbols,
                   size_t nsymbols, bar_set_t **set, feature_frame_t **features, uint64_t *generation,
                   char *err, size_t errlen);

/* Keeps the named feature columns (a JSON array of strings; ticker and
 * date, which are not features, are skipped) in the frame last returned,
 * for later evaluations: computes at most `max_new` of those it lacks,
 * within its bound (feature_frame_warm). */
void bar_cache_warm(feature_frame_t *features, const json_t *columns, size_t max_new);

#endif
