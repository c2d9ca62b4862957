/* handler_schema.c — announced argument schemas as task_schema tables
 * (handler_schema.h). */
#include "handlers/handler_schema.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errmsg.h"

struct handler_schema {
    json_t *source;              /* the "schema" object: names, docs and string defaults point into it */
    size_t n;
    char **types;
    task_arg_t **tables;         /* each ends with a NULL name; an enum's choices are malloc'd */
};

static const char *const type_names[] = { "boolean", "integer", "number", "string", "enum", "date", "time",
                                          "list", "object" };
#define NTYPES (sizeof type_names / sizeof type_names[0])

/* A table of n entries (and its NULL end), parsed in full or in part. */
static void free_table(task_arg_t *t, size_t n)
{
    for (size_t i = 0; t != NULL && i < n; i++)
        if (t[i].type == TASK_ARG_ENUM)
            free((char *)t[i].choices);
    free(t);
}

static size_t table_size(const task_arg_t *t)
{
    size_t n = 0;
    while (t != NULL && t[n].name != NULL)
        n++;
    return n;
}

void handler_schema_free(handler_schema_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->types[i]);
        free_table(s->tables[i], table_size(s->tables[i]));
    }
    free(s->types);
    free(s->tables);
    json_decref(s->source);
    free(s);
}

const task_arg_t *handler_schema_table(const handler_schema_t *s, const char *type)
{
    for (size_t i = 0; s != NULL && i < s->n; i++)
        if (strcmp(s->types[i], type) == 0)
            return s->tables[i];
    return NULL;
}

/* An announced object's contents are the handler's to check. */
static int any_object(const char *what, const json_t *v, char *err, size_t errlen)
{
    (void)what, (void)v, (void)err, (void)errlen;
    return 0;
}

static int known_key(const char *key)
{
    static const char *const keys[] = { "name", "type", "doc", "required", "default", "min", "max", "choices" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i], key) == 0)
            return 1;
    return 0;
}

/* The enum's choices joined by ", " (malloc'd), or NULL with err. */
static char *join_choices(const json_t *c, char *err, size_t errlen)
{
    if (!json_is_array(c) || json_array_size(c) == 0) {
        snprintf(err, errlen, "\"choices\" must be a non-empty list of strings");
        return NULL;
    }
    size_t len = 1;
    for (size_t i = 0; i < json_array_size(c); i++) {
        const json_t *v = json_array_get(c, i);
        if (!json_is_string(v) || json_string_length(v) == 0 || strpbrk(json_string_value(v), ", ") != NULL ||
            strlen(json_string_value(v)) != json_string_length(v)) {
            snprintf(err, errlen, "\"choices\" item %zu must be a non-empty string without commas or spaces", i);
            return NULL;
        }
        len += json_string_length(v) + 2;
    }
    char *out = malloc(len);
    if (out == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    out[0] = '\0';
    for (size_t i = 0; i < json_array_size(c); i++) {
        if (i > 0)
            strcat(out, ", ");
        strcat(out, json_string_value(json_array_get(c, i)));
    }
    return out;
}

/* min and max, for the types that take them. */
static int take_bounds(const json_t *o, task_arg_t *a, char *err, size_t errlen)
{
    const json_t *lo = json_object_get(o, "min"), *hi = json_object_get(o, "max");
    int numeric = a->type == TASK_ARG_INT || a->type == TASK_ARG_NUMBER;
    if (numeric) {
        a->min = -INFINITY;
        a->max = INFINITY;
    } else if (a->type == TASK_ARG_LIST) {
        a->min = 1;
        a->max = INFINITY;
    }
    if (lo == NULL && hi == NULL)
        return 0;
    if (!numeric && a->type != TASK_ARG_LIST && !(a->type == TASK_ARG_STRING && lo == NULL)) {
        snprintf(err, errlen, "%s takes no \"%s\" (only integer, number and list arguments have a range; a "
                 "string, a \"max\" length)", type_names[a->type], lo != NULL ? "min" : "max");
        return -1;
    }
    if ((lo != NULL && !json_is_number(lo)) || (hi != NULL && !json_is_number(hi))) {
        snprintf(err, errlen, "\"min\" and \"max\" must be numbers");
        return -1;
    }
    if (lo != NULL)
        a->min = json_number_value(lo);
    if (hi != NULL)
        a->max = json_number_value(hi);
    if (!numeric && ((lo != NULL && a->min < 0) || (hi != NULL && a->max < 1) || a->min != floor(a->min) ||
                     (isfinite(a->max) && a->max != floor(a->max)))) {
        snprintf(err, errlen, "a %s's \"min\" and \"max\" are whole counts (max at least 1)", type_names[a->type]);
        return -1;
    }
    if (a->min > a->max) {
        snprintf(err, errlen, "\"min\" %g is above \"max\" %g", a->min, a->max);
        return -1;
    }
    return 0;
}

/* The default: a value of the argument's type and range. */
static int take_default(const json_t *d, task_arg_t *a, char *err, size_t errlen)
{
    if (d == NULL || json_is_null(d)) {
        if (!(a->flags & TASK_ARG_REQUIRED))
            a->default_doc = "not set (the handler decides)";
        return 0;
    }
    if (a->flags & TASK_ARG_REQUIRED) {
        snprintf(err, errlen, "a required argument has no \"default\"");
        return -1;
    }
    if (a->type == TASK_ARG_LIST || a->type == TASK_ARG_OBJECT) {
        snprintf(err, errlen, "a %s takes no \"default\" (say in its doc what leaving it out means)",
                 type_names[a->type]);
        return -1;
    }
    task_arg_t one[2] = { *a, { 0 } };
    json_t *args = json_pack("{s:O}", a->name, d);
    char why[600];
    int bad = args == NULL || task_schema_check("the schema", one, args, why, sizeof why) != 0;
    json_decref(args);
    if (bad) {
        snprintf(err, errlen, "its \"default\" does not fit it: %s", args == NULL ? "out of memory" : why);
        return -1;
    }
    if (json_is_number(d) || json_is_boolean(d))
        a->num = json_is_boolean(d) ? json_is_true(d) : json_number_value(d);
    else
        a->str = json_string_value(d);
    return 0;
}

/* One argument of the list. */
static int parse_arg(const json_t *o, task_arg_t *a, char *err, size_t errlen)
{
    if (!json_is_object(o)) {
        snprintf(err, errlen, "not an object");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        if (!known_key(key)) {
            snprintf(err, errlen, "unknown key '%.60s' (known: name, type, doc, required, default, min, max, "
                     "choices)", key);
            return -1;
        }
    }
    const json_t *name = json_object_get(o, "name"), *type = json_object_get(o, "type");
    const json_t *doc = json_object_get(o, "doc"), *req = json_object_get(o, "required");
    if (!json_is_string(name) || json_string_length(name) == 0 || json_string_length(name) > 64) {
        snprintf(err, errlen, "\"name\" must be a string of 1 to 64 bytes");
        return -1;
    }
    a->name = json_string_value(name);
    size_t t = 0;
    while (json_is_string(type) && t < NTYPES && strcmp(type_names[t], json_string_value(type)) != 0)
        t++;
    if (!json_is_string(type) || t == NTYPES) {
        snprintf(err, errlen, "%s: \"type\" must be one of boolean, integer, number, string, enum, date, time, "
                 "list, object", a->name);
        return -1;
    }
    a->type = (task_arg_type_t)t;
    if (a->type == TASK_ARG_OBJECT)
        a->check = any_object;
    if (!json_is_string(doc) || json_string_length(doc) == 0) {
        snprintf(err, errlen, "%s: \"doc\" must be a non-empty string (one line saying what it is)", a->name);
        return -1;
    }
    a->doc = json_string_value(doc);
    if (req != NULL && !json_is_boolean(req)) {
        snprintf(err, errlen, "%s: \"required\" must be true or false", a->name);
        return -1;
    }
    a->flags = json_is_true(req) ? TASK_ARG_REQUIRED : 0;
    const json_t *choices = json_object_get(o, "choices");
    if ((choices != NULL) != (a->type == TASK_ARG_ENUM)) {
        snprintf(err, errlen, "%s: %s", a->name, choices != NULL ? "only an enum takes \"choices\"" :
                 "an enum needs \"choices\"");
        return -1;
    }
    char why[700];
    if (take_bounds(o, a, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", a->name, why);
        return -1;
    }
    if (choices != NULL && (a->choices = join_choices(choices, why, sizeof why)) == NULL) {
        snprintf(err, errlen, "%s: %s", a->name, why);
        return -1;
    }
    if (take_default(json_object_get(o, "default"), a, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", a->name, why);
        return -1;
    }
    return 0;
}

/* One type's list of arguments, as a table ending with a NULL name. */
static task_arg_t *parse_table(const json_t *list, char *err, size_t errlen)
{
    if (!json_is_array(list)) {
        snprintf(err, errlen, "must be a list of arguments ([] for none)");
        return NULL;
    }
    size_t n = json_array_size(list);
    if (n > HANDLER_SCHEMA_MAX_ARGS) {
        snprintf(err, errlen, "has %zu arguments (at most %d)", n, HANDLER_SCHEMA_MAX_ARGS);
        return NULL;
    }
    task_arg_t *t = calloc(n + 1, sizeof *t);
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char why[800];
    for (size_t i = 0; i < n; i++)
        if (parse_arg(json_array_get(list, i), &t[i], why, sizeof why) != 0) {
            snprintf(err, errlen, "argument %zu: %s", i, why);
            free_table(t, i + 1);
            return NULL;
        }
    if (task_schema_lint(t, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s", why);
        free_table(t, n);
        return NULL;
    }
    return t;
}

static int announced(const json_t *types, const char *type)
{
    for (size_t i = 0; i < json_array_size(types); i++)
        if (json_is_string(json_array_get(types, i)) && strcmp(json_string_value(json_array_get(types, i)), type) == 0)
            return 1;
    return 0;
}

handler_schema_t *handler_schema_parse(const json_t *schema, const json_t *types, char *err, size_t errlen)
{
    if (!json_is_object(schema)) {
        snprintf(err, errlen, "\"schema\" must be an object: task type -> list of its arguments");
        return NULL;
    }
    handler_schema_t *s = calloc(1, sizeof *s);
    size_t n = json_object_size(schema);
    if (s == NULL || (s->types = calloc(n + 1, sizeof *s->types)) == NULL ||
        (s->tables = calloc(n + 1, sizeof *s->tables)) == NULL) {
        handler_schema_free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->source = json_incref((json_t *)schema);
    const char *type;
    json_t *list;
    json_object_foreach((json_t *)schema, type, list) {
        char why[900];
        if (!announced(types, type)) {
            snprintf(err, errlen, "\"schema\" names '%.60s', which is not in \"types\"", type);
            handler_schema_free(s);
            return NULL;
        }
        if ((s->types[s->n] = strdup(type)) == NULL) {
            snprintf(err, errlen, "out of memory");
            handler_schema_free(s);
            return NULL;
        }
        s->n++; /* freed with the schema from here on */
        if ((s->tables[s->n - 1] = parse_table(list, why, sizeof why)) == NULL) {
            snprintf(err, errlen, "\"schema\" of '%s': %s", type, why);
            handler_schema_free(s);
            return NULL;
        }
    }
    return s;
}
