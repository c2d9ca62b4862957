/* redis_url.h — parse Redis connection URLs (hiredis 0.14 has no parser).
 *
 * Accepted forms:
 *   redis://[[user]:password@]host[:port][/db][?db=N&password=P&username=U]
 *   rediss://... the same over TLS (core/rtransport.c does the TLS; the
 *                TLS settings are environment variables, redis_url_set_tls)
 *   unix://[[user]:password@]/path/to/socket[?db=N&password=P&username=U] */
#ifndef TICKQ_REDIS_URL_H
#define TICKQ_REDIS_URL_H

#include <stddef.h>

/* The most bytes of a TLS file's path (CA, certificate, key), NUL included. */
#define REDIS_TLS_PATH_MAX 4096

/* TLS settings of a rediss:// connection. A path that is "" means: not
 * given (the CA: the system's trust store; the client certificate: none). */
typedef struct {
    int enabled;                        /* rediss:// */
    int verify;                         /* check the server's chain and name (default 1) */
    char cacert[REDIS_TLS_PATH_MAX];    /* TICKQ_REDIS_CACERT */
    char cert[REDIS_TLS_PATH_MAX];      /* TICKQ_REDIS_CERT */
    char key[REDIS_TLS_PATH_MAX];       /* TICKQ_REDIS_KEY */
} redis_tls_t;

typedef struct {
    int is_unix;         /* 1: `path` is a unix socket; 0: host and port */
    char host[256];      /* without the brackets of an IPv6 literal */
    int port;
    char path[4096];
    char user[256];      /* empty: no ACL user ("default") */
    char password[512];  /* empty: no AUTH */
    int db;
    redis_tls_t tls;     /* tls.enabled for rediss:// */
} redis_url_t;

/* Parses `url` into *out. Returns 0, or -1 with a message in err naming what
 * is wrong and how a correct URL looks. */
int redis_url_parse(const char *url, redis_url_t *out, char *err, size_t errlen);

/* Applies the TLS settings, given as the values of TICKQ_REDIS_CACERT,
 * TICKQ_REDIS_CERT, TICKQ_REDIS_KEY and TICKQ_REDIS_TLS_VERIFY (NULL or ""
 * when unset), to a parsed URL. Returns 0, or -1 with a message naming the
 * variable: verify other than 0 or 1, a certificate without its key (or the
 * reverse), a CA with verification off, any of them for a URL that is not
 * rediss:// (they would be ignored), a path too long. Whether the files can
 * be read is rtransport_tls_check's business. */
int redis_url_set_tls(redis_url_t *u, const char *cacert, const char *cert, const char *key,
                      const char *verify, char *err, size_t errlen);

/* Writes the URL with the password masked, for logs and --check output. */
void redis_url_describe(const redis_url_t *u, char *out, size_t outlen);

#endif
