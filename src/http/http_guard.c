/* http_guard.c — the browser guard: which Host and Origin a request may
 * carry (http_guard.h). */
#include "http/http_guard.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* An authority, "HOST" or "HOST:PORT" (HOST a name, an IPv4 address or
 * "[IPV6]"), split: HOST lower-cased into host, PORT into *port
 * (default_port when there is none). 0, or -1 when it is no such thing
 * (an empty HOST, a PORT that is not a number from 0 to 65535). */
static int authority_split(const char *auth, size_t len, char *host, size_t hostlen, long default_port, long *port)
{
    size_t hl;
    if (len > 0 && auth[0] == '[') {
        const char *close = memchr(auth, ']', len);
        if (close == NULL)
            return -1;
        hl = (size_t)(close - auth) + 1;
    } else {
        const char *colon = memchr(auth, ':', len);
        hl = colon != NULL ? (size_t)(colon - auth) : len;
    }
    if (hl == 0 || hl >= hostlen)
        return -1;
    for (size_t i = 0; i < hl; i++)
        host[i] = (char)tolower((unsigned char)auth[i]);
    host[hl] = '\0';
    *port = default_port;
    if (hl == len)
        return 0;
    size_t digits = len - hl - 1;
    if (auth[hl] != ':' || digits == 0 || digits > 5)
        return -1;
    long v = 0;
    for (size_t i = hl + 1; i < len; i++) {
        if (!isdigit((unsigned char)auth[i]))
            return -1;
        v = v * 10 + (auth[i] - '0');
    }
    if (v > 65535)
        return -1;
    *port = v;
    return 0;
}

/* 1 for an IPv4 address in 127.0.0.0/8 in dotted-quad form ("127.0.0.1"):
 * never a DNS name such as 127.0.0.1.evil.com. */
static int ipv4_loopback(const char *host)
{
    struct in_addr a;
    return inet_pton(AF_INET, host, &a) == 1 && ntohl(a.s_addr) >> 24 == 127;
}

int http_guard_host_is_loopback(const char *host)
{
    char h[256];
    long port;
    if (authority_split(host, strlen(host), h, sizeof h, 80, &port) != 0)
        return 0;
    return strcmp(h, "localhost") == 0 || strcmp(h, "[::1]") == 0 || ipv4_loopback(h);
}

int http_guard_origin_is_own(const char *origin, const char *host)
{
    /* https too: behind a TLS proxy the page is https://NAME while the
     * proxy forwards Host NAME over plain HTTP. A page of another port
     * cannot pass: the ports are compared, each scheme's default for a
     * missing one. */
    static const struct { const char *scheme; long port; } schemes[] = { { "http://", 80 }, { "https://", 443 } };
    if (host == NULL)
        return 0;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t sl = strlen(schemes[i].scheme);
        if (strncasecmp(origin, schemes[i].scheme, sl) != 0)
            continue;
        char oh[256], hh[256];
        long op, hp;
        if (authority_split(origin + sl, strlen(origin + sl), oh, sizeof oh, schemes[i].port, &op) != 0 ||
            authority_split(host, strlen(host), hh, sizeof hh, schemes[i].port, &hp) != 0)
            return 0;
        return strcmp(oh, hh) == 0 && op == hp;
    }
    return 0;
}

int http_guard_check(const char *host, const char *origin, int token_set, char *why, size_t whylen)
{
    if (origin != NULL && !http_guard_origin_is_own(origin, host)) {
        snprintf(why, whylen, "cross-origin requests are refused (Origin %.100s is not this server's own origin "
                 "http://%.100s)", origin, host != NULL ? host : "(no Host)");
        return 403;
    }
    if (!token_set && host != NULL && !http_guard_host_is_loopback(host)) {
        snprintf(why, whylen, "Host '%.100s' is not a loopback name: without TICKQ_API_TOKEN this server answers "
                 "only requests sent to localhost, 127.x.x.x or [::1]", host);
        return 403;
    }
    return 0;
}
