/* option_kind.h — the kind of an option contract, call or put, and how the
 * database stores it (the text "call" or "put" in option_quotes.type and
 * option_iv.type). The pricing (options/option_pricing.h) and the storage
 * (db.h) share it; it lives here, below both. */
#ifndef TICKQ_OPTION_KIND_H
#define TICKQ_OPTION_KIND_H

typedef enum { OPTION_CALL, OPTION_PUT } option_kind_t;

/* "call" or "put". */
const char *option_kind_name(option_kind_t kind);

/* The kind a stored type names: "put" is a put, anything else (NULL too) a
 * call. */
option_kind_t option_kind_stored(const char *type);

#endif
