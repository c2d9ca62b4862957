/* handler_wire.c — encoding and strict decoding of handler messages
 * (handler_wire.h). */
#include "handlers/handler_wire.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errmsg.h"
#include "core/utf8.h"


/* Why Jansson refused a line, in the user's words. tickq's reader takes
 * less than JSON allows: no NUL in text, integers within 64 bits, each key
 * once in an object (and at most JSON_PARSER_MAX_DEPTH levels). */
static void refusal_text(const json_error_t *jerr, char *err, size_t errlen)
{
    switch (json_error_code(jerr)) {
    case json_error_null_character:
    case json_error_null_byte_in_key:
        snprintf(err, errlen, "a NUL character (\\u0000) in a %s at column %d: tickq takes text without NUL",
                 json_error_code(jerr) == json_error_null_byte_in_key ? "key" : "string", jerr->column);
        break;
    case json_error_numeric_overflow:
        snprintf(err, errlen, "a number out of range at column %d (%s): tickq takes integers from -2^63 to "
                 "2^63-1 and reals within a double's range", jerr->column, jerr->text);
        break;
    case json_error_duplicate_key:
        snprintf(err, errlen, "a key given twice in one object at column %d (%s)", jerr->column, jerr->text);
        break;
    default:
        snprintf(err, errlen, "not JSON (%s at column %d)", jerr->text, jerr->column);
    }
}

/* The "msg" of a decoded line in *kind: 0, or -1 with err when o is not an
 * object with one. */
static int message_kind(json_t *o, const char **kind, char *err, size_t errlen)
{
    if (!json_is_object(o)) {
        snprintf(err, errlen, "not a JSON object");
        return -1;
    }
    json_t *m = json_object_get(o, "msg");
    if (!json_is_string(m)) {
        snprintf(err, errlen, "no \"msg\" string naming the message's kind");
        return -1;
    }
    *kind = json_string_value(m);
    return 0;
}

/* Parses one line into an object; its "msg" in *kind. */
static json_t *parse_line(const char *line, size_t len, const char **kind, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (o == NULL) {
        refusal_text(&jerr, err, errlen);
        return NULL;
    }
    if (message_kind(o, kind, err, errlen) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Every key of o is one of the NULL-terminated `known`. */
static int keys_known(json_t *o, const char *const *known, const char *kind, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, key) == 0;
        if (!ok) {
            char list[200] = "";
            for (const char *const *k = known; *k; k++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k == known ? "" : ", ", *k);
            snprintf(err, errlen, "unknown key '%s' in a \"%s\" message (known: %s)", key, kind, list);
            return -1;
        }
    }
    return 0;
}

int handler_wire_hello(const char *line, size_t len, handler_hello_t *out, char *err, size_t errlen)
{
    static const char *const known[] = { "msg", "protocol", "types", "max_jobs", "schema", NULL };
    memset(out, 0, sizeof *out);
    const char *kind;
    json_t *o = parse_line(line, len, &kind, err, errlen);
    if (o == NULL)
        return -1;
    int rc = -1;
    json_t *p = json_object_get(o, "protocol"), *t = json_object_get(o, "types"), *mj = json_object_get(o, "max_jobs");
    if (strcmp(kind, "hello") != 0)
        snprintf(err, errlen, "the first message must be \"hello\" (the announcement), not \"%.40s\"", kind);
    else if (keys_known(o, known, "hello", err, errlen) != 0)
        ;
    else if (!json_is_integer(p) || json_integer_value(p) != HANDLER_PROTOCOL)
        snprintf(err, errlen, "\"protocol\" must be %d (this tickq speaks handler protocol %d)", HANDLER_PROTOCOL,
                 HANDLER_PROTOCOL);
    else if (!json_is_array(t) || json_array_size(t) == 0)
        snprintf(err, errlen, "\"types\" must be a non-empty list of task type names");
    else if (mj != NULL && (!json_is_integer(mj) || json_integer_value(mj) < 1 ||
                            json_integer_value(mj) > HANDLER_MAX_JOBS_LIMIT))
        snprintf(err, errlen, "\"max_jobs\" must be a whole number from 1 to %d", HANDLER_MAX_JOBS_LIMIT);
    else
        rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(t); i++)
        if (!json_is_string(json_array_get(t, i)) || json_string_length(json_array_get(t, i)) == 0) {
            snprintf(err, errlen, "\"types\" must hold only non-empty strings (item %zu is not one)", i);
            rc = -1;
        }
    json_t *schema = json_object_get(o, "schema");
    if (rc == 0 && schema != NULL && (out->schema = handler_schema_parse(schema, t, err, errlen)) == NULL)
        rc = -1;
    if (rc == 0) {
        out->types = json_incref(t);
        out->max_jobs = mj ? (int)json_integer_value(mj) : 1;
    }
    json_decref(o);
    return rc;
}

void handler_hello_clear(handler_hello_t *h)
{
    json_decref(h->types);
    h->types = NULL;
    handler_schema_free(h->schema);
    h->schema = NULL;
}

static int take_id(json_t *o, handler_msg_t *out, const char *kind, char *err, size_t errlen)
{
    json_t *id = json_object_get(o, "id");
    if (!json_is_string(id) || json_string_length(id) == 0) {
        snprintf(err, errlen, "a \"%s\" message needs the job's \"id\"", kind);
        return -1;
    }
    if (json_string_length(id) >= sizeof out->id) {
        snprintf(err, errlen, "a \"%s\" message's \"id\" is longer than any job id (%d characters)", kind,
                 JOB_ID_MAX);
        return -1;
    }
    snprintf(out->id, sizeof out->id, "%s", json_string_value(id));
    return 0;
}

/* Fills out from the message object o (kind-specific checks): 0, or -1
 * with err. */
static int decode_message(json_t *o, handler_msg_t *out, char *err, size_t errlen)
{
    static const char *const progress_keys[] = { "msg", "id", "fraction", "message", NULL };
    static const char *const result_keys[] = { "msg", "id", "data", NULL };
    static const char *const error_keys[] = { "msg", "id", "error", "retry", NULL };
    const char *kind;
    if (message_kind(o, &kind, err, errlen) != 0)
        return -1;
    int rc = -1;
    if (strcmp(kind, "progress") == 0) {
        json_t *f = json_object_get(o, "fraction"), *m = json_object_get(o, "message");
        out->kind = HANDLER_MSG_PROGRESS;
        if (keys_known(o, progress_keys, kind, err, errlen) != 0 || take_id(o, out, kind, err, errlen) != 0)
            ;
        else if (!json_is_number(f) || !(json_number_value(f) >= 0.0 && json_number_value(f) <= 1.0))
            snprintf(err, errlen, "a \"progress\" message needs a \"fraction\" from 0 to 1");
        else if (m != NULL && !json_is_null(m) && !json_is_string(m))
            snprintf(err, errlen, "a \"progress\" message's \"message\" must be a string");
        else {
            out->fraction = json_number_value(f);
            snprintf(out->message, sizeof out->message, "%s", json_is_string(m) ? json_string_value(m) : "");
            errmsg_utf8_trim(out->message);
            rc = 0;
        }
    } else if (strcmp(kind, "result") == 0) {
        out->kind = HANDLER_MSG_RESULT;
        json_t *d = json_object_get(o, "data");
        if (keys_known(o, result_keys, kind, err, errlen) != 0 || take_id(o, out, kind, err, errlen) != 0)
            ;
        else if (d == NULL)
            snprintf(err, errlen, "a \"result\" message needs \"data\" (use null for none)");
        else {
            out->data = json_incref(d);
            rc = 0;
        }
    } else if (strcmp(kind, "error") == 0) {
        out->kind = HANDLER_MSG_ERROR;
        json_t *e = json_object_get(o, "error"), *r = json_object_get(o, "retry");
        if (keys_known(o, error_keys, kind, err, errlen) != 0 || take_id(o, out, kind, err, errlen) != 0)
            ;
        else if (!json_is_string(e))
            snprintf(err, errlen, "an \"error\" message needs \"error\", a string saying what went wrong");
        else if (!json_is_boolean(r))
            snprintf(err, errlen, "an \"error\" message needs \"retry\": true (transient) or false (permanent)");
        else if ((out->error = strndup(json_string_value(e), utf8_cut(json_string_value(e), json_string_length(e),
                                                                       HANDLER_ERROR_MAX - 1))) == NULL)
            snprintf(err, errlen, "out of memory");
        else {
            out->retry = json_is_true(r);
            rc = 0;
        }
    } else {
        snprintf(err, errlen, "unknown message kind \"%.40s\" (known: progress, result, error)", kind);
    }
    if (rc != 0)
        handler_msg_clear(out);
    return rc;
}

/* The line for a second, lenient reading, malloc'd (NULL out of memory):
 * each \u0000 escape made \ufffd (the same length: columns stay), as
 * tickq makes a NUL of text U+FFFD. *top_keys gets the number of keys of
 * its top-level object counted in its text, one per ':' outside strings at
 * the first level (Jansson keeps the last of a key given twice, so a
 * message whose own keys repeat cannot be read for sure). */
static char *lenient_copy(const char *line, size_t len, size_t *top_keys)
{
    char *c = malloc(len ? len : 1);
    if (c == NULL)
        return NULL;
    memcpy(c, line, len);
    int depth = 0, in_string = 0;
    *top_keys = 0;
    for (size_t i = 0; i < len; i++) {
        if (in_string) {
            if (c[i] == '\\' && i + 5 < len && c[i + 1] == 'u' && memcmp(c + i + 2, "0000", 4) == 0)
                memcpy(c + i + 2, "fffd", 4);
            if (c[i] == '\\')
                i++; /* the escaped character: never a quote that ends the string */
            else if (c[i] == '"')
                in_string = 0;
        } else if (c[i] == '"') {
            in_string = 1;
        } else if (c[i] == '{' || c[i] == '[') {
            depth++;
        } else if (c[i] == '}' || c[i] == ']') {
            depth--;
        } else if (c[i] == ':' && depth == 1) {
            (*top_keys)++;
        }
    }
    return c;
}

/* A line the strict reader refused (jerr), read again leniently: a NUL as
 * U+FFFD, integers as reals, a key given twice inside "data" (never among
 * the message's own keys). When it is then a sound message, what tickq
 * could not take is inside it: a progress or an error is taken, a NUL of
 * its text as U+FFFD (as the handler's output is); a result is unreadable:
 * -1 with out->unreadable, out->kind and out->id, err saying what the
 * strict reader refused. Otherwise the line is malformed: -1 with err
 * saying what is wrong with it first (not JSON, a key of its own twice, a
 * field the kind does not have...). */
static int reread_line(const char *line, size_t len, const json_error_t *jerr, handler_msg_t *out, char *err,
                       size_t errlen)
{
    size_t top_keys = 0;
    json_error_t lenient;
    char *copy = lenient_copy(line, len, &top_keys);
    if (copy == NULL) {
        refusal_text(jerr, err, errlen);
        return -1;
    }
    json_t *o = json_loadb(copy, len, JSON_DECODE_INT_AS_REAL, &lenient);
    free(copy);
    int rc = -1;
    if (o == NULL)
        refusal_text(&lenient, err, errlen);
    else if (!json_is_object(o))
        snprintf(err, errlen, "not a JSON object");
    else if (top_keys != json_object_size(o))
        snprintf(err, errlen, "the message gives one of its own keys twice");
    else if (decode_message(o, out, err, errlen) != 0)
        ; /* err says why */
    else if (out->kind != HANDLER_MSG_RESULT)
        rc = 0;
    else {
        handler_msg_clear(out);
        out->unreadable = 1;
        refusal_text(jerr, err, errlen);
    }
    json_decref(o);
    return rc;
}

int handler_wire_message(const char *line, size_t len, handler_msg_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (o == NULL)
        return reread_line(line, len, &jerr, out, err, errlen);
    int rc = decode_message(o, out, err, errlen);
    json_decref(o);
    return rc;
}

void handler_msg_clear(handler_msg_t *m)
{
    json_decref(m->data);
    free(m->error);
    m->data = NULL;
    m->error = NULL;
}

static char *dump_line(json_t *o, size_t *len)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(o);
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (line == NULL) {
        free(s);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    *len = n + 1;
    return line;
}

char *handler_wire_request(const handler_request_t *r, size_t *len)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:O, s:i, s:i, s:s, s:I, s:I}", "msg", "job", "id", r->id, "type",
                          r->type, "args", r->args, "attempt", r->attempt, "max_retries", r->max_retries, "queue",
                          r->queue, "timeout_ms", (json_int_t)r->timeout_ms, "deadline_ms",
                          (json_int_t)r->deadline_ms);
    return dump_line(o, len);
}

char *handler_wire_cancel(const char *id, const char *reason, size_t *len)
{
    return dump_line(json_pack("{s:s, s:s, s:s}", "msg", "cancel", "id", id, "reason", reason), len);
}
