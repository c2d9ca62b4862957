/* close_match.c — the names closest to a misspelt one (edit distance,
 * case ignored). Names are short (symbols, argument names), so the plain
 * O(len^2) table per candidate costs nothing next to the lookup that
 * failed. */
#include "core/close_match.h"

#include <ctype.h>
#include <string.h>

#define MAX_LEN 64

static int lower(char c) { return tolower((unsigned char)c); }

size_t close_match_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > MAX_LEN || lb > MAX_LEN)
        return (size_t)-1;
    size_t d[MAX_LEN + 1][MAX_LEN + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = lower(a[i - 1]) != lower(b[j - 1]);
            size_t best = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]) &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1; /* two neighbours swapped */
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

size_t close_match_find(const char *word, const char *const *names, size_t n, size_t *out, size_t max)
{
    size_t len = strlen(word);
    size_t limit = len <= 3 ? 1 : len <= 7 ? 2 : 3;
    size_t dist[CLOSE_MATCH_MAX];
    size_t found = 0;
    if (max > CLOSE_MATCH_MAX)
        max = CLOSE_MATCH_MAX;
    for (size_t i = 0; i < n && max > 0; i++) {
        if (strcmp(names[i], word) == 0)
            continue;
        size_t d = close_match_distance(word, names[i]);
        if (d > limit || (found == max && d >= dist[found - 1]))
            continue;
        size_t at = found < max ? found++ : max - 1; /* the last one drops out */
        while (at > 0 && dist[at - 1] > d) { /* after equal distances: ties keep the names' order */
            dist[at] = dist[at - 1];
            out[at] = out[at - 1];
            at--;
        }
        dist[at] = d;
        out[at] = i;
    }
    return found;
}
