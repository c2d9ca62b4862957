/* http_fetch.c — HTTP GET for market-data providers (http_fetch.h). */
#include "http_fetch.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

typedef struct {
    char *buf;
    size_t len, cap;
    int too_big;
} sink_t;

static size_t on_data(char *data, size_t size, size_t nmemb, void *user)
{
    sink_t *s = user;
    size_t n = size * nmemb;
    if (s->len + n + 1 > HTTP_FETCH_MAX_BODY) {
        s->too_big = 1;
        return 0; /* stops the transfer */
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 65536;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *b = realloc(s->buf, cap);
        if (b == NULL)
            return 0;
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

static void init_once(void)
{
    static int done;
    if (!done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        done = 1;
    }
}

/* The stop flag, polled by libcurl during a transfer: non-zero aborts it
 * (CURLE_ABORTED_BY_CALLBACK). libcurl calls this whenever its loop wakes,
 * which a signal does at once, and at least once a second otherwise. */
static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const volatile sig_atomic_t *stop = user;
    return *stop != 0;
}

static int stopped(const http_fetch_opts_t *o)
{
    return o->stop != NULL && *o->stop;
}

/* Sleeps ms, in slices of at most 50 ms so that a stop is noticed soon even
 * when it was set just before the sleep began. Returns 1 when stopped. */
static int backoff(int64_t ms, const http_fetch_opts_t *o)
{
    int64_t end = clock_mono_ms() + ms;
    for (;;) {
        if (stopped(o))
            return 1;
        int64_t left = end - clock_mono_ms();
        if (left <= 0)
            return 0;
        clock_sleep_ms(left < 50 ? left : 50, o->stop);
    }
}

static void setup(CURL *h, const char *url, const http_fetch_opts_t *o, sink_t *s, char *curl_err)
{
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, o->no_redirects ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tickq");
    if (o->stop != NULL) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)o->stop);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
}

http_fetch_opts_t http_fetch_defaults(void)
{
    return (http_fetch_opts_t){ .timeout_ms = 10000, .retries = 2, .backoff_ms = 200, .stop = NULL,
                                .no_redirects = 0 };
}

int http_get(const char *url, const http_fetch_opts_t *opts, char **body, size_t *len, long *status, char *err,
             size_t errlen)
{
    http_fetch_opts_t o = opts != NULL ? *opts : http_fetch_defaults();
    *body = NULL;
    *len = 0;
    *status = 0;
    init_once();
    CURL *h = curl_easy_init();
    if (h == NULL) {
        snprintf(err, errlen, "cannot start an HTTP client");
        return -1;
    }
    int rc = HTTP_FETCH_TRANSIENT;
    for (int attempt = 0; attempt <= o.retries; attempt++) {
        if ((attempt > 0 && backoff(o.backoff_ms << (attempt - 1), &o)) || stopped(&o)) {
            rc = HTTP_FETCH_INTERRUPTED;
            break;
        }
        sink_t s = { NULL, 0, 0, 0 };
        char curl_err[CURL_ERROR_SIZE] = "";
        setup(h, url, &o, &s, curl_err);
        CURLcode cc = curl_easy_perform(h);
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        *status = code;
        if (cc == CURLE_OK && code >= 200 && code < 300) {
            if (s.buf == NULL && (s.buf = strdup("")) == NULL) {
                snprintf(err, errlen, "out of memory reading %s", url);
                break;
            }
            *body = s.buf;
            *len = s.len;
            rc = 0;
            break;
        }
        free(s.buf);
        /* A stop during a failed attempt is what gets reported: the failure
         * may be the abort itself, and the job's next run sees any other. */
        if (stopped(&o)) {
            rc = HTTP_FETCH_INTERRUPTED;
            break;
        }
        if (s.too_big) {
            snprintf(err, errlen, "%s: the response is larger than %u MiB", url, HTTP_FETCH_MAX_BODY >> 20);
            rc = HTTP_FETCH_PERMANENT;
            break;
        }
        if (cc != CURLE_OK)
            snprintf(err, errlen, "%s: %s (after %d attempt%s)", url, curl_err[0] ? curl_err : curl_easy_strerror(cc),
                     attempt + 1, attempt ? "s" : "");
        else
            snprintf(err, errlen, "%s: HTTP status %ld (after %d attempt%s)", url, code, attempt + 1,
                     attempt ? "s" : "");
        int bad_url = cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL;
        int retryable = !bad_url && (cc != CURLE_OK || code == 429 || code >= 500);
        if (!retryable) {
            rc = HTTP_FETCH_PERMANENT;
            break;
        }
    }
    if (rc == HTTP_FETCH_INTERRUPTED)
        snprintf(err, errlen, "%s: interrupted: the worker is stopping", url);
    curl_easy_cleanup(h);
    return rc;
}
