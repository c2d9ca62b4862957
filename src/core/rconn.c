/* rconn.c — one Redis connection: connect by URL, AUTH/SELECT, timeouts,
 * commands, and calls into a Redis function library (FCALL). */
#include "core/rconn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

struct rconn {
    redisContext *ctx;
    redis_url_t url;
    int timeout_ms;
    int broken;
    int inflight;                /* sent commands whose replies are unread */
    char name[128];              /* CLIENT SETNAME, "" for none */
    char deferred_error[512];
    char deferred_out[512];
};

static struct timeval ms_to_tv(int ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    return tv;
}

static void set_io_error(rconn_t *c, char *err, size_t errlen, const char *what)
{
    c->broken = 1;
    if (err != NULL)
        snprintf(err, errlen, "Redis %s: %s", what,
                 c->ctx && c->ctx->errstr[0] ? c->ctx->errstr : "connection lost");
}

/* Opens the socket and runs AUTH and SELECT. */
static int connect_ctx(rconn_t *c, char *err, size_t errlen)
{
    struct timeval tv = ms_to_tv(c->timeout_ms);
    const redis_url_t *u = &c->url;
    redisContext *ctx = u->is_unix ? redisConnectUnixWithTimeout(u->path, tv)
                                   : redisConnectWithTimeout(u->host, u->port, tv);
    char where[4400];
    redis_url_describe(u, where, sizeof where);
    if (ctx == NULL) {
        snprintf(err, errlen, "cannot connect to Redis at %s: out of memory", where);
        return -1;
    }
    if (ctx->err) {
        snprintf(err, errlen, "cannot connect to Redis at %s: %s", where, ctx->errstr);
        redisFree(ctx);
        return -1;
    }
    redisSetTimeout(ctx, tv);
    if (!u->is_unix)
        redisEnableKeepAlive(ctx);

    redisReply *r = NULL;
    if (u->password[0] && u->user[0])
        r = redisCommand(ctx, "AUTH %s %s", u->user, u->password);
    else if (u->password[0])
        r = redisCommand(ctx, "AUTH %s", u->password);
    if (u->password[0] && (r == NULL || r->type == REDIS_REPLY_ERROR)) {
        snprintf(err, errlen, "Redis at %s refused the credentials: %s", where,
                 r ? r->str : ctx->errstr);
        goto fail;
    }
    freeReplyObject(r);
    r = NULL;
    if (u->db != 0) {
        r = redisCommand(ctx, "SELECT %d", u->db);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "Redis at %s cannot select database %d: %s", where, u->db,
                     r ? r->str : ctx->errstr);
            goto fail;
        }
        freeReplyObject(r);
    }
    if (c->name[0]) {
        r = redisCommand(ctx, "CLIENT SETNAME %s", c->name);
        freeReplyObject(r); /* a refusal (ACL) only costs the name */
    }
    c->ctx = ctx;
    c->broken = 0;
    c->inflight = 0;
    return 0;
fail:
    freeReplyObject(r);
    redisFree(ctx);
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
    if (connect_ctx(c, err, errlen) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

void rconn_free(rconn_t *c)
{
    if (c == NULL)
        return;
    if (c->ctx)
        redisFree(c->ctx);
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
    if (c->ctx != NULL && !c->broken)
        freeReplyObject(redisCommand(c->ctx, "CLIENT SETNAME %s", c->name));
}

int rconn_reconnect(rconn_t *c, char *err, size_t errlen)
{
    if (c->ctx) {
        redisFree(c->ctx);
        c->ctx = NULL;
    }
    c->broken = 1;
    return connect_ctx(c, err, errlen);
}

int rconn_broken(const rconn_t *c) { return c->broken || c->ctx == NULL; }
int rconn_timeout(const rconn_t *c) { return c->timeout_ms; }

int rconn_set_timeout(rconn_t *c, int timeout_ms)
{
    if (c->ctx == NULL)
        return -1;
    return redisSetTimeout(c->ctx, ms_to_tv(timeout_ms)) == REDIS_OK ? 0 : -1;
}

int rconn_drain(rconn_t *c, char *err, size_t errlen)
{
    while (c->inflight > 0) {
        if (rconn_broken(c)) {
            snprintf(err, errlen, "Redis connection is down");
            return -1;
        }
        void *r = NULL;
        if (redisGetReply(c->ctx, &r) != REDIS_OK || r == NULL) {
            set_io_error(c, err, errlen, "read failed");
            return -1;
        }
        c->inflight--;
        redisReply *reply = r;
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
    return c->ctx != NULL ? c->ctx->fd : -1;
}

int rconn_send_argv(rconn_t *c, int argc, const char **argv, const size_t *lens)
{
    if (rconn_broken(c) || redisAppendCommandArgv(c->ctx, argc, argv, lens) != REDIS_OK)
        return -1;
    int done = 0;
    while (!done) {
        if (redisBufferWrite(c->ctx, &done) != REDIS_OK) {
            set_io_error(c, NULL, 0, "write failed");
            return -1;
        }
    }
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
    redisReply *r = redisCommandArgv(c->ctx, argc, argv, lens);
    if (r == NULL)
        set_io_error(c, err, errlen, "command failed");
    return r;
}

redisReply *rconn_cmd(rconn_t *c, char *err, size_t errlen, const char *fmt, ...)
{
    if (rconn_broken(c)) {
        snprintf(err, errlen, "Redis connection is down");
        return NULL;
    }
    if (rconn_drain(c, err, errlen) != 0)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c->ctx, fmt, ap);
    va_end(ap);
    if (r == NULL)
        set_io_error(c, err, errlen, "command failed");
    return r;
}

int rconn_append_argv(rconn_t *c, int argc, const char **argv, const size_t *lens)
{
    char err[256];
    if (rconn_broken(c) || rconn_drain(c, err, sizeof err) != 0)
        return -1;
    return redisAppendCommandArgv(c->ctx, argc, argv, lens) == REDIS_OK ? 0 : -1;
}

redisReply *rconn_read(rconn_t *c, char *err, size_t errlen)
{
    if (rconn_broken(c)) {
        snprintf(err, errlen, "Redis connection is down");
        return NULL;
    }
    void *r = NULL;
    if (redisGetReply(c->ctx, &r) != REDIS_OK || r == NULL) {
        set_io_error(c, err, errlen, "read failed");
        return NULL;
    }
    return r;
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
