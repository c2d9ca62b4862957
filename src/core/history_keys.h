/* history_keys.h — the Redis names of the job history streams.
 *
 * The queue's Redis functions append job history rows to a database's
 * history stream (src/lua/common.lua, flush_history); the history process
 * (data/history_process.h) reads it, `tickq stats` reports its backlog. The
 * keys they share are named here, below all three. */
#ifndef TICKQ_HISTORY_KEYS_H
#define TICKQ_HISTORY_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define HISTORY_GROUP "history"   /* the history processes' consumer group */
#define HISTORY_KEY_MAX 128       /* a history stream's key, with its NUL */

/* <stream>:state, the stream's backlog counters: `waiting` (rows appended,
 * not yet acknowledged), `dropped` (rows deleted unwritten because the
 * backlog passed `cap`), `refused` (rows the database refused for their
 * data, skipped), `cap`, and `database` (which one it is). */
void history_state_key(const char *stream, char *out, size_t outlen);

/* A database's history stream, <prefix>:history:<16 hex digits of the
 * database's identity hash> (data/history.h, history_stream_key). */
void history_stream_name(const char *prefix, uint64_t identity_hash, char *out, size_t outlen);

/* The set of every history stream (<prefix>:histories), for tickq stats. */
void history_streams_key(const char *prefix, char *out, size_t outlen);

#endif
