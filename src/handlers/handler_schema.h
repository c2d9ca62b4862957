/* handler_schema.h — the argument schemas a handler may announce: its
 * "schema" in the hello message, turned into the same tables built-in tasks
 * declare (core/task_schema.h), so that a handler type's args are checked
 * before the handler sees them and `tickq tasks TYPE` can list them.
 *
 * The announced form, per task type, is a list of arguments:
 *   {"name": "day", "type": "date", "required": true, "doc": "the trading day"}
 *   {"name": "format", "type": "enum", "choices": ["pdf", "html"], "default": "pdf", "doc": "..."}
 *   {"name": "top", "type": "integer", "min": 1, "max": 100, "default": 10, "doc": "..."}
 * with the keys name, type (boolean, integer, number, string, enum, date,
 * time, list, object), doc, and optionally required, default (a value of
 * the type, in range), min and max (integer, number; list: entries;
 * string: max bytes), choices (enum). Anything else is refused, naming it.
 * A type it gives no schema for keeps its args unchecked. */
#ifndef TICKQ_HANDLER_SCHEMA_H
#define TICKQ_HANDLER_SCHEMA_H

#include <jansson.h>
#include <stddef.h>

#include "core/task_schema.h"

#define HANDLER_SCHEMA_MAX_ARGS 64

typedef struct handler_schema handler_schema_t;

/* Parses an announcement's "schema" object (types named in it must be in
 * `types`, the announced list). The new schema, or NULL with err naming the
 * type and argument at fault. */
handler_schema_t *handler_schema_parse(const json_t *schema, const json_t *types, char *err, size_t errlen);
void handler_schema_free(handler_schema_t *s);

/* The table for `type` (ending with a NULL name), or NULL when the handler
 * announced none for it. Valid until handler_schema_free. */
const task_arg_t *handler_schema_table(const handler_schema_t *s, const char *type);

#endif
