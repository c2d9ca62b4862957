/* history_keys.c — the Redis names of the job history streams. */
#include "core/history_keys.h"

#include <stdio.h>

void history_state_key(const char *stream, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s:state", stream);
}

void history_streams_key(const char *prefix, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s:histories", prefix);
}
