/* comma_list.h — walking a comma-separated list ("a, b,c"), the one rule
 * for every such list tickq reads: worker queues (queue_names.c), handler
 * types and pool lists (handlers/config_list.c).
 *
 * Each entry is trimmed of spaces and tabs. An empty entry (two commas in a
 * row, or one at the start or end) is the caller's error to report, in
 * COMMA_LIST_EMPTY_ENTRY's words: a list that skipped it would hide a
 * typo. */
#ifndef TICKQ_COMMA_LIST_H
#define TICKQ_COMMA_LIST_H

#include <stddef.h>

#define COMMA_LIST_EMPTY_ENTRY "has an empty name (two commas in a row, or one at its start or end)"

typedef struct {
    const char *next; /* NULL after the last entry */
    size_t index;     /* the entry last returned, from 1 */
} comma_list_t;

void comma_list_start(comma_list_t *it, const char *text);
/* The next entry: 1 with *entry and *len (it is not NUL-terminated), 0
 * after the last one, -1 for an empty entry (it->index is its place). */
int comma_list_next(comma_list_t *it, const char **entry, size_t *len);
/* 1 when text has no entry at all: empty, or only commas and blanks. */
int comma_list_blank(const char *text);

#endif
