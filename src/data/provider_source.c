/* provider_source.c — a provider's folder of per-symbol files or URL
 * template: paths, URLs, reading, fetching, listing (provider_source.h).
 *
 * A symbol's whole file or response body is read into memory; parsing is
 * the provider's. Symbols go into file names as they are (so one with a '/'
 * cannot name a file) and into URLs percent-encoded.
 *
 * What keeps a provider where it was pointed:
 * (1) every symbol passes bar_symbol_check (the rule of imports: no "." or
 *     ".." between slashes) before it goes into a path or URL, and no value
 *     put into a URL decodes (every %XX escape, up to DECODE_ROUNDS times;
 *     NUL, overlong-UTF-8 and %u escapes refused) into a dot segment
 *     between any of URL_SEPARATORS;
 * (2) under TICKQ_PROVIDER_ALLOW, a job's URL template, decoded the same
 *     way, has no dot segment and starts with a listed prefix; a job's
 *     folder resolves under a listed one;
 * (3) a redirect is followed only to the same origin (scheme, host, port)
 *     or to a URL the allow list admits; a job's URL under a limit only to
 *     the latter. */
#include "data/provider_source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DECODE_ROUNDS 4 /* %25 nested deeper than this is refused, not decoded */
/* What ends a path segment for some server: a value between two of these
 * may not be "." or "..". */
#define URL_SEPARATORS "/?#&=;"

int provider_source_symbol_check(const char *symbol, char *err, size_t errlen)
{
    if (bar_symbol_check(symbol, strlen(symbol)) == 0)
        return 0;
    snprintf(err, errlen, "'%.40s' is not a valid symbol (" BAR_SYMBOL_RULE "): no path or URL is made of it",
             symbol);
    return -1;
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                                                                        : -1;
}

/* Decodes in place every %XX escape, round after round (a server, or a
 * proxy in front of it, may decode more than once), so that %2e%2e,
 * %252e, %2%65 and .%2e are all caught like "..". Refuses (-1) what cannot
 * be told apart from a dot segment or a path end: an escape of NUL, of the
 * bytes 0xC0 and 0xC1 (only ever the start of an overlong UTF-8 form, such
 * as %c0%ae for "."), a %u escape, and text still changing after
 * DECODE_ROUNDS rounds. 0 otherwise. */
static int decode_hidden(char *s)
{
    for (int round = 0; round < DECODE_ROUNDS; round++) {
        int changed = 0;
        char *w = s;
        for (const char *r = s; *r;) {
            if (r[0] == '%' && (r[1] == 'u' || r[1] == 'U'))
                return -1;
            int hi = r[0] == '%' ? hex_value(r[1]) : -1, lo = hi >= 0 ? hex_value(r[2]) : -1;
            if (lo >= 0) {
                int c = hi * 16 + lo;
                if (c == 0 || c == 0xC0 || c == 0xC1)
                    return -1;
                *w++ = (char)c;
                r += 3;
                changed = 1;
            } else {
                *w++ = *r++;
            }
        }
        *w = '\0';
        if (!changed)
            return 0;
    }
    return -1;
}

/* 1 when `s` (decoded by decode_hidden; a backslash counts as a slash) has
 * a "." or ".." part between any of `seps`, or hides one too deep to tell;
 * `s` is at most PROVIDER_URL_MAX long. */
static int climbs(const char *s, const char *seps)
{
    char buf[PROVIDER_URL_MAX];
    size_t n = strlen(s);
    if (n >= sizeof buf)
        return 1;
    memcpy(buf, s, n + 1);
    if (decode_hidden(buf) != 0)
        return 1;
    for (char *p = buf; *p; p++)
        if (*p == '\\')
            *p = '/';
    for (const char *part = buf;;) {
        size_t len = strcspn(part, seps);
        if ((len == 1 || len == 2) && part[0] == '.' && part[len - 1] == '.')
            return 1;
        if (part[len] == '\0')
            return 0;
        part += len + 1;
    }
}

int provider_source_url_climbs(const char *url)
{
    const char *at = strstr(url, "://");
    at = at != NULL ? at + 3 : url;
    const char *path = at + strcspn(at, "/\\?#"); /* after the host: what a server maps to files */
    return climbs(path, URL_SEPARATORS);
}

int provider_source_names_file(const char *symbol)
{
    return strchr(symbol, '/') == NULL && strcmp(symbol, ".") != 0 && strcmp(symbol, "..") != 0;
}

int provider_source_path(const char *folder, const char *symbol, const char *suffix, char *out, size_t outlen)
{
    size_t n = strlen(folder);
    int w = snprintf(out, outlen, "%s%s%s%s", folder, n && folder[n - 1] == '/' ? "" : "/", symbol, suffix);
    return w < 0 || (size_t)w >= outlen ? -1 : 0;
}

/* Appends s[0..n) to out (used so far: *at); -1 when it does not fit. */
static int put(char *out, size_t outlen, size_t *at, const char *s, size_t n)
{
    if (*at + n >= outlen)
        return -1;
    memcpy(out + *at, s, n);
    *at += n;
    out[*at] = '\0';
    return 0;
}

/* Appends `s` percent-encoded: all but RFC 3986's unreserved characters. */
static int put_escaped(char *out, size_t outlen, size_t *at, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            if (put(out, outlen, at, s, 1) != 0)
                return -1;
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            if (put(out, outlen, at, e, 3) != 0)
                return -1;
        }
    }
    return 0;
}

int provider_source_url(const char *tmpl, const provider_source_var_t *vars, size_t nvars, char *out,
                        size_t outlen, char *err, size_t errlen)
{
    size_t at = 0;
    if (outlen == 0)
        return -1;
    out[0] = '\0';
    for (size_t i = 0; i < nvars; i++) {
        if (climbs(vars[i].value, URL_SEPARATORS)) {
            snprintf(err, errlen, "%s '%.40s' would make a dot segment in the URL once a server decodes it",
                     vars[i].name, vars[i].value);
            return -1;
        }
    }
    for (const char *t = tmpl; *t;) {
        const provider_source_var_t *v = NULL;
        for (size_t i = 0; i < nvars && v == NULL; i++)
            if (strncmp(t, vars[i].name, strlen(vars[i].name)) == 0)
                v = &vars[i];
        int rc;
        if (v != NULL) {
            rc = put_escaped(out, outlen, &at, v->value);
            t += strlen(v->name);
        } else {
            rc = put(out, outlen, &at, t, 1);
            t++;
        }
        if (rc != 0) {
            snprintf(err, errlen, "the URL is longer than %zu characters", outlen - 1);
            return -1;
        }
    }
    return 0;
}

provider_status_t provider_source_read_file(const char *path, char **data, size_t *len, int *missing, char *err,
                                            size_t errlen)
{
    *data = NULL;
    *len = 0;
    *missing = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        *missing = e == ENOENT;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
        return e == ENOENT || e == EACCES || e == ENOTDIR || e == ELOOP || e == ENAMETOOLONG ? PROVIDER_BAD
                                                                                            : PROVIDER_RETRYABLE;
    }
    provider_status_t rc = PROVIDER_RETRYABLE;
    char *buf = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        rc = PROVIDER_BAD;
        goto cleanup;
    }
    if ((unsigned long long)st.st_size > HTTP_FETCH_MAX_BODY) {
        snprintf(err, errlen, "%s is larger than %u MiB", path, HTTP_FETCH_MAX_BODY >> 20);
        rc = PROVIDER_BAD;
        goto cleanup;
    }
    size_t size = (size_t)st.st_size, got = 0;
    buf = malloc(size + 1);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory reading %s", path);
        goto cleanup;
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            goto cleanup;
        }
        if (r == 0)
            break; /* shrank while we read: parse what is there */
        got += (size_t)r;
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
    buf = NULL;
    rc = PROVIDER_OK;
cleanup:
    free(buf);
    close(fd);
    return rc;
}

provider_status_t provider_source_get(const char *url, const http_fetch_opts_t *http, char **data, size_t *len,
                                      char *err, size_t errlen)
{
    long status = 0;
    int rc = http_get(url, http, data, len, &status, err, errlen);
    return rc == 0                        ? PROVIDER_OK
           : rc == HTTP_FETCH_PERMANENT   ? PROVIDER_BAD
           : rc == HTTP_FETCH_INTERRUPTED ? PROVIDER_STOPPED
                                          : PROVIDER_RETRYABLE;
}

int provider_source_list(const char *folder, const char *suffix, bar_symbol_t **names, size_t *n, char *err,
                         size_t errlen)
{
    DIR *d = opendir(folder);
    if (d == NULL) {
        snprintf(err, errlen, "cannot list the csv_dir folder %s: %s", folder, strerror(errno));
        return -1;
    }
    int rc = 0;
    size_t cap = *n, sl = strlen(suffix);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len <= sl || strcmp(e->d_name + len - sl, suffix) != 0)
            continue;
        len -= sl;
        if (bar_symbol_check(e->d_name, len) != 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            bar_symbol_t *grown = realloc(*names, cap * sizeof **names);
            if (grown == NULL) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            *names = grown;
        }
        memcpy((*names)[*n], e->d_name, len);
        (*names)[*n][len] = '\0';
        (*n)++;
    }
    closedir(d);
    return rc;
}

int provider_source_check_int(const char *what, int whole, long long v, long long lo, long long hi, char *err,
                              size_t errlen)
{
    if (whole && v >= lo && v <= hi)
        return 0;
    snprintf(err, errlen, "%s must be an integer from %lld to %lld", what, lo, hi);
    return -1;
}

/* 1 when `url` starts with the allowed prefix `p` at a boundary: the prefix
 * ends with '/', or the URL goes on with '/', '?', '#' or ends there (so
 * http://data.example never admits http://data.example.evil.com). */
static int url_under(const char *url, const char *p, size_t n)
{
    if (n == 0 || strncmp(url, p, n) != 0)
        return 0;
    char next = url[n];
    return p[n - 1] == '/' || next == '\0' || next == '/' || next == '?' || next == '#';
}

/* 1 when the real path of `path` is the real path of folder `p` or under it. */
static int folder_under(const char *real, const char *p, size_t n)
{
    char want[PROVIDER_PATH_MAX], root[PATH_MAX];
    if (n == 0 || n >= sizeof want)
        return 0;
    memcpy(want, p, n);
    want[n] = '\0';
    if (realpath(want, root) == NULL)
        return 0;
    size_t r = strlen(root);
    return strncmp(real, root, r) == 0 && (real[r] == '\0' || real[r] == '/' || strcmp(root, "/") == 0);
}

/* 1 when an entry of the allow list `allow` admits the URL (is_url) or the
 * real path of a folder. */
static int listed(const char *allow, const char *where, int is_url)
{
    for (const char *p = allow; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        int entry_is_url = memmem(p, n, "://", 3) != NULL;
        if (is_url ? entry_is_url && url_under(where, p, n)
                   : !entry_is_url && n > 0 && p[0] == '/' && folder_under(where, p, n))
            return 1;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

/* 1 when the worker's allow list names URL prefixes and admits `url`. */
static int url_listed(const char *url)
{
    const char *allow = getenv(PROVIDER_ALLOW_ENV);
    return allow != NULL && allow[0] != '\0' && strcmp(allow, "none") != 0 && !provider_source_url_climbs(url) &&
           listed(allow, url, 1);
}

/* The redirect rule of a job's URL under a limit: only where the list admits. */
static int redirect_limited(const char *from, const char *to, char *why, size_t whylen)
{
    (void)from;
    if (url_listed(to))
        return 1;
    snprintf(why, whylen, "the job's provider is limited by the worker's %s, and the target is not under one of "
             "its URL prefixes", PROVIDER_ALLOW_ENV);
    return 0;
}

/* The redirect rule of every other provider URL: the same origin, or a URL
 * the operator listed. */
static int redirect_same_origin(const char *from, const char *to, char *why, size_t whylen)
{
    if (http_same_origin(from, to) || url_listed(to))
        return 1;
    snprintf(why, whylen, "it leaves the origin (scheme, host and port) of %.300s; the worker's %s may list it to "
             "allow it", from, PROVIDER_ALLOW_ENV);
    return 0;
}

http_fetch_opts_t provider_source_http_defaults(void)
{
    http_fetch_opts_t o = http_fetch_defaults();
    o.redirect_ok = redirect_same_origin;
    return o;
}

int provider_source_allowed(const char *where, http_fetch_opts_t *http, const char *what, char *err,
                            size_t errlen)
{
    const char *allow = getenv(PROVIDER_ALLOW_ENV);
    if (allow == NULL || allow[0] == '\0')
        return 0;
    int is_url = http != NULL;
    if (is_url)
        http->redirect_ok = redirect_limited;
    if (strcmp(allow, "none") == 0) {
        snprintf(err, errlen, "%s '%.300s' is not allowed: the worker's %s=none admits no csv_dir or http_csv "
                 "provider in job args (leave provider out to use the worker's own)", what, where,
                 PROVIDER_ALLOW_ENV);
        return -1;
    }
    char real[PATH_MAX] = "";
    if (is_url ? provider_source_url_climbs(where) : realpath(where, real) == NULL) {
        snprintf(err, errlen, "%s '%.300s' is not allowed: %s limits job-given providers, and this %s", what,
                 where, PROVIDER_ALLOW_ENV,
                 is_url ? "URL has dot segments (once %2e, %2f, %5c and %25 are decoded)"
                        : "folder cannot be resolved");
        return -1;
    }
    if (listed(allow, is_url ? where : real, is_url))
        return 0;
    snprintf(err, errlen, "%s '%.300s' is not allowed: the worker's %s admits only its listed %s", what, where,
             PROVIDER_ALLOW_ENV, is_url ? "URL prefixes" : "folders");
    return -1;
}
