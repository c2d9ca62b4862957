/* stream_info.c — a queue stream's state from Redis replies
 * (stream_info.h). */
#include "core/stream_info.h"

#include <stdlib.h>
#include <string.h>

#include "core/rconn.h"

const redisReply *stream_reply_field(const redisReply *pairs, const char *name)
{
    for (size_t j = 0; pairs != NULL && pairs->type == REDIS_REPLY_ARRAY && j + 1 < pairs->elements; j += 2)
        if (pairs->element[j]->type == REDIS_REPLY_STRING && strcmp(pairs->element[j]->str, name) == 0)
            return pairs->element[j + 1];
    return NULL;
}

const redisReply *stream_group_of(const redisReply *groups, const char *group)
{
    for (size_t i = 0; groups != NULL && groups->type == REDIS_REPLY_ARRAY && i < groups->elements; i++) {
        const redisReply *name = stream_reply_field(groups->element[i], "name");
        if (name != NULL && name->type == REDIS_REPLY_STRING && strcmp(name->str, group) == 0)
            return groups->element[i];
    }
    return NULL;
}

long long stream_ready(const redisReply *group, long long length)
{
    const redisReply *lag = stream_reply_field(group, "lag");
    long long ready = lag != NULL && lag->type == REDIS_REPLY_INTEGER
                          ? lag->integer
                          : length - rconn_reply_integer(stream_reply_field(group, "pending"));
    return ready > 0 ? ready : 0;
}

int64_t stream_id_ms(const char *id)
{
    return (int64_t)strtoull(id, NULL, 10);
}

const char *stream_first_id(const redisReply *r)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0)
        return NULL;
    const redisReply *e = r->element[0];
    if (e->type != REDIS_REPLY_ARRAY || e->elements == 0 || e->element[0]->type != REDIS_REPLY_STRING)
        return NULL;
    return e->element[0]->str;
}
