/* http_server.c — routes, token, body limit and audit over libmicrohttpd
 * (http_server.h). */
#include "http/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json_exact.h"
#include "core/log.h"
#include "http/http_guard.h"

#define CONNECTIONS_MAX 256
#define CONNECTION_TIMEOUT_S 30
#define THREADS 4

struct http_server {
    struct MHD_Daemon *daemon;
    pthread_mutex_t lock;        /* held while a route runs (but HTTP_UNLOCKED ones) */
    const http_route_t *routes;
    size_t nroutes;
    void *app;
    char token[512];
    size_t body_max;
    int port;
};

/* Where a route's {name} segments are in a path: caps (each cut to 511
 * bytes), and where each starts in the path and its whole length. */
typedef struct {
    char caps[HTTP_PARAMS_MAX][512];
    size_t at[HTTP_PARAMS_MAX], len[HTTP_PARAMS_MAX];
    int n;
} path_params_t;

/* A connection's request: what was decided on its headers, and what its
 * body has sent so far. */
typedef struct {
    int decided;                 /* its headers were seen (decide) */
    char *nul_path;              /* its path decoded, when that holds a NUL byte (%00); else NULL */
    size_t nul_path_len;
    const http_route_t *route;   /* NULL: none for its method and path */
    path_params_t params;        /* the route's {name} segments in its path */
    int refuse;                  /* 0, or its status whatever its body: 400, 401, 403, 404, 405 */
    char allow[64];              /* 405: the methods its path takes */
    char why[300];               /* 403 from browser_guard: the reason */
    size_t bad_at, bad_len;      /* 400: the {name} segment of nul_path holding a NUL... */
    char bad_name[32];           /* ...and what it is ("job id", "symbol") */
    char *buf;
    size_t len, cap;
    int too_large;
} upload_t;


/* --- the bind address ----------------------------------------------------- */

int http_bind_parse(const char *spec, http_bind_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char host[64] = "127.0.0.1";
    const char *port_text = spec;
    const char *colon = strrchr(spec, ':');
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - spec - 1) >= sizeof host) {
            snprintf(err, errlen, "'%s' is not [IPV6]:PORT", spec);
            return -1;
        }
        snprintf(host, sizeof host, "%.*s", (int)(close - spec - 1), spec + 1);
        port_text = close + 2;
    } else if (colon != NULL) {
        if ((size_t)(colon - spec) >= sizeof host || colon == spec) {
            snprintf(err, errlen, "'%s' is not ADDR:PORT (ADDR an IP address, e.g. 127.0.0.1:8080)", spec);
            return -1;
        }
        snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
        port_text = colon + 1;
    }
    char *end;
    long port = strtol(port_text, &end, 10);
    if (port_text[0] == '\0' || *end != '\0' || port < 0 || port > 65535) {
        snprintf(err, errlen, "'%s': the port must be a number from 0 to 65535", spec);
        return -1;
    }
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->addr;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        out->len = sizeof *v4;
        snprintf(out->text, sizeof out->text, "%s:%ld", host, port);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        out->len = sizeof *v6;
        snprintf(out->text, sizeof out->text, "[%s]:%ld", host, port);
    } else {
        snprintf(err, errlen, "'%s': '%s' is not an IP address (e.g. 127.0.0.1, 0.0.0.0, [::1])", spec, host);
        return -1;
    }
    return 0;
}

int http_bind_is_loopback(const http_bind_t *b)
{
    if (b->addr.ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)&b->addr)->sin_addr.s_addr) >> 24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)&b->addr)->sin6_addr);
}

int http_bind_check_token(const http_bind_t *b, const char *token, char *err, size_t errlen)
{
    size_t len = token != NULL ? strlen(token) : 0;
    if (len > 0 && len < HTTP_TOKEN_MIN) {
        snprintf(err, errlen, "TICKQ_API_TOKEN is %zu characters: use at least %d (e.g. openssl rand -hex 32)", len,
                 HTTP_TOKEN_MIN);
        return -1;
    }
    if (len >= 512) {
        snprintf(err, errlen, "TICKQ_API_TOKEN is %zu characters: at most 511", len);
        return -1;
    }
    if (len == 0 && !http_bind_is_loopback(b)) {
        snprintf(err, errlen, "--http %s listens beyond this host: set TICKQ_API_TOKEN (at least %d characters) so "
                 "that every API call needs it, or bind 127.0.0.1", b->text, HTTP_TOKEN_MIN);
        return -1;
    }
    return 0;
}

int http_token_equal(const char *given, const char *token)
{
    size_t gl = strlen(given), tl = strlen(token);
    unsigned diff = (unsigned)(gl ^ tl) | (tl == 0);
    for (size_t i = 0; i < gl; i++)
        diff |= (unsigned char)given[i] ^ (unsigned char)token[tl ? i % tl : 0];
    return diff == 0;
}

/* --- replies -------------------------------------------------------------- */

void http_reply_body(http_reply_t *rep, int status, const char *content_type, char *body, size_t len)
{
    free(rep->body);
    rep->status = status;
    rep->body = body;
    rep->len = len;
    rep->content_type = content_type;
}

/* A JSON reply of text (a dump's; taken), a newline added; NULL: 500. */
static void reply_json_text(http_reply_t *rep, int status, char *text)
{
    if (text == NULL) {
        http_reply_error(rep, 500, "out of memory");
        return;
    }
    size_t len = strlen(text);
    char *body = realloc(text, len + 2);
    if (body != NULL) {
        body[len++] = '\n';
        body[len] = '\0';
        text = body;
    } else {
        len = strlen(text);
    }
    http_reply_body(rep, status, "application/json", text, len);
}

void http_reply_json(http_reply_t *rep, int status, json_t *v)
{
    char *text = v != NULL ? json_exact_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(v);
    reply_json_text(rep, status, text);
}

void http_reply_json_digits(http_reply_t *rep, int status, json_t *v, int digits)
{
    char *text = v != NULL ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(digits)) : NULL;
    json_decref(v);
    reply_json_text(rep, status, text);
}

void http_reply_error(http_reply_t *rep, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    http_reply_verror(rep, status, fmt, ap);
    va_end(ap);
}

void http_reply_verror(http_reply_t *rep, int status, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    json_t *v = json_pack("{s:s}", "error", msg);
    if (v == NULL) { /* not UTF-8 (a path's bytes, say): those bytes as '?' */
        for (char *c = msg; *c; c++)
            if ((unsigned char)*c >= 0x80)
                *c = '?';
        v = json_pack("{s:s}", "error", msg);
    }
    char *text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (text == NULL) {
        text = strdup("{\"error\":\"out of memory\"}");
        status = 500;
    }
    http_reply_body(rep, status, "application/json", text, text != NULL ? strlen(text) : 0);
}

/* --- query parameters ----------------------------------------------------- */

const char *http_query(const http_request_t *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

#define QUERY_KNOWN_MAX 32

typedef struct {
    const char *const *known;
    char unknown[100];
    char twice[100];
    unsigned char seen[QUERY_KNOWN_MAX]; /* per known key: given already */
} query_check_t;

/* A query key: known, and given once (libmicrohttpd's lookup answers the
 * first of two, so ?limit=1&limit=2 would silently mean 1). */
static enum MHD_Result check_key(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind, (void)value;
    query_check_t *c = cls;
    for (size_t k = 0; c->known[k] != NULL; k++)
        if (strcmp(c->known[k], key) == 0) {
            if (k < QUERY_KNOWN_MAX && c->seen[k]++ > 0) {
                snprintf(c->twice, sizeof c->twice, "%s", key);
                return MHD_NO;
            }
            return MHD_YES;
        }
    snprintf(c->unknown, sizeof c->unknown, "%s", key);
    return MHD_NO;
}

void http_reply_body_not_json(http_reply_t *rep, const json_error_t *jerr)
{
    if (json_error_code(jerr) == json_error_null_character)
        http_reply_error(rep, 400, "the body holds a NUL character (\\u0000, line %d, column %d): tickq takes text "
                         "without NUL", jerr->line, jerr->column);
    else
        http_reply_error(rep, 400, "the body is not JSON: %s (line %d, column %d)", jerr->text, jerr->line,
                         jerr->column);
}

int http_query_count(const http_request_t *r, const char *key, long long lo, long long hi, long long dflt,
                     long long *out, http_reply_t *rep)
{
    const char *text = http_query(r, key);
    *out = dflt;
    if (text == NULL)
        return 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < lo || v > hi) {
        http_reply_error(rep, 400, "%s must be an integer from %lld to %lld", key, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int http_query_only(const http_request_t *r, const char *const *known, http_reply_t *rep)
{
    query_check_t c = { known, "", "", { 0 } };
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_key, &c);
    if (c.twice[0] != '\0') {
        http_reply_error(rep, 400, "query parameter '%s' is given twice: give it once", c.twice);
        return -1;
    }
    if (c.unknown[0] == '\0')
        return 0;
    char list[300] = "";
    for (const char *const *k = known; *k; k++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k == known ? "" : ", ", *k);
    http_reply_error(rep, 400, "unknown query parameter '%s' (this endpoint takes: %s)", c.unknown,
                     list[0] ? list : "none");
    return -1;
}

/* --- routing -------------------------------------------------------------- */

/* Whether path matches pattern; the {name} segments go to pp, and a last
 * {name*} takes the rest of the path, slashes and all. */
static int path_match(const char *pattern, const char *path, path_params_t *pp)
{
    const char *start = path;
    pp->n = 0;
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/')
            return 0;
        pattern++, path++;
        size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");
        if (pattern[0] == '{' && pl >= 2 && pattern[pl - 2] == '*' && pattern[pl] == '\0')
            sl = strlen(path);
        if (pattern[0] == '{') {
            /* libmicrohttpd has percent-decoded the path already. A
             * segment of 512 bytes or more matches too (route() refuses
             * it, naming it): never "no such endpoint". */
            if (sl == 0 || pp->n == HTTP_PARAMS_MAX)
                return 0;
            size_t kept = sl < sizeof pp->caps[0] ? sl : sizeof pp->caps[0] - 1;
            memcpy(pp->caps[pp->n], path, kept);
            pp->caps[pp->n][kept] = '\0';
            pp->at[pp->n] = (size_t)(path - start);
            pp->len[pp->n++] = sl;
        } else if (pl != sl || strncmp(pattern, path, pl) != 0) {
            return 0;
        }
        pattern += pl, path += sl;
    }
    return *pattern == '\0' && *path == '\0';
}

static void peer_text(struct MHD_Connection *conn, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, outlen, "?");
    if (ci == NULL || ci->client_addr == NULL)
        return;
    char ip[INET6_ADDRSTRLEN] = "?";
    if (ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, ip, sizeof ip);
    else if (ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, ip, sizeof ip);
    snprintf(out, outlen, "%s", ip);
}

/* The token check: 0 to go on, else the status to refuse with. */
static int check_token(const http_server_t *s, struct MHD_Connection *conn)
{
    if (s->token[0] == '\0')
        return 0;
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth == NULL)
        return 401;
    if (strncasecmp(auth, "Bearer ", 7) != 0)
        return 401;
    return http_token_equal(auth + 7, s->token) ? 0 : 403;
}

/* The route for a method and path (its {name} segments in pp), or NULL
 * with `allow` listing the methods the path takes ("" when none). */
static const http_route_t *find_route(const http_server_t *s, const char *method, const char *path,
                                      path_params_t *pp, char *allow, size_t allowlen)
{
    allow[0] = '\0';
    for (size_t i = 0; i < s->nroutes; i++) {
        const http_route_t *r = &s->routes[i];
        if (!path_match(r->pattern, path, pp))
            continue;
        if (strcmp(r->method, method) == 0)
            return r;
        if (strstr(allow, r->method) == NULL)
            snprintf(allow + strlen(allow), allowlen - strlen(allow), "%s%s", allow[0] ? ", " : "", r->method);
    }
    return NULL;
}

/* The browser guard (http_guard.h) on a request's headers: 0, or 403
 * with why. */
static int browser_guard(const http_server_t *s, struct MHD_Connection *conn, char *why, size_t whylen)
{
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    return http_guard_check(host, origin, s->token[0] != '\0', why, whylen);
}

/* A path libmicrohttpd has decoded holds a NUL byte when its text holds
 * %00; it gives the routes the path cut there. The whole path (up to the
 * query), decoded by libmicrohttpd's own decoder, into a malloc'd *out
 * when it holds a NUL; 0 with *out NULL when it does not, -1 when memory
 * runs out. */
static int nul_path_decode(const char *uri, char **out, size_t *outlen)
{
    size_t n = strcspn(uri, "?");
    *out = NULL;
    *outlen = 0;
    const char *nul = strstr(uri, "%00");
    if (nul == NULL || (size_t)(nul - uri) >= n)
        return 0;
    char *p = strndup(uri, n);
    if (p == NULL)
        return -1;
    size_t len = MHD_http_unescape(p);
    if (memchr(p, '\0', len) == NULL) { /* "%00" only after a decoded '%' ("%2500" is "%00"): no NUL */
        free(p);
        return 0;
    }
    *out = p;
    *outlen = len;
    return 0;
}

/* What a route's k-th {name} segment holds, for a message: "job id" for
 * {id*}, "queue name" for {name}, ... */
static void param_name(const char *pattern, int k, char *out, size_t outlen)
{
    static const char *const said[][2] = { { "id", "job id" }, { "name", "queue name" },
                                           { "entry", "dead-letter entry" }, { "symbol", "symbol" } };
    const char *p = pattern;
    for (int i = 0; (p = strchr(p, '{')) != NULL && i < k; i++)
        p++;
    size_t n = p != NULL ? strcspn(p + 1, "*}") : 0;
    snprintf(out, outlen, "path segment");
    for (size_t i = 0; p != NULL && i < sizeof said / sizeof said[0]; i++)
        if (strlen(said[i][0]) == n && strncmp(p + 1, said[i][0], n) == 0)
            snprintf(out, outlen, "%s", said[i][1]);
}

/* The route of a path that holds a NUL byte, found as if each NUL were
 * another byte, and the {name} segment that holds one: up->refuse 400
 * naming it (no route takes a NUL: job ids, queue names, symbols and
 * entries have no control characters), or 404 / 405 as for any path. */
static void decide_nul_path(const http_server_t *s, const char *method, upload_t *up)
{
    char *shown = malloc(up->nul_path_len + 1);
    if (shown == NULL) {
        up->refuse = 404;
        return;
    }
    for (size_t i = 0; i <= up->nul_path_len; i++)
        shown[i] = i < up->nul_path_len && up->nul_path[i] == '\0' ? '\x01' : up->nul_path[i];
    path_params_t pp;
    const http_route_t *r = find_route(s, method, shown, &pp, up->allow, sizeof up->allow);
    free(shown);
    up->route = r;
    up->refuse = r == NULL ? (up->allow[0] ? 405 : 404) : 400;
    for (int k = 0; r != NULL && k < pp.n && up->bad_name[0] == '\0'; k++) {
        if (memchr(up->nul_path + pp.at[k], '\0', pp.len[k]) != NULL) {
            up->bad_at = pp.at[k];
            up->bad_len = pp.len[k];
            param_name(r->pattern, k, up->bad_name, sizeof up->bad_name);
        }
    }
}

/* Decided on the headers, before any body is read: the route, and whether
 * the request is refused whatever it sends (no route, a browser's request
 * from elsewhere, no token or a wrong one). */
static void decide(const http_server_t *s, struct MHD_Connection *conn, const char *method, const char *path,
                   upload_t *up)
{
    up->decided = 1;
    up->route = find_route(s, method, path, &up->params, up->allow, sizeof up->allow);
    if (up->nul_path != NULL) { /* refused whatever its token: after the token's checks, a 400 */
        decide_nul_path(s, method, up);
        if (up->refuse == 400) {
            int first = browser_guard(s, conn, up->why, sizeof up->why);
            if (first == 0)
                first = check_token(s, conn);
            if (first != 0)
                up->refuse = first;
        }
    } else if (up->route == NULL) {
        up->refuse = up->allow[0] ? 405 : 404;
    } else if (!(up->route->flags & HTTP_PUBLIC) &&
               (up->refuse = browser_guard(s, conn, up->why, sizeof up->why)) == 0) {
        up->refuse = check_token(s, conn);
    }
}

static void refusal(const upload_t *up, const char *method, const char *path, http_reply_t *rep)
{
    if (up->refuse == 400) { /* a NUL in a {name} segment, named with its bytes (JSON writes it \u0000) */
        static const char tail[] = "': spaces and control characters are not allowed";
        char head[64];
        int hl = snprintf(head, sizeof head, "invalid %s '", up->bad_name[0] ? up->bad_name : "path segment");
        size_t n = (size_t)hl + up->bad_len + sizeof tail - 1;
        char *msg = malloc(n + 1);
        json_t *text = NULL;
        if (msg != NULL) {
            memcpy(msg, head, (size_t)hl);
            memcpy(msg + hl, up->nul_path + up->bad_at, up->bad_len);
            memcpy(msg + hl + up->bad_len, tail, sizeof tail);
            text = json_stringn(msg, n); /* NULL when the bytes are not UTF-8 */
            free(msg);
        }
        if (text == NULL)
            http_reply_error(rep, 400, "invalid %s in the path: spaces and control characters (here NUL, %%00) "
                             "are not allowed", up->bad_name[0] ? up->bad_name : "path segment");
        else
            http_reply_json(rep, 400, json_pack("{s:o}", "error", text));
    } else if (up->refuse == 401) {
        http_reply_error(rep, 401, "this endpoint needs the API token: send 'Authorization: Bearer <token>'");
        snprintf(rep->header[0], sizeof rep->header[0], "WWW-Authenticate: Bearer");
    } else if (up->refuse == 403) {
        http_reply_error(rep, 403, "%s", up->why[0] ? up->why : "the API token is wrong");
    } else if (up->refuse == 405) {
        http_reply_error(rep, 405, "%s is not allowed on %s (allowed: %s)", method, path, up->allow);
        snprintf(rep->header[0], sizeof rep->header[0], "Allow: %s", up->allow);
    } else {
        http_reply_error(rep, 404, "no such endpoint: %s %s (docs/http.md lists them)", method, path);
    }
}

/* Runs the request's route (found on its headers: decide), under the lock
 * unless it needs none. */
static void route(http_server_t *s, upload_t *up, http_request_t *req, http_reply_t *rep)
{
    const http_route_t *r = up->route;
    path_params_t *pp = &up->params;
    for (int k = 0; k < pp->n; k++) {
        if (pp->len[k] >= sizeof pp->caps[k]) {
            char name[32];
            param_name(r->pattern, k, name, sizeof name);
            http_reply_error(rep, 400, "invalid %s: its %zu bytes are more than any %s has", name, pp->len[k], name);
            return;
        }
    }
    for (int k = 0; k < HTTP_PARAMS_MAX; k++)
        req->params[k] = pp->caps[k];
    if (!(r->flags & HTTP_BODY) && strspn(req->body, " \t\r\n") != req->body_len) {
        http_reply_error(rep, 400, "%s %s takes no body (it got %zu bytes)", req->method, req->path, req->body_len);
        return;
    }
    int locked = !(r->flags & HTTP_UNLOCKED);
    if (locked)
        pthread_mutex_lock(&s->lock);
    r->fn(s->app, req, rep);
    if (locked)
        pthread_mutex_unlock(&s->lock);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, http_reply_t *rep)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(rep->body);
        return MHD_NO;
    }
    rep->body = NULL;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rep->content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    for (int i = 0; i < 2; i++) {
        char *colon = strchr(rep->header[i], ':');
        if (colon != NULL) {
            *colon = '\0';
            MHD_add_response_header(resp, rep->header[i], colon + 2);
        }
    }
    enum MHD_Result r = MHD_queue_response(conn, (unsigned)rep->status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    http_server_t *s = cls;
    upload_t *up = *con_cls;
    if (up == NULL) /* out of memory before its path was read (on_uri): not routed, the connection closed */
        return MHD_NO;
    if (!up->decided) { /* the headers: the body follows in later calls */
        decide(s, conn, method, url, up);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (up->refuse != 0)
            return MHD_YES; /* refused whatever it says: read, kept nowhere */
        if (up->too_large || up->len + n > s->body_max) {
            up->too_large = 1; /* read to the end, kept nowhere */
            return MHD_YES;
        }
        if (up->len + n + 1 > up->cap) {
            size_t cap = (up->len + n + 1) * 2;
            char *grown = realloc(up->buf, cap);
            if (grown == NULL)
                return MHD_NO;
            up->buf = grown;
            up->cap = cap;
        }
        memcpy(up->buf + up->len, upload_data, n);
        up->len += n;
        up->buf[up->len] = '\0';
        return MHD_YES;
    }
    http_request_t req = { .conn = conn, .method = method, .path = url, .body = up->buf ? up->buf : "",
                           .body_len = up->len };
    peer_text(conn, req.client, sizeof req.client);
    http_reply_t rep = { .status = 500, .content_type = "application/json" };
    if (up->refuse != 0)
        refusal(up, method, url, &rep);
    else if (up->too_large)
        http_reply_error(&rep, 413, "the request body is over %zu bytes", s->body_max);
    else
        route(s, up, &req, &rep); /* refuse 0: it has a route */
    if (rep.body == NULL)
        http_reply_error(&rep, 500, "the endpoint gave no reply");
    if (up->route != NULL && (up->route->flags & HTTP_AUDIT)) {
        pthread_mutex_lock(&s->lock); /* the log is not written by two threads at once */
        log_info("api audit", LF_S("client", req.client), LF_S("method", method), LF_S("path", url),
                 LF_I("status", rep.status),
                 LF_S("auth", s->token[0] ? (up->refuse != 0 ? "refused" : "token") : "none"));
        pthread_mutex_unlock(&s->lock);
    }
    return send_reply(conn, &rep);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode t)
{
    (void)cls, (void)conn, (void)t;
    upload_t *up = *con_cls;
    if (up != NULL) {
        free(up->buf);
        free(up->nul_path);
        free(up);
        *con_cls = NULL;
    }
}

/* Each request's state, made before its URI is decoded: whether its path
 * holds a NUL (decide_nul_path). libmicrohttpd calls on_completed for it
 * from here on, whatever becomes of the request. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls, (void)conn;
    upload_t *up = calloc(1, sizeof *up);
    if (up != NULL && nul_path_decode(uri, &up->nul_path, &up->nul_path_len) != 0) {
        free(up);
        up = NULL;
    }
    return up; /* NULL: whether its path holds a NUL is unknown, so on_request will not route it */
}

http_server_t *http_server_start(const http_bind_t *bind, const char *token, const http_route_t *routes,
                                 size_t nroutes, void *app, size_t body_max, char *err, size_t errlen)
{
    if (http_bind_check_token(bind, token, err, errlen) != 0)
        return NULL;
    http_server_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->routes = routes;
    s->nroutes = nroutes;
    s->app = app;
    s->body_max = body_max;
    snprintf(s->token, sizeof s->token, "%s", token != NULL ? token : "");
    pthread_mutex_init(&s->lock, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    if (bind->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &bind->addr,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS_MAX,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
                                 MHD_OPTION_THREAD_POOL_SIZE, (unsigned)THREADS,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_URI_LOG_CALLBACK,
                                 on_uri, s, MHD_OPTION_END);
    if (s->daemon == NULL) {
        snprintf(err, errlen, "cannot listen on %s (in use, or not an address of this host)", bind->text);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di != NULL ? di->port : 0;
    return s;
}

int http_server_port(const http_server_t *s)
{
    return s->port;
}

void http_server_stop(http_server_t *s)
{
    if (s == NULL)
        return;
    MHD_stop_daemon(s->daemon);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
