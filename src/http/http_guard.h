/* http_guard.h — the browser guard (docs/http.md, "Browsers"): which Host
 * and Origin headers a request may carry, so that neither another site's
 * page nor a page that rebinds its own DNS name to 127.0.0.1 reaches the
 * API. Functions of the headers' text alone; http_server applies them to
 * every request but /health* and the page. */
#ifndef TICKQ_HTTP_GUARD_H
#define TICKQ_HTTP_GUARD_H

#include <stddef.h>

/* 1 when a Host header (with an optional numeric port) is a loopback name:
 * literally `localhost`, an IPv4 address in 127.0.0.0/8 written as four
 * numbers from 0 to 255, or `[::1]`; never a DNS name that merely starts
 * like one (127.0.0.1.evil.com). */
int http_guard_host_is_loopback(const char *host);
/* 1 when an Origin is the request's own: http:// or https:// (a TLS
 * proxy in front) and the HOST:PORT of its Host, by host and port (a
 * missing port is the scheme's, 80 or 443). host NULL: none is. */
int http_guard_origin_is_own(const char *origin, const char *host);
/* A request with these headers (NULL: absent): 0 when it may go on; 403
 * with why for an Origin that is not its own (another site's page, or a
 * page on another port or scheme of this host), and, when no token is set
 * (token_set 0), for a Host that is no loopback name (a name rebound to
 * 127.0.0.1 by another site's DNS; with a token, the token is what such a
 * page lacks). */
int http_guard_check(const char *host, const char *origin, int token_set, char *why, size_t whylen);

#endif
