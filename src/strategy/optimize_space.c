/* optimize_space.c — an optimize job's parameter combinations and their
 * constraints (optimize_space.h). */
#include "strategy/optimize_space.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/close_match.h"
#include "core/decimal.h"

/* --- constraints --------------------------------------------------------- */

enum { N_NUM, N_VAR, N_NEG, N_NOT, N_BIN };
enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE, OP_AND, OP_OR };

typedef struct {
    int kind, op, var;
    double num;
    int a, b;                    /* operands: node indexes */
} node_t;

#define NODES_MAX 256            /* of one constraint */
#define CONSTRAINTS_MAX 32

typedef struct {
    node_t nodes[NODES_MAX];
    int n, root;
} expr_t;

struct optimize_constraints {
    expr_t e[CONSTRAINTS_MAX];
    size_t n;
    const char *names[OPTIMIZE_MAX_PARAMS];
    size_t nnames;
};

typedef struct {
    const char *s;
    size_t pos;
    expr_t *e;
    const optimize_constraints_t *c;
    char err[400];
    int depth;
} parser_t;

static int fail(parser_t *p, const char *fmt, const char *arg)
{
    if (p->err[0] == '\0') {
        char what[340];
        snprintf(what, sizeof what, fmt, arg);
        snprintf(p->err, sizeof p->err, "%s (at character %zu)", what, p->pos + 1);
    }
    return -1;
}

static void skip(parser_t *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')
        p->pos++;
}

static int node(parser_t *p, node_t n)
{
    if (p->e->n == NODES_MAX)
        return fail(p, "%s", "the constraint is too long");
    p->e->nodes[p->e->n] = n;
    return p->e->n++;
}

/* The word at p (letters, digits, _), its length; 0 when none. */
static size_t word(const parser_t *p)
{
    size_t n = 0;
    const char *s = p->s + p->pos;
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    while (isalnum((unsigned char)s[n]) || s[n] == '_')
        n++;
    return n;
}

static int keyword(parser_t *p, const char *kw)
{
    skip(p);
    size_t n = word(p);
    if (n == strlen(kw) && strncmp(p->s + p->pos, kw, n) == 0) {
        p->pos += n;
        return 1;
    }
    return 0;
}

static int parse_or(parser_t *p);

static int parse_atom(parser_t *p)
{
    skip(p);
    const char *s = p->s + p->pos;
    if (*s == '(') {
        p->pos++;
        if (++p->depth > 32)
            return fail(p, "%s", "parentheses nested too deeply");
        int a = parse_or(p);
        p->depth--;
        skip(p);
        if (a < 0)
            return -1;
        if (p->s[p->pos] != ')')
            return fail(p, "%s", "expected ')'");
        p->pos++;
        return a;
    }
    if (isdigit((unsigned char)*s) || *s == '.') {
        char *end;
        double v = strtod(s, &end);
        if (end != decimal_end(s) || !isfinite(v)) /* decimal only: strtod also takes hex ("0x10") */
            return fail(p, "%s", "a malformed number");
        p->pos += (size_t)(end - s);
        return node(p, (node_t){ .kind = N_NUM, .num = v });
    }
    size_t n = word(p);
    if (n == 0)
        return fail(p, "%s", *s ? "expected a number, a parameter or '('" : "the constraint ends too early");
    char name[80];
    snprintf(name, sizeof name, "%.*s", (int)(n < 70 ? n : 70), s);
    for (size_t i = 0; i < p->c->nnames; i++)
        if (strlen(p->c->names[i]) == n && strncmp(p->c->names[i], s, n) == 0) {
            p->pos += n;
            return node(p, (node_t){ .kind = N_VAR, .var = (int)i });
        }
    size_t best;
    char msg[300];
    if (close_match_find(name, p->c->names, p->c->nnames, &best, 1) == 1)
        snprintf(msg, sizeof msg, "unknown parameter '%s' (did you mean '%s'?)", name, p->c->names[best]);
    else
        snprintf(msg, sizeof msg, "unknown parameter '%s'", name);
    return fail(p, "%s", msg);
}

static int parse_unary(parser_t *p)
{
    skip(p);
    if (p->s[p->pos] == '-') {
        p->pos++;
        if (++p->depth > 64)
            return fail(p, "%s", "too many signs");
        int a = parse_unary(p);
        p->depth--;
        return a < 0 ? -1 : node(p, (node_t){ .kind = N_NEG, .a = a });
    }
    return parse_atom(p);
}

static int parse_binary_level(parser_t *p, int level);

/* Levels: 0 + -, 1 * / %. */
static int parse_binary_level(parser_t *p, int level)
{
    int a = level == 0 ? parse_binary_level(p, 1) : parse_unary(p);
    while (a >= 0) {
        skip(p);
        char c = p->s[p->pos];
        int op = level == 0 ? (c == '+' ? OP_ADD : c == '-' ? OP_SUB : -1)
                            : (c == '*' ? OP_MUL : c == '/' ? OP_DIV : c == '%' ? OP_MOD : -1);
        if (op < 0)
            break;
        p->pos++;
        int b = level == 0 ? parse_binary_level(p, 1) : parse_unary(p);
        if (b < 0)
            return -1;
        a = node(p, (node_t){ .kind = N_BIN, .op = op, .a = a, .b = b });
    }
    return a;
}

static int parse_cmp(parser_t *p)
{
    int a = parse_binary_level(p, 0);
    if (a < 0)
        return -1;
    skip(p);
    const char *s = p->s + p->pos;
    int op = -1;
    size_t len = 2;
    if (strncmp(s, "<=", 2) == 0)
        op = OP_LE;
    else if (strncmp(s, ">=", 2) == 0)
        op = OP_GE;
    else if (strncmp(s, "==", 2) == 0)
        op = OP_EQ;
    else if (strncmp(s, "!=", 2) == 0)
        op = OP_NE;
    else if (*s == '<')
        op = OP_LT, len = 1;
    else if (*s == '>')
        op = OP_GT, len = 1;
    else if (*s == '=')
        return fail(p, "%s", "'=' is not a comparison: write '=='");
    if (op < 0)
        return a;
    p->pos += len;
    int b = parse_binary_level(p, 0);
    return b < 0 ? -1 : node(p, (node_t){ .kind = N_BIN, .op = op, .a = a, .b = b });
}

static int parse_not(parser_t *p)
{
    if (keyword(p, "not")) {
        if (++p->depth > 64)
            return fail(p, "%s", "too many nots");
        int a = parse_not(p);
        p->depth--;
        return a < 0 ? -1 : node(p, (node_t){ .kind = N_NOT, .a = a });
    }
    return parse_cmp(p);
}

static int parse_and(parser_t *p)
{
    int a = parse_not(p);
    while (a >= 0 && keyword(p, "and")) {
        int b = parse_not(p);
        if (b < 0)
            return -1;
        a = node(p, (node_t){ .kind = N_BIN, .op = OP_AND, .a = a, .b = b });
    }
    return a;
}

static int parse_or(parser_t *p)
{
    int a = parse_and(p);
    while (a >= 0 && keyword(p, "or")) {
        int b = parse_and(p);
        if (b < 0)
            return -1;
        a = node(p, (node_t){ .kind = N_BIN, .op = OP_OR, .a = a, .b = b });
    }
    return a;
}

static double eval(const expr_t *e, int i, const double *vars)
{
    const node_t *n = &e->nodes[i];
    switch (n->kind) {
    case N_NUM: return n->num;
    case N_VAR: return vars[n->var];
    case N_NEG: return -eval(e, n->a, vars);
    case N_NOT: {
        double a = eval(e, n->a, vars);
        return a != 0 && a == a ? 0 : 1; /* NaN is false, so not NaN is true */
    }
    default: break;
    }
    double a = eval(e, n->a, vars);
    if (n->op == OP_AND || n->op == OP_OR) { /* NaN (a string parameter) is false on either side */
        int x = a != 0 && a == a;
        if (n->op == OP_AND && !x)
            return 0;
        if (n->op == OP_OR && x)
            return 1;
        double b = eval(e, n->b, vars);
        return b != 0 && b == b ? 1 : 0;
    }
    double b = eval(e, n->b, vars);
    switch (n->op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    case OP_DIV: return a / b;
    case OP_MOD: { /* Python's: the sign of b (-7 % 3 is 2), as the users' own code reads it */
        double r = fmod(a, b);
        return r != 0 && (r < 0) != (b < 0) ? r + b : r;
    }
    case OP_LT: return a < b;
    case OP_LE: return a <= b;
    case OP_GT: return a > b;
    case OP_GE: return a >= b;
    case OP_EQ: return a == b;
    default: return a != b;
    }
}

const json_t *optimize_space_of(const json_t *params)
{
    if (!json_is_object(params))
        return NULL;
    if (json_object_get(params, "random") != NULL)
        return json_object_get(params, "space");
    return params;
}

int optimize_constraints_check(const json_t *constraints, char *err, size_t errlen)
{
    if (constraints == NULL || json_is_null(constraints))
        return 0;
    size_t count = json_is_array(constraints) ? json_array_size(constraints) : 1;
    if ((!json_is_string(constraints) && !json_is_array(constraints)) || count == 0 || count > CONSTRAINTS_MAX) {
        snprintf(err, errlen, "constraints must be an expression (\"fast < slow\") or a list of 1 to %d of them",
                 CONSTRAINTS_MAX);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const json_t *one = json_is_array(constraints) ? json_array_get(constraints, i) : constraints;
        if (!json_is_string(one) || json_string_length(one) > OPTIMIZE_CONSTRAINT_MAX) {
            snprintf(err, errlen, "constraints[%zu] must be an expression of at most %d characters", i,
                     OPTIMIZE_CONSTRAINT_MAX);
            return -1;
        }
    }
    return 0;
}

int optimize_constraints_parse(const json_t *constraints, const json_t *params, optimize_constraints_t **out,
                               char *err, size_t errlen)
{
    *out = NULL;
    if (constraints == NULL || json_is_null(constraints))
        return 0;
    const json_t *space = optimize_space_of(params);
    if (!json_is_object(space)) {
        snprintf(err, errlen, "constraints need params: a grid or a random sample's space");
        return -1;
    }
    optimize_constraints_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)space, key, v) {
        if (c->nnames < OPTIMIZE_MAX_PARAMS)
            c->names[c->nnames++] = key;
    }
    if (optimize_constraints_check(constraints, err, errlen) != 0) {
        free(c);
        return -1;
    }
    size_t count = json_is_array(constraints) ? json_array_size(constraints) : 1;
    for (size_t i = 0; i < count; i++) {
        const json_t *one = json_is_array(constraints) ? json_array_get(constraints, i) : constraints;
        const char *text = json_string_value(one);
        parser_t p = { .s = text, .e = &c->e[i], .c = c };
        int root = parse_or(&p);
        skip(&p);
        if (root >= 0 && p.s[p.pos] != '\0')
            root = fail(&p, "unexpected '%.20s'", p.s + p.pos);
        if (root < 0) {
            snprintf(err, errlen, "constraint '%s': %s", text, p.err);
            free(c);
            return -1;
        }
        c->e[i].root = root;
        c->n++;
    }
    *out = c;
    return 0;
}

void optimize_constraints_free(optimize_constraints_t *c)
{
    free(c);
}

int optimize_constraints_hold(const optimize_constraints_t *c, const json_t *p)
{
    if (c == NULL)
        return 1;
    double vars[OPTIMIZE_MAX_PARAMS];
    for (size_t i = 0; i < c->nnames; i++) {
        const json_t *v = json_object_get(p, c->names[i]);
        vars[i] = json_is_number(v) ? json_number_value(v) : json_is_true(v) ? 1 : json_is_false(v) ? 0 : NAN;
    }
    for (size_t i = 0; i < c->n; i++) {
        double r = eval(&c->e[i], c->e[i].root, vars);
        if (!(r != 0 && r == r))
            return 0;
    }
    return 1;
}

/* --- the combinations ------------------------------------------------------ */

/* A range {"from", "to", "step"} (step optional when `stepless` allows it)
 * read into *from, *to, *step (0: none), *count (with a step) and *ints
 * (from and step are integers). 0, or -1 with err naming `name`. */
static int range_of(const char *name, const json_t *r, int stepless, double *from, double *to, double *step,
                    size_t *count, int *ints, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)r, key, v) {
        if (strcmp(key, "from") != 0 && strcmp(key, "to") != 0 && strcmp(key, "step") != 0) {
            snprintf(err, errlen, "params.%s: unknown key '%.40s' in a range (it takes from, to, step)", name, key);
            return -1;
        }
    }
    const json_t *f = json_object_get(r, "from"), *t = json_object_get(r, "to"), *s = json_object_get(r, "step");
    if (!json_is_number(f) || !json_is_number(t) || (s != NULL && !json_is_number(s)) || (s == NULL && !stepless)) {
        snprintf(err, errlen, "params.%s: a range is {\"from\": A, \"to\": B, \"step\": S} of numbers%s", name,
                 stepless ? " (step optional in a random space)" : "");
        return -1;
    }
    *from = json_number_value(f);
    *to = json_number_value(t);
    *step = s ? json_number_value(s) : 0;
    if (!isfinite(*from) || !isfinite(*to) || *from > *to || (s != NULL && !(*step > 0 && isfinite(*step)))) {
        snprintf(err, errlen, "params.%s: a range needs from <= to and a step above 0", name);
        return -1;
    }
    /* A draw is from + u (to - from): a width past the largest double
     * (-1e308 to 1e308) would draw infinities, which JSON cannot hold (the
     * parameter went missing from every combination). */
    if (!isfinite(*to - *from)) {
        snprintf(err, errlen, "params.%s: the range from %g to %g is wider than a number can hold", name, *from, *to);
        return -1;
    }
    /* An integer range stays integers: beyond 2^53 a double no longer holds
     * every integer (its values were made reals rounded to 12 digits, so
     * -9007199254740993 .. -9007199254740990 gave one value three times). */
    *ints = json_is_integer(f) && (s == NULL || json_is_integer(s)) && json_is_integer(t);
    const json_int_t exact = 9007199254740992LL; /* 2^53 */
    if (*ints && s != NULL && (json_integer_value(f) < -exact || json_integer_value(f) > exact ||
                               json_integer_value(t) < -exact || json_integer_value(t) > exact)) {
        snprintf(err, errlen, "params.%s: an integer range must stay within -2^53 .. 2^53 (9007199254740992), "
                 "where every integer is exact", name);
        return -1;
    }
    if (s != NULL) {
        double n = floor((*to - *from) / *step + 1e-9) + 1;
        if (n > OPTIMIZE_MAX_VALUES) {
            snprintf(err, errlen, "params.%s: the range has %.0f values, over %d", name, n, OPTIMIZE_MAX_VALUES);
            return -1;
        }
        *count = (size_t)n;
    }
    return 0;
}

/* Value k of a range with a step: from + k * step, as an integer for an
 * integer range, else rounded to 12 significant digits (0.1 * 3 is 0.3). */
static json_t *range_value(double from, double step, size_t k, int ints)
{
    double v = from + (double)k * step;
    if (ints)
        return json_integer((json_int_t)llround(v));
    char buf[40];
    snprintf(buf, sizeof buf, "%.12g", v);
    return json_real(strtod(buf, NULL));
}

/* Checks one parameter's spec (a list of values, or a range with a step):
 * how many values it has in *count. 0, or -1 with err naming it. */
static int spec_count(const char *name, const json_t *spec, size_t *count, char *err, size_t errlen)
{
    if (json_is_array(spec)) {
        size_t i;
        const json_t *v;
        if (json_array_size(spec) == 0 || json_array_size(spec) > OPTIMIZE_MAX_VALUES) {
            snprintf(err, errlen, "params.%s: a list of 1 to %d values", name, OPTIMIZE_MAX_VALUES);
            return -1;
        }
        json_array_foreach(spec, i, v) {
            if (!json_is_number(v) && !json_is_string(v) && !json_is_boolean(v)) {
                snprintf(err, errlen, "params.%s[%zu]: a value is a number, a string or a boolean", name, i);
                return -1;
            }
        }
        *count = json_array_size(spec);
        return 0;
    }
    if (!json_is_object(spec)) {
        snprintf(err, errlen, "params.%s: a list of values or a range {\"from\", \"to\", \"step\"}", name);
        return -1;
    }
    double from, to, step;
    int ints;
    return range_of(name, spec, 0, &from, &to, &step, count, &ints, err, errlen);
}

/* One parameter's values (a spec that passed spec_count) as a new array. */
static json_t *values_of(const char *name, const json_t *spec)
{
    if (json_is_array(spec))
        return json_deep_copy(spec);
    double from, to, step;
    size_t count = 0;
    int ints;
    char err[300];
    range_of(name, spec, 0, &from, &to, &step, &count, &ints, err, sizeof err); /* passed spec_count */
    json_t *out = json_array();
    for (size_t k = 0; k < count; k++)
        json_array_append_new(out, range_value(from, step, k, ints));
    return out;
}

/* Appends p to out when it meets the constraints (takes p). */
static void keep(json_t *out, json_t *p, const optimize_constraints_t *c)
{
    if (optimize_constraints_hold(c, p))
        json_array_append_new(out, p);
    else
        json_decref(p);
}

/* Checks a grid: 1 to OPTIMIZE_MAX_PARAMS parameters, each spec, and at
 * most OPTIMIZE_MAX_COMBINATIONS combinations (*total). 0, or -1 with err. */
static int grid_check(const json_t *params, size_t *total, char *err, size_t errlen)
{
    const char *key;
    json_t *spec;
    double product = 1;
    if (json_object_size(params) == 0 || json_object_size(params) > OPTIMIZE_MAX_PARAMS) {
        snprintf(err, errlen, "params must name 1 to %d parameters", OPTIMIZE_MAX_PARAMS);
        return -1;
    }
    json_object_foreach((json_t *)params, key, spec) {
        size_t count;
        if (spec_count(key, spec, &count, err, errlen) != 0)
            return -1;
        product *= (double)count;
    }
    if (product > OPTIMIZE_MAX_COMBINATIONS) {
        snprintf(err, errlen, "the grid has %.0f combinations, over %d: narrow it, or sample it ({\"random\": N, "
                 "\"space\": {...}})", product, OPTIMIZE_MAX_COMBINATIONS);
        return -1;
    }
    *total = (size_t)product;
    return 0;
}

static json_t *grid(const json_t *params, const optimize_constraints_t *c, size_t *space_size, char *err,
                    size_t errlen)
{
    const char *names[OPTIMIZE_MAX_PARAMS];
    json_t *values[OPTIMIZE_MAX_PARAMS];
    size_t n = 0, total;
    const char *key;
    json_t *spec;
    if (grid_check(params, &total, err, errlen) != 0)
        return NULL;
    json_object_foreach((json_t *)params, key, spec) {
        names[n] = key;
        values[n++] = values_of(key, spec);
    }
    *space_size = total;
    json_t *out = json_array();
    size_t idx[OPTIMIZE_MAX_PARAMS] = { 0 };
    for (size_t k = 0; k < total; k++) {
        json_t *p = json_object();
        for (size_t i = 0; i < n; i++)
            json_object_set(p, names[i], json_array_get(values[i], idx[i]));
        keep(out, p, c);
        for (size_t i = n; i-- > 0;) { /* the last parameter varies fastest */
            if (++idx[i] < json_array_size(values[i]))
                break;
            idx[i] = 0;
        }
    }
    for (size_t i = 0; i < n; i++)
        json_decref(values[i]);
    return out;
}

/* splitmix64: the random sample's generator (seeded, so a sample repeats). */
static uint64_t next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double unit(uint64_t *s)
{
    return (double)(next_random(s) >> 11) / 9007199254740992.0; /* [0, 1) */
}

/* A random sample's space, each parameter's range read once. */
typedef struct {
    double from[OPTIMIZE_MAX_PARAMS], to[OPTIMIZE_MAX_PARAMS], step[OPTIMIZE_MAX_PARAMS]; /* step 0: none */
    size_t count[OPTIMIZE_MAX_PARAMS];
    int ints[OPTIMIZE_MAX_PARAMS];
} sample_space_t;

/* Checks a random sample {"random": N, "seed": S, "space": {...}} and reads
 * its space's ranges into *r. 0, or -1 with err. */
static int sample_read(const json_t *params, sample_space_t *r, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)params, key, v) {
        if (strcmp(key, "random") != 0 && strcmp(key, "seed") != 0 && strcmp(key, "space") != 0) {
            snprintf(err, errlen, "params: unknown key '%.40s' in a random sample (it takes random, seed, space)",
                     key);
            return -1;
        }
    }
    const json_t *n = json_object_get(params, "random"), *seed = json_object_get(params, "seed");
    const json_t *space = json_object_get(params, "space");
    if (!json_is_integer(n) || json_integer_value(n) < 1 || json_integer_value(n) > OPTIMIZE_MAX_COMBINATIONS) {
        snprintf(err, errlen, "params.random: how many combinations to draw, an integer from 1 to %d",
                 OPTIMIZE_MAX_COMBINATIONS);
        return -1;
    }
    if (seed != NULL && !json_is_integer(seed)) {
        snprintf(err, errlen, "params.seed must be an integer");
        return -1;
    }
    if (!json_is_object(space) || json_object_size(space) == 0 || json_object_size(space) > OPTIMIZE_MAX_PARAMS) {
        snprintf(err, errlen, "params.space must name 1 to %d parameters, each a list or a range",
                 OPTIMIZE_MAX_PARAMS);
        return -1;
    }
    size_t i = 0;
    json_object_foreach((json_t *)space, key, v) {
        r->count[i] = 0;
        r->step[i] = 0;
        if (json_is_array(v) && spec_count(key, v, &r->count[i], err, errlen) != 0)
            return -1;
        if (!json_is_array(v) && (!json_is_object(v) || range_of(key, v, 1, &r->from[i], &r->to[i], &r->step[i],
                                                                 &r->count[i], &r->ints[i], err, errlen) != 0)) {
            if (!json_is_object(v))
                snprintf(err, errlen, "params.space.%s: a list of values or a range {\"from\", \"to\"[, \"step\"]}",
                         key);
            return -1;
        }
        i++;
    }
    return 0;
}

static json_t *sample(const json_t *params, const optimize_constraints_t *c, size_t *space_size, char *err,
                      size_t errlen)
{
    sample_space_t r;
    if (sample_read(params, &r, err, errlen) != 0)
        return NULL;
    const json_t *seed = json_object_get(params, "seed"), *space = json_object_get(params, "space");
    uint64_t state = seed ? (uint64_t)json_integer_value(seed) : 1;
    size_t draws = (size_t)json_integer_value(json_object_get(params, "random"));
    *space_size = draws;
    json_t *out = json_array();
    for (size_t k = 0; k < draws; k++) {
        json_t *p = json_object();
        size_t i = 0;
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)space, key, v) {
            if (json_is_array(v))
                json_object_set(p, key, json_array_get(v, (size_t)(unit(&state) * (double)json_array_size(v))));
            else if (r.step[i] > 0)
                json_object_set_new(p, key, range_value(r.from[i], r.step[i],
                                                        (size_t)(unit(&state) * (double)r.count[i]), r.ints[i]));
            else
                json_object_set_new(p, key, json_real(r.from[i] + unit(&state) * (r.to[i] - r.from[i])));
            i++;
        }
        keep(out, p, c);
    }
    return out;
}

int optimize_space_check(const json_t *params, char *err, size_t errlen)
{
    if (!json_is_object(params)) {
        snprintf(err, errlen, "params must be an object: a grid {\"fast\": [5, 10], ...} or a random sample "
                 "{\"random\": N, \"space\": {...}}");
        return -1;
    }
    if (json_object_get(params, "random") != NULL) {
        sample_space_t r;
        return sample_read(params, &r, err, errlen);
    }
    size_t total;
    return grid_check(params, &total, err, errlen);
}

json_t *optimize_combinations(const json_t *params, const optimize_constraints_t *constraints, size_t *space_size,
                              char *err, size_t errlen)
{
    *space_size = 0;
    if (!json_is_object(params)) {
        optimize_space_check(params, err, errlen);
        return NULL;
    }
    json_t *out = json_object_get(params, "random") != NULL ? sample(params, constraints, space_size, err, errlen)
                                                           : grid(params, constraints, space_size, err, errlen);
    if (out != NULL && json_array_size(out) == 0) {
        snprintf(err, errlen, "no combination of the %zu meets the constraints", *space_size);
        json_decref(out);
        return NULL;
    }
    return out;
}
