/* rtransport.h — the byte stream under a Redis connection: a TCP or unix
 * socket that tickq owns, wrapped in TLS (OpenSSL) for rediss://.
 *
 * One code path for plain and TLS: rconn reads and writes through
 * rtransport_read/rtransport_write whatever the URL, and only the two
 * functions that move bytes look at whether a TLS session is there. A
 * rediss:// URL never falls back to plain text: any TLS failure fails the
 * connect.
 *
 * The socket is blocking with SO_RCVTIMEO/SO_SNDTIMEO set to the timeout
 * (as hiredis did): one system call per read or write, and a read or write
 * that waits longer than the timeout fails. A reader that empties
 * rtransport_pending leaves no decrypted byte inside OpenSSL, so a poll()
 * on rtransport_fd tells the truth about the stream.
 *
 * Errors are messages for people: "TLS handshake with 127.0.0.1:6380
 * failed: certificate verify failed: certificate has expired (...)". */
#ifndef TICKQ_RTRANSPORT_H
#define TICKQ_RTRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

#include "core/redis_url.h"

typedef struct rtransport rtransport_t;
/* A TLS client context: the CA, the client certificate and key loaded once,
 * shared by the connections (and reconnects) of one rconn. */
typedef struct rtls rtls_t;

/* Loads the TLS files of `tls` (the system's trust store when no CA is
 * given). Returns NULL with a message naming the variable and the file
 * when one cannot be read or is not what it should be (a CA file without a
 * certificate, a key that is encrypted or does not match the certificate). */
rtls_t *rtls_new(const redis_tls_t *tls, char *err, size_t errlen);
void rtls_free(rtls_t *t);

/* rtls_new and rtls_free: 0 when the TLS settings are usable, else -1 with
 * err. For the configuration check (the command exits 78). */
int rtls_check(const redis_tls_t *tls, char *err, size_t errlen);

/* Connects to the host and port (or the unix socket) of `u` within
 * `timeout_ms`, then, when `tls` is not NULL, runs the TLS handshake (SNI
 * and the name check use u->host). Returns NULL with a message on failure. */
rtransport_t *rtransport_connect(const redis_url_t *u, rtls_t *tls, int timeout_ms, char *err,
                                 size_t errlen);
/* Closes the socket. Sends no TLS close_notify: a forked child freeing its
 * parent's connection must not write into the parent's TLS stream. */
void rtransport_free(rtransport_t *t);

/* The timeout of each later read and write; 0 or -1. */
int rtransport_set_timeout(rtransport_t *t, int timeout_ms);
int rtransport_fd(const rtransport_t *t);
int rtransport_is_tls(const rtransport_t *t);

/* Writes all of buf; 0, or -1 with err (the stream is unusable then). */
int rtransport_write(rtransport_t *t, const char *buf, size_t len, char *err, size_t errlen);
/* Reads at least one byte into buf, waiting up to the timeout. Returns the
 * count, or -1 with err (closed by the server, timed out, a TLS error).
 * Takes every decrypted byte OpenSSL holds unless buf fills first: then
 * rtransport_pending says so, and the caller reads again. */
ssize_t rtransport_read(rtransport_t *t, char *buf, size_t cap, char *err, size_t errlen);
/* 1 when decrypted bytes wait inside OpenSSL (a poll() would not see them). */
int rtransport_pending(const rtransport_t *t);

#endif
