/* test_rconn_resp.c — the RESP text rconn writes a command as
 * (rconn_resp_write) is hiredis' own formatter's, byte for byte: random
 * argument vectors with binary bytes, empty and long arguments, with and
 * without lengths. */
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "core/rconn.h"
#include "unit.h"

TEST(rconn_resp_is_hiredis_format)
{
    static char bytes[70000];
    unsigned seed = 11;
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (char)((seed = seed * 1103515245u + 12345u) >> 16);
    for (int round = 0; round < 2000; round++) {
        int argc = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 40;
        const char *argv[40];
        size_t lens[40];
        for (int i = 0; i < argc; i++) {
            unsigned r = (seed = seed * 1103515245u + 12345u) >> 16;
            size_t len = r % 7 == 0 ? 0 : r % 13 == 0 ? 65536 + r % 3000 : r % 200;
            argv[i] = bytes + r % 1000;
            lens[i] = len;
        }
        sds want = NULL;
        long long wlen = redisFormatSdsCommandArgv(&want, argc, argv, lens);
        size_t bound = rconn_resp_bound(argc, argv, lens);
        char *got = malloc(bound);
        char *end = rconn_resp_write(got, argc, argv, lens);
        CHECK((size_t)(end - got) <= bound);
        CHECK(wlen == (long long)(end - got) && memcmp(got, want, (size_t)wlen) == 0);
        free(got);
        redisFreeSdsCommand(want);
    }
    /* C strings (lens NULL), as hiredis reads them with strlen */
    const char *words[] = { "FCALL", "tickq_p1_claim", "0", "", "a b\r\nc" };
    sds want = NULL;
    long long wlen = redisFormatSdsCommandArgv(&want, 5, words, NULL);
    char got[256];
    CHECK(rconn_resp_bound(5, words, NULL) <= sizeof got);
    char *end = rconn_resp_write(got, 5, words, NULL);
    CHECK(wlen == (long long)(end - got) && memcmp(got, want, (size_t)wlen) == 0);
    redisFreeSdsCommand(want);
}
