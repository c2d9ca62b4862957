/* task_schema.c — the arguments a task declares: validation, defaults and
 * descriptions from one table per task (task_schema.h). */
#include "core/task_schema.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/close_match.h"
#include "core/errmsg.h"

const task_arg_t *task_schema_find(const task_arg_t *table, const char *name)
{
    for (const task_arg_t *a = table; a != NULL && a->name != NULL; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

/* The closest of names[0..n) to `key`, or NULL. */
static const char *suggest_among(const char *const *names, size_t n, const char *key)
{
    size_t best = 0;
    if (close_match_find(key, names, n, &best, 1) == 1)
        return names[best];
    /* One a prefix of the other, 4 characters at least ("lookback" for
     * "lookback_bars"): a guess when no name is close. */
    size_t klen = strlen(key);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]), shorter = klen < len ? klen : len;
        if (shorter >= 4 && strncasecmp(key, names[i], shorter) == 0)
            return names[i];
    }
    return NULL;
}

#define NAMES_MAX 128

/* The names of table, then those of inner_table that table lacks (up to
 * NAMES_MAX in all), into names; how many. */
static size_t names_of(const task_arg_t *table, const task_arg_t *inner_table, const char **names)
{
    size_t n = 0;
    for (const task_arg_t *a = table; a != NULL && a->name != NULL && n < NAMES_MAX; a++)
        names[n++] = a->name;
    for (const task_arg_t *a = inner_table; a != NULL && a->name != NULL && n < NAMES_MAX; a++)
        if (task_schema_find(table, a->name) == NULL)
            names[n++] = a->name;
    return n;
}

const char *task_schema_suggest(const task_arg_t *table, const char *key)
{
    const char *names[NAMES_MAX];
    return suggest_among(names, names_of(table, NULL, names), key);
}

/* The value as compact JSON, cut to fit (for "got ..."). */
static void value_text(const json_t *v, char *out, size_t outlen)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL) {
        snprintf(out, outlen, "(a value)");
        return;
    }
    if (strlen(s) > 60)
        snprintf(out, outlen, "%.57s...", s);
    else
        snprintf(out, outlen, "%s", s);
    free(s);
}

static const char *type_noun(const task_arg_t *a)
{
    if (a->type_doc != NULL)
        return a->type_doc;
    switch (a->type) {
    case TASK_ARG_LIST: return "strings";
    default: return "value";
    }
}

/* A bound as people write it: 10000, 0.5, 1e15 (not 1e+15). */
static void bound_text(double x, char *out, size_t outlen)
{
    snprintf(out, outlen, "%.15g", x);
    char *e = strstr(out, "e+");
    if (e != NULL)
        memmove(e + 1, e + 2, strlen(e + 2) + 1);
}

/* " from 1 to 10000", " above 0 and at most 86400"; an infinite bound (a
 * handler's announced schema may leave one open) is left out: " at least
 * 0", "" for none. */
static void range_text(const task_arg_t *a, char *out, size_t outlen)
{
    char lo[32], hi[32];
    bound_text(a->min, lo, sizeof lo);
    bound_text(a->max, hi, sizeof hi);
    int has_lo = isfinite(a->min), has_hi = isfinite(a->max);
    if (!has_lo && !has_hi)
        snprintf(out, outlen, "%s", "");
    else if (!has_lo)
        snprintf(out, outlen, " at most %s", hi);
    else if (!has_hi)
        snprintf(out, outlen, " %s %s", (a->flags & TASK_ARG_ABOVE_MIN) ? "above" : "at least", lo);
    else if (a->flags & TASK_ARG_ABOVE_MIN)
        snprintf(out, outlen, " above %s and at most %s", lo, hi);
    else
        snprintf(out, outlen, " from %s to %s", lo, hi);
}

void task_schema_type_text(const task_arg_t *a, char *out, size_t outlen)
{
    char range[96];
    range_text(a, range, sizeof range);
    switch (a->type) {
    case TASK_ARG_BOOL: snprintf(out, outlen, "true or false"); break;
    case TASK_ARG_INT: snprintf(out, outlen, "an integer%s", range); break;
    case TASK_ARG_NUMBER: snprintf(out, outlen, "a number%s", range); break;
    case TASK_ARG_STRING:
        if (a->type_doc != NULL)
            snprintf(out, outlen, "%s %s", strchr("aeiou", a->type_doc[0]) ? "an" : "a", a->type_doc);
        else if (a->max > 0)
            snprintf(out, outlen, "a non-empty string of at most %.15g bytes", a->max);
        else
            snprintf(out, outlen, "a non-empty string");
        break;
    case TASK_ARG_ENUM: snprintf(out, outlen, "one of %s", a->choices); break;
    case TASK_ARG_DATE:
        if (a->max > 0) {
            char lo[CLOCK_DATE_LEN], hi[CLOCK_DATE_LEN];
            clock_format_date((int64_t)a->min * 86400, lo);
            clock_format_date((int64_t)a->max * 86400, hi);
            snprintf(out, outlen, "a date like 2024-03-15, from %s to %s", lo, hi);
        } else {
            snprintf(out, outlen, "a date like 2024-03-15");
        }
        break;
    case TASK_ARG_TIME:
        snprintf(out, outlen, "an ISO 8601 date or time (2024-01-31, 2024-01-31T15:30:00Z; no offset means UTC)");
        break;
    case TASK_ARG_LIST:
        if (isfinite(a->max))
            snprintf(out, outlen, "a non-empty list%s (of at most %.15g %s, e.g. [\"AAPL\", \"MSFT\"])",
                     a->flags & TASK_ARG_OR_ALL ? " or \"all\"" : "", a->max, type_noun(a));
        else
            snprintf(out, outlen, "a non-empty list of %s", type_noun(a));
        break;
    case TASK_ARG_OBJECT: snprintf(out, outlen, "an object"); break;
    case TASK_ARG_ANY:
        snprintf(out, outlen, "%s %s", strchr("aeiou", a->type_doc[0]) ? "an" : "a", a->type_doc);
        break;
    }
}

void task_schema_type_doc(const task_arg_t *a, char *out, size_t outlen)
{
    char range[96];
    range_text(a, range, sizeof range);
    switch (a->type) {
    case TASK_ARG_BOOL: snprintf(out, outlen, "boolean"); break;
    case TASK_ARG_INT: snprintf(out, outlen, "integer%s", range); break;
    case TASK_ARG_NUMBER: snprintf(out, outlen, "number%s", range); break;
    case TASK_ARG_STRING:
        if (a->type_doc != NULL)
            snprintf(out, outlen, "%s", a->type_doc);
        else if (a->max > 0)
            snprintf(out, outlen, "string of at most %.15g bytes", a->max);
        else
            snprintf(out, outlen, "string");
        break;
    case TASK_ARG_ENUM: snprintf(out, outlen, "one of %s", a->choices); break;
    case TASK_ARG_DATE:
        if (a->max > 0) {
            char lo[CLOCK_DATE_LEN], hi[CLOCK_DATE_LEN];
            clock_format_date((int64_t)a->min * 86400, lo);
            clock_format_date((int64_t)a->max * 86400, hi);
            snprintf(out, outlen, "date (YYYY-MM-DD) from %s to %s", lo, hi);
        } else {
            snprintf(out, outlen, "date (YYYY-MM-DD)");
        }
        break;
    case TASK_ARG_TIME: snprintf(out, outlen, "ISO 8601 date or time"); break;
    case TASK_ARG_LIST:
        if (isfinite(a->max))
            snprintf(out, outlen, "list of 1 to %.15g %s%s", a->max, type_noun(a),
                     a->flags & TASK_ARG_OR_ALL ? ", or \"all\"" : "");
        else
            snprintf(out, outlen, "non-empty list of %s", type_noun(a));
        break;
    case TASK_ARG_OBJECT: snprintf(out, outlen, "object"); break;
    case TASK_ARG_ANY: snprintf(out, outlen, "%s", a->type_doc); break;
    }
}

void task_schema_default_text(const task_arg_t *a, char *out, size_t outlen)
{
    if (a->flags & TASK_ARG_REQUIRED)
        snprintf(out, outlen, "required");
    else if (a->default_doc != NULL)
        snprintf(out, outlen, "%s", a->default_doc);
    else if (a->type == TASK_ARG_BOOL)
        snprintf(out, outlen, "%s", a->num != 0 ? "true" : "false");
    else if (a->type == TASK_ARG_INT || a->type == TASK_ARG_NUMBER)
        snprintf(out, outlen, "%.15g", a->num);
    else if (a->str != NULL)
        snprintf(out, outlen, "\"%s\"", a->str);
    else
        snprintf(out, outlen, "none");
}

static int in_range(const task_arg_t *a, double x)
{
    if (!isfinite(x) || x > a->max)
        return 0;
    return (a->flags & TASK_ARG_ABOVE_MIN) ? x > a->min : x >= a->min;
}

/* Is `v` a value of the argument's type and range? 0, or -1 with the
 * message in err. */
static int check_value(const task_arg_t *a, const json_t *v, char *err, size_t errlen)
{
    int ok = 1;
    switch (a->type) {
    case TASK_ARG_BOOL: ok = json_is_boolean(v); break;
    case TASK_ARG_INT: ok = json_is_integer(v) && in_range(a, (double)json_integer_value(v)); break;
    case TASK_ARG_NUMBER: ok = json_is_number(v) && in_range(a, json_number_value(v)); break;
    case TASK_ARG_STRING:
        ok = json_is_string(v) && json_string_length(v) > 0 && (a->max <= 0 || json_string_length(v) <= a->max);
        break;
    case TASK_ARG_ENUM: {
        ok = 0;
        if (!json_is_string(v) || json_string_length(v) == 0)
            break;
        const char *s = json_string_value(v), *c = a->choices;
        size_t len = json_string_length(v);
        while (c != NULL && *c && !ok) {
            size_t n = strcspn(c, ",");
            ok = n == len && strncmp(c, s, n) == 0;
            c += n;
            c += strspn(c, ", ");
        }
        break;
    }
    case TASK_ARG_DATE: {
        int64_t ts;
        ok = json_is_string(v) && clock_parse_date(json_string_value(v), json_string_length(v), &ts) == 0 &&
             (a->max <= 0 || (ts / 86400 >= a->min && ts / 86400 <= a->max));
        break;
    }
    case TASK_ARG_TIME: {
        int64_t ts;
        int date_only;
        ok = json_is_string(v) && clock_parse_iso8601(json_string_value(v), &ts, &date_only) == 0;
        break;
    }
    case TASK_ARG_LIST:
        if (a->flags & TASK_ARG_OR_ALL && json_is_string(v) && strcmp(json_string_value(v), "all") == 0)
            return 0;
        if (json_is_string(v)) { /* "AAPL" for ["AAPL"]: the commonest slip */
            errmsg_set(err, errlen, "%s is the string '%.40s': give a list like [\"AAPL\", \"MSFT\"]%s", a->name,
                       json_string_value(v), a->flags & TASK_ARG_OR_ALL ? ", or \"all\"" : "");
            return -1;
        }
        ok = json_is_array(v) && json_array_size(v) >= (a->min > 1 ? a->min : 1) && json_array_size(v) <= a->max;
        if (!ok && json_is_array(v) && json_array_size(v) > a->max) {
            errmsg_set(err, errlen, "%s has %zu entries (at most %.15g per job)", a->name, json_array_size(v), a->max);
            return -1;
        }
        if (!ok)
            break;
        for (size_t i = 0; i < json_array_size(v); i++) {
            const json_t *e = json_array_get(v, i);
            char what[96];
            snprintf(what, sizeof what, "%s[%zu]", a->name, i);
            if (!json_is_string(e)) {
                char got[80];
                value_text(e, got, sizeof got);
                errmsg_set(err, errlen, "%s must be a string, got %s", what, got);
                return -1;
            }
            if (a->check != NULL && a->check(what, e, err, errlen) != 0)
                return -1;
        }
        return 0;
    case TASK_ARG_OBJECT: ok = json_is_object(v); break;
    case TASK_ARG_ANY: break; /* its check says */
    }
    if (!ok) {
        char type[256], got[80];
        task_schema_type_text(a, type, sizeof type);
        value_text(v, got, sizeof got);
        errmsg_set(err, errlen, "%s must be %s, got %s", a->name, type, got);
        return -1;
    }
    if (a->check != NULL)
        return a->check(a->name, v, err, errlen);
    return 0;
}

int task_schema_valid(const task_arg_t *a, const json_t *v)
{
    char err[1024];
    return check_value(a, v, err, sizeof err) == 0;
}

/* Appends the accepted names: " (backtest takes: a, b, c)"; with an inner
 * task, its names that table lacks: " (optimize takes: a, b; the others go
 * to backtest, which takes: c, d)". */
static void add_accepted(errmsg_t *m, const char *task, const task_arg_t *table, const char *inner,
                         const task_arg_t *inner_table)
{
    if ((table == NULL || table->name == NULL) && inner == NULL) {
        errmsg_add(m, " (%s takes no arguments)", task);
        return;
    }
    errmsg_add(m, " (%s takes:", task);
    for (const task_arg_t *a = table; a != NULL && a->name != NULL; a++)
        errmsg_add(m, "%s %s", a == table ? "" : ",", a->name);
    if (inner != NULL) {
        const char *sep = "";
        errmsg_add(m, "; the others go to %s, which takes:", inner);
        for (const task_arg_t *a = inner_table; a != NULL && a->name != NULL; a++)
            if (task_schema_find(table, a->name) == NULL) {
                errmsg_add(m, "%s %s", sep, a->name);
                sep = ",";
            }
    }
    errmsg_add(m, ")");
}

/* task_schema_check, and with `open` task_schema_check_outer. */
static int check_args(const char *task, const task_arg_t *table, int open, const char *inner,
                      const task_arg_t *inner_table, const json_t *args, char *err, size_t errlen)
{
    errmsg_t m = { "", 0 };
    int problems = 0;
    const char *key;
    json_t *v;
    const char *names[NAMES_MAX];
    size_t nnames = names_of(table, open ? inner_table : NULL, names);
    /* Unknown keys first (the likeliest slip: a typo), with the accepted
     * names once after them. */
    json_object_foreach((json_t *)args, key, v) {
        if (task_schema_find(table, key) != NULL)
            continue;
        if (open && (inner == NULL || inner_table == NULL || task_schema_find(inner_table, key) != NULL))
            continue; /* the inner task's, or unjudged */
        const char *close = suggest_among(names, nnames, key);
        errmsg_add(&m, "%sunknown argument '%.60s%s'", problems ? "; " : "", key, strlen(key) > 60 ? "..." : "");
        if (close != NULL)
            errmsg_add(&m, " (did you mean '%s'?)", close);
        problems++;
    }
    if (problems > 0)
        add_accepted(&m, task, table, open ? inner : NULL, inner_table);
    /* Then values of the wrong type or out of range. */
    const task_arg_t *missing[64];
    size_t nmissing = 0;
    for (const task_arg_t *a = table; a != NULL && a->name != NULL; a++) {
        v = json_object_get(args, a->name);
        if (v == NULL || json_is_null(v)) {
            if ((a->flags & TASK_ARG_REQUIRED) && nmissing < sizeof missing / sizeof missing[0])
                missing[nmissing++] = a;
            continue;
        }
        char one[1024];
        if (check_value(a, v, one, sizeof one) == 0)
            continue;
        errmsg_add(&m, "%s%s", problems ? "; " : "", one);
        problems++;
    }
    /* Then what is missing: one with what it is, several by name. */
    if (nmissing == 1)
        errmsg_add(&m, "%smissing %s: %s", problems ? "; " : "", missing[0]->name, missing[0]->doc);
    for (size_t i = 0; nmissing > 1 && i < nmissing; i++)
        errmsg_add(&m, "%s%s", i == 0 ? (problems ? "; missing " : "missing ") : i + 1 < nmissing ? ", " : " and ",
                   missing[i]->name);
    if (nmissing > 1)
        errmsg_add(&m, " (tickq tasks %s says what each is)", task);
    problems += nmissing > 0;
    if (problems == 0)
        return 0;
    errmsg_set(err, errlen, "%s", m.text);
    return -1;
}

int task_schema_check(const char *task, const task_arg_t *table, const json_t *args, char *err, size_t errlen)
{
    return check_args(task, table, 0, NULL, NULL, args, err, errlen);
}

int task_schema_check_outer(const char *task, const task_arg_t *table, const char *inner,
                            const task_arg_t *inner_table, const json_t *args, char *err, size_t errlen)
{
    return check_args(task, table, 1, inner, inner_table, args, err, errlen);
}

/* The entry for a getter: present, with one of the expected types. */
static const task_arg_t *entry_of(const task_arg_t *table, const char *name, unsigned types)
{
    const task_arg_t *a = task_schema_find(table, name);
    if (a == NULL || !(types & (1u << a->type))) {
        fprintf(stderr, "tickq: BUG: task argument '%s' is not declared with the type its getter reads\n", name);
        abort();
    }
    return a;
}

int task_schema_given(const json_t *args, const char *name)
{
    const json_t *v = json_object_get(args, name);
    return v != NULL && !json_is_null(v);
}

int task_schema_bool(const task_arg_t *table, const json_t *args, const char *name)
{
    const task_arg_t *a = entry_of(table, name, 1u << TASK_ARG_BOOL);
    const json_t *v = json_object_get(args, name);
    return v != NULL && !json_is_null(v) ? json_is_true(v) : a->num != 0;
}

int64_t task_schema_int(const task_arg_t *table, const json_t *args, const char *name)
{
    const task_arg_t *a = entry_of(table, name, 1u << TASK_ARG_INT);
    const json_t *v = json_object_get(args, name);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : (int64_t)a->num;
}

double task_schema_number(const task_arg_t *table, const json_t *args, const char *name)
{
    const task_arg_t *a = entry_of(table, name, 1u << TASK_ARG_NUMBER);
    const json_t *v = json_object_get(args, name);
    return json_is_number(v) ? json_number_value(v) : a->num;
}

const char *task_schema_string(const task_arg_t *table, const json_t *args, const char *name)
{
    const task_arg_t *a = entry_of(table, name, 1u << TASK_ARG_STRING | 1u << TASK_ARG_ENUM | 1u << TASK_ARG_DATE |
                                                    1u << TASK_ARG_TIME);
    const json_t *v = json_object_get(args, name);
    return json_is_string(v) ? json_string_value(v) : a->str;
}

static const char *type_name(task_arg_type_t t)
{
    static const char *const names[] = { "boolean", "integer", "number", "string", "enum", "date", "time",
                                         "list", "object", "any" };
    return names[t];
}

json_t *task_schema_json(const task_arg_t *table)
{
    json_t *list = json_array();
    for (const task_arg_t *a = table; a != NULL && a->name != NULL; a++) {
        char type[256], dflt[256];
        task_schema_type_doc(a, type, sizeof type);
        task_schema_default_text(a, dflt, sizeof dflt);
        json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s}", "name", a->name, "type", type_name(a->type),
                              "accepts", type, "required", (a->flags & TASK_ARG_REQUIRED) != 0, "default", dflt,
                              "doc", a->doc);
        if (a->type == TASK_ARG_INT || a->type == TASK_ARG_NUMBER || a->type == TASK_ARG_LIST) {
            if (isfinite(a->min)) /* an announced schema may leave a bound open */
                json_object_set_new(o, "min", json_real(a->min));
            if (isfinite(a->max))
                json_object_set_new(o, "max", json_real(a->max));
        }
        if (a->type == TASK_ARG_ENUM)
            json_object_set_new(o, "choices", json_string(a->choices));
        if (a->type_doc != NULL)
            json_object_set_new(o, "kind", json_string(a->type_doc));
        json_array_append_new(list, o);
    }
    return list;
}

int task_schema_lint(const task_arg_t *table, char *err, size_t errlen)
{
    for (const task_arg_t *a = table; a != NULL && a->name != NULL; a++) {
        for (const task_arg_t *b = table; b < a; b++)
            if (strcmp(a->name, b->name) == 0) {
                errmsg_set(err, errlen, "%s is declared twice", a->name);
                return -1;
            }
        if (a->doc == NULL || a->doc[0] == '\0') {
            errmsg_set(err, errlen, "%s has no doc line", a->name);
            return -1;
        }
        int optional = !(a->flags & TASK_ARG_REQUIRED);
        /* Numbers always have one (num, 0 unless set): default_doc then
         * says absence means something else, and the task asks given(). */
        int numeric = a->type == TASK_ARG_BOOL || a->type == TASK_ARG_INT || a->type == TASK_ARG_NUMBER;
        if (optional && !numeric && a->str == NULL && a->default_doc == NULL) {
            errmsg_set(err, errlen, "%s is optional with neither a default nor a default_doc", a->name);
            return -1;
        }
        if (a->str != NULL && (a->default_doc != NULL || !optional)) {
            errmsg_set(err, errlen, "%s has a default it cannot use", a->name);
            return -1;
        }
        if ((a->type == TASK_ARG_INT || a->type == TASK_ARG_NUMBER || a->type == TASK_ARG_LIST) &&
            !(a->min <= a->max && a->max > 0)) {
            errmsg_set(err, errlen, "%s has no range (min %g, max %g)", a->name, a->min, a->max);
            return -1;
        }
        if (optional && (a->type == TASK_ARG_INT || a->type == TASK_ARG_NUMBER) && a->default_doc == NULL &&
            !in_range(a, a->num)) {
            errmsg_set(err, errlen, "%s's default %g is out of its range", a->name, a->num);
            return -1;
        }
        if (a->type == TASK_ARG_ENUM && (a->choices == NULL || a->choices[0] == '\0')) {
            errmsg_set(err, errlen, "%s is an enum without choices", a->name);
            return -1;
        }
        if (a->type == TASK_ARG_OBJECT && a->check == NULL) {
            errmsg_set(err, errlen, "%s is an object without a check", a->name);
            return -1;
        }
        if (a->type == TASK_ARG_ANY && (a->check == NULL || a->type_doc == NULL)) {
            errmsg_set(err, errlen, "%s takes any value without a check and a type_doc saying what", a->name);
            return -1;
        }
    }
    return 0;
}
