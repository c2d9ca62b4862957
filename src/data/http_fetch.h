/* http_fetch.h — HTTP GET for market-data providers (libcurl): a whole
 * body or an error, with a per-attempt timeout and retries with backoff
 * for what is worth retrying (connection failures, timeouts, 429 and 5xx).
 * Other HTTP statuses are errors at once. Bodies are capped in size.
 * Redirects (at most HTTP_FETCH_MAX_REDIRECTS) are followed by this module,
 * each target vetted first: by default only to the same origin, so that a
 * server cannot send the worker to another host or port; a caller may
 * admit more or less (opts->redirect_ok).
 * An optional stop flag (a worker's shutdown flag) cuts a transfer or a
 * backoff short, so that a stopping worker does not sit out a slow server. */
#ifndef TICKQ_HTTP_FETCH_H
#define TICKQ_HTTP_FETCH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_FETCH_MAX_BODY (256u * 1024 * 1024)

typedef struct {
    int64_t timeout_ms;          /* per attempt (default 10 s) */
    int retries;                 /* extra attempts after the first (default 2) */
    int64_t backoff_ms;          /* before retry n: backoff * 2^(n-1) (default 200 ms) */
    volatile sig_atomic_t *stop; /* optional (NULL: none): once set, the fetch gives up */
    /* Whether to follow a redirect from `from` to `to`: 1 yes, or 0 with
     * why (a refused redirect is a permanent error naming its target). NULL:
     * only to the same origin (http_same_origin). */
    int (*redirect_ok)(const char *from, const char *to, char *why, size_t whylen);
} http_fetch_opts_t;

#define HTTP_FETCH_MAX_REDIRECTS 5

#define HTTP_FETCH_TRANSIENT (-1) /* may work later: no response, timeout, cut transfer, 429, 5xx */
#define HTTP_FETCH_PERMANENT (-2) /* will not: other statuses (404...), a bad URL, a body over the cap */
#define HTTP_FETCH_INTERRUPTED (-3) /* *opts->stop was set: the transfer or backoff was cut short */

/* The defaults: 10 s per attempt, 2 retries, 200 ms backoff, no stop
 * flag, redirects followed to the same origin only. */
http_fetch_opts_t http_fetch_defaults(void);

/* 1 when two absolute http(s) URLs have the same origin: scheme, host (any
 * case) and port (the scheme's default when none is given). 0 otherwise, or
 * when either does not parse. */
int http_same_origin(const char *a, const char *b);

/* Fetches `url`. Returns 0 with *body (malloc'd, NUL-terminated, *len
 * bytes) for a 2xx response, or HTTP_FETCH_TRANSIENT / HTTP_FETCH_PERMANENT
 * (after the retries) with err naming the URL and what went wrong; *status
 * gets the last HTTP status (0 when none was received). opts may be NULL
 * for the defaults. When opts->stop is set (before or during the fetch),
 * returns HTTP_FETCH_INTERRUPTED with err "<url>: interrupted: the worker
 * is stopping" within about 50 ms of a backoff, and as soon as libcurl
 * wakes during a transfer: at once when the signal that set the flag
 * interrupts this thread, else within its 1 s poll. */
int http_get(const char *url, const http_fetch_opts_t *opts, char **body, size_t *len, long *status, char *err,
             size_t errlen);

#endif
