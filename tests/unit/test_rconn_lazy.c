/* test_rconn_lazy.c — a lazy connection fails fast after a failed connect:
 * within retry_ms it says the same error without connecting again, and
 * after it, it tries again. Port 1 on loopback refuses at once. */
#include <string.h>

#include "core/rconn_lazy.h"
#include "unit.h"

TEST(rconn_lazy_fails_fast_after_a_failed_connect)
{
    redis_url_t url;
    char err[512];
    CHECK_INT(redis_url_parse("redis://127.0.0.1:1/0", &url, err, sizeof err), 0);
    rconn_lazy_t l;
    memset(&l, 0, sizeof l);
    int opened = -1;
    CHECK(rconn_lazy_get(&l, &url, 500, 60000, &opened, err, sizeof err) == NULL);
    CHECK_INT(opened, 0);
    CHECK(strstr(err, "127.0.0.1:1") != NULL);
    CHECK(l.failed_ms != 0);
    /* Moved a second back: a new attempt would set it to now. */
    l.failed_ms -= 1000;
    int64_t failed = l.failed_ms;
    char again[512] = "";
    CHECK(rconn_lazy_get(&l, &url, 500, 60000, &opened, again, sizeof again) == NULL);
    CHECK_STR(again, err);        /* the same error ... */
    CHECK(l.failed_ms == failed); /* ... and no new attempt */
    /* Past the retry window (500 ms here): the next use connects again. */
    CHECK(rconn_lazy_get(&l, &url, 500, 500, &opened, again, sizeof again) == NULL);
    CHECK(l.failed_ms > failed);
    CHECK(l.conn == NULL);
    rconn_lazy_drop(&l); /* nothing open: a no-op */
    CHECK(l.conn == NULL);
}
