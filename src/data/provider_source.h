/* provider_source.h — where a data provider's text comes from: a folder of
 * per-symbol files or a URL template fetched over HTTP.
 *
 * The bar provider (market_data_provider.h) and the option-chain provider
 * (option_provider.h) both read one symbol's CSV text whole, from
 * <folder>/<SYMBOL><suffix> or from a URL with the symbol percent-encoded
 * into it. This module builds those paths and URLs, reads the file or
 * fetches the URL, lists a folder's symbols, and says whether a failure may
 * pass (PROVIDER_RETRYABLE) or not (PROVIDER_BAD), so that a task can tell
 * the queue. Messages name the file, folder or URL; the providers add the
 * symbol. */
#ifndef TICKQ_PROVIDER_SOURCE_H
#define TICKQ_PROVIDER_SOURCE_H

#include <stddef.h>

#include "data/bars.h"
#include "data/http_fetch.h"

#define PROVIDER_PATH_MAX 1024
#define PROVIDER_URL_MAX 2048

typedef enum {
    PROVIDER_OK = 0,
    PROVIDER_RETRYABLE,  /* may work later: server down or slow (timeouts, 429, 5xx), I/O error, out of memory */
    PROVIDER_BAD,        /* will not: no such file, not a regular file, too large, 404 */
    PROVIDER_STOPPED     /* an HTTP fetch cut short: http.stop was set (the worker is stopping) */
} provider_status_t;

/* 0 when `symbol` passes the symbol rule of imports (bar_symbol_check), or
 * -1 with err naming it: every provider checks a symbol so before putting
 * it into a path or URL. */
int provider_source_symbol_check(const char *symbol, char *err, size_t errlen);

/* 1 when `symbol` can name a file in a folder: no '/', not "." or "..". */
int provider_source_names_file(const char *symbol);

/* <folder>/<symbol><suffix> into out (no doubled '/' when the folder ends
 * with one). 0, or -1 when it does not fit. Check the symbol with
 * provider_source_names_file first. */
int provider_source_path(const char *folder, const char *symbol, const char *suffix, char *out, size_t outlen);

/* A placeholder of a URL template ("{symbol}") and its value. */
typedef struct {
    const char *name;
    const char *value;
} provider_source_var_t;

/* The template with every placeholder replaced by its value, percent-
 * encoded (all but RFC 3986's unreserved characters, so ^GSPC, BRK/B and
 * EURUSD=X stay one path segment); other text is copied as it is. 0, or -1
 * with err when the result does not fit in out, or when a value would make
 * a dot segment once a server decodes it ("%2e%2e", "a/.."). */
int provider_source_url(const char *tmpl, const provider_source_var_t *vars, size_t nvars, char *out,
                        size_t outlen, char *err, size_t errlen);

/* 1 when the URL's path or query has a "." or ".." segment once every %XX
 * escape is decoded (repeatedly, as servers and proxies may) and a
 * backslash is read as a slash: "/ok/%2e%2e/x", "/ok/.%2E/x",
 * "/ok%2f..%2fx", "/ok/..;/x"; also 1 for what cannot be told apart (NUL,
 * overlong UTF-8 and %u escapes; nesting too deep). */
int provider_source_url_climbs(const char *url);

/* http_fetch_defaults, with the providers' redirect rule: a redirect is
 * followed to the same origin (scheme, host, port), or to a URL under a
 * prefix of PROVIDER_ALLOW_ENV (the operator allows more by listing it). */
http_fetch_opts_t provider_source_http_defaults(void);

/* Reads the whole file into *data (malloc'd, NUL-terminated, *len bytes;
 * the caller frees it). A missing file is PROVIDER_BAD with *missing set
 * and err "cannot open PATH: No such file or directory", for the caller to
 * say better; other errors that a later try may not see (I/O, memory) are
 * PROVIDER_RETRYABLE, the rest (permissions, not a regular file, over
 * HTTP_FETCH_MAX_BODY) PROVIDER_BAD. */
provider_status_t provider_source_read_file(const char *path, char **data, size_t *len, int *missing, char *err,
                                            size_t errlen);

/* Fetches the URL with http_get into *data (malloc'd; the caller frees
 * it): http_get says whether a failure may pass or not, or that http->stop
 * cut it short. */
provider_status_t provider_source_get(const char *url, const http_fetch_opts_t *http, char **data, size_t *len,
                                      char *err, size_t errlen);

/* The symbols of the folder's <SYMBOL><suffix> files (hidden files and
 * names that are not valid symbols are left out), appended to *names
 * (malloc'd array of *n entries, grown as needed). 0, or -1 with err when
 * the folder cannot be read. */
int provider_source_list(const char *folder, const char *suffix, bar_symbol_t **names, size_t *n, char *err,
                         size_t errlen);

/* The worker's limit on providers given in a job's args (the environment's
 * own provider is the operator's and never checked): a comma-separated
 * list of folders and URL prefixes. Unset or empty: anything goes (whoever
 * can enqueue is trusted); "none": no csv_dir or http_csv provider in args. */
#define PROVIDER_ALLOW_ENV "TICKQ_PROVIDER_ALLOW"

/* Checks a job-given csv_dir folder (http NULL: its real path must be a
 * listed folder or under one) or http_csv URL template (with its settings
 * in *http: it must start with a listed prefix at a '/' boundary, without
 * dot segments (provider_source_url_climbs), and a redirect is then
 * followed only to a URL the list admits, whatever its origin) against
 * PROVIDER_ALLOW_ENV. 0, or -1 with err naming `what` and why. */
int provider_source_allowed(const char *where, http_fetch_opts_t *http, const char *what, char *err,
                            size_t errlen);

/* A whole-number setting (`whole`: it was one) checked against [lo, hi]:
 * 0, or -1 with err "WHAT must be an integer from LO to HI". */
int provider_source_check_int(const char *what, int whole, long long v, long long lo, long long hi, char *err,
                              size_t errlen);

#endif
