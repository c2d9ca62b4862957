/* provider_url.c — fuzz target: the data providers' URL templates and the
 * worker's limit on job-given providers (src/provider_source.c:
 * provider_source_allowed, provider_source_url; TICKQ_PROVIDER_ALLOW in
 * docs/market_data.md).
 *
 * Input, in parts separated by a line "--": the TICKQ_PROVIDER_ALLOW list,
 * a URL template (or csv_dir folder), a symbol. The template is checked
 * against the list as a job's provider.url (and as a provider.path); when
 * it passes and the symbol is a valid one, the URL the worker would fetch
 * is built, and libcurl's own URL parser (the one that fetch uses; not
 * instrumented, it adds no coverage) normalizes it as curl would before
 * the request: dot segments resolved, and so on.
 *
 * Properties: a refusal has a message; a URL built from an admitted
 * template and a valid symbol stays under a listed prefix after curl's
 * normalization, as the limit promises. */
#include <curl/curl.h>
#include <stdint.h>
#include <string.h>

#include "data/bars.h"
#include "fuzz.h"
#include "data/http_fetch.h"
#include "data/provider_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The URL as curl normalizes it (malloc'd; NULL when curl refuses it). */
static char *curl_normal(const char *url)
{
    CURLU *u = curl_url();
    char *out = NULL, *copy = NULL;
    if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK) {
        copy = strdup(out);
        curl_free(out);
    }
    curl_url_cleanup(u);
    return copy;
}

/* 1 when normalized `url` lies under one of the list's URL prefixes (each
 * normalized the same way), at a boundary as the limit defines it. Listed
 * text with a placeholder ("https://h/{symbol}.csv") is left out: a
 * template admitted because it is listed as it is promises nothing about
 * a prefix. */
static int under_a_prefix(const char *url, const char *allow)
{
    char *list = strdup(allow);
    int ok = 0;
    for (char *save = NULL, *p = strtok_r(list, ",", &save); p != NULL && !ok; p = strtok_r(NULL, ",", &save)) {
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strlen(p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            p[--n] = '\0';
        if (strstr(p, "://") == NULL || strchr(p, '{') != NULL) /* a listed template promises only itself */
            continue;
        char *prefix = curl_normal(p);
        if (prefix == NULL)
            continue;
        size_t m = strlen(prefix);
        /* curl adds a '/' to a bare host: http://h becomes http://h/ */
        if (m > 0 && prefix[m - 1] == '/' && p[strlen(p) - 1] != '/')
            m--;
        char next = strncmp(url, prefix, m) == 0 ? url[m] : 'x';
        ok = strncmp(url, prefix, m) == 0 &&
             (prefix[m - 1] == '/' || next == '\0' || next == '/' || next == '?' || next == '#');
        free(prefix);
    }
    free(list);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[3];
    size_t len[3];
    if (fuzz_split(data, size, FUZZ_SEP, part, len, 3) != 3)
        return 0;
    char *allow = fuzz_strndup(part[0], len[0]);
    char *tmpl = fuzz_strndup(part[1], len[1]);
    char *symbol = fuzz_strndup(part[2], len[2]);
    if (allow[0] != '\0')
        setenv("TICKQ_PROVIDER_ALLOW", allow, 1);
    else
        unsetenv("TICKQ_PROVIDER_ALLOW");

    char err[1024] = "";
    if (provider_source_allowed(tmpl, NULL, "provider.path", err, sizeof err) != 0 && err[0] == '\0')
        fuzz_fail("a folder refused without a message");
    err[0] = '\0';
    http_fetch_opts_t http;
    memset(&http, 0, sizeof http);
    int admitted = provider_source_allowed(tmpl, &http, "provider.url", err, sizeof err) == 0;
    if (!admitted && err[0] == '\0')
        fuzz_fail("a URL refused without a message");

    const provider_source_var_t vars[] = { { "{symbol}", symbol }, { "{interval}", "1d" } };
    char url[PROVIDER_URL_MAX], why[256] = "";
    int built = bar_symbol_check(symbol, strlen(symbol)) == 0 &&
                provider_source_url(tmpl, vars, 2, url, sizeof url, why, sizeof why) == 0;
    if (!built && bar_symbol_check(symbol, strlen(symbol)) == 0 && why[0] == '\0')
        fuzz_fail("a URL not made, without a message");
    if (admitted && built && allow[0] != '\0' && strcmp(allow, "none") != 0 && strstr(tmpl, "{symbol}") != NULL) {
        char *fetched = curl_normal(url);
        char *template_url = curl_normal(tmpl);
        /* Only a template curl reads and that lies under a prefix itself
         * promises anything about the URLs made from it. */
        if (fetched != NULL && template_url != NULL && under_a_prefix(template_url, allow) &&
            !under_a_prefix(fetched, allow))
            fuzz_fail("template '%s' passed TICKQ_PROVIDER_ALLOW=%s, but symbol '%s' makes curl fetch %s", tmpl,
                      allow, symbol, fetched);
        free(fetched);
        free(template_url);
    }
    free(allow);
    free(tmpl);
    free(symbol);
    return 0;
}
