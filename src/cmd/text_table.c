/* text_table.c — column output sized from the data (text_table.h).
 *
 * Cells are copied into one allocation per row; memory is O(cells). */
#include "cmd/text_table.h"

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

/* Bytes a cell takes on one line: control characters become \n, \t, \r
 * or \xNN (a multi-line error must not break the rows). */
static size_t escaped_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        n += c == '\n' || c == '\t' || c == '\r' ? 2 : c < 0x20 || c == 0x7f ? 4 : 1;
    }
    return n;
}

/* Copies s to out, escaped; returns the byte after it (its NUL written). */
static char *escape_into(char *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n' || c == '\t' || c == '\r') {
            *out++ = '\\';
            *out++ = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
        } else if (c < 0x20 || c == 0x7f) {
            *out++ = '\\';
            *out++ = 'x';
            *out++ = hex[c >> 4];
            *out++ = hex[c & 15];
        } else {
            *out++ = (char)c;
        }
    }
    *out++ = '\0';
    return out;
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
        bytes += escaped_len(cells[c] ? cells[c] : "") + 1;
    char **row = malloc(bytes);
    if (row == NULL)
        return -1;
    char *text = (char *)(row + t->ncols);
    for (size_t c = 0; c < t->ncols; c++) {
        row[c] = text;
        text = escape_into(text, cells[c] ? cells[c] : "");
        size_t w = text_width(row[c]);
        if (w > t->width[c])
            t->width[c] = w;
    }
    t->rows[t->nrows++] = row;
    return 0;
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

void text_table_print(const text_table_t *t, FILE *out)
{
    for (size_t i = 0; i < t->nrows; i++) {
        size_t blanks = 0;
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
