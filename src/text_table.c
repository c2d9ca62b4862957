/* text_table.c — column output sized from the data (text_table.h).
 *
 * Cells are copied into one allocation per row; memory is O(cells). */
#include "text_table.h"

#include <stdlib.h>
#include <string.h>

struct text_table {
    size_t ncols;
    char align[TEXT_TABLE_MAX_COLS];
    size_t width[TEXT_TABLE_MAX_COLS];
    char ***rows;               /* rows[i][col], each row one block */
    size_t nrows, cap;
};

text_table_t *text_table_new(size_t ncols, const char *align)
{
    if (ncols == 0 || ncols > TEXT_TABLE_MAX_COLS)
        return NULL;
    text_table_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->ncols = ncols;
    for (size_t c = 0; c < ncols; c++)
        t->align[c] = align != NULL && c < strlen(align) && align[c] == 'r' ? 'r' : 'l';
    return t;
}

void text_table_free(text_table_t *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nrows; i++)
        free(t->rows[i]);
    free(t->rows);
    free(t);
}

/* Characters in UTF-8 text: bytes that do not continue a sequence. */
static size_t text_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

int text_table_add(text_table_t *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char ***rows = realloc(t->rows, cap * sizeof *rows);
        if (rows == NULL)
            return -1;
        t->rows = rows;
        t->cap = cap;
    }
    size_t bytes = t->ncols * sizeof(char *);
    for (size_t c = 0; c < t->ncols; c++)
        bytes += strlen(cells[c] ? cells[c] : "") + 1;
    char **row = malloc(bytes);
    if (row == NULL)
        return -1;
    char *text = (char *)(row + t->ncols);
    for (size_t c = 0; c < t->ncols; c++) {
        const char *s = cells[c] ? cells[c] : "";
        size_t n = strlen(s) + 1;
        memcpy(text, s, n);
        row[c] = text;
        text += n;
        size_t w = text_width(s);
        if (w > t->width[c])
            t->width[c] = w;
    }
    t->rows[t->nrows++] = row;
    return 0;
}

size_t text_table_width(const text_table_t *t, size_t col)
{
    return col < t->ncols ? t->width[col] : 0;
}

/* Blanks are held back until text follows them, so no line ends in blanks
 * (an empty last cell, a left-aligned last column). */
static void emit(FILE *out, size_t *blanks, const char *s)
{
    if (*s == '\0')
        return;
    for (; *blanks > 0; (*blanks)--)
        fputc(' ', out);
    fputs(s, out);
}

void text_table_print(const text_table_t *t, FILE *out, const char *indent)
{
    for (size_t i = 0; i < t->nrows; i++) {
        size_t blanks = 0;
        if (indent != NULL)
            fputs(indent, out);
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->rows[i][c];
            size_t gap = t->width[c] - text_width(s);
            if (c > 0)
                blanks += 2;
            if (t->align[c] == 'r')
                blanks += gap;
            emit(out, &blanks, s);
            if (t->align[c] != 'r')
                blanks += gap;
        }
        fputc('\n', out);
    }
}
