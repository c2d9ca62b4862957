/* rtransport.c — the byte stream under a Redis connection: a TCP or unix
 * socket, wrapped in TLS (OpenSSL) for rediss:// (see rtransport.h).
 *
 * Invariants:
 * (1) A transport asked for TLS has a TLS session from the first byte it
 *     moves to the last: no code path writes to the socket around it.
 * (2) The socket is blocking, with SO_RCVTIMEO and SO_SNDTIMEO as the
 *     timeout, for connect(2) (socket(7): a blocking connect honours
 *     SO_SNDTIMEO), the handshake, reads and writes alike.
 * (3) rtransport_read leaves no decrypted byte inside OpenSSL. */
#include "core/rtransport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define KEEPALIVE_IDLE_S 15       /* as hiredis's redisEnableKeepAlive */
#define PLAIN_PORT_HINT "does this port speak TLS? Redis serves TLS on its tls-port; connect to a plain-text port with redis://"

struct rtls {
    SSL_CTX *ctx;
    int verify;
    int has_cert;
};

struct rtransport {
    int fd;
    SSL *ssl;                     /* NULL: plain text */
    const rtls_t *tls;
    int timeout_ms;
    char where[4200];             /* host:port or the socket path, for messages */
    char failed_cert[400];        /* the certificate the verification refused */
    int got_data;                 /* a read returned bytes: past the first exchange */
};

/* ---- TLS context ------------------------------------------------------ */

/* OpenSSL's passphrase callback: none, so an encrypted key fails to load
 * instead of prompting on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
    (void)buf, (void)size, (void)rwflag, (void)userdata;
    return 0;
}

/* The reason of OpenSSL's most recent error ("no certificate or crl
 * found"), or `otherwise`; clears the error queue. */
static const char *ssl_reason(const char *otherwise)
{
    unsigned long e = ERR_peek_last_error();
    const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return why != NULL ? why : otherwise;
}

/* 0 when `path` is a regular file this process can read, else -1 with err
 * naming the variable (the command exits 78). */
static int check_readable(const char *var, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s=%s cannot be read: %s", var, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s=%s is not a file", var, path);
        return -1;
    }
    return 0;
}

/* err = "<var>=<path> <problem>: <OpenSSL's reason>"; returns -1. */
static int file_error(char *err, size_t errlen, const char *var, const char *path, const char *problem)
{
    snprintf(err, errlen, "%s=%s %s: %s", var, path, problem, ssl_reason("unknown error"));
    return -1;
}

/* Loads the CA (or the system's store) and the client certificate. */
static int load_files(SSL_CTX *ctx, const redis_tls_t *tls, char *err, size_t errlen)
{
    if (tls->verify && tls->cacert[0]) {
        if (check_readable("TICKQ_REDIS_CACERT", tls->cacert, err, errlen) != 0)
            return -1;
        if (SSL_CTX_load_verify_locations(ctx, tls->cacert, NULL) != 1)
            return file_error(err, errlen, "TICKQ_REDIS_CACERT", tls->cacert, "holds no usable CA certificate (PEM)");
    } else if (tls->verify && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        snprintf(err, errlen, "cannot load the system's trust store (set TICKQ_REDIS_CACERT): %s",
                 ssl_reason("unknown error"));
        return -1;
    }
    if (tls->cert[0] == '\0')
        return 0;
    if (check_readable("TICKQ_REDIS_CERT", tls->cert, err, errlen) != 0 ||
        check_readable("TICKQ_REDIS_KEY", tls->key, err, errlen) != 0)
        return -1;
    if (SSL_CTX_use_certificate_chain_file(ctx, tls->cert) != 1)
        return file_error(err, errlen, "TICKQ_REDIS_CERT", tls->cert, "is not a usable certificate (PEM)");
    if (SSL_CTX_use_PrivateKey_file(ctx, tls->key, SSL_FILETYPE_PEM) != 1 &&
        ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH)
        return file_error(err, errlen, "TICKQ_REDIS_KEY", tls->key, "is not a usable private key (PEM, not encrypted)");
    if (ERR_peek_last_error() != 0 || SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "TICKQ_REDIS_KEY=%s does not belong to the certificate in TICKQ_REDIS_CERT=%s: %s",
                 tls->key, tls->cert, ssl_reason("key values mismatch"));
        return -1;
    }
    return 0;
}

rtls_t *rtls_new(const redis_tls_t *tls, char *err, size_t errlen)
{
    rtls_t *t = calloc(1, sizeof *t);
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ERR_clear_error();
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (t->ctx == NULL) {
        snprintf(err, errlen, "cannot set up TLS: %s", ssl_reason("out of memory"));
        free(t);
        return NULL;
    }
    t->verify = tls->verify;
    t->has_cert = tls->cert[0] != '\0';
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_default_passwd_cb(t->ctx, no_passphrase);
    SSL_CTX_set_verify(t->ctx, tls->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    if (load_files(t->ctx, tls, err, errlen) != 0) {
        rtls_free(t);
        return NULL;
    }
    return t;
}

void rtls_free(rtls_t *t)
{
    if (t == NULL)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

int rtls_check(const redis_tls_t *tls, char *err, size_t errlen)
{
    rtls_t *t = rtls_new(tls, err, errlen);
    rtls_free(t);
    return t != NULL ? 0 : -1;
}

/* ---- socket ----------------------------------------------------------- */

static int set_timeouts(int fd, int timeout_ms)
{
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
                   setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0
               ? 0
               : -1;
}

/* TCP_NODELAY and keepalive probes, as hiredis set them. */
static void tune_tcp(int fd)
{
    int on = 1, idle = KEEPALIVE_IDLE_S, intvl = KEEPALIVE_IDLE_S / 3, cnt = 3;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

/* connect(2) within the socket's SO_SNDTIMEO; 0, or -1 with err. */
static int connect_one(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms, char *err, size_t errlen)
{
    int rc = connect(fd, sa, len);
    if (rc != 0 && errno == EINTR) {
        /* A signal cut the wait, not the connect: it goes on; wait for it. */
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int n, soerr = 0;
        socklen_t sl = sizeof soerr;
        do
            n = poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1);
        while (n < 0 && errno == EINTR);
        if (n == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
            rc = 0;
        else
            errno = n == 0 ? EINPROGRESS : soerr != 0 ? soerr : errno;
    }
    if (rc == 0)
        return 0;
    if (errno == EINPROGRESS || errno == EAGAIN)
        snprintf(err, errlen, "connect timed out after %d ms", timeout_ms);
    else
        snprintf(err, errlen, "%s", strerror(errno));
    return -1;
}

static int open_unix(const char *path, int timeout_ms, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "socket path too long (at most %zu bytes)", sizeof sa.sun_path - 1);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || set_timeouts(fd, timeout_ms) != 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (connect_one(fd, (struct sockaddr *)&sa, sizeof sa, timeout_ms, err, errlen) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Tries each address of host:port in turn; the last failure is the error. */
static int open_tcp(const char *host, int port, int timeout_ms, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    snprintf(err, errlen, "no address for '%s'", host);
    for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            snprintf(err, errlen, "%s", strerror(errno));
            continue;
        }
        if (set_timeouts(fd, timeout_ms) != 0) {
            snprintf(err, errlen, "%s", strerror(errno));
            close(fd);
            fd = -1;
        } else if (connect_one(fd, a->ai_addr, a->ai_addrlen, timeout_ms, err, errlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd >= 0)
        tune_tcp(fd);
    return fd;
}

/* ---- TLS session ------------------------------------------------------ */

static int g_transport_index = -1; /* SSL ex_data slot of the rtransport_t */

/* OpenSSL's socket BIO writes with write(2): to a socket the server closed
 * that raises SIGPIPE, which kills a process that does not ignore it (a
 * CLI command, a worker still starting). This BIO moves the same bytes
 * with send(MSG_NOSIGNAL) and recv(2), as the plain path does. */
static BIO_METHOD *g_bio_method;

static int bio_fd(BIO *b) { return (int)(intptr_t)BIO_get_data(b); }

static int bio_write(BIO *b, const char *buf, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n = send(bio_fd(b), buf, (size_t)len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b); /* the timeout, or a signal: the caller sorts them by errno */
    return (int)n;
}

static int bio_read(BIO *b, char *buf, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n = recv(bio_fd(b), buf, (size_t)len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_read(b);
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* A BIO of this kind on fd (which stays the transport's to close). */
static BIO *bio_new(int fd)
{
    if (g_bio_method == NULL) {
        BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tickq socket");
        if (m == NULL || BIO_meth_set_write(m, bio_write) != 1 || BIO_meth_set_read(m, bio_read) != 1 ||
            BIO_meth_set_ctrl(m, bio_ctrl) != 1 || BIO_meth_set_create(m, bio_create) != 1) {
            BIO_meth_free(m);
            return NULL;
        }
        g_bio_method = m; /* one per process, kept for its life */
    }
    BIO *b = BIO_new(g_bio_method);
    if (b != NULL)
        BIO_set_data(b, (void *)(intptr_t)fd);
    return b;
}

/* Notes which certificate the verification refused, for the message. */
static int on_verify(int ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    rtransport_t *t = ssl != NULL ? SSL_get_ex_data(ssl, g_transport_index) : NULL;
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    if (ok || t == NULL || t->failed_cert[0] || cert == NULL)
        return ok;
    char subject[256] = "?", until[64] = "?";
    X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
    BIO *b = BIO_new(BIO_s_mem());
    if (b != NULL && ASN1_TIME_print(b, X509_get0_notAfter(cert)) == 1) {
        int n = BIO_read(b, until, sizeof until - 1);
        until[n > 0 ? n : 0] = '\0';
    }
    BIO_free(b);
    snprintf(t->failed_cert, sizeof t->failed_cert, "certificate %s, valid until %s", subject, until);
    return ok;
}

/* What to do about a verification error. */
static const char *verify_hint(long code)
{
    switch (code) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return "Redis's certificate is not signed by a CA tickq trusts: set TICKQ_REDIS_CACERT to the CA file "
               "that signed it (TICKQ_REDIS_TLS_VERIFY=0 turns the check off)";
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return "Redis's certificate has expired: renew it on the server";
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return "Redis's certificate is not valid yet: check the clocks";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return "the certificate is not for the host in the Redis URL: connect by a name it holds";
    default:
        return "check the server's certificate";
    }
}

/* The hint for a connection that fails (closed, reset) before its first
 * reply: TLS 1.3 servers refuse a client certificate after the handshake. */
static const char *first_exchange_hint(const rtransport_t *t)
{
    return t->tls->has_cert ? "Redis closed the connection right after the handshake: did it refuse the client "
                              "certificate in TICKQ_REDIS_CERT?" :
           "Redis closed the connection right after the handshake: does it require a client certificate? "
           "(set TICKQ_REDIS_CERT and TICKQ_REDIS_KEY)";
}

/* What to do about a TLS error OpenSSL gives `reason` for. */
static const char *reason_hint(const rtransport_t *t, int reason, int in_handshake)
{
    switch (reason) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
        return PLAIN_PORT_HINT;
    case SSL_R_UNEXPECTED_EOF_WHILE_READING: /* Redis went away: a hint only for a handshake */
        return in_handshake ? PLAIN_PORT_HINT : t->got_data ? NULL : first_exchange_hint(t);
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        return "Redis requires a client certificate: set TICKQ_REDIS_CERT and TICKQ_REDIS_KEY";
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
        return t->tls->has_cert ? "Redis refused the handshake" :
               "Redis refused the handshake (a client certificate required? set TICKQ_REDIS_CERT and TICKQ_REDIS_KEY)";
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
        return t->tls->has_cert ? "Redis refused the client certificate in TICKQ_REDIS_CERT (check that its "
                                  "tls-ca-cert-file holds the CA that signed it)" :
               "Redis requires a client certificate: set TICKQ_REDIS_CERT and TICKQ_REDIS_KEY";
    default:
        return NULL;
    }
}

/* The message for a failed SSL call (ret its return value) while doing
 * `what` ("handshake", "read", "write"); consumes the error queue.
 * Returns OpenSSL's reason code (an alert the server sent, ...), or 0. */
static int ssl_failure(rtransport_t *t, int ret, const char *what, char *err, size_t errlen)
{
    int saved_errno = errno;
    int code = SSL_get_error(t->ssl, ret);
    long vr = SSL_get_verify_result(t->ssl);
    unsigned long e = ERR_peek_last_error();
    int reason = e != 0 ? ERR_GET_REASON(e) : 0;
    ERR_clear_error();
    int in_handshake = strcmp(what, "handshake") == 0, first = !in_handshake && !t->got_data;
    char why[800];
    const char *hint = NULL;
    if (t->tls->verify && vr != X509_V_OK && (reason == SSL_R_CERTIFICATE_VERIFY_FAILED || reason == 0)) {
        snprintf(why, sizeof why, "certificate verify failed: %s (%s)", X509_verify_cert_error_string(vr),
                 t->failed_cert[0] ? t->failed_cert : "no details");
        hint = verify_hint(vr);
    } else if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE ||
               (code == SSL_ERROR_SYSCALL && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK))) {
        snprintf(err, errlen, "TLS %s with %s timed out after %d ms%s%s", what, t->where, t->timeout_ms,
                 in_handshake ? "; " : "", in_handshake ? PLAIN_PORT_HINT : "");
        return 0;
    } else if (code == SSL_ERROR_SYSCALL && reason == 0) {
        snprintf(why, sizeof why, "%s", saved_errno == 0 ? "the server closed the connection" : strerror(saved_errno));
        hint = in_handshake ? PLAIN_PORT_HINT : first ? first_exchange_hint(t) : NULL;
    } else if (code == SSL_ERROR_ZERO_RETURN) {
        snprintf(why, sizeof why, "the server closed the connection");
        hint = first ? first_exchange_hint(t) : NULL;
    } else {
        const char *text = e != 0 ? ERR_reason_error_string(e) : NULL;
        snprintf(why, sizeof why, "%s", text ? text : "unknown TLS error");
        hint = reason_hint(t, reason, in_handshake);
    }
    snprintf(err, errlen, "TLS %s with %s failed: %s%s%s", what, t->where, why, hint ? "; " : "", hint ? hint : "");
    return reason;
}

/* 1 when an SSL call failed only because a signal cut its wait (errno,
 * cleared before the call, is EINTR): call it again. SO_RCVTIMEO makes a
 * blocking read return EINTR even under SA_RESTART (signal(7)), and
 * OpenSSL reports that as WANT_READ, not as an error. */
static int interrupted(const rtransport_t *t, int ret)
{
    int saved = errno, code = SSL_get_error(t->ssl, ret);
    errno = saved; /* for the caller's message */
    return saved == EINTR && (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE || code == SSL_ERROR_SYSCALL);
}

/* The TLS handshake, with SNI and the name check for host. */
static int handshake(rtransport_t *t, rtls_t *tls, const char *host, char *err, size_t errlen)
{
    if (g_transport_index < 0)
        g_transport_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    ERR_clear_error();
    t->ssl = SSL_new(tls->ctx);
    BIO *bio = t->ssl != NULL ? bio_new(t->fd) : NULL;
    if (bio == NULL || g_transport_index < 0 || SSL_set_ex_data(t->ssl, g_transport_index, t) != 1) {
        BIO_free(bio);
        snprintf(err, errlen, "cannot set up TLS: %s", ssl_reason("out of memory"));
        return -1;
    }
    SSL_set_bio(t->ssl, bio, bio); /* the SSL owns the BIO now */
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    /* SNI carries names only (RFC 6066); an address is checked as one. */
    int ok = is_ip || SSL_set_tlsext_host_name(t->ssl, host) == 1;
    if (ok && tls->verify) {
        SSL_set_verify(t->ssl, SSL_VERIFY_PEER, on_verify);
        ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) == 1
                   : SSL_set1_host(t->ssl, host) == 1;
    }
    if (!ok) {
        snprintf(err, errlen, "cannot set up TLS for host '%s': %s", host, ssl_reason("bad host name"));
        return -1;
    }
    int ret;
    do {
        errno = 0;
        ret = SSL_connect(t->ssl);
    } while (ret != 1 && interrupted(t, ret));
    if (ret != 1) {
        ssl_failure(t, ret, "handshake", err, errlen);
        return -1;
    }
    return 0;
}

/* ---- transport -------------------------------------------------------- */

rtransport_t *rtransport_connect(const redis_url_t *u, rtls_t *tls, int timeout_ms, char *err, size_t errlen)
{
    rtransport_t *t = calloc(1, sizeof *t);
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->tls = tls;
    t->timeout_ms = timeout_ms;
    if (u->is_unix)
        snprintf(t->where, sizeof t->where, "%s", u->path);
    else
        snprintf(t->where, sizeof t->where, strchr(u->host, ':') ? "[%s]:%d" : "%s:%d", u->host, u->port);
    t->fd = u->is_unix ? open_unix(u->path, timeout_ms, err, errlen)
                       : open_tcp(u->host, u->port, timeout_ms, err, errlen);
    if (t->fd < 0 || (tls != NULL && handshake(t, tls, u->host, err, errlen) != 0)) {
        rtransport_free(t);
        return NULL;
    }
    return t;
}

void rtransport_free(rtransport_t *t)
{
    if (t == NULL)
        return;
    SSL_free(t->ssl); /* no SSL_shutdown: see rtransport.h */
    if (t->fd >= 0)
        close(t->fd);
    free(t);
}

int rtransport_set_timeout(rtransport_t *t, int timeout_ms)
{
    if (set_timeouts(t->fd, timeout_ms) != 0)
        return -1;
    t->timeout_ms = timeout_ms;
    return 0;
}

int rtransport_fd(const rtransport_t *t) { return t->fd; }
int rtransport_is_tls(const rtransport_t *t) { return t->ssl != NULL; }
int rtransport_pending(const rtransport_t *t) { return t->ssl != NULL && SSL_pending(t->ssl) > 0; }

/* A write failed because the server closed the connection: the alert it
 * sent first (a refused client certificate...), if still to be read, is
 * the better message. The peer is gone, so the read cannot block. */
static void alert_before_close(rtransport_t *t, char *err, size_t errlen)
{
    char scratch[512], why[1200];
    size_t got = 0;
    ERR_clear_error();
    int ret = SSL_read_ex(t->ssl, scratch, sizeof scratch, &got);
    if (ret != 1 && ssl_failure(t, ret, "write", why, sizeof why) != 0)
        snprintf(err, errlen, "%s", why);
}

int rtransport_write(rtransport_t *t, const char *buf, size_t len, char *err, size_t errlen)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n;
        if (t->ssl != NULL) {
            ERR_clear_error();
            errno = 0;
            size_t wrote = 0;
            int ret = SSL_write_ex(t->ssl, buf + done, len - done, &wrote);
            if (ret != 1) {
                if (interrupted(t, ret))
                    continue;
                int saved_errno = errno;
                ssl_failure(t, ret, "write", err, errlen);
                if (saved_errno == ECONNRESET || saved_errno == EPIPE)
                    alert_before_close(t, err, errlen);
                return -1;
            }
            n = (ssize_t)wrote;
        } else {
            n = send(t->fd, buf + done, len - done, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    snprintf(err, errlen, "write to %s timed out after %d ms", t->where, t->timeout_ms);
                else
                    snprintf(err, errlen, "write to %s failed: %s", t->where, strerror(errno));
                return -1;
            }
        }
        done += (size_t)n;
    }
    return 0;
}

/* One read from the TLS session; the count, or -1 with err. */
static ssize_t read_tls(rtransport_t *t, char *buf, size_t cap, char *err, size_t errlen)
{
    for (;;) {
        ERR_clear_error();
        errno = 0;
        size_t got = 0;
        int ret = SSL_read_ex(t->ssl, buf, cap, &got);
        if (ret == 1) {
            t->got_data = 1;
            return (ssize_t)got;
        }
        if (interrupted(t, ret))
            continue;
        ssl_failure(t, ret, "read", err, errlen);
        return -1;
    }
}

ssize_t rtransport_read(rtransport_t *t, char *buf, size_t cap, char *err, size_t errlen)
{
    if (t->ssl != NULL) {
        ssize_t n = read_tls(t, buf, cap, err, errlen);
        /* (3): what OpenSSL holds decrypted comes along now, or poll()
         * would wait for bytes that already arrived. */
        while (n > 0 && (size_t)n < cap && SSL_pending(t->ssl) > 0) {
            ssize_t more = read_tls(t, buf + n, cap - (size_t)n, err, errlen);
            if (more < 0)
                return -1;
            n += more;
        }
        return n;
    }
    for (;;) {
        ssize_t n = recv(t->fd, buf, cap, 0);
        if (n > 0)
            return n;
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            snprintf(err, errlen, "%s closed the connection", t->where);
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            snprintf(err, errlen, "read from %s timed out after %d ms", t->where, t->timeout_ms);
        else
            snprintf(err, errlen, "read from %s failed: %s", t->where, strerror(errno));
        return -1;
    }
}
