/* rconn_lazy.h — a Redis connection opened on first use, and opened again
 * on the use after it broke. For a server that must answer while Redis is
 * down: for a while after a failed connect each use fails at once with
 * that connect's error, so that requests do not each wait out a connect
 * timeout. Not locked: its owner serialises the uses. */
#ifndef TICKQ_RCONN_LAZY_H
#define TICKQ_RCONN_LAZY_H

#include <stdint.h>

#include "core/rconn.h"

typedef struct {
    rconn_t *conn;           /* NULL until the first use, and after a drop */
    int64_t failed_ms;       /* monotonic: the last failed connect (0: none) */
    char error[512];         /* its message */
} rconn_lazy_t;

/* The open connection (connecting first when there is none, or when it
 * broke); NULL with err when Redis cannot be reached, at once within
 * retry_ms of a failed connect. *opened is 1 when the connection is new,
 * for the caller to name it and set up what hangs on it. A zeroed
 * rconn_lazy_t is one not yet used. */
rconn_t *rconn_lazy_get(rconn_lazy_t *l, const redis_url_t *url, int timeout_ms, int retry_ms, int *opened,
                        char *err, size_t errlen);
/* Closes the connection (after a call that failed on it, or at the end);
 * the next get opens another. */
void rconn_lazy_drop(rconn_lazy_t *l);

#endif
