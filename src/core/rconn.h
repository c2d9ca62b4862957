/* rconn.h — one Redis connection: connect by URL, AUTH/SELECT, timeouts,
 * commands, and calls into a Redis function library (FCALL). Plain text or
 * TLS (rediss://), one code path: core/rtransport.h moves the bytes.
 *
 * Replies are hiredis redisReply objects owned by the caller, who frees each
 * right after use (freeReplyObject). A NULL reply means an I/O or protocol
 * error: the message is in err and the connection must be reopened
 * (rconn_reconnect) before further use. Error *replies* from Redis come back
 * as REDIS_REPLY_ERROR replies, not NULL. */
#ifndef TICKQ_RCONN_H
#define TICKQ_RCONN_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "core/redis_url.h"

typedef struct rconn rconn_t;

/* A Redis function library (FUNCTION LOAD), loaded on first use and again
 * when the server has lost it (a restart without persistence). */
typedef struct {
    const char *name;        /* for messages */
    const char *code;        /* starts with "#!lua name=..." */
    int loaded;              /* this process loaded it once */
} rlibrary_t;

/* Connects (with `timeout_ms` for connect and each command), authenticates
 * and selects the database. Returns NULL with a message in err on failure. */
rconn_t *rconn_open(const redis_url_t *url, int timeout_ms, char *err, size_t errlen);
void rconn_free(rconn_t *c);
/* Names the connection (CLIENT SETNAME, shown by CLIENT LIST), now and on
 * every reconnect; characters other than [A-Za-z0-9_.:-] become '_'. */
void rconn_set_name(rconn_t *c, const char *name);
/* Drops the socket and connects again with the same settings; 0 or -1. */
int rconn_reconnect(rconn_t *c, char *err, size_t errlen);
/* 1 after an I/O error, until a successful reconnect. */
int rconn_broken(const rconn_t *c);
/* Changes the per-command timeout (e.g. around a blocking XREAD). */
int rconn_set_timeout(rconn_t *c, int timeout_ms);
int rconn_timeout(const rconn_t *c);
/* The socket, for poll() while a sent command's reply is awaited. Over TLS
 * too: reads leave no decrypted byte inside OpenSSL (core/rtransport.h),
 * and connect takes in what a TLS server sends after the handshake, so the
 * socket turns readable when the reply comes. */
int rconn_fd(const rconn_t *c);

/* Runs one command given as argv; lens may be NULL for C strings. */
redisReply *rconn_argv(rconn_t *c, int argc, const char **argv, const size_t *lens,
                       char *err, size_t errlen);
/* Runs one printf-style hiredis command (%s, %b, %d ...). */
redisReply *rconn_cmd(rconn_t *c, char *err, size_t errlen, const char *fmt, ...);

/* Fire and forget: sends a command now without waiting for its reply. The
 * reply is read before the connection's next command (or by rconn_drain);
 * an error reply is kept for rconn_deferred_error(). */
int rconn_send_argv(rconn_t *c, int argc, const char **argv, const size_t *lens);
/* Reads the replies of sent commands; 0, or -1 on an I/O error. */
int rconn_drain(rconn_t *c, char *err, size_t errlen);
/* The text of the last error reply to a sent command, or NULL; clears it.
 * The string stays valid until the next call. */
const char *rconn_deferred_error(rconn_t *c);

/* A command as Redis reads it: a RESP array of bulk strings, "*<argc>\r\n"
 * then "$<len>\r\n<bytes>\r\n" per argument (lens NULL: C strings).
 * rconn_resp_bound says how many bytes at most; rconn_resp_write writes
 * it at p and returns its end. */
size_t rconn_resp_bound(int argc, const char **argv, const size_t *lens);
char *rconn_resp_write(char *p, int argc, const char **argv, const size_t *lens);

/* Pipelining: append commands, then read their replies in order. */
int rconn_append_argv(rconn_t *c, int argc, const char **argv, const size_t *lens);
redisReply *rconn_read(rconn_t *c, char *err, size_t errlen);

/* The most arguments an FCALL may carry, its name and key count included:
 * rconn_fcall, rconn_append_fcall and rconn_send_fcall refuse more. */
#define RCONN_FCALL_ARGS_MAX 4096

/* Calls function `fname` of `lib` with nkeys keys and the rest as args,
 * loading the library first when needed (and again after "Function not
 * found"). When Redis refuses the load, its error reply is returned as the
 * call's. */
redisReply *rconn_fcall(rconn_t *c, rlibrary_t *lib, const char *fname, int nkeys, int argc,
                        const char **argv, const size_t *lens, char *err, size_t errlen);
/* Loads (replaces) the library on the server; 0, or -1 with err, or
 * RCONN_OOM with err when Redis refused it for lack of memory. */
int rconn_library_load(rconn_t *c, rlibrary_t *lib, char *err, size_t errlen);
#define RCONN_OOM (-2)
/* Appends an FCALL to the pipeline (load the library first). */
int rconn_append_fcall(rconn_t *c, const char *fname, int nkeys, int argc,
                       const char **argv, const size_t *lens);
/* Sends an FCALL without waiting (see rconn_send_argv; load the library first). */
int rconn_send_fcall(rconn_t *c, const char *fname, int nkeys, int argc,
                     const char **argv, const size_t *lens);

/* 1 when reply is Redis's ACL refusal: "NOPERM ..." (a command or key
 * this user may not use), or a function's command or key refused inside
 * the function ("The user executing the script can't ..."): the one test
 * of it. */
int rconn_reply_is_noperm(const redisReply *r);

/* From now on an ACL refusal (rconn_reply_is_noperm) of a command run by
 * rconn_argv, rconn_cmd, rconn_read or rconn_fcall is an error, not a
 * reply: NULL with err naming the refusal and the fix, the connection
 * marked broken. For one-shot commands, which would otherwise take a
 * refused read for "nothing there". */
void rconn_fail_on_noperm(rconn_t *c);

/* The integer in a reply (an integer reply or a numeric string), else 0. */
long long rconn_reply_integer(const redisReply *r);

/* 1 when reply is an error reply whose text starts with `prefix`. */
int rconn_reply_is_error(const redisReply *r, const char *prefix);

/* 1 when reply is Redis's refusal of a write for lack of memory ("OOM
 * command not allowed when used memory > 'maxmemory'"): the one test of it. */
int rconn_reply_is_oom(const redisReply *r);

/* Redis's memory for a message: "used memory 2.05M, maxmemory 2.00M,
 * maxmemory-policy noeviction" from INFO memory; when this user may not
 * run INFO, maxmemory and its policy from CONFIG GET; when neither, says
 * so. Costs a round trip or two: for error paths. */
void rconn_describe_memory(rconn_t *c, char *out, size_t outlen);

#endif
