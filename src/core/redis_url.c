/* redis_url.c — parse Redis connection URLs (hiredis 0.14 has no parser).
 *
 * Userinfo and query values are percent-decoded, so a password holding '@'
 * or ':' is written %40 or %3A as in every other Redis client. */
#include "core/redis_url.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URL_FORMS "expected redis://[user:password@]host[:port][/db], rediss://... (TLS) or unix:///path/to/redis.sock[?db=N]"
#define TLS_VARS "TICKQ_REDIS_CACERT, TICKQ_REDIS_CERT, TICKQ_REDIS_KEY and TICKQ_REDIS_TLS_VERIFY"

static int fail(char *err, size_t errlen, const char *fmt, const char *detail)
{
    snprintf(err, errlen, fmt, detail);
    return -1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes [s, s+n) into out (size cap). Returns 0, or -1 on a bad
 * escape or when the result does not fit. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

static int parse_int(const char *s, size_t n, long min, long max, int *out)
{
    if (n == 0 || n > 10)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

/* Parses "user:password" (either part may be empty; no colon = password only
 * is NOT assumed: a lone word is a user name with no password, like redis-py). */
static int parse_userinfo(const char *s, size_t n, redis_url_t *u, char *err, size_t errlen)
{
    const char *colon = memchr(s, ':', n);
    size_t ulen = colon ? (size_t)(colon - s) : n;
    if (pct_decode(s, ulen, u->user, sizeof u->user) != 0)
        return fail(err, errlen, "bad user name in Redis URL (%s)", "check the %-escapes");
    if (colon && pct_decode(colon + 1, n - ulen - 1, u->password, sizeof u->password) != 0)
        return fail(err, errlen, "bad password in Redis URL (%s)", "check the %-escapes; write '@' as %40");
    return 0;
}

/* Parses "db=N&password=P&username=U". */
static int parse_query(const char *q, redis_url_t *u, char *err, size_t errlen)
{
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', n);
        if (eq == NULL)
            return fail(err, errlen, "bad query parameter in Redis URL: '%s' (expected name=value)", q);
        size_t klen = (size_t)(eq - q), vlen = n - klen - 1;
        const char *v = eq + 1;
        if (klen == 2 && strncmp(q, "db", 2) == 0) {
            if (parse_int(v, vlen, 0, 1000000, &u->db) != 0)
                return fail(err, errlen, "bad database number in Redis URL: '%s' (expected a non-negative integer)", v);
        } else if (klen == 8 && strncmp(q, "password", 8) == 0) {
            if (pct_decode(v, vlen, u->password, sizeof u->password) != 0)
                return fail(err, errlen, "bad password in Redis URL (%s)", "check the %-escapes");
        } else if (klen == 8 && strncmp(q, "username", 8) == 0) {
            if (pct_decode(v, vlen, u->user, sizeof u->user) != 0)
                return fail(err, errlen, "bad user name in Redis URL (%s)", "check the %-escapes");
        } else if ((klen >= 3 && (strncmp(q, "ssl", 3) == 0 || strncmp(q, "tls", 3) == 0)) ||
                   (klen == 6 && strncmp(q, "verify", 6) == 0)) {
            return fail(err, errlen, "unknown query parameter in Redis URL: '%s' (known: db, password, username; "
                        "TLS is set by the environment: " TLS_VARS ")", q);
        } else {
            return fail(err, errlen, "unknown query parameter in Redis URL: '%s' (known: db, password, username)", q);
        }
        q += n + (amp ? 1 : 0);
    }
    return 0;
}

static int parse_hostport(const char *s, size_t n, redis_url_t *u, char *err, size_t errlen)
{
    const char *port = NULL;
    size_t hlen = n;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (close == NULL)
            return fail(err, errlen, "bad IPv6 address in Redis URL: missing ']' (%s)", URL_FORMS);
        hlen = (size_t)(close - s - 1);
        if (hlen == 0 || hlen >= sizeof u->host)
            return fail(err, errlen, "bad IPv6 address in Redis URL (%s)", URL_FORMS);
        memcpy(u->host, s + 1, hlen);
        u->host[hlen] = '\0';
        const char *rest = close + 1;
        if (rest < s + n) {
            if (*rest != ':')
                return fail(err, errlen, "unexpected text after IPv6 address in Redis URL (%s)", URL_FORMS);
            port = rest + 1;
        }
    } else {
        const char *colon = memchr(s, ':', n);
        if (colon) {
            hlen = (size_t)(colon - s);
            port = colon + 1;
        }
        if (hlen >= sizeof u->host)
            return fail(err, errlen, "host name in Redis URL is too long (%s)", "at most 255 characters");
        memcpy(u->host, s, hlen);
        u->host[hlen] = '\0';
        if (hlen == 0)
            strcpy(u->host, "127.0.0.1");
    }
    if (port != NULL && parse_int(port, (size_t)(s + n - port), 1, 65535, &u->port) != 0)
        return fail(err, errlen, "bad port in Redis URL: expected 1-65535 (%s)", URL_FORMS);
    return 0;
}

int redis_url_parse(const char *url, redis_url_t *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    u->port = 6379;
    if (url == NULL || *url == '\0')
        return fail(err, errlen, "empty Redis URL (%s)", URL_FORMS);
    u->tls.verify = 1;

    const char *rest;
    if (strncmp(url, "redis://", 8) == 0) {
        rest = url + 8;
    } else if (strncmp(url, "rediss://", 9) == 0) {
        rest = url + 9;
        u->tls.enabled = 1;
    } else if (strncmp(url, "unix://", 7) == 0) {
        rest = url + 7;
        u->is_unix = 1;
    } else {
        return fail(err, errlen, "unsupported Redis URL '%s': " URL_FORMS, url);
    }

    /* Split off the query string first; it cannot contain '/' that matters. */
    const char *query = strchr(rest, '?');
    size_t body_len = query ? (size_t)(query - rest) : strlen(rest);

    /* Userinfo ends at the last '@' before the path (passwords may hold '/'
     * only when %-escaped, so the first '/' bounds the authority). */
    const char *auth_end = memchr(rest, '/', body_len);
    size_t auth_len = auth_end ? (size_t)(auth_end - rest) : body_len;
    const char *at = NULL;
    for (size_t i = 0; i < auth_len; i++)
        if (rest[i] == '@')
            at = rest + i;
    const char *host = rest;
    if (at != NULL) {
        if (parse_userinfo(rest, (size_t)(at - rest), u, err, errlen) != 0)
            return -1;
        host = at + 1;
    }
    size_t host_len = auth_len - (size_t)(host - rest);

    if (u->is_unix) {
        if (host_len != 0)
            return fail(err, errlen, "unix socket URL must have an absolute path, like unix:///var/run/redis.sock (got '%s')", url);
        if (auth_end == NULL || body_len - auth_len <= 1)
            return fail(err, errlen, "unix socket URL has no socket path: '%s' (expected unix:///path/to/redis.sock)", url);
        if (pct_decode(auth_end, body_len - auth_len, u->path, sizeof u->path) != 0)
            return fail(err, errlen, "bad socket path in Redis URL: '%s'", url);
    } else {
        if (parse_hostport(host, host_len, u, err, errlen) != 0)
            return -1;
        if (auth_end != NULL && body_len - auth_len > 1) {
            const char *db = auth_end + 1;
            if (parse_int(db, body_len - auth_len - 1, 0, 1000000, &u->db) != 0)
                return fail(err, errlen, "bad database number in Redis URL: expected /N with N >= 0 (got '%s')", url);
        }
    }
    if (query != NULL && parse_query(query + 1, u, err, errlen) != 0)
        return -1;
    return 0;
}

/* Copies a TLS file's path named by `var`; 0, or -1 when too long. */
static int set_tls_path(char *dst, size_t cap, const char *var, const char *value, char *err, size_t errlen)
{
    if (strlen(value) >= cap) {
        snprintf(err, errlen, "%s is too long (at most %zu bytes)", var, cap - 1);
        return -1;
    }
    strcpy(dst, value);
    return 0;
}

int redis_url_set_tls(redis_url_t *u, const char *cacert, const char *cert, const char *key,
                      const char *verify, char *err, size_t errlen)
{
    static const char *const names[] = { "TICKQ_REDIS_CACERT", "TICKQ_REDIS_CERT", "TICKQ_REDIS_KEY",
                                         "TICKQ_REDIS_TLS_VERIFY" };
    const char *values[] = { cacert, cert, key, verify };
    for (int i = 0; i < 4; i++) {
        if (values[i] != NULL && values[i][0] == '\0')
            values[i] = NULL;
        if (values[i] != NULL && !u->tls.enabled) {
            snprintf(err, errlen, "%s is set but the Redis URL is not rediss://: TLS settings apply only to "
                     "rediss:// (unset %s, or connect with rediss://)", names[i], names[i]);
            return -1;
        }
    }
    cacert = values[0], cert = values[1], key = values[2], verify = values[3];
    if (verify != NULL && strcmp(verify, "0") != 0 && strcmp(verify, "1") != 0) {
        snprintf(err, errlen, "TICKQ_REDIS_TLS_VERIFY='%s' is not 0 or 1 (1, the default: check Redis's "
                 "certificate and name; 0: do not)", verify);
        return -1;
    }
    if ((cert == NULL) != (key == NULL)) {
        snprintf(err, errlen, "%s is set but %s is not: a client certificate needs both",
                 cert ? "TICKQ_REDIS_CERT" : "TICKQ_REDIS_KEY", cert ? "TICKQ_REDIS_KEY" : "TICKQ_REDIS_CERT");
        return -1;
    }
    u->tls.verify = verify == NULL || strcmp(verify, "1") == 0;
    if (cacert != NULL && !u->tls.verify) {
        snprintf(err, errlen, "TICKQ_REDIS_CACERT is set but TICKQ_REDIS_TLS_VERIFY=0 turns verification off, "
                 "so the CA would not be used: unset one of them");
        return -1;
    }
    if ((cacert && set_tls_path(u->tls.cacert, sizeof u->tls.cacert, names[0], cacert, err, errlen) != 0) ||
        (cert && set_tls_path(u->tls.cert, sizeof u->tls.cert, names[1], cert, err, errlen) != 0) ||
        (key && set_tls_path(u->tls.key, sizeof u->tls.key, names[2], key, err, errlen) != 0))
        return -1;
    return 0;
}

void redis_url_describe(const redis_url_t *u, char *out, size_t outlen)
{
    char auth[300] = "";
    const char *scheme = u->tls.enabled ? "rediss" : "redis";
    if (u->user[0] || u->password[0])
        snprintf(auth, sizeof auth, "%s%s@", u->user, u->password[0] ? ":***" : "");
    if (u->is_unix)
        snprintf(out, outlen, "unix://%s%s?db=%d", auth, u->path, u->db);
    else if (strchr(u->host, ':'))
        snprintf(out, outlen, "%s://%s[%s]:%d/%d", scheme, auth, u->host, u->port, u->db);
    else
        snprintf(out, outlen, "%s://%s%s:%d/%d", scheme, auth, u->host, u->port, u->db);
    size_t n = strlen(out);
    if (u->tls.enabled && !u->tls.verify && n < outlen)
        snprintf(out + n, outlen - n, " (TLS certificate not verified)");
}
