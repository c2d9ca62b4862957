/* provider_source.c — a provider's folder of per-symbol files or URL
 * template: paths, URLs, reading, fetching, listing (provider_source.h).
 *
 * A symbol's whole file or response body is read into memory; parsing is
 * the provider's. Symbols go into file names as they are (so one with a '/'
 * cannot name a file) and into URLs percent-encoded. */
#include "provider_source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
                        size_t outlen)
{
    size_t at = 0;
    if (outlen == 0)
        return -1;
    out[0] = '\0';
    for (const char *t = tmpl; *t;) {
        const provider_source_var_t *v = NULL;
        for (size_t i = 0; i < nvars && v == NULL; i++)
            if (strncmp(t, vars[i].name, strlen(vars[i].name)) == 0)
                v = &vars[i];
        int rc;
        if (v != NULL && (strcmp(v->value, ".") == 0 || strcmp(v->value, "..") == 0)) {
            out[0] = '\0';
            return PROVIDER_URL_DOT_SEGMENT;
        }
        if (v != NULL) {
            rc = put_escaped(out, outlen, &at, v->value);
            t += strlen(v->name);
        } else {
            rc = put(out, outlen, &at, t, 1);
            t++;
        }
        if (rc != 0)
            return -1;
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

int provider_source_allowed(const char *where, http_fetch_opts_t *http, const char *what, char *err,
                            size_t errlen)
{
    const char *allow = getenv(PROVIDER_ALLOW_ENV);
    if (allow == NULL || allow[0] == '\0')
        return 0;
    int is_url = http != NULL;
    if (is_url)
        http->no_redirects = 1;
    if (strcmp(allow, "none") == 0) {
        snprintf(err, errlen, "%s '%.300s' is not allowed: the worker's %s=none admits no csv_dir or http_csv "
                 "provider in job args (leave provider out to use the worker's own)", what, where,
                 PROVIDER_ALLOW_ENV);
        return -1;
    }
    char real[PATH_MAX] = "";
    if (is_url ? strstr(where, "/..") != NULL || strstr(where, "/./") != NULL : realpath(where, real) == NULL) {
        snprintf(err, errlen, "%s '%.300s' is not allowed: %s limits job-given providers, and this %s", what,
                 where, PROVIDER_ALLOW_ENV, is_url ? "URL has dot segments" : "folder cannot be resolved");
        return -1;
    }
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
        if (is_url ? entry_is_url && url_under(where, p, n) : !entry_is_url && n > 0 && p[0] == '/' &&
                                                               folder_under(real, p, n))
            return 0;
        if (end == NULL)
            break;
        p = end + 1;
    }
    snprintf(err, errlen, "%s '%.300s' is not allowed: the worker's %s admits only its listed %s", what, where,
             PROVIDER_ALLOW_ENV, is_url ? "URL prefixes" : "folders");
    return -1;
}
