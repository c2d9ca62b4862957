/* rconn.c — one Redis connection: connect by URL, AUTH/SELECT, timeouts,
 * commands, and calls into a Redis function library (FCALL).
 *
 * tickq owns the byte stream (core/rtransport: a socket, in TLS for
 * rediss://) and uses hiredis for the protocol only: redisFormatCommand*
 * encodes a command, a redisReader decodes the replies. One code path for
 * plain and TLS connections from here down.
 *
 * Commands wait in `obuf` (pipelining: rconn_append_argv) until a reply is
 * read or a command is sent; replies are read in order. `inflight` counts
 * sent commands whose replies nobody asked for yet: the next command reads
 * them first (rconn_drain). */
#include "core/rconn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/numfmt.h"
#include "core/rtransport.h"

#define READ_CHUNK (16 * 1024) /* a TLS record's most plaintext */
#define TLS_ALERT_BYTE 0x15    /* the first byte of a TLS alert record */

struct rconn {
    rtransport_t *tp;            /* NULL after a failed reconnect */
    rtls_t *tls;                 /* rediss://: the loaded CA and certificate; else NULL */
    redisReader *reader;
    char *obuf;                  /* formatted commands not written yet */
    size_t olen, ocap;
    redis_url_t url;
    int timeout_ms;
    int broken;
    int inflight;                /* sent commands whose replies are unread */
    int first_byte;              /* the first byte Redis sent on this socket, -1 before */
    int noperm_fails;            /* rconn_fail_on_noperm */
    char name[128];              /* CLIENT SETNAME, "" for none */
    char deferred_error[512];
    char deferred_out[512];
};

static void set_io_error(rconn_t *c, char *err, size_t errlen, const char *what, const char *detail)
{
    c->broken = 1;
    if (err != NULL)
        snprintf(err, errlen, "Redis %s: %s", what, detail && detail[0] ? detail : "connection lost");
}

/* Makes room for `len` more bytes in obuf; 0, or -1 when out of memory. */
static int obuf_reserve(rconn_t *c, size_t len)
{
    if (c->olen + len > c->ocap) {
        size_t cap = c->ocap ? c->ocap : 4096;
        while (cap < c->olen + len)
            cap *= 2;
        char *p = realloc(c->obuf, cap);
        if (p == NULL)
            return -1;
        c->obuf = p;
        c->ocap = cap;
    }
    return 0;
}

/* Queues a formatted command in obuf; 0, or -1 when out of memory. */
static int obuf_add(rconn_t *c, const char *cmd, size_t len)
{
    if (obuf_reserve(c, len) != 0)
        return -1;
    memcpy(c->obuf + c->olen, cmd, len);
    c->olen += len;
    return 0;
}

/* Writes obuf out; 0, or -1 with the connection broken. */
static int flush(rconn_t *c, char *err, size_t errlen)
{
    if (c->olen == 0)
        return 0;
    char why[600];
    int rc = rtransport_write(c->tp, c->obuf, c->olen, why, sizeof why);
    c->olen = 0;
    if (c->ocap > 64 * 1024) { /* a large pipeline or payload: give its memory back */
        free(c->obuf);
        c->obuf = NULL;
        c->ocap = 0;
    }
    if (rc != 0)
        set_io_error(c, err, errlen, "write failed", why);
    return rc;
}

/* Why the reader gave up, with a hint when Redis spoke TLS to a plain
 * connection (a redis:// URL on a tls-port). */
static void protocol_error(rconn_t *c, char *err, size_t errlen)
{
    char why[400];
    if (c->first_byte == TLS_ALERT_BYTE && !rtransport_is_tls(c->tp))
        snprintf(why, sizeof why, "Redis answered with a TLS alert: this port speaks TLS; connect with rediss://");
    else
        snprintf(why, sizeof why, "%s", c->reader->errstr);
    set_io_error(c, err, errlen, "protocol error", why);
}

/* Writes what is queued, then reads the next reply: NULL on an I/O or
 * protocol error (err, the connection broken). */
static redisReply *read_reply(rconn_t *c, const char *what, char *err, size_t errlen)
{
    if (flush(c, err, errlen) != 0)
        return NULL;
    for (;;) {
        void *r = NULL;
        if (redisReaderGetReply(c->reader, &r) != REDIS_OK) {
            protocol_error(c, err, errlen);
            return NULL;
        }
        if (r != NULL)
            return r;
        do {
            char buf[READ_CHUNK], why[600];
            ssize_t n = rtransport_read(c->tp, buf, sizeof buf, why, sizeof why);
            if (n < 0) {
                if (c->first_byte < 0 && !c->url.is_unix && !rtransport_is_tls(c->tp))
                    snprintf(why + strlen(why), sizeof why - strlen(why), " (if this port speaks TLS, use rediss://)");
                set_io_error(c, err, errlen, what, why);
                return NULL;
            }
            if (c->first_byte < 0)
                c->first_byte = (unsigned char)buf[0];
            if (redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK) {
                set_io_error(c, err, errlen, what, "out of memory");
                return NULL;
            }
        } while (rtransport_pending(c->tp));
    }
}

/* Writes n in decimal at p (room for NUMFMT_INTEGER_MAX); returns the end. */
static char *put_decimal(char *p, size_t n)
{
    return p + numfmt_integer((long long)n, p);
}

/* Each number is counted at NUMFMT_INTEGER_MAX, the room put_decimal's
 * numfmt_integer is promised, though it writes at most 20 characters and
 * a NUL. */
size_t rconn_resp_bound(int argc, const char **argv, const size_t *lens)
{
    size_t need = 1 + NUMFMT_INTEGER_MAX + 2;
    for (int i = 0; i < argc; i++)
        need += 1 + NUMFMT_INTEGER_MAX + 2 + (lens ? lens[i] : strlen(argv[i])) + 2;
    return need;
}

char *rconn_resp_write(char *p, int argc, const char **argv, const size_t *lens)
{
    *p++ = '*';
    p = put_decimal(p, (size_t)argc);
    *p++ = '\r';
    *p++ = '\n';
    for (int i = 0; i < argc; i++) {
        size_t len = lens ? lens[i] : strlen(argv[i]);
        *p++ = '$';
        p = put_decimal(p, len);
        *p++ = '\r';
        *p++ = '\n';
        memcpy(p, argv[i], len);
        p += len;
        *p++ = '\r';
        *p++ = '\n';
    }
    return p;
}

/* Queues a command given as argv, written straight into obuf
 * (rconn_resp_write): hiredis' formatter built it in a string of its own
 * first, a tenth of a worker's time per no-op job. 0, or -1 when out of
 * memory. */
static int append_argv(rconn_t *c, int argc, const char **argv, const size_t *lens)
{
    if (obuf_reserve(c, rconn_resp_bound(argc, argv, lens)) != 0)
        return -1;
    c->olen = (size_t)(rconn_resp_write(c->obuf + c->olen, argc, argv, lens) - c->obuf);
    return 0;
}

/* One command and its reply, without reading sent commands' replies
 * first (connect uses it before anything was sent). */
static redisReply *command_argv(rconn_t *c, int argc, const char **argv, const size_t *lens, char *err,
                                size_t errlen)
{
    if (append_argv(c, argc, argv, lens) != 0) {
        snprintf(err, errlen, "cannot format the Redis command %s (out of memory)", argc > 0 ? argv[0] : "");
        return NULL;
    }
    return read_reply(c, "command failed", err, errlen);
}

/* The first two words of the command queued at obuf[at...] ("GET key",
 * "FCALL tickq_p1_enqueue"), for rconn_fail_on_noperm's message; "" when
 * that rule is off. Reads the RESP array queued there (rconn_resp_write's,
 * or hiredis' for rconn_cmd). */
static void command_words(const rconn_t *c, size_t at, char *out, size_t outlen)
{
    out[0] = '\0';
    if (!c->noperm_fails)
        return;
    const char *p = c->obuf + at, *end = c->obuf + c->olen;
    p = memchr(p, '\n', (size_t)(end - p)); /* past "*N\r\n" */
    for (int word = 0; word < 2 && p != NULL && p + 1 < end && p[1] == '$'; word++) {
        char *next;
        long n = strtol(p + 2, &next, 10);
        if (n < 0 || next + 2 + n > end)
            return;
        size_t used = strlen(out);
        snprintf(out + used, outlen - used, "%s%.*s", word ? " " : "", (int)(n < 64 ? n : 64), next + 2);
        p = next + 2 + n + 1; /* at the '\n' after the word */
    }
}

/* rconn_fail_on_noperm's rule, applied to what a public call returns:
 * `what` names the command ("" when unknown). */
static redisReply *checked(rconn_t *c, redisReply *r, const char *what, char *err, size_t errlen)
{
    if (!c->noperm_fails || !rconn_reply_is_noperm(r))
        return r;
    snprintf(err, errlen, "Redis refused %s%sfor this user (ACL): %s; give tickq's Redis user the rule in "
             "docs/production-redis.md", what, what[0] ? " " : "", r->str);
    freeReplyObject(r);
    c->broken = 1;
    return NULL;
}

static void drop_stream(rconn_t *c)
{
    rtransport_free(c->tp);
    c->tp = NULL;
    if (c->reader != NULL)
        redisReaderFree(c->reader);
    c->reader = NULL;
    c->olen = 0;
}

/* Opens the stream and runs AUTH and SELECT. */
static int connect_stream(rconn_t *c, char *err, size_t errlen)
{
    const redis_url_t *u = &c->url;
    char where[4400], why[1200];
    redisReply *r = NULL;
    redis_url_describe(u, where, sizeof where);
    c->tp = rtransport_connect(u, c->tls, c->timeout_ms, why, sizeof why);
    if (c->tp == NULL) {
        snprintf(err, errlen, "cannot connect to Redis at %s: %s", where, why);
        return -1;
    }
    c->reader = redisReaderCreate();
    if (c->reader == NULL) {
        snprintf(err, errlen, "cannot connect to Redis at %s: out of memory", where);
        goto fail;
    }
    c->broken = 0;
    c->inflight = 0;
    c->first_byte = -1;

    if (c->tls != NULL) {
        /* A first round trip: it takes in what the server sends after the
         * handshake (TLS 1.3 session tickets), so that a later poll() on the
         * socket means a reply, and it meets a refused client certificate
         * (TLS 1.3 refuses it after the handshake) as a connect error. The
         * reply itself (PONG, or NOAUTH before AUTH) does not matter. */
        const char *ping[] = { "PING" };
        r = command_argv(c, 1, ping, NULL, why, sizeof why);
        if (r == NULL) {
            snprintf(err, errlen, "cannot connect to Redis at %s: %s", where, why);
            goto fail;
        }
        freeReplyObject(r);
        r = NULL;
    }
    if (u->password[0]) {
        const char *auth[] = { "AUTH", u->user, u->password };
        r = u->user[0] ? command_argv(c, 3, auth, NULL, why, sizeof why)
                       : command_argv(c, 2, (const char *[]){ "AUTH", u->password }, NULL, why, sizeof why);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "Redis at %s refused the credentials: %s", where, r ? r->str : why);
            goto fail;
        }
        freeReplyObject(r);
        r = NULL;
    }
    if (u->db != 0) {
        char db[16];
        snprintf(db, sizeof db, "%d", u->db);
        r = command_argv(c, 2, (const char *[]){ "SELECT", db }, NULL, why, sizeof why);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "Redis at %s cannot select database %d: %s", where, u->db, r ? r->str : why);
            goto fail;
        }
        freeReplyObject(r);
        r = NULL;
    }
    if (c->name[0]) {
        r = command_argv(c, 3, (const char *[]){ "CLIENT", "SETNAME", c->name }, NULL, why, sizeof why);
        if (r == NULL) {
            snprintf(err, errlen, "cannot connect to Redis at %s: %s", where, why);
            goto fail;
        }
        freeReplyObject(r); /* a refusal (ACL) only costs the name */
    }
    return 0;
fail:
    freeReplyObject(r);
    drop_stream(c);
    c->broken = 1;
    return -1;
}

rconn_t *rconn_open(const redis_url_t *url, int timeout_ms, char *err, size_t errlen)
{
    rconn_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->url = *url;
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    if (url->tls.enabled && (c->tls = rtls_new(&url->tls, err, errlen)) == NULL) {
        free(c);
        return NULL;
    }
    if (connect_stream(c, err, errlen) != 0) {
        rconn_free(c);
        return NULL;
    }
    return c;
}

void rconn_free(rconn_t *c)
{
    if (c == NULL)
        return;
    drop_stream(c);
    rtls_free(c->tls);
    free(c->obuf);
    free(c);
}

void rconn_set_name(rconn_t *c, const char *name)
{
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof c->name; i++) {
        char ch = name[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || ch == '.' || ch == ':' || ch == '-';
        c->name[i] = ok ? ch : '_';
    }
    c->name[i] = '\0';
    char err[256];
    /* Not rconn_argv: a refusal (ACL) only costs the name, even under
     * rconn_fail_on_noperm. */
    if (!rconn_broken(c) && rconn_drain(c, err, sizeof err) == 0)
        freeReplyObject(command_argv(c, 3, (const char *[]){ "CLIENT", "SETNAME", c->name }, NULL, err, sizeof err));
}

int rconn_reconnect(rconn_t *c, char *err, size_t errlen)
{
    drop_stream(c);
    c->broken = 1;
    return connect_stream(c, err, errlen);
}

int rconn_broken(const rconn_t *c) { return c->broken || c->tp == NULL; }
int rconn_timeout(const rconn_t *c) { return c->timeout_ms; }

int rconn_set_timeout(rconn_t *c, int timeout_ms)
{
    if (c->tp == NULL)
        return -1;
    return rtransport_set_timeout(c->tp, timeout_ms);
}

int rconn_drain(rconn_t *c, char *err, size_t errlen)
{
    while (c->inflight > 0) {
        if (rconn_broken(c)) {
            snprintf(err, errlen, "Redis connection is down");
            return -1;
        }
        redisReply *reply = read_reply(c, "read failed", err, errlen);
        if (reply == NULL)
            return -1;
        c->inflight--;
        if (reply->type == REDIS_REPLY_ERROR)
            snprintf(c->deferred_error, sizeof c->deferred_error, "%s", reply->str);
        freeReplyObject(reply);
    }
    return 0;
}

const char *rconn_deferred_error(rconn_t *c)
{
    if (c->deferred_error[0] == '\0')
        return NULL;
    memcpy(c->deferred_out, c->deferred_error, sizeof c->deferred_out);
    c->deferred_error[0] = '\0';
    return c->deferred_out;
}

int rconn_fd(const rconn_t *c)
{
    return c->tp != NULL ? rtransport_fd(c->tp) : -1;
}

int rconn_send_argv(rconn_t *c, int argc, const char **argv, const size_t *lens)
{
    if (rconn_broken(c) || append_argv(c, argc, argv, lens) != 0 || flush(c, NULL, 0) != 0)
        return -1;
    c->inflight++;
    return 0;
}

redisReply *rconn_argv(rconn_t *c, int argc, const char **argv, const size_t *lens,
                       char *err, size_t errlen)
{
    if (rconn_broken(c)) {
        snprintf(err, errlen, "Redis connection is down");
        return NULL;
    }
    if (rconn_drain(c, err, errlen) != 0)
        return NULL;
    size_t at = c->olen;
    if (append_argv(c, argc, argv, lens) != 0) {
        snprintf(err, errlen, "cannot format the Redis command %s (out of memory)", argc > 0 ? argv[0] : "");
        return NULL;
    }
    char what[160];
    command_words(c, at, what, sizeof what);
    return checked(c, read_reply(c, "command failed", err, errlen), what, err, errlen);
}

redisReply *rconn_cmd(rconn_t *c, char *err, size_t errlen, const char *fmt, ...)
{
    if (rconn_broken(c)) {
        snprintf(err, errlen, "Redis connection is down");
        return NULL;
    }
    if (rconn_drain(c, err, errlen) != 0)
        return NULL;
    char *cmd = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    if (len < 0) {
        snprintf(err, errlen, "bad Redis command format '%s'", fmt);
        return NULL;
    }
    size_t at = c->olen;
    int rc = obuf_add(c, cmd, (size_t)len);
    redisFreeCommand(cmd);
    if (rc != 0) {
        snprintf(err, errlen, "cannot format the Redis command (out of memory)");
        return NULL;
    }
    char what[160];
    command_words(c, at, what, sizeof what);
    return checked(c, read_reply(c, "command failed", err, errlen), what, err, errlen);
}

int rconn_append_argv(rconn_t *c, int argc, const char **argv, const size_t *lens)
{
    char err[256];
    if (rconn_broken(c) || rconn_drain(c, err, sizeof err) != 0)
        return -1;
    return append_argv(c, argc, argv, lens);
}

redisReply *rconn_read(rconn_t *c, char *err, size_t errlen)
{
    if (rconn_broken(c)) {
        snprintf(err, errlen, "Redis connection is down");
        return NULL;
    }
    return checked(c, read_reply(c, "read failed", err, errlen), "", err, errlen);
}

void rconn_fail_on_noperm(rconn_t *c) { c->noperm_fails = 1; }

int rconn_reply_is_noperm(const redisReply *r)
{
    return rconn_reply_is_error(r, "NOPERM") ||
           (r != NULL && r->type == REDIS_REPLY_ERROR && r->str != NULL &&
            strstr(r->str, "The user executing the script can't") != NULL);
}

long long rconn_reply_integer(const redisReply *r)
{
    if (r == NULL)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING)
        return strtoll(r->str, NULL, 10);
    return 0;
}

int rconn_reply_is_error(const redisReply *r, const char *prefix)
{
    return r != NULL && r->type == REDIS_REPLY_ERROR && r->str != NULL &&
           strncmp(r->str, prefix, strlen(prefix)) == 0;
}

int rconn_reply_is_oom(const redisReply *r)
{
    return rconn_reply_is_error(r, "OOM ");
}

/* The value of `field` in INFO text ("field:value\r\n") into out; 0 or -1. */
static int info_field(const char *info, const char *field, char *out, size_t outlen)
{
    size_t n = strlen(field);
    for (const char *p = info; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, field, n) == 0 && p[n] == ':') {
            size_t len = strcspn(p + n + 1, "\r\n");
            snprintf(out, outlen, "%.*s", (int)len, p + n + 1);
            return 0;
        }
    }
    return -1;
}

/* CONFIG GET `name` into out; 0, or -1 when refused or absent. */
static int config_value(rconn_t *c, const char *name, char *out, size_t outlen)
{
    char err[256];
    redisReply *r = rconn_cmd(c, err, sizeof err, "CONFIG GET %s", name);
    int ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
             r->element[1]->str != NULL;
    if (ok)
        snprintf(out, outlen, "%s", r->element[1]->str);
    freeReplyObject(r);
    return ok ? 0 : -1;
}

void rconn_describe_memory(rconn_t *c, char *out, size_t outlen)
{
    char err[256], used[64] = "", max[64] = "", policy[64] = "";
    redisReply *r = rconn_cmd(c, err, sizeof err, "INFO memory");
    if (r != NULL && r->type == REDIS_REPLY_STRING &&
        info_field(r->str, "used_memory_human", used, sizeof used) == 0 &&
        info_field(r->str, "maxmemory_human", max, sizeof max) == 0 &&
        info_field(r->str, "maxmemory_policy", policy, sizeof policy) == 0) {
        freeReplyObject(r);
        snprintf(out, outlen, "used memory %s, maxmemory %s, maxmemory-policy %s", used, max, policy);
        return;
    }
    freeReplyObject(r);
    /* INFO may be denied to this user (ACL) while CONFIG GET is not, or both. */
    if (config_value(c, "maxmemory", max, sizeof max) == 0 &&
        config_value(c, "maxmemory-policy", policy, sizeof policy) == 0) {
        snprintf(out, outlen, "maxmemory %s bytes, maxmemory-policy %s; used memory unknown (INFO is not "
                 "allowed for this Redis user)", max, policy);
        return;
    }
    snprintf(out, outlen, "memory figures unknown: INFO and CONFIG GET are not allowed for this Redis user");
}

/* FUNCTION LOAD REPLACE: NULL on an I/O error (err), else Redis's reply. */
static redisReply *library_load_reply(rconn_t *c, rlibrary_t *lib, char *err, size_t errlen)
{
    const char *argv[4] = { "FUNCTION", "LOAD", "REPLACE", lib->code };
    redisReply *r = rconn_argv(c, 4, argv, NULL, err, errlen);
    if (r != NULL && r->type != REDIS_REPLY_ERROR)
        lib->loaded = 1;
    return r;
}

int rconn_library_load(rconn_t *c, rlibrary_t *lib, char *err, size_t errlen)
{
    redisReply *r = library_load_reply(c, lib, err, errlen);
    if (r == NULL)
        return -1;
    int rc = 0;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "Redis refused tickq's function library %s: %s", lib->name, r->str);
        rc = rconn_reply_is_oom(r) ? RCONN_OOM : -1;
    }
    freeReplyObject(r);
    return rc;
}

/* Builds "FCALL fname nkeys args..." into caller arrays of size argc + 3. */
static void fcall_argv(const char *fname, int nkeys, int argc, const char **argv,
                       const size_t *lens, const char **av, size_t *al, char *nbuf)
{
    snprintf(nbuf, 16, "%d", nkeys);
    av[0] = "FCALL"; al[0] = 5;
    av[1] = fname;   al[1] = strlen(fname);
    av[2] = nbuf;    al[2] = strlen(nbuf);
    for (int i = 0; i < argc; i++) {
        av[i + 3] = argv[i];
        al[i + 3] = lens ? lens[i] : strlen(argv[i]);
    }
}

/* Appends (send = 0) or sends (send = 1) an FCALL. */
static int write_fcall(rconn_t *c, int send, const char *fname, int nkeys, int argc,
                       const char **argv, const size_t *lens)
{
    if (argc + 3 > RCONN_FCALL_ARGS_MAX)
        return -1;
    const char *av[RCONN_FCALL_ARGS_MAX];
    size_t al[RCONN_FCALL_ARGS_MAX];
    char nbuf[16];
    fcall_argv(fname, nkeys, argc, argv, lens, av, al, nbuf);
    return send ? rconn_send_argv(c, argc + 3, av, al) : rconn_append_argv(c, argc + 3, av, al);
}

int rconn_append_fcall(rconn_t *c, const char *fname, int nkeys, int argc,
                       const char **argv, const size_t *lens)
{
    return write_fcall(c, 0, fname, nkeys, argc, argv, lens);
}

int rconn_send_fcall(rconn_t *c, const char *fname, int nkeys, int argc,
                     const char **argv, const size_t *lens)
{
    return write_fcall(c, 1, fname, nkeys, argc, argv, lens);
}

static int function_missing(const redisReply *r)
{
    return r != NULL && r->type == REDIS_REPLY_ERROR && r->str != NULL &&
           strstr(r->str, "Function not found") != NULL;
}

redisReply *rconn_fcall(rconn_t *c, rlibrary_t *lib, const char *fname, int nkeys, int argc,
                        const char **argv, const size_t *lens, char *err, size_t errlen)
{
    if (argc + 3 > RCONN_FCALL_ARGS_MAX) {
        snprintf(err, errlen, "too many arguments for %s (%d)", fname, argc);
        return NULL;
    }
    if (!lib->loaded) {
        redisReply *r = library_load_reply(c, lib, err, errlen);
        if (r == NULL || r->type == REDIS_REPLY_ERROR)
            return r; /* a refused load answers for the call */
        freeReplyObject(r);
    }
    const char *av[RCONN_FCALL_ARGS_MAX];
    size_t al[RCONN_FCALL_ARGS_MAX];
    char nbuf[16];
    fcall_argv(fname, nkeys, argc, argv, lens, av, al, nbuf);
    redisReply *r = rconn_argv(c, argc + 3, av, al, err, errlen);
    if (function_missing(r)) {
        freeReplyObject(r);
        r = library_load_reply(c, lib, err, errlen);
        if (r == NULL || r->type == REDIS_REPLY_ERROR)
            return r;
        freeReplyObject(r);
        r = rconn_argv(c, argc + 3, av, al, err, errlen);
    }
    return r;
}
