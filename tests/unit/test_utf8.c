/* test_utf8.c — bytes made UTF-8 text (core/utf8.h): what is well formed
 * is kept, each ill-formed sequence's maximal subpart and each NUL become
 * U+FFFD (as Python's errors="replace" does), and cuts fall between
 * characters. */
#include <stdlib.h>

#include "core/utf8.h"
#include "unit.h"

#define R UTF8_REPLACEMENT

static void check_clean(const char *in, size_t n, const char *want)
{
    char out[256];
    size_t len = utf8_clean(in, n, out, sizeof out);
    CHECK_STR(out, want);
    CHECK_INT(len, strlen(want));
    CHECK(utf8_is_text(out, len));
}

TEST(utf8_clean_replaces_what_is_not_text)
{
    check_clean("plain", 5, "plain");
    check_clean("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    check_clean("a\0b", 3, "a" R "b");                           /* a NUL never cuts the text */
    check_clean("\xff\xfe\xc3 end", 7, R R R " end");             /* one per bad byte here */
    check_clean("\xe2\x82" "A", 3, R "A");                        /* a truncated sequence: one */
    check_clean("\xc0\xaf", 2, R R);                              /* overlong: each byte */
    check_clean("\xed\xa0\x80", 3, R R R);                        /* a surrogate */
    check_clean("\xf4\x90\x80\x80", 4, R R R R);                  /* past U+10FFFF */
    check_clean("\xf0\x9f\x98", 3, R);                            /* cut at the end */
    check_clean("\x80 x", 3, R " x");                             /* a lone continuation byte */
}

TEST(utf8_clean_stops_at_a_whole_character)
{
    char out[6];
    CHECK_INT(utf8_clean("ab\xe2\x82\xac", 5, out, sizeof out), 5);
    CHECK_INT(utf8_clean("abc\xe2\x82\xac", 6, out, sizeof out), 3);  /* the euro does not fit */
    CHECK_STR(out, "abc");
    CHECK_INT(utf8_clean("abc\xff", 4, out, sizeof out), 3);          /* nor does U+FFFD */
    size_t len = 0;
    char *dup = utf8_clean_dup("\xff\xff\xff", 3, &len);
    CHECK(dup != NULL);
    CHECK_INT(len, 9);
    free(dup);
}

TEST(utf8_is_text_and_next)
{
    CHECK(utf8_is_text("", 0));
    CHECK(utf8_is_text("caf\xc3\xa9", 5));
    CHECK(!utf8_is_text("a\0", 2));
    CHECK(!utf8_is_text("\xc3", 1));
    int ok;
    CHECK_INT(utf8_next("\xf0\x9f\x98\x80", 4, &ok), 4);
    CHECK(ok);
    CHECK_INT(utf8_next("\xe0\x80\x80", 3, &ok), 1);   /* E0 needs A0..BF next */
    CHECK(!ok);
    CHECK_INT(utf8_next("\xe0\xa0", 2, &ok), 2);
    CHECK(!ok);
}

TEST(utf8_cut_falls_between_characters)
{
    const char *s = "ab\xe2\x82\xac" "cd";  /* a b EURO c d: 7 bytes */
    CHECK_INT(utf8_cut(s, 7, 10), 7);
    CHECK_INT(utf8_cut(s, 7, 5), 5);
    CHECK_INT(utf8_cut(s, 7, 4), 2);
    CHECK_INT(utf8_cut(s, 7, 3), 2);
    CHECK_INT(utf8_cut(s, 7, 2), 2);
    CHECK_INT(utf8_cut("\xff\xff\xff\xff", 4, 2), 2);  /* not text: cut where asked */
    /* Only one or two bytes past the cut read yet: the character they
     * start is not whole in the input, and still goes to the next part. */
    CHECK_INT(utf8_cut(s, 4, 3), 2);
    CHECK_INT(utf8_cut(s, 4, 2), 2);
    CHECK_INT(utf8_cut("ab\xe2\x82", 4, 3), 2);
    CHECK_INT(utf8_cut("ab\xf0\x9f\x98", 5, 4), 2);
}
