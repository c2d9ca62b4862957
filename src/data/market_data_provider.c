/* market_data_provider.c — where update_stock_data gets bars: csv_dir and
 * http_csv (market_data_provider.h).
 *
 * A symbol's whole file or response body is read into memory
 * (provider_source.c), then parsed by csv_parse; nothing here touches the
 * database. */
#include "data/market_data_provider.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/decimal.h"
#include "data/csv_import.h"

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
    p->http = provider_source_http_defaults();
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

static int set_retries(market_data_provider_t *p, int whole, long long n, const char *what, char *err,
                       size_t errlen)
{
    if (provider_source_check_int(what, whole, n, 0, MAX_RETRIES, err, errlen) != 0)
        return -1;
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
            if (set_retries(p, json_is_integer(v), json_integer_value(v), "provider.retries", err, errlen) != 0)
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
    return dir ? provider_source_allowed(p->path, NULL, "provider.path", err, errlen)
               : provider_source_allowed(p->url, &p->http, "provider.url", err, errlen);
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
        double secs;
        if (set_timeout(p, decimal_parse(t, &secs) == 0 ? secs : -1, "TICKQ_MARKET_DATA_TIMEOUT_SECONDS", err,
                        errlen) != 0)
            return -1;
    }
    const char *r = getenv("TICKQ_MARKET_DATA_RETRIES");
    if (r != NULL && r[0] != '\0') {
        char *end;
        long long n = strtoll(r, &end, 10);
        if (set_retries(p, *end == '\0', n, "TICKQ_MARKET_DATA_RETRIES", err, errlen) != 0)
            return -1;
    }
    return 0;
}

int market_data_provider_source(const market_data_provider_t *p, const char *symbol, const char *interval,
                                char *out, size_t outlen, char *err, size_t errlen)
{
    if (provider_source_symbol_check(symbol, err, errlen) != 0)
        return -1;
    if (p->kind == MD_CSV_DIR) {
        if (!provider_source_names_file(symbol)) {
            snprintf(err, errlen, "symbol '%s' cannot name a file in a csv_dir provider", symbol);
            return -1;
        }
        if (provider_source_path(p->path, symbol, ".csv", out, outlen) != 0) {
            snprintf(err, errlen, "the path of %s's file is too long", symbol);
            return -1;
        }
        return 0;
    }
    const provider_source_var_t vars[] = { { "{symbol}", symbol }, { "{interval}", interval } };
    char why[200];
    if (provider_source_url(p->url, vars, 2, out, outlen, why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot make the URL of %s: %s", symbol, why);
        return -1;
    }
    return 0;
}

/* Reads the file; a missing one is told apart from a missing folder. */
static md_status_t read_file(const market_data_provider_t *p, const char *path, char **data, size_t *len,
                             char *err, size_t errlen)
{
    int missing;
    md_status_t rc = (md_status_t)provider_source_read_file(path, data, len, &missing, err, errlen);
    struct stat st;
    if (missing && (stat(p->path, &st) != 0 || !S_ISDIR(st.st_mode)))
        snprintf(err, errlen, "the csv_dir folder %s does not exist", p->path);
    else if (missing)
        snprintf(err, errlen, "no file %s", path);
    return rc;
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
    char src[PROVIDER_PATH_MAX + PROVIDER_URL_MAX];
    if (market_data_provider_source(p, symbol, interval, src, sizeof src, err, errlen) != 0)
        return MD_BAD;
    char *data = NULL;
    size_t len = 0;
    md_status_t rc = p->kind == MD_CSV_DIR ? read_file(p, src, &data, &len, err, errlen)
                                           : (md_status_t)provider_source_get(src, &p->http, &data, &len, err,
                                                                              errlen);
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
    return p->kind == MD_CSV_DIR ? provider_source_list(p->path, ".csv", names, n, err, errlen) : 0;
}
