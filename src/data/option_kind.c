/* option_kind.c — call or put, as named and as stored (option_kind.h). */
#include "data/option_kind.h"

#include <string.h>

const char *option_kind_name(option_kind_t kind)
{
    return kind == OPTION_CALL ? "call" : "put";
}

option_kind_t option_kind_stored(const char *type)
{
    return type != NULL && strcmp(type, "put") == 0 ? OPTION_PUT : OPTION_CALL;
}
