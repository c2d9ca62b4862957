/* history.h — job history: from the Redis history stream to the database.
 *
 * The Redis functions that finish attempts (finish, release, reclaim)
 * append the rows of what they recorded to the history stream of the
 * caller's database, in the same atomic call (src/lua/common.lua,
 * flush_history). History processes (history_process.h) read the stream in
 * a consumer group, write the rows to the database, and only then
 * acknowledge and delete the entries (tickq_p1_history_ack). So:
 *
 *   (1) a row is in the stream exactly when Redis recorded what it
 *       describes: no process killed after the call can lose it;
 *   (2) an entry leaves the stream only once its rows are committed, or
 *       when the stream's backlog passes its cap (the rows are then counted
 *       as dropped, never lost silently); a row the database refuses (a
 *       value it cannot store) is skipped, logged and counted as refused,
 *       so that it never holds back the rows behind it;
 *   (3) an entry delivered twice (a history process killed after its commit,
 *       before its acknowledgement) writes nothing twice: the database keeps
 *       one row per job, run and attempt (db.h, migration 5).
 *
 * One stream per database: a host with its own SQLite file reads only the
 * rows of its own workers; hosts sharing a PostgreSQL database share its
 * stream, each entry going to one of their history processes. */
#ifndef TICKQ_HISTORY_H
#define TICKQ_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "data/db.h"
#include "core/history_keys.h"
#include "core/queue.h"
#include "core/rconn.h"

/* The identity of a database, which names its stream: SQLite "sqlite:" +
 * host + ":" + the absolute path; PostgreSQL the URL with its password
 * masked (db_locate's `where`), with "@" + host in front when the URL names
 * no host or a loopback one (then it is this host's server). */
void history_identity(db_kind_t kind, const char *where, const char *host, char *out, size_t outlen);

/* The history stream of the database that db_open(database_url,
 * sqlite_path) opens: <prefix>:history:<16 hex digits of a hash of its
 * identity>. `where` (may be NULL) gets db_locate's description. Returns 0,
 * or -1 with err and, unless failure is NULL, db_locate's failure in
 * *failure. */
int history_stream_key(const char *prefix, const char *database_url, const char *sqlite_path, char *out,
                       size_t outlen, char *where, size_t wherelen, db_failure_t *failure, char *err,
                       size_t errlen);

/* Records the stream's backlog cap and database in Redis and registers the
 * stream; creates the consumer group. 0, or -1 with err. */
int history_register(rconn_t *c, const char *prefix, const char *stream, long long cap, const char *where,
                     char *err, size_t errlen);

/* The rows dropped so far from `stream` (its state's `dropped`); -1 with err
 * when Redis does not answer. */
long long history_dropped(rconn_t *c, const char *stream, char *err, size_t errlen);

/* --- reading the stream (the history process) ----------------------- */

/* Entries read from the stream and their rows, which point into the
 * replies the batch keeps until it is cleared. */
typedef struct history_batch history_batch_t;

history_batch_t *history_batch_new(void);
void history_batch_free(history_batch_t *b);
void history_batch_clear(history_batch_t *b);
size_t history_batch_entries(const history_batch_t *b);
size_t history_batch_rows(const history_batch_t *b);
/* Rows that could not be decoded (not written by tickq) so far. */
unsigned long long history_batch_malformed(const history_batch_t *b);

typedef enum {
    HISTORY_READ_OWN,   /* entries delivered to `consumer` and not acknowledged */
    HISTORY_READ_NEW,   /* entries never delivered */
} history_read_t;

/* Reads up to `count` entries into b (blocking up to block_ms for new ones;
 * 0: not at all). Returns the number read, or -1 with err (an I/O error:
 * reconnect). */
int history_read(rconn_t *c, const char *stream, const char *consumer, history_read_t what, int count,
                 int64_t block_ms, history_batch_t *b, char *err, size_t errlen);

/* Takes over entries delivered to other consumers and not acknowledged for
 * min_idle_ms (their history process died) into b, and deletes consumers
 * that hold nothing and have been idle as long. Returns the number of
 * entries taken, or -1 with err. */
int history_claim_idle(rconn_t *c, const char *stream, const char *consumer, int64_t min_idle_ms, int count,
                       history_batch_t *b, char *err, size_t errlen);

/* A row the database refused (history_batch_write): a job row (retry
 * NULL) or a retry row (job NULL), and the database's error. */
typedef void (*history_refused_fn)(void *user, const history_rec_t *job, const retry_rec_t *retry,
                                   const char *error);

/* Writes the batch's rows in one transaction (rows already written are
 * skipped). When the database refuses a value (DB_REFUSED: writing it
 * again would fail the same way), the rows are written again in halves,
 * each in its own transaction, down to the rows it refuses one by one:
 * those are skipped, each told to `refused` (about 2 log2(rows)
 * transactions per refused row), and the rest written. When it refuses
 * every row of a batch of two or more, each alone, the cause is the
 * database's (its encoding, a constraint added by hand), not the rows':
 * nothing is skipped and it is -1. Returns the number of rows skipped, or
 * -1 with err when the database could not be written (the batch is kept). */
long long history_batch_write(db_t *db, const history_batch_t *b, history_refused_fn refused, void *user, char *err,
                              size_t errlen);

/* Adds n to the rows of `stream` its database refused (its state's
 * `refused`, tickq stats: history_refused). 0, or -1 with err. */
int history_count_refused(rconn_t *c, const char *stream, long long n, char *err, size_t errlen);

/* Acknowledges the batch's entries (after history_batch_write) and clears
 * it. 0, or -1 with err (the batch is kept). */
int history_batch_ack(queue_t *q, const char *stream, history_batch_t *b, char *err, size_t errlen);

/* The id of the stream's newest entry into out ("" when it is empty).
 * 0, or -1 with err. */
int history_last_id(rconn_t *c, const char *stream, char *out, size_t outlen, char *err, size_t errlen);

/* 1 when the batch holds an entry with an id at or after `id`. */
int history_batch_reaches(const history_batch_t *b, const char *id);

/* Deletes `consumer` from the group when it holds no entry. */
void history_retire(rconn_t *c, const char *stream, const char *consumer);

#endif
