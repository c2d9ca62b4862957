/* rconn_lazy.c — a Redis connection opened on first use (rconn_lazy.h). */
#include "core/rconn_lazy.h"

#include <stdio.h>

#include "core/clock.h"

rconn_t *rconn_lazy_get(rconn_lazy_t *l, const redis_url_t *url, int timeout_ms, int retry_ms, int *opened,
                        char *err, size_t errlen)
{
    *opened = 0;
    if (l->conn != NULL && rconn_broken(l->conn))
        rconn_lazy_drop(l);
    if (l->conn != NULL)
        return l->conn;
    if (l->failed_ms != 0 && clock_mono_ms() - l->failed_ms < retry_ms) {
        snprintf(err, errlen, "%s", l->error);
        return NULL;
    }
    if ((l->conn = rconn_open(url, timeout_ms, err, errlen)) == NULL) {
        l->failed_ms = clock_mono_ms();
        snprintf(l->error, sizeof l->error, "%s", err);
        return NULL;
    }
    l->failed_ms = 0;
    *opened = 1;
    return l->conn;
}

void rconn_lazy_drop(rconn_lazy_t *l)
{
    rconn_free(l->conn);
    l->conn = NULL;
}
