/* redis_url.h — parse Redis connection URLs (hiredis 0.14 has no parser).
 *
 * Accepted forms:
 *   redis://[[user]:password@]host[:port][/db][?db=N&password=P&username=U]
 *   unix://[[user]:password@]/path/to/socket[?db=N&password=P&username=U]
 * rediss:// is refused: Debian's hiredis is built without TLS. */
#ifndef TICKQ_REDIS_URL_H
#define TICKQ_REDIS_URL_H

#include <stddef.h>

typedef struct {
    int is_unix;         /* 1: `path` is a unix socket; 0: host and port */
    char host[256];      /* without the brackets of an IPv6 literal */
    int port;
    char path[4096];
    char user[256];      /* empty: no ACL user ("default") */
    char password[512];  /* empty: no AUTH */
    int db;
} redis_url_t;

/* Parses `url` into *out. Returns 0, or -1 with a message in err naming what
 * is wrong and how a correct URL looks. */
int redis_url_parse(const char *url, redis_url_t *out, char *err, size_t errlen);

/* Writes the URL with the password masked, for logs and --check output. */
void redis_url_describe(const redis_url_t *u, char *out, size_t outlen);

#endif
