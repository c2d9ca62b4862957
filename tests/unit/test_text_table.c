/* test_text_table.c — column widths come from the data (text_table.c). */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/text_table.h"
#include "unit.h"

/* Prints t into a string (the caller frees it). */
static char *printed(const text_table_t *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    text_table_print(t, f);
    fclose(f);
    return buf;
}

TEST(text_table_sizes_columns_from_the_longest_cell)
{
    text_table_t *t = text_table_new(3, "lrl");
    const char *head[] = { "QUEUE", "READY", "NOTE" };
    const char *a[] = { "options_analysis_for_the_research_desk_x", "7", "ok" };
    const char *b[] = { "bt", "12345", NULL };
    CHECK(t != NULL);
    CHECK_INT(text_table_add(t, head), 0);
    CHECK_INT(text_table_add(t, a), 0);
    CHECK_INT(text_table_add(t, b), 0);
    char *out = printed(t);
    CHECK_STR(out, "QUEUE                                     READY  NOTE\n"
                   "options_analysis_for_the_research_desk_x      7  ok\n"
                   "bt                                        12345\n");
    free(out);
    text_table_free(t);
}

TEST(text_table_counts_characters_not_bytes)
{
    text_table_t *t = text_table_new(2, NULL);
    const char *a[] = { "\xc3\xa9t\xc3\xa9", "x" };  /* "été": 3 characters, 5 bytes */
    const char *b[] = { "abcd", "y" };
    CHECK_INT(text_table_add(t, a), 0);
    CHECK_INT(text_table_add(t, b), 0);
    char *out = printed(t);
    CHECK_STR(out, "\xc3\xa9t\xc3\xa9   x\nabcd  y\n");
    free(out);
    text_table_free(t);
    CHECK(text_table_new(0, NULL) == NULL);
    CHECK(text_table_new(TEXT_TABLE_MAX_COLS + 1, NULL) == NULL);
    text_table_free(NULL);
}

TEST(text_table_keeps_a_cell_on_one_line)
{
    text_table_t *t = text_table_new(2, NULL);
    const char *a[] = { "job-1", "Traceback:\n  line 3\tboom\r\x01" };
    const char *b[] = { "job-22", "ok" };
    CHECK_INT(text_table_add(t, a), 0);
    CHECK_INT(text_table_add(t, b), 0);
    char *out = printed(t);
    CHECK_STR(out, "job-1   Traceback:\\n  line 3\\tboom\\r\\x01\njob-22  ok\n");
    free(out);
    text_table_free(t);
}
