/* close_match.h — "did you mean ...?": the names closest to a misspelt one,
 * for errors that name what the user probably meant. */
#ifndef TICKQ_CLOSE_MATCH_H
#define TICKQ_CLOSE_MATCH_H

#include <stddef.h>

/* The edit distance of a and b ignoring case: insertions, deletions,
 * substitutions and swaps of two neighbours count one each (optimal string
 * alignment). Names longer than 64 bytes count as far from everything
 * (returns (size_t)-1). */
size_t close_match_distance(const char *a, const char *b);

#define CLOSE_MATCH_MAX 16

/* Picks from names[0..n) up to `max` (at most CLOSE_MATCH_MAX) close to `word` (the word itself
 * excluded): distance 0 (the same letters in another case) first, then
 * 1, 2, ... up to a limit that grows with the word's length (1 up to 3
 * characters, 2 up to 7, then 3); ties in the order of names. Writes their
 * indexes to out and returns how many. */
size_t close_match_find(const char *word, const char *const *names, size_t n, size_t *out, size_t max);

#endif
