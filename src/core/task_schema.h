/* task_schema.h — the arguments a task declares: one table per task, next
 * to its code, that drives validation, defaults and the argument docs.
 *
 * A task's table lists every argument it takes (name, type, range, default,
 * one line of doc). Before a task runs (and when `tickq enqueue` or a
 * schedule submits it) its args are checked against the table: an unknown
 * key, a wrong type, a value out of range or a missing required argument is
 * a permanent error that names it, never a default applied in silence. Once
 * checked, the task reads its values through the getters below, which take
 * the defaults from the table, so a default is written once.
 *
 * Conventions:
 *  (1) `null` is the same as an absent argument.
 *  (2) An optional argument has a constant default (num for numbers,
 *      integers and booleans; str for strings) or, when absence means
 *      something else, a `default_doc` saying what (e.g. "each ticker's
 *      latest bar"); the task then asks task_schema_given() first. A unit
 *      test holds every registered table to this (task_schema_lint).
 *  (3) Ranges are inclusive; TASK_ARG_ABOVE_MIN makes min exclusive.
 *  (4) A table ends with an entry whose name is NULL.
 *  (5) A task that runs another (optimize runs a strategy task) declares
 *      its own arguments; every other key is the inner task's, and a key
 *      of neither table is unknown (task_schema_check_outer). */
#ifndef TICKQ_TASK_SCHEMA_H
#define TICKQ_TASK_SCHEMA_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    TASK_ARG_BOOL,
    TASK_ARG_INT,      /* a JSON integer in [min, max] */
    TASK_ARG_NUMBER,   /* any JSON number in [min, max] */
    TASK_ARG_STRING,   /* a non-empty string of at most max bytes (0: no limit) */
    TASK_ARG_ENUM,     /* one of `choices` */
    TASK_ARG_DATE,     /* "YYYY-MM-DD"; with max > 0, days since 1970-01-01 in [min, max] */
    TASK_ARG_TIME,     /* ISO 8601 date or date and time (clock_parse_iso8601) */
    TASK_ARG_LIST,     /* a list of strings, [min, max] entries; TASK_ARG_OR_ALL also takes "all" */
    TASK_ARG_OBJECT,   /* a JSON object, checked by `check` */
    TASK_ARG_ANY       /* any JSON value, checked by `check`; type_doc says what it takes
                        * ("expression or list of expressions"): for what no type above fits */
} task_arg_type_t;

#define TASK_ARG_REQUIRED 1u
#define TASK_ARG_ABOVE_MIN 2u    /* min itself is out of range */
#define TASK_ARG_OR_ALL 4u       /* a list may also be the string "all" */

/* A domain check of a value that has the argument's type (of a list, each
 * entry, as a string): 0, or -1 with the whole message in err, naming `what`
 * ("symbols[3] is not a valid symbol (...)", "interval must be like 1d ...").
 * `what` is the argument's name, or for a list entry "name[i]". */
typedef int (*task_arg_check_fn)(const char *what, const json_t *v, char *err, size_t errlen);

typedef struct {
    const char *name;
    task_arg_type_t type;
    unsigned flags;
    double min, max;
    double num;                  /* default of an optional bool, integer or number */
    const char *str;             /* default of an optional string or enum */
    const char *choices;         /* enum: the values, separated by ", " */
    const char *type_doc;        /* a domain name for the type ("symbols", "interval"); NULL: from type */
    const char *default_doc;     /* what absence means, when there is no constant default */
    task_arg_check_fn check;
    const char *doc;             /* one line */
} task_arg_t;

/* Checks `args` (a JSON object) against `table`. Returns 0, or -1 with every
 * problem found in err ("unknown argument 'hold_bar' (did you mean
 * 'hold_bars'?); ..."), ending, when a key was unknown, with the accepted
 * ones. `task` names the task in the message. */
int task_schema_check(const char *task, const task_arg_t *table, const json_t *args, char *err, size_t errlen);

/* As task_schema_check, for a task whose table lists its own arguments
 * and passes every other key to the task it runs: `inner`, whose table is
 * inner_table (NULL: it takes any object). A key is unknown when neither
 * table has it; its close match is sought in both, and the accepted names
 * of both follow ("(optimize takes: task, params, ...; the others go to
 * portfolio_backtest, which takes: strategy_code, ...)"). Only `table`'s
 * arguments are checked for type, range and presence: the inner task's
 * are for its own check. inner NULL (the args name no task that runs, as
 * the table's check of that argument says): the other keys are left
 * unjudged. */
int task_schema_check_outer(const char *task, const task_arg_t *table, const char *inner,
                            const task_arg_t *inner_table, const json_t *args, char *err, size_t errlen);

/* Whether `v` is a value the argument takes (its type, range and check). */
int task_schema_valid(const task_arg_t *a, const json_t *v);

/* The table's entry for `name`; NULL when it has none. */
const task_arg_t *task_schema_find(const task_arg_t *table, const char *name);

/* The closest name of the table to `key` (a likely typo), or NULL. */
const char *task_schema_suggest(const task_arg_t *table, const char *key);

/* Getters, for args that passed task_schema_check. `name` must be in the
 * table with the getter's type (a programming error otherwise: it aborts).
 * Absent or null: the table's default. */
int task_schema_given(const json_t *args, const char *name);
int task_schema_bool(const task_arg_t *table, const json_t *args, const char *name);
int64_t task_schema_int(const task_arg_t *table, const json_t *args, const char *name);
double task_schema_number(const task_arg_t *table, const json_t *args, const char *name);
/* A string or enum (or date, time); the default, or NULL when absent with none. */
const char *task_schema_string(const task_arg_t *table, const json_t *args, const char *name);

/* What the argument's value must be, for messages ("hold_bars must be ..."):
 * "an integer from 1 to 10000", "a non-empty list or \"all\" (of at most
 * 5000 symbols, e.g. [...])". */
void task_schema_type_text(const task_arg_t *a, char *out, size_t outlen);
/* The same, short, for docs and listings: "integer from 1 to 10000",
 * "list of 1 to 5000 symbols, or \"all\"". */
void task_schema_type_doc(const task_arg_t *a, char *out, size_t outlen);
/* The argument's default in words: "required", "30", "\"1d\"", or its
 * default_doc. */
void task_schema_default_text(const task_arg_t *a, char *out, size_t outlen);

/* The table as JSON (a new reference): [{name, type, required, default,
 * min, max, choices, doc}], for `tickq tasks TYPE --json`. */
json_t *task_schema_json(const task_arg_t *table);

/* Checks that a table keeps the conventions above (unique names, a default
 * or a default_doc for every optional argument, a doc line, sane ranges).
 * 0, or -1 with the first problem. For tests. */
int task_schema_lint(const task_arg_t *table, char *err, size_t errlen);

#endif
