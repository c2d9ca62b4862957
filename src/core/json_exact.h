/* json_exact.h — a jansson value as JSON text whose reals read back
 * exactly, in the fewest digits. jansson 2.14's json_dumps writes every
 * real with 17 significant digits ("%.17g"), so 0.1 comes out as
 * 0.10000000000000001 and a timeout of 100 ms as 0.10000000000000001
 * seconds; JSON_REAL_PRECISION(n) is one precision for the whole text,
 * too few digits for some value (a wrong number) or too many for another.
 * Here each real is written with its own fewest digits that strtod reads
 * back as the same double (numfmt_shortest): 0.1, 1.5, 0.30000000000000004.
 * The rest is jansson's text byte for byte: a whole real keeps its ".0"
 * (60.0, so it reads back as a real, not an integer), an exponent is
 * written as jansson writes it (1e-5, 1e21), and strings, integers and the
 * layout (JSON_INDENT(n), JSON_COMPACT) are jansson's own. */
#ifndef TICKQ_JSON_EXACT_H
#define TICKQ_JSON_EXACT_H

#include <jansson.h>
#include <stddef.h>

/* json_dumps(json, flags) with every real in its shortest exact text; the
 * caller frees it. flags: JSON_INDENT(n), JSON_COMPACT, JSON_ENSURE_ASCII,
 * JSON_ESCAPE_SLASH, JSON_ENCODE_ANY as for json_dumps; JSON_REAL_PRECISION
 * is ignored (each real has its own). NULL when out of memory, when json is
 * not an object or array without JSON_ENCODE_ANY, when flags hold
 * JSON_SORT_KEYS or JSON_EMBED (not supported), or when it nests deeper
 * than JSON_EXACT_MAX_DEPTH (as a value that holds itself does). */
char *json_exact_dumps(const json_t *json, size_t flags);

/* Deeper than any text json_loads reads (its limit is 2048). */
#define JSON_EXACT_MAX_DEPTH 4096

#endif
