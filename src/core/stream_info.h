/* stream_info.h — reading a queue stream's state from Redis replies: our
 * consumer group in XINFO GROUPS, the fields of a reply's name/value pairs,
 * how many entries are ready, the time in an entry id. One rule for `tickq
 * stats`, /metrics and the autoscaler's backlog. */
#ifndef TICKQ_STREAM_INFO_H
#define TICKQ_STREAM_INFO_H

#include <hiredis/hiredis.h>
#include <stdint.h>

/* The value of `name` in a reply of name/value pairs, or NULL. */
const redisReply *stream_reply_field(const redisReply *pairs, const char *name);

/* Our group's entry of an XINFO GROUPS reply (an error reply, when the
 * stream does not exist yet), or NULL. */
const redisReply *stream_group_of(const redisReply *groups, const char *group);

/* Entries not yet delivered to the group: its lag; when Redis cannot tell
 * the lag (after deletions ahead of the group) or there is no group,
 * length - pending (acked entries may linger until their node is trimmed,
 * so this may count up to one node of them). Never below 0. */
long long stream_ready(const redisReply *group, long long length);

/* The milliseconds of a stream entry id ("1700000000000-0"). */
int64_t stream_id_ms(const char *id);

/* The id of the first entry of an XRANGE reply, or NULL. */
const char *stream_first_id(const redisReply *r);

#endif
