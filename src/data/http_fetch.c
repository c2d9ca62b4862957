/* http_fetch.c — HTTP GET for market-data providers (http_fetch.h). */
#include "data/http_fetch.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"

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
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* followed by fetch_once, each target vetted */
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
                                .redirect_ok = NULL };
}

/* The URL's scheme, host and port (the scheme's default when none is
 * given), each freed with curl_free; 0, or -1 when it does not parse. */
static int origin_of(const char *url, char **scheme, char **host, char **port)
{
    *scheme = *host = *port = NULL;
    CURLU *u = curl_url();
    int ok = u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK;
    curl_url_cleanup(u);
    return ok ? 0 : -1;
}

int http_same_origin(const char *a, const char *b)
{
    char *as, *ah, *ap, *bs, *bh, *bp;
    int oa = origin_of(a, &as, &ah, &ap), ob = origin_of(b, &bs, &bh, &bp);
    int same = oa == 0 && ob == 0 && strcasecmp(as, bs) == 0 && strcasecmp(ah, bh) == 0 && strcmp(ap, bp) == 0;
    curl_free(as);
    curl_free(ah);
    curl_free(ap);
    curl_free(bs);
    curl_free(bh);
    curl_free(bp);
    return same;
}

/* The default redirect rule: the same origin only. */
static int same_origin_only(const char *from, const char *to, char *why, size_t whylen)
{
    if (http_same_origin(from, to))
        return 1;
    snprintf(why, whylen, "only redirects to the same scheme, host and port are followed");
    return 0;
}

/* One attempt: GETs `url` into *s, following redirects whose targets
 * o->redirect_ok admits (at most HTTP_FETCH_MAX_REDIRECTS). Returns the
 * last transfer's code, with its status in *code and the URL it fetched in
 * *final (malloc'd, NULL when out of memory); *refused is set (err says
 * why) when a redirect was not followed. */
static CURLcode fetch_once(CURL *h, const char *url, const http_fetch_opts_t *o, sink_t *s, char *curl_err,
                           long *code, char **final, int *refused, char *err, size_t errlen)
{
    *refused = 0;
    *code = 0;
    char *cur = strdup(url);
    CURLcode cc = CURLE_OUT_OF_MEMORY;
    for (int hops = 0; cur != NULL; hops++) {
        setup(h, cur, o, s, curl_err);
        cc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
        char *to = NULL;
        if (cc != CURLE_OK || *code < 300 || *code >= 400 ||
            curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &to) != CURLE_OK || to == NULL)
            break;
        char why[300] = "";
        int (*ok)(const char *, const char *, char *, size_t) = o->redirect_ok ? o->redirect_ok : same_origin_only;
        if (hops == HTTP_FETCH_MAX_REDIRECTS) {
            snprintf(err, errlen, "%s: more than %d redirects (the last to %.500s)", url, HTTP_FETCH_MAX_REDIRECTS,
                     to);
            *refused = 1;
            break;
        }
        if (!ok(cur, to, why, sizeof why)) {
            snprintf(err, errlen, "%s: redirect to %.500s refused: %s", url, to, why);
            *refused = 1;
            break;
        }
        char *next = strdup(to); /* `to` belongs to the handle: copied before it is reused */
        free(cur);
        cur = next;
        free(s->buf);
        *s = (sink_t){ NULL, 0, 0, 0 };
        if (cur == NULL)
            cc = CURLE_OUT_OF_MEMORY;
    }
    *final = cur;
    return cc;
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
        long code = 0;
        char *final = NULL;
        int refused = 0;
        CURLcode cc = fetch_once(h, url, &o, &s, curl_err, &code, &final, &refused, err, errlen);
        *status = code;
        if (!refused && cc == CURLE_OK && code >= 200 && code < 300) {
            free(final);
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
        /* Messages name the URL asked for, and where a redirect led. */
        char where[1200];
        if (final != NULL && strcmp(final, url) != 0)
            snprintf(where, sizeof where, "%s (redirected to %.500s)", url, final);
        else
            snprintf(where, sizeof where, "%s", url);
        free(final);
        if (refused && !stopped(&o)) {
            rc = HTTP_FETCH_PERMANENT;
            break;
        }
        /* A stop during a failed attempt is what gets reported: the failure
         * may be the abort itself, and the job's next run sees any other. */
        if (stopped(&o)) {
            rc = HTTP_FETCH_INTERRUPTED;
            break;
        }
        if (s.too_big) {
            snprintf(err, errlen, "%s: the response is larger than %u MiB", where, HTTP_FETCH_MAX_BODY >> 20);
            rc = HTTP_FETCH_PERMANENT;
            break;
        }
        if (cc != CURLE_OK)
            snprintf(err, errlen, "%s: %s (after %d attempt%s)", where,
                     curl_err[0] ? curl_err : curl_easy_strerror(cc), attempt + 1, attempt ? "s" : "");
        else
            snprintf(err, errlen, "%s: HTTP status %ld (after %d attempt%s)", where, code, attempt + 1,
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
