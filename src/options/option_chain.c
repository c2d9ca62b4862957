/* option_chain.c — option chains: rows, validation and the chain CSV
 * format (option_chain.h).
 *
 * Parsing is all or nothing per chain: every row is checked, the first
 * OPTION_CHAIN_MAX_PROBLEMS bad ones are reported with their line numbers,
 * and the caller writes nothing when any row is bad. Where the text comes
 * from is option_provider.c's business. */
#include "options/option_chain.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/decimal.h"
#include "options/option_pricing.h"

#define MAX_FIELDS 64

int option_chain_push(option_chain_t *c, const option_quote_t *q)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        option_quote_t *p = realloc(c->rows, cap * sizeof *p);
        if (p == NULL)
            return -1;
        c->rows = p;
        c->cap = cap;
    }
    c->rows[c->n++] = *q;
    return 0;
}

void option_chain_free(option_chain_t *c)
{
    if (c == NULL)
        return;
    free(c->rows);
    c->rows = NULL;
    c->n = c->cap = 0;
}

/* A spot or strike the pricing takes (option_pricing.h). */
static int amount_ok(double v)
{
    return isfinite(v) && v >= OPTION_AMOUNT_MIN && v <= OPTION_AMOUNT_MAX;
}

int option_quote_check(const option_quote_t *q, char *err, size_t errlen)
{
    char exp[CLOCK_DATE_LEN], qd[CLOCK_DATE_LEN];
    /* The limits the pricing has: a value beyond them is no contract (a
     * strike of 1e-320, an expiry in 2224), refused here rather than stored
     * and counted "unsolved" by calculate_iv_analysis. */
    if (!amount_ok(q->strike))
        snprintf(err, errlen, "strike %g must be a positive number " OPTION_AMOUNT_RANGE, q->strike);
    else if (q->kind != OPTION_CALL && q->kind != OPTION_PUT)
        snprintf(err, errlen, "type must be call or put");
    else if (!isfinite(q->bid) || q->bid < 0)
        snprintf(err, errlen, "bid %g must be a non-negative number", q->bid);
    else if (!isfinite(q->ask) || q->ask < 0)
        snprintf(err, errlen, "ask %g must be a non-negative number", q->ask);
    else if (q->bid > q->ask)
        snprintf(err, errlen, "bid %g is above ask %g", q->bid, q->ask);
    else if (!isnan(q->last) && !(isfinite(q->last) && q->last >= 0))
        snprintf(err, errlen, "last %g must be a non-negative number", q->last);
    else if (q->volume < 0)
        snprintf(err, errlen, "volume %lld must not be negative", (long long)q->volume);
    else if (q->open_interest < 0)
        snprintf(err, errlen, "open_interest %lld must not be negative", (long long)q->open_interest);
    else if (!isnan(q->underlying) && !amount_ok(q->underlying))
        snprintf(err, errlen, "underlying_price %g must be a positive number " OPTION_AMOUNT_RANGE, q->underlying);
    else if (q->quote_date < 0) { /* the tasks' dates start there; their results would show it as null */
        clock_format_date(q->quote_date * 86400, qd);
        snprintf(err, errlen, "quote_date %s is before 1970-01-01", qd);
    } else if (q->expiry <= q->quote_date || (double)(q->expiry - q->quote_date) / 365.0 > OPTION_YEARS_MAX) {
        clock_format_date(q->expiry * 86400, exp);
        clock_format_date(q->quote_date * 86400, qd);
        if (q->expiry <= q->quote_date)
            snprintf(err, errlen, "expiry %s is not after the quote date %s", exp, qd);
        else
            snprintf(err, errlen, "expiry %s is more than %g years (%g days) after the quote date %s", exp,
                     OPTION_YEARS_MAX, 365 * OPTION_YEARS_MAX, qd);
    } else
        return 0;
    return -1;
}

/* --- CSV ------------------------------------------------------------- */

enum { COL_SYMBOL, COL_QUOTE_DATE, COL_EXPIRY, COL_STRIKE, COL_TYPE, COL_BID, COL_ASK, COL_LAST, COL_VOLUME,
       COL_OI, COL_UNDERLYING, NCOLS };

static const struct {
    const char *name, *alias;
    int required;
} columns[NCOLS] = {
    [COL_SYMBOL] = { "symbol", "underlying_symbol", 0 },
    [COL_QUOTE_DATE] = { "quote_date", "date", 0 },
    [COL_EXPIRY] = { "expiry", "expiration", 1 },
    [COL_STRIKE] = { "strike", NULL, 1 },
    [COL_TYPE] = { "type", "option_type", 1 },
    [COL_BID] = { "bid", NULL, 1 },
    [COL_ASK] = { "ask", NULL, 1 },
    [COL_LAST] = { "last", "last_price", 0 },
    [COL_VOLUME] = { "volume", NULL, 1 },
    [COL_OI] = { "open_interest", "oi", 1 },
    [COL_UNDERLYING] = { "underlying_price", "underlying", 0 },
};

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* Splits a line in place into at most MAX_FIELDS fields; a field in double
 * quotes may hold commas, and "" in it is a quote. The count, or -1. */
static int split_fields(char *line, char **fields)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == MAX_FIELDS)
            return -1;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '"') {
            char *w = ++p;
            fields[n++] = w;
            for (;;) {
                if (*p == '\0')
                    return -1; /* unterminated quote */
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            *w = '\0';
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '\0')
                return n;
            if (*p != ',')
                return -1;
            p++;
        } else {
            fields[n++] = p;
            char *comma = strchr(p, ',');
            if (comma == NULL) {
                fields[n - 1] = trim(p);
                return n;
            }
            *comma = '\0';
            fields[n - 1] = trim(p);
            p = comma + 1;
        }
    }
}

static int parse_number(const char *s, double *v)
{
    return decimal_parse(s, v);
}

/* A count: a non-negative integer (a zero fraction is fine: "12.0"). */
static int parse_count(const char *s, int64_t *v)
{
    double d;
    if (parse_number(s, &d) != 0 || d != floor(d) || fabs(d) > 9e15)
        return -1;
    *v = (int64_t)d;
    return 0;
}

static int parse_day(const char *s, int64_t *days)
{
    int64_t ts;
    if (clock_parse_date(s, strlen(s), &ts) != 0)
        return -1;
    *days = ts / 86400;
    return 0;
}

static int parse_kind(const char *s, option_kind_t *k)
{
    if (strcasecmp(s, "call") == 0 || strcasecmp(s, "c") == 0)
        *k = OPTION_CALL;
    else if (strcasecmp(s, "put") == 0 || strcasecmp(s, "p") == 0)
        *k = OPTION_PUT;
    else
        return -1;
    return 0;
}

static void problem(option_csv_report_t *rep, const char *source, size_t line, const char *msg)
{
    rep->bad++;
    if (rep->nproblems < OPTION_CHAIN_MAX_PROBLEMS)
        snprintf(rep->problems[rep->nproblems++], sizeof rep->problems[0], "%s:%zu: %s", source, line, msg);
}

/* Maps the header's fields to columns: idx[col] is the field or -1. */
static int read_header(char **f, int nf, int idx[NCOLS], char *err, size_t errlen)
{
    for (int c = 0; c < NCOLS; c++)
        idx[c] = -1;
    for (int i = 0; i < nf; i++) {
        for (char *p = f[i]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        for (int c = 0; c < NCOLS; c++) {
            if (strcmp(f[i], columns[c].name) != 0 && (columns[c].alias == NULL || strcmp(f[i], columns[c].alias) != 0))
                continue;
            if (idx[c] >= 0) {
                snprintf(err, errlen, "column %s appears twice in the header", columns[c].name);
                return -1;
            }
            idx[c] = i;
        }
    }
    for (int c = 0; c < NCOLS; c++)
        if (columns[c].required && idx[c] < 0) {
            snprintf(err, errlen, "the header has no %s column (expected symbol,quote_date,expiry,strike,type,"
                     "bid,ask,last,volume,open_interest[,underlying_price])", columns[c].name);
            return -1;
        }
    return 0;
}

/* One data row into *q; 0, or -1 with msg. */
static int read_row(char **f, const int idx[NCOLS], const option_csv_opts_t *o, option_quote_t *q, char *msg,
                    size_t msglen)
{
    memset(q, 0, sizeof *q);
    snprintf(q->symbol, sizeof q->symbol, "%s", o->symbol);
    q->last = NAN;
    q->underlying = NAN;
    q->quote_date = o->default_date;
    if (idx[COL_SYMBOL] >= 0 && *f[idx[COL_SYMBOL]] && strcmp(f[idx[COL_SYMBOL]], o->symbol) != 0) {
        snprintf(msg, msglen, "symbol %.40s is not %s", f[idx[COL_SYMBOL]], o->symbol);
        return -1;
    }
    if (idx[COL_QUOTE_DATE] >= 0 && *f[idx[COL_QUOTE_DATE]] && parse_day(f[idx[COL_QUOTE_DATE]], &q->quote_date) != 0) {
        snprintf(msg, msglen, "quote_date '%.40s' is not a date (YYYY-MM-DD)", f[idx[COL_QUOTE_DATE]]);
        return -1;
    }
    if (parse_day(f[idx[COL_EXPIRY]], &q->expiry) != 0) {
        snprintf(msg, msglen, "expiry '%.40s' is not a date (YYYY-MM-DD)", f[idx[COL_EXPIRY]]);
        return -1;
    }
    if (parse_kind(f[idx[COL_TYPE]], &q->kind) != 0) {
        snprintf(msg, msglen, "type '%.40s' is not call or put", f[idx[COL_TYPE]]);
        return -1;
    }
    static const int numeric[] = { COL_STRIKE, COL_BID, COL_ASK };
    double *dst[] = { &q->strike, &q->bid, &q->ask };
    for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++)
        if (parse_number(f[idx[numeric[i]]], dst[i]) != 0) {
            snprintf(msg, msglen, "%s '%.40s' is not a number", columns[numeric[i]].name, f[idx[numeric[i]]]);
            return -1;
        }
    if (idx[COL_LAST] >= 0 && *f[idx[COL_LAST]] && parse_number(f[idx[COL_LAST]], &q->last) != 0) {
        snprintf(msg, msglen, "last '%.40s' is not a number", f[idx[COL_LAST]]);
        return -1;
    }
    if (idx[COL_UNDERLYING] >= 0 && *f[idx[COL_UNDERLYING]] &&
        parse_number(f[idx[COL_UNDERLYING]], &q->underlying) != 0) {
        snprintf(msg, msglen, "underlying_price '%.40s' is not a number", f[idx[COL_UNDERLYING]]);
        return -1;
    }
    if (parse_count(f[idx[COL_VOLUME]], &q->volume) != 0) {
        snprintf(msg, msglen, "volume '%.40s' is not a whole number", f[idx[COL_VOLUME]]);
        return -1;
    }
    if (parse_count(f[idx[COL_OI]], &q->open_interest) != 0) {
        snprintf(msg, msglen, "open_interest '%.40s' is not a whole number", f[idx[COL_OI]]);
        return -1;
    }
    return option_quote_check(q, msg, msglen);
}

/* Contract order: quote date, expiry, strike, call before put. */
static int cmp_contract(const option_quote_t *a, const option_quote_t *b)
{
    if (a->quote_date != b->quote_date)
        return a->quote_date < b->quote_date ? -1 : 1;
    if (a->expiry != b->expiry)
        return a->expiry < b->expiry ? -1 : 1;
    if (a->strike != b->strike)
        return a->strike < b->strike ? -1 : 1;
    return (int)a->kind - (int)b->kind;
}

typedef struct {
    const option_quote_t *q;
    size_t line;
} lined_t;

static int cmp_lined(const void *x, const void *y)
{
    const lined_t *a = x, *b = y;
    int c = cmp_contract(a->q, b->q);
    return c != 0 ? c : (a->line < b->line ? -1 : a->line > b->line);
}

/* Reports rows [from, c->n) that repeat a contract. -1 when out of memory. */
static int check_repeats(const option_chain_t *c, size_t from, const size_t *lines, const char *source,
                         option_csv_report_t *rep)
{
    size_t n = c->n - from;
    if (n < 2)
        return 0;
    lined_t *v = malloc(n * sizeof *v);
    if (v == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        v[i] = (lined_t){ &c->rows[from + i], lines[i] };
    qsort(v, n, sizeof *v, cmp_lined);
    for (size_t i = 1; i < n; i++)
        if (cmp_contract(v[i - 1].q, v[i].q) == 0) {
            char msg[120];
            snprintf(msg, sizeof msg, "repeats the contract of line %zu", v[i - 1].line);
            problem(rep, source, v[i].line, msg);
        }
    free(v);
    return 0;
}

int option_chain_parse_csv(const char *text, size_t len, const option_csv_opts_t *o, option_chain_t *out,
                           option_csv_report_t *rep, char *err, size_t errlen)
{
    memset(rep, 0, sizeof *rep);
    char *buf = malloc(len + 1);
    size_t *lines = NULL, nlines = 0, caplines = 0;
    size_t start = out->n;
    int rc = -1;
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory reading %s", o->source);
        return -1;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *p = buf;
    if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF)
        p += 3;
    int idx[NCOLS], have_header = 0, nheader = 0;
    size_t line = 0;
    while (*p) {
        char *nl = strchr(p, '\n');
        char *next = nl ? nl + 1 : p + strlen(p);
        if (nl)
            *nl = '\0';
        line++;
        size_t l = strlen(p);
        if (l > 0 && p[l - 1] == '\r')
            p[--l] = '\0';
        char *f[MAX_FIELDS];
        if (*trim(p) == '\0') {
            p = next;
            continue;
        }
        int nf = split_fields(p, f);
        if (!have_header) {
            if (nf < 0) {
                snprintf(err, errlen, "%s:%zu: cannot read the header (bad quoting or over %d columns)", o->source,
                         line, MAX_FIELDS);
                goto done;
            }
            char msg[300];
            if (read_header(f, nf, idx, msg, sizeof msg) != 0) {
                snprintf(err, errlen, "%s:%zu: %s", o->source, line, msg);
                goto done;
            }
            have_header = 1;
            nheader = nf;
            p = next;
            continue;
        }
        rep->rows++;
        char msg[200];
        option_quote_t q;
        if (nf < 0) {
            problem(rep, o->source, line, "cannot split the fields (bad quoting or too many)");
        } else if (nf != nheader) {
            snprintf(msg, sizeof msg, "%d fields, the header has %d", nf, nheader);
            problem(rep, o->source, line, msg);
        } else if (read_row(f, idx, o, &q, msg, sizeof msg) != 0) {
            problem(rep, o->source, line, msg);
        } else if (o->only_date >= 0 && q.quote_date != o->only_date) {
            rep->other_dates++;
        } else {
            if (nlines == caplines) {
                caplines = caplines ? caplines * 2 : 256;
                size_t *nl2 = realloc(lines, caplines * sizeof *nl2);
                if (nl2 == NULL) {
                    snprintf(err, errlen, "out of memory reading %s", o->source);
                    goto done;
                }
                lines = nl2;
            }
            if (option_chain_push(out, &q) != 0) {
                snprintf(err, errlen, "out of memory reading %s", o->source);
                goto done;
            }
            lines[nlines++] = line;
        }
        p = next;
    }
    if (!have_header) {
        snprintf(err, errlen, "%s: the file is empty (expected a header line and option quotes)", o->source);
        goto done;
    }
    if (check_repeats(out, start, lines, o->source, rep) != 0) {
        snprintf(err, errlen, "out of memory reading %s", o->source);
        goto done;
    }
    rc = rep->bad > 0 ? 1 : 0;
done:
    if (rc != 0)
        out->n = start;
    free(lines);
    free(buf);
    return rc;
}
