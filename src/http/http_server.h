/* http_server.h — tickq's HTTP server (libmicrohttpd): binds an address,
 * matches each request to a route, checks the API token, reads the body up
 * to a limit, and sends the route's reply; mutating calls are logged as
 * audit lines.
 *
 * Requests are served by a few threads, but routes run one at a time under
 * the server's lock, so a route may use one Redis connection without locks
 * of its own; a route flagged HTTP_UNLOCKED (the probes: liveness touches
 * nothing shared, readiness has a connection and lock of its own) runs
 * beside them, so that a request stuck on a hung Redis or a slow database
 * does not make the process look dead or unready. Replies are JSON
 * (errors as {"error": "..."}) unless a route says otherwise (/metrics).
 *
 * Status codes decided here: 404 no route for the path, 405 a route for
 * the path but not the method (with Allow), 401 no token where one is
 * needed, 403 a wrong token or a browser's request from elsewhere
 * (http_guard.h), 413 a body over the limit,
 * 400 a query parameter the route does not take, a body (not blank) sent
 * to a route that reads none, or a {name} segment holding a NUL (%00,
 * which libmicrohttpd would cut the path at). The route and the token are decided
 * on the headers: a refused request's body is read but kept nowhere, and
 * its refusal comes before 413. Every request to an audited route is
 * logged, refused or not. */
#ifndef TICKQ_HTTP_SERVER_H
#define TICKQ_HTTP_SERVER_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>

#define HTTP_PARAMS_MAX 4
#define HTTP_TOKEN_MIN 16

/* Where to listen: --http [ADDR:]PORT. */
typedef struct {
    struct sockaddr_storage addr;
    socklen_t len;
    char text[80];               /* as given, normalised: "127.0.0.1:8080", "[::1]:8080" */
} http_bind_t;

/* Parses "PORT", "ADDR:PORT" or "[IPV6]:PORT" (ADDR an IP address;
 * "localhost" is 127.0.0.1); PORT 0 picks a free one. 0, or -1 with err. */
int http_bind_parse(const char *spec, http_bind_t *out, char *err, size_t errlen);
/* 1 for 127.0.0.0/8 and ::1. */
int http_bind_is_loopback(const http_bind_t *b);
/* Whether a bind may start: a non-loopback address needs a token of at
 * least HTTP_TOKEN_MIN characters. 0, or -1 with err saying what to do. */
int http_bind_check_token(const http_bind_t *b, const char *token, char *err, size_t errlen);

typedef struct http_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    const char *body;            /* NUL-terminated; "" when none */
    size_t body_len;
    const char *params[HTTP_PARAMS_MAX]; /* the route's {name} segments, in order (percent-decoded) */
    char client[64];             /* the peer's address */
} http_request_t;

typedef struct {
    int status;
    char *body;                  /* malloc'd */
    size_t len;
    const char *content_type;
    char header[2][256];         /* extra "Name: value" headers ("" for none) */
} http_reply_t;

/* The query parameter `key`, or NULL. */
const char *http_query(const http_request_t *r, const char *key);
/* Refuses (400, naming it) a query parameter not in `known` (NULL-ended).
 * 0 when all are known; -1 with rep filled. */
int http_query_only(const http_request_t *r, const char *const *known, http_reply_t *rep);
/* Whole-number query parameter `key` from lo to hi into *out (dflt when
 * absent): 0, or -1 with rep filled (400, naming it and the range). */
int http_query_count(const http_request_t *r, const char *key, long long lo, long long hi, long long dflt,
                     long long *out, http_reply_t *rep);

/* Fills rep: a JSON value (stolen), an error, or a body of another type.
 * http_reply_json writes each real in its own fewest digits that read back
 * exactly (json_exact.h: 0.1, not 0.10000000000000001);
 * http_reply_json_digits with `digits` significant digits (1 to 17), for
 * figures that are rounded on purpose (the job listing's ages). */
void http_reply_json(http_reply_t *rep, int status, json_t *v);
void http_reply_json_digits(http_reply_t *rep, int status, json_t *v, int digits);
void http_reply_error(http_reply_t *rep, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void http_reply_verror(http_reply_t *rep, int status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
void http_reply_body(http_reply_t *rep, int status, const char *content_type, char *body, size_t len);
/* 400 for a body jansson could not read (jerr), in words that name what
 * was wrong rather than jansson's flags ("\u0000 is not allowed without
 * JSON_ALLOW_NUL" is a NUL character tickq does not take). */
void http_reply_body_not_json(http_reply_t *rep, const json_error_t *jerr);

typedef void (*http_handler_fn)(void *app, const http_request_t *req, http_reply_t *rep);

#define HTTP_PUBLIC 1u           /* served without the token (/health*) */
#define HTTP_AUDIT 2u            /* a mutating call: logged with who, what and the status */
#define HTTP_UNLOCKED 4u         /* runs without the server's lock: shares nothing unlocked with the others */
#define HTTP_BODY 8u             /* reads a body; any other route refuses one that is not blank (400) */

/* A route: METHOD and a path whose segments may be {name} (one segment,
 * captured in params); the last may be {name*}: the rest of the path,
 * slashes and all (a job id may hold '/', sent as is or as %2F, which
 * libmicrohttpd decodes before the path is matched). */
typedef struct {
    const char *method;
    const char *pattern;
    http_handler_fn fn;
    unsigned flags;
} http_route_t;

typedef struct http_server http_server_t;

/* Starts serving on its own thread. `token` NULL or "": none needed
 * (loopback only, see http_bind_check_token). The routes and app must
 * outlive the server. NULL with err when it cannot listen. */
http_server_t *http_server_start(const http_bind_t *bind, const char *token, const http_route_t *routes,
                                 size_t nroutes, void *app, size_t body_max, char *err, size_t errlen);
/* The port it listens on (the one picked for PORT 0). */
int http_server_port(const http_server_t *s);
void http_server_stop(http_server_t *s);

/* Equal in time that depends only on the lengths. */
int http_token_equal(const char *given, const char *token);


#endif
