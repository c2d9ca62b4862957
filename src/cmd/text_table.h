/* text_table.h — column output for the commands' listings (`tickq stats`,
 * `tickq dlq list`, `tickq rejected`): rows are collected first, then each
 * column is as wide as its widest cell, so a long queue name or task type
 * never pushes the columns after it out of line.
 *
 * Widths count characters (UTF-8 sequences), not bytes. A cell is one line:
 * control characters in it are shown escaped (\n, \t, \r, \xNN). No line
 * ends in blanks (the last column is not padded, empty cells add none). */
#ifndef TICKQ_TEXT_TABLE_H
#define TICKQ_TEXT_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TEXT_TABLE_MAX_COLS 16

typedef struct text_table text_table_t;

/* A table of ncols columns (1..TEXT_TABLE_MAX_COLS); `align` gives, one
 * character per column, 'r' for right-aligned (numbers) or 'l' (may be
 * shorter than ncols: the rest are left-aligned). NULL when out of memory
 * or ncols is out of range. */
text_table_t *text_table_new(size_t ncols, const char *align);
void text_table_free(text_table_t *t);

/* Appends a row of ncols cells (copied; NULL prints as ""). 0, or -1 when
 * out of memory (the table is unchanged). */
int text_table_add(text_table_t *t, const char *const *cells);

/* Prints every row; columns are separated by two spaces. */
void text_table_print(const text_table_t *t, FILE *out);

#endif
