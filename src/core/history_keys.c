/* history_keys.c — the Redis names of the job history streams. */
#include "core/history_keys.h"

#include <inttypes.h>
#include <stdio.h>

void history_state_key(const char *stream, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s:state", stream);
}

void history_stream_name(const char *prefix, uint64_t identity_hash, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s:history:%016" PRIx64, prefix, identity_hash);
}

void history_streams_key(const char *prefix, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s:histories", prefix);
}
