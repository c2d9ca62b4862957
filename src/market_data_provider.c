/* market_data_provider.c — where update_stock_data gets bars: csv_dir and
 * http_csv (market_data_provider.h).
 *
 * A symbol's whole file or response body is read into memory, then parsed
 * by csv_parse; nothing here touches the database. Symbols go into file
 * names as they are (so one with a '/' cannot be a csv_dir symbol) and into
 * URLs percent-encoded. */
#include "market_data_provider.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv_import.h"

#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_RETRIES 2
#define DEFAULT_BACKOFF_MS 200
#define MAX_RETRIES 10
#define MAX_TIMEOUT_S 600

void md_bars_free(md_bars_t *b)
{
    if (b == NULL)
        return;
    free(b->rows);
    b->rows = NULL;
    b->n = b->cap = 0;
}

const char *market_data_provider_name(const market_data_provider_t *p)
{
    return p->kind == MD_CSV_DIR ? "csv_dir" : "http_csv";
}

static void defaults(market_data_provider_t *p, md_kind_t kind)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->http.timeout_ms = DEFAULT_TIMEOUT_MS;
    p->http.retries = DEFAULT_RETRIES;
    p->http.backoff_ms = DEFAULT_BACKOFF_MS;
}

static int set_path(market_data_provider_t *p, const char *path, const char *what, char *err, size_t errlen)
{
    if (path == NULL || path[0] == '\0') {
        snprintf(err, errlen, "%s: give the folder of <SYMBOL>.csv files", what);
        return -1;
    }
    if (strlen(path) >= sizeof p->path) {
        snprintf(err, errlen, "%s is longer than %zu characters", what, sizeof p->path - 1);
        return -1;
    }
    snprintf(p->path, sizeof p->path, "%s", path);
    return 0;
}

static int set_url(market_data_provider_t *p, const char *url, const char *what, char *err, size_t errlen)
{
    if (url == NULL || url[0] == '\0') {
        snprintf(err, errlen, "%s: give a URL template like http://host/bars/{symbol}.csv", what);
        return -1;
    }
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
        snprintf(err, errlen, "%s must start with http:// or https://, got '%.200s'", what, url);
        return -1;
    }
    if (strstr(url, "{symbol}") == NULL) {
        snprintf(err, errlen, "%s must contain {symbol}, e.g. http://host/bars/{symbol}.csv; got '%.200s'", what,
                 url);
        return -1;
    }
    if (strlen(url) >= sizeof p->url) {
        snprintf(err, errlen, "%s is longer than %zu characters", what, sizeof p->url - 1);
        return -1;
    }
    snprintf(p->url, sizeof p->url, "%s", url);
    return 0;
}

static int set_timeout(market_data_provider_t *p, double secs, const char *what, char *err, size_t errlen)
{
    if (!(secs > 0) || secs > MAX_TIMEOUT_S) {
        snprintf(err, errlen, "%s must be a number of seconds above 0 and at most %d", what, MAX_TIMEOUT_S);
        return -1;
    }
    p->http.timeout_ms = (int64_t)ceil(secs * 1000);
    return 0;
}

static int set_retries(market_data_provider_t *p, long long n, const char *what, char *err, size_t errlen)
{
    if (n < 0 || n > MAX_RETRIES) {
        snprintf(err, errlen, "%s must be an integer from 0 to %d", what, MAX_RETRIES);
        return -1;
    }
    p->http.retries = (int)n;
    return 0;
}

int market_data_provider_from_json(market_data_provider_t *p, const json_t *obj, char *err, size_t errlen)
{
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "provider must be an object like {\"type\": \"csv_dir\", \"path\": \"/data/bars\"} "
                 "or {\"type\": \"http_csv\", \"url\": \"http://host/bars/{symbol}.csv\"}");
        return -1;
    }
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (type == NULL) {
        snprintf(err, errlen, "provider.type must be \"csv_dir\" or \"http_csv\"");
        return -1;
    }
    int dir = strcmp(type, "csv_dir") == 0;
    if (!dir && strcmp(type, "http_csv") != 0) {
        snprintf(err, errlen, "unknown provider type '%.100s' (use csv_dir or http_csv)", type);
        return -1;
    }
    defaults(p, dir ? MD_CSV_DIR : MD_HTTP_CSV);
    /* Unknown keys are refused: a misspelt "timeout" must not silently
     * leave the default in place. */
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        if (strcmp(key, "type") == 0)
            continue;
        if (dir && strcmp(key, "path") == 0) {
            if (!json_is_string(v)) {
                snprintf(err, errlen, "provider.path must be a string (a folder)");
                return -1;
            }
            if (set_path(p, json_string_value(v), "provider.path", err, errlen) != 0)
                return -1;
        } else if (!dir && strcmp(key, "url") == 0) {
            if (!json_is_string(v)) {
                snprintf(err, errlen, "provider.url must be a string (a URL template with {symbol})");
                return -1;
            }
            if (set_url(p, json_string_value(v), "provider.url", err, errlen) != 0)
                return -1;
        } else if (!dir && strcmp(key, "timeout_seconds") == 0) {
            if (set_timeout(p, json_is_number(v) ? json_number_value(v) : -1, "provider.timeout_seconds", err,
                            errlen) != 0)
                return -1;
        } else if (!dir && strcmp(key, "retries") == 0) {
            if (set_retries(p, json_is_integer(v) ? json_integer_value(v) : -1, "provider.retries", err,
                            errlen) != 0)
                return -1;
        } else {
            snprintf(err, errlen, "unknown key '%.100s' in a %s provider (it takes %s)", key, type,
                     dir ? "type and path" : "type, url, timeout_seconds and retries");
            return -1;
        }
    }
    if (dir && p->path[0] == '\0')
        return set_path(p, NULL, "provider.path is missing", err, errlen);
    if (!dir && p->url[0] == '\0')
        return set_url(p, NULL, "provider.url is missing", err, errlen);
    return 0;
}

int market_data_provider_from_env(market_data_provider_t *p, char *err, size_t errlen)
{
    const char *type = getenv("TICKQ_MARKET_DATA_PROVIDER");
    if (type == NULL || type[0] == '\0')
        return 1;
    if (strcmp(type, "csv_dir") == 0) {
        defaults(p, MD_CSV_DIR);
        return set_path(p, getenv("TICKQ_MARKET_DATA_PATH"), "TICKQ_MARKET_DATA_PATH is not set", err, errlen) == 0
                   ? 0
                   : -1;
    }
    if (strcmp(type, "http_csv") != 0) {
        snprintf(err, errlen, "TICKQ_MARKET_DATA_PROVIDER is '%.100s': set it to csv_dir or http_csv", type);
        return -1;
    }
    defaults(p, MD_HTTP_CSV);
    if (set_url(p, getenv("TICKQ_MARKET_DATA_URL"), "TICKQ_MARKET_DATA_URL", err, errlen) != 0)
        return -1;
    const char *t = getenv("TICKQ_MARKET_DATA_TIMEOUT_SECONDS");
    if (t != NULL && t[0] != '\0') {
        char *end;
        double secs = strtod(t, &end);
        if (set_timeout(p, *end == '\0' ? secs : -1, "TICKQ_MARKET_DATA_TIMEOUT_SECONDS", err, errlen) != 0)
            return -1;
    }
    const char *r = getenv("TICKQ_MARKET_DATA_RETRIES");
    if (r != NULL && r[0] != '\0') {
        char *end;
        long long n = strtoll(r, &end, 10);
        if (set_retries(p, *end == '\0' ? n : -1, "TICKQ_MARKET_DATA_RETRIES", err, errlen) != 0)
            return -1;
    }
    return 0;
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

/* Appends `s` percent-encoded: all but RFC 3986's unreserved characters,
 * so ^GSPC, BRK/B and EURUSD=X stay one path segment. */
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

int market_data_provider_source(const market_data_provider_t *p, const char *symbol, const char *interval,
                                char *out, size_t outlen, char *err, size_t errlen)
{
    if (p->kind == MD_CSV_DIR) {
        if (strchr(symbol, '/') != NULL || strcmp(symbol, ".") == 0 || strcmp(symbol, "..") == 0) {
            snprintf(err, errlen, "symbol '%s' cannot name a file in a csv_dir provider", symbol);
            return -1;
        }
        size_t n = strlen(p->path);
        int w = snprintf(out, outlen, "%s%s%s.csv", p->path, n && p->path[n - 1] == '/' ? "" : "/", symbol);
        if (w < 0 || (size_t)w >= outlen) {
            snprintf(err, errlen, "the path of %s's file is too long", symbol);
            return -1;
        }
        return 0;
    }
    size_t at = 0;
    out[0] = '\0';
    for (const char *t = p->url; *t;) {
        int rc;
        if (strncmp(t, "{symbol}", 8) == 0) {
            rc = put_escaped(out, outlen, &at, symbol);
            t += 8;
        } else if (strncmp(t, "{interval}", 10) == 0) {
            rc = put_escaped(out, outlen, &at, interval);
            t += 10;
        } else {
            rc = put(out, outlen, &at, t, 1);
            t++;
        }
        if (rc != 0) {
            snprintf(err, errlen, "the URL of %s is too long", symbol);
            return -1;
        }
    }
    return 0;
}

/* Reads the whole file into *data (malloc'd). The errors that a later try
 * may not see (I/O, memory) are MD_RETRYABLE; the rest are MD_BAD. */
static md_status_t read_file(const market_data_provider_t *p, const char *path, char **data, size_t *len,
                             char *err, size_t errlen)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        struct stat st;
        if (e == ENOENT && (stat(p->path, &st) != 0 || !S_ISDIR(st.st_mode))) {
            snprintf(err, errlen, "the csv_dir folder %s does not exist", p->path);
            return MD_BAD;
        }
        if (e == ENOENT) {
            snprintf(err, errlen, "no file %s", path);
            return MD_BAD;
        }
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
        return e == EACCES || e == ENOTDIR || e == ELOOP || e == ENAMETOOLONG ? MD_BAD : MD_RETRYABLE;
    }
    md_status_t rc = MD_RETRYABLE;
    char *buf = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        rc = MD_BAD;
        goto cleanup;
    }
    if ((unsigned long long)st.st_size > HTTP_FETCH_MAX_BODY) {
        snprintf(err, errlen, "%s is larger than %u MiB", path, HTTP_FETCH_MAX_BODY >> 20);
        rc = MD_BAD;
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
    rc = MD_OK;
cleanup:
    free(buf);
    close(fd);
    return rc;
}

/* Fetches the URL: http_get says whether a failure may pass (MD_RETRYABLE)
 * or not (MD_BAD), or that http.stop cut it short (MD_STOPPED). */
static md_status_t fetch_url(const market_data_provider_t *p, const char *url, char **data, size_t *len, char *err,
                             size_t errlen)
{
    long status = 0;
    int rc = http_get(url, &p->http, data, len, &status, err, errlen);
    return rc == 0                        ? MD_OK
           : rc == HTTP_FETCH_PERMANENT   ? MD_BAD
           : rc == HTTP_FETCH_INTERRUPTED ? MD_STOPPED
                                          : MD_RETRYABLE;
}

static int collect(void *ctx, const bar_row_t *row, char *err, size_t errlen)
{
    md_bars_t *b = ctx;
    if (row == NULL)
        return 0;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        bar_row_t *rows = realloc(b->rows, cap * sizeof *rows);
        if (rows == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        b->rows = rows;
        b->cap = cap;
    }
    bar_row_t *r = &b->rows[b->n++];
    *r = *row;
    r->symbol = b->symbol;
    return 0;
}

#define LISTED_PROBLEMS 5

/* err gets "N bad rows of M: line L: ...; line L: ..." (the first
 * LISTED_PROBLEMS) as far as it fits. */
static void describe_problems(const csv_import_report_t *rep, char *err, size_t errlen)
{
    size_t at = 0;
    int w;
    if (rep->rows == 0 && rep->nproblems == 1) /* the header: no row was read */
        w = snprintf(err, errlen, "line %zu: %s", rep->problems[0].line, rep->problems[0].msg);
    else
        w = snprintf(err, errlen, "%zu bad row%s of %zu", rep->bad, rep->bad == 1 ? "" : "s", rep->rows);
    if (w < 0 || (size_t)w >= errlen || rep->rows == 0)
        return;
    at = (size_t)w;
    size_t listed = rep->nproblems < LISTED_PROBLEMS ? rep->nproblems : LISTED_PROBLEMS;
    for (size_t i = 0; i < listed && at < errlen; i++) {
        w = snprintf(err + at, errlen - at, "%s line %zu: %s", i ? ";" : ":", rep->problems[i].line,
                     rep->problems[i].msg);
        if (w < 0)
            return;
        at += (size_t)w;
    }
    if (rep->bad > listed && at < errlen)
        snprintf(err + at, errlen - at, "; and %zu more", rep->bad - listed);
}

md_status_t market_data_provider_fetch(const market_data_provider_t *p, const char *symbol, const char *interval,
                                       md_bars_t *out, char *err, size_t errlen)
{
    md_bars_free(out);
    snprintf(out->symbol, sizeof out->symbol, "%s", symbol);
    char src[MD_PATH_MAX + MD_URL_MAX];
    if (market_data_provider_source(p, symbol, interval, src, sizeof src, err, errlen) != 0)
        return MD_BAD;
    char *data = NULL;
    size_t len = 0;
    md_status_t rc = p->kind == MD_CSV_DIR ? read_file(p, src, &data, &len, err, errlen)
                                           : fetch_url(p, src, &data, &len, err, errlen);
    if (rc != MD_OK)
        return rc;
    csv_import_report_t *rep = malloc(sizeof *rep);
    if (rep == NULL) {
        free(data);
        snprintf(err, errlen, "out of memory");
        return MD_RETRYABLE;
    }
    csv_parse_opts_t opts = { interval, symbol };
    char perr[256];
    if (len == 0) {
        snprintf(err, errlen, "%s: empty %s", src, p->kind == MD_CSV_DIR ? "file" : "response");
        rc = MD_BAD;
    } else if (csv_parse(data, len, &opts, collect, out, rep, perr, sizeof perr) != 0) {
        snprintf(err, errlen, "%s: %s", src, perr);
        rc = MD_RETRYABLE; /* out of memory */
    } else if (rep->bad > 0) {
        char what[900];
        describe_problems(rep, what, sizeof what);
        snprintf(err, errlen, "%s: %s", src, what);
        rc = MD_BAD;
    } else if (out->n == 0) {
        snprintf(err, errlen, "%s: no bars, only the header line", src);
        rc = MD_BAD;
    }
    if (rc != MD_OK)
        md_bars_free(out);
    free(rep);
    free(data);
    return rc;
}

int market_data_provider_list(const market_data_provider_t *p, bar_symbol_t **names, size_t *n,
                              char *err, size_t errlen)
{
    if (p->kind != MD_CSV_DIR)
        return 0;
    DIR *d = opendir(p->path);
    if (d == NULL) {
        snprintf(err, errlen, "cannot list the csv_dir folder %s: %s", p->path, strerror(errno));
        return -1;
    }
    int rc = 0;
    size_t cap = *n;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len <= 4 || strcmp(e->d_name + len - 4, ".csv") != 0)
            continue;
        len -= 4;
        if (bar_symbol_check(e->d_name, len) != 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            char(*grown)[BAR_SYMBOL_MAX + 1] = realloc(*names, cap * sizeof **names);
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
