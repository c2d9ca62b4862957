/* option_chain.c — option chains: rows, validation, the chain CSV format,
 * and the csv_dir, http_csv and synthetic providers (option_chain.h).
 *
 * Parsing is all or nothing per chain: every row is checked, the first
 * OPTION_CHAIN_MAX_PROBLEMS bad ones are reported with their line numbers,
 * and the caller writes nothing when any row is bad. Synthetic chains are
 * pure functions of the bars and the knobs: the day's noise comes from a
 * hash of (seed, symbol, quote date), never from a clock or a global RNG. */
#include "option_chain.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "feature.h"

#define MAX_FIELDS 64
#define MAX_FILE (256u * 1024 * 1024)
#define SUFFIX "_options.csv"

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

int option_quote_check(const option_quote_t *q, char *err, size_t errlen)
{
    char exp[CLOCK_DATE_LEN], qd[CLOCK_DATE_LEN];
    if (!isfinite(q->strike) || q->strike <= 0)
        snprintf(err, errlen, "strike %g must be a positive number", q->strike);
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
    else if (!isnan(q->underlying) && !(isfinite(q->underlying) && q->underlying > 0))
        snprintf(err, errlen, "underlying_price %g must be a positive number", q->underlying);
    else if (q->expiry <= q->quote_date) {
        clock_format_date(q->expiry * 86400, exp);
        clock_format_date(q->quote_date * 86400, qd);
        snprintf(err, errlen, "expiry %s is not after the quote date %s", exp, qd);
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
    if (*s == '\0')
        return -1;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end == '\0' && errno == 0 && isfinite(*v) ? 0 : -1;
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

/* --- synthetic chains ---------------------------------------------- */

void option_synth_defaults(option_synth_opts_t *o)
{
    o->expiries = 4;
    o->strikes = 10;
    o->vol = NAN;
    o->vol_premium = 1.1;
    o->noise = 0.15;
    o->rate = 0.04;
    o->div = 0;
    o->round_cents = 1;
    o->seed = 1;
}

int64_t option_third_friday(int year, int month)
{
    int64_t first = clock_days_from_civil(year, month, 1);
    int dow = (int)(((first + 4) % 7 + 7) % 7); /* 0 Sunday; 1970-01-01 was a Thursday */
    int to_friday = (5 - dow + 7) % 7;
    return first + to_friday + 14;
}

double option_synth_vol(double base, double years, double strike, double forward)
{
    double z = log(strike / forward) / (base * sqrt(years));
    z = z < -4 ? -4 : z > 4 ? 4 : z;
    return base * (1 - 0.05 * log(365 * years / 30)) * (1 - 0.06 * z + 0.02 * z * z);
}

static uint64_t mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A uniform number in [0, 1) from the seed, the symbol and up to three
 * integers: the same arguments always give the same number. */
static double hash01(uint64_t seed, const char *symbol, int64_t a, int64_t b, int64_t c)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a of the symbol */
    for (const unsigned char *s = (const unsigned char *)symbol; *s; s++)
        h = (h ^ *s) * 0x100000001b3ULL;
    h = mix64(h ^ mix64(seed));
    h = mix64(h ^ (uint64_t)a);
    h = mix64(h ^ (uint64_t)b);
    h = mix64(h ^ (uint64_t)c);
    return (double)(h >> 11) / 9007199254740992.0;
}

/* The listing increment of strikes for a spot. */
static double strike_step(double spot)
{
    return spot < 5 ? 0.5 : spot < 25 ? 1 : spot < 100 ? 2.5 : spot < 250 ? 5 : spot < 1000 ? 10 : 25;
}

/* Bid and ask around a model price: a spread of about 4% of the price,
 * in whole cents (at least 1 cent each side, at most 50) when rounding. */
static void quote_around(double price, int round_cents, double *bid, double *ask, double *last)
{
    if (!round_cents) {
        double h = 0.02 * price;
        *bid = price - h;
        *ask = price + h;
        *last = price;
        return;
    }
    long long pc = llround(price * 100);
    long long hc = llround((double)pc * 0.02);
    hc = hc < 1 ? 1 : hc > 50 ? 50 : hc;
    *bid = (double)(pc > hc ? pc - hc : 0) / 100.0;
    *ask = (double)(pc + hc) / 100.0;
    *last = (double)pc / 100.0;
}

int option_synth_chain(const char *symbol, const int64_t *ts, const double *close, const double *volume, size_t n,
                       const option_synth_opts_t *o, option_chain_t *out, option_synth_info_t *info, char *err,
                       size_t errlen)
{
    if (n == 0 || !(close[n - 1] > 0)) {
        snprintf(err, errlen, "%s has no daily bar with a positive close to quote options around", symbol);
        return -1;
    }
    double *hv = malloc(n * sizeof *hv);
    if (hv == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    feature_hv(close, n, 20, hv);
    double hv20 = hv[n - 1];
    free(hv);
    double adv = 0;
    size_t from = n > 20 ? n - 20 : 0;
    for (size_t i = from; i < n; i++)
        adv += volume[i] / (double)(n - from);
    int64_t day = ts[n - 1] / 86400;
    double spot = close[n - 1];
    double base = isfinite(o->vol) ? o->vol : isfinite(hv20) ? hv20 * o->vol_premium : 0.25;
    base *= 1 + o->noise * (2 * hash01(o->seed, symbol, day, 0, 0) - 1);
    base = base < 0.01 ? 0.01 : base > 5 ? 5 : base;
    info->quote_date = day;
    info->spot = spot;
    info->hv_20 = hv20;
    info->base_vol = base;

    double step = strike_step(spot);
    double center = round(spot / step) * step;
    double oi_base = adv > 0 ? adv / 200 : 2000;
    int y, m, d;
    clock_civil_from_days(day, &y, &m, &d);
    for (int e = 0; e < o->expiries;) {
        int64_t expiry = option_third_friday(y, m);
        if (++m > 12) {
            m = 1;
            y++;
        }
        if (expiry <= day)
            continue;
        double years = (double)(expiry - day) / 365.0;
        double forward = spot * exp((o->rate - o->div) * years);
        for (int k = -o->strikes; k <= o->strikes; k++) {
            double strike = center + k * step;
            if (strike <= 0)
                continue;
            double vol = option_synth_vol(base, years, strike, forward);
            double z = log(strike / forward) / (base * sqrt(years));
            for (int kind = OPTION_CALL; kind <= OPTION_PUT; kind++) {
                option_t c = { (option_kind_t)kind, spot, strike, years, o->rate, o->div };
                option_quote_t q;
                memset(&q, 0, sizeof q);
                snprintf(q.symbol, sizeof q.symbol, "%s", symbol);
                q.quote_date = day;
                q.expiry = expiry;
                q.strike = strike;
                q.kind = (option_kind_t)kind;
                quote_around(option_price(&c, vol), o->round_cents, &q.bid, &q.ask, &q.last);
                double u1 = hash01(o->seed, symbol, day, expiry * 4 + kind, llround(strike * 1000));
                double u2 = hash01(o->seed ^ 0x5bd1e995u, symbol, day, expiry * 4 + kind, llround(strike * 1000));
                q.open_interest = llround(oi_base * exp(-0.5 * z * z) / (1 + 0.3 * e) * (0.5 + u1));
                q.volume = llround((double)q.open_interest * (0.05 + 0.15 * u2));
                q.underlying = spot;
                if (option_chain_push(out, &q) != 0) {
                    snprintf(err, errlen, "out of memory");
                    return -1;
                }
            }
        }
        e++;
    }
    return 0;
}

/* --- providers ------------------------------------------------------ */

const char *option_provider_name(const option_provider_t *p)
{
    return p->kind == OPTION_CSV_DIR ? "csv_dir" : p->kind == OPTION_HTTP_CSV ? "http_csv" : "synthetic";
}

static int number_field(const json_t *obj, const char *key, double lo, double hi, double *v, char *err, size_t errlen)
{
    json_t *j = json_object_get(obj, key);
    if (j == NULL || json_is_null(j))
        return 0;
    if (!json_is_number(j) || !(json_number_value(j) >= lo && json_number_value(j) <= hi)) {
        snprintf(err, errlen, "provider.%s must be a number from %g to %g", key, lo, hi);
        return -1;
    }
    *v = json_number_value(j);
    return 0;
}

static int int_field(const json_t *obj, const char *key, long lo, long hi, long *v, char *err, size_t errlen)
{
    json_t *j = json_object_get(obj, key);
    if (j == NULL || json_is_null(j))
        return 0;
    if (!json_is_integer(j) || json_integer_value(j) < lo || json_integer_value(j) > hi) {
        snprintf(err, errlen, "provider.%s must be an integer from %ld to %ld", key, lo, hi);
        return -1;
    }
    *v = (long)json_integer_value(j);
    return 0;
}

static int check_keys(const json_t *obj, const char *const *allowed, const char *type, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(key, *a) == 0;
        if (!ok) {
            snprintf(err, errlen, "provider.%.60s is not a %s setting", key, type);
            return -1;
        }
    }
    return 0;
}

static int synth_from_json(option_synth_opts_t *s, const json_t *obj, char *err, size_t errlen)
{
    static const char *const keys[] = { "type", "expiries", "strikes", "vol", "vol_premium", "noise", "rate",
                                        "dividend_yield", "round_cents", "seed", NULL };
    long expiries = s->expiries, strikes = s->strikes, seed = (long)s->seed;
    if (check_keys(obj, keys, "synthetic", err, errlen) != 0 ||
        int_field(obj, "expiries", 1, 24, &expiries, err, errlen) != 0 ||
        int_field(obj, "strikes", 1, 100, &strikes, err, errlen) != 0 ||
        number_field(obj, "vol", 0.01, 5, &s->vol, err, errlen) != 0 ||
        number_field(obj, "vol_premium", 0.1, 10, &s->vol_premium, err, errlen) != 0 ||
        number_field(obj, "noise", 0, 0.9, &s->noise, err, errlen) != 0 ||
        number_field(obj, "rate", -0.5, 1, &s->rate, err, errlen) != 0 ||
        number_field(obj, "dividend_yield", -0.5, 1, &s->div, err, errlen) != 0 ||
        int_field(obj, "seed", 0, 0x7fffffffL, &seed, err, errlen) != 0)
        return -1;
    json_t *r = json_object_get(obj, "round_cents");
    if (r != NULL && !json_is_null(r)) {
        if (!json_is_boolean(r)) {
            snprintf(err, errlen, "provider.round_cents must be true or false");
            return -1;
        }
        s->round_cents = json_is_true(r);
    }
    s->expiries = (int)expiries;
    s->strikes = (int)strikes;
    s->seed = (uint64_t)seed;
    return 0;
}

int option_provider_from_json(option_provider_t *p, const json_t *obj, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->http = (http_fetch_opts_t){ 10000, 2, 200 };
    option_synth_defaults(&p->synth);
    static const char *const how = "{\"type\": \"synthetic\"}, {\"type\": \"csv_dir\", \"path\": DIR} or "
                                   "{\"type\": \"http_csv\", \"url\": \"https://host/{symbol}.csv\"}";
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "provider must be an object: %s", how);
        return -1;
    }
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (type == NULL) {
        snprintf(err, errlen, "provider.type is missing: %s", how);
        return -1;
    }
    if (strcmp(type, "synthetic") == 0) {
        p->kind = OPTION_SYNTHETIC;
        return synth_from_json(&p->synth, obj, err, errlen);
    }
    if (strcmp(type, "csv_dir") == 0) {
        static const char *const keys[] = { "type", "path", NULL };
        p->kind = OPTION_CSV_DIR;
        const char *path = json_string_value(json_object_get(obj, "path"));
        if (check_keys(obj, keys, "csv_dir", err, errlen) != 0)
            return -1;
        if (path == NULL || *path == '\0' || strlen(path) >= sizeof p->path) {
            snprintf(err, errlen, "provider.path must be the folder holding <SYMBOL>_options.csv files");
            return -1;
        }
        snprintf(p->path, sizeof p->path, "%s", path);
        return 0;
    }
    if (strcmp(type, "http_csv") == 0) {
        static const char *const keys[] = { "type", "url", "timeout_seconds", "retries", NULL };
        p->kind = OPTION_HTTP_CSV;
        const char *url = json_string_value(json_object_get(obj, "url"));
        double timeout = 10;
        long retries = 2;
        if (check_keys(obj, keys, "http_csv", err, errlen) != 0 ||
            number_field(obj, "timeout_seconds", 0.1, 600, &timeout, err, errlen) != 0 ||
            int_field(obj, "retries", 0, 10, &retries, err, errlen) != 0)
            return -1;
        if (url == NULL || strstr(url, "{symbol}") == NULL || strlen(url) >= sizeof p->url ||
            (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
            snprintf(err, errlen, "provider.url must be an http(s) URL template with {symbol} (and optionally "
                     "{date}), e.g. https://data.example.com/options/{symbol}.csv");
            return -1;
        }
        snprintf(p->url, sizeof p->url, "%s", url);
        p->http.timeout_ms = (int64_t)(timeout * 1000);
        p->http.retries = (int)retries;
        return 0;
    }
    snprintf(err, errlen, "provider.type '%.40s' is unknown: %s", type, how);
    return -1;
}

/* A file name cannot hold '/', and "." or ".." would leave the folder. */
static int symbol_names_file(const char *symbol)
{
    return strchr(symbol, '/') == NULL && strcmp(symbol, ".") != 0 && strcmp(symbol, "..") != 0;
}

static int read_file(const char *path, char **text, size_t *len, int *missing, char *err, size_t errlen)
{
    *text = NULL;
    *len = 0;
    *missing = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        *missing = errno == ENOENT;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536;
    char *buf = malloc(cap);
    size_t n = 0, got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            if (cap >= MAX_FILE) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "%s is over %u MiB", path, MAX_FILE >> 20);
                return -1;
            }
            char *b = realloc(buf, cap * 2);
            if (b == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (buf == NULL || bad) {
        free(buf);
        snprintf(err, errlen, buf == NULL ? "out of memory reading %s" : "cannot read %s", path);
        return -1;
    }
    *text = buf;
    *len = n;
    return 0;
}

/* The URL for a symbol: {symbol} percent-encoded, {date} as YYYY-MM-DD. */
static int expand_url(const char *tmpl, const char *symbol, int64_t date, char *out, size_t outlen)
{
    char day[CLOCK_DATE_LEN];
    clock_format_date(date * 86400, day);
    size_t w = 0;
    for (const char *p = tmpl; *p;) {
        char piece[3 * BAR_SYMBOL_MAX + CLOCK_DATE_LEN + 1];
        size_t pl = 0;
        if (strncmp(p, "{symbol}", 8) == 0) {
            for (const unsigned char *s = (const unsigned char *)symbol; *s; s++)
                pl += (size_t)(isalnum(*s) || strchr("-._~", *s) ? snprintf(piece + pl, sizeof piece - pl, "%c", *s)
                                                                 : snprintf(piece + pl, sizeof piece - pl, "%%%02X", *s));
            p += 8;
        } else if (strncmp(p, "{date}", 6) == 0) {
            pl = (size_t)snprintf(piece, sizeof piece, "%s", day);
            p += 6;
        } else {
            piece[pl++] = *p++;
        }
        if (w + pl >= outlen)
            return -1;
        memcpy(out + w, piece, pl);
        w += pl;
    }
    out[w] = '\0';
    return 0;
}

option_fetch_status_t option_provider_fetch(const option_provider_t *p, const char *symbol, int64_t as_of,
                                            option_chain_t *out, option_csv_report_t *rep, char *err, size_t errlen)
{
    memset(rep, 0, sizeof *rep);
    char source[OPTION_URL_MAX + OPTION_PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    int64_t today = clock_now_us() / 1000000 / 86400;
    if (p->kind == OPTION_CSV_DIR) {
        int missing;
        if (!symbol_names_file(symbol)) {
            snprintf(err, errlen, "symbol %s cannot name a file in %s", symbol, p->path);
            return OPTION_FETCH_BAD;
        }
        snprintf(source, sizeof source, "%s/%s" SUFFIX, p->path, symbol);
        if (read_file(source, &text, &len, &missing, err, errlen) != 0)
            return missing ? OPTION_FETCH_BAD : OPTION_FETCH_RETRYABLE;
    } else if (p->kind == OPTION_HTTP_CSV) {
        if (expand_url(p->url, symbol, as_of >= 0 ? as_of : today, source, sizeof source) != 0) {
            snprintf(err, errlen, "the URL for %s is too long", symbol);
            return OPTION_FETCH_BAD;
        }
        long status;
        if (http_get(source, &p->http, &text, &len, &status, err, errlen) != 0)
            return status == 0 || status == 429 || status >= 500 ? OPTION_FETCH_RETRYABLE : OPTION_FETCH_BAD;
    } else {
        snprintf(err, errlen, "the synthetic provider generates chains from bars; it has nothing to fetch");
        return OPTION_FETCH_BAD;
    }
    option_csv_opts_t o = { symbol, source, as_of >= 0 ? as_of : today, as_of };
    size_t before = out->n;
    int rc = option_chain_parse_csv(text, len, &o, out, rep, err, errlen);
    free(text);
    if (rc < 0)
        return OPTION_FETCH_BAD;
    if (rc > 0) {
        size_t w = (size_t)snprintf(err, errlen, "%zu bad of %zu rows:", rep->bad, rep->rows);
        for (size_t i = 0; i < rep->nproblems && w < errlen; i++)
            w += (size_t)snprintf(err + w, errlen - w, " %s;", rep->problems[i]);
        return OPTION_FETCH_BAD;
    }
    if (out->n == before) {
        char day[CLOCK_DATE_LEN];
        clock_format_date(as_of * 86400, day);
        if (as_of >= 0 && rep->other_dates > 0)
            snprintf(err, errlen, "%s: no quotes dated %s (%zu rows of other dates)", source, day, rep->other_dates);
        else
            snprintf(err, errlen, "%s: no option quotes after the header", source);
        return OPTION_FETCH_BAD;
    }
    return OPTION_FETCH_OK;
}

int option_provider_list(const option_provider_t *p, char (**names)[BAR_SYMBOL_MAX + 1], size_t *n, char *err,
                         size_t errlen)
{
    if (p->kind != OPTION_CSV_DIR)
        return 0;
    DIR *d = opendir(p->path);
    if (d == NULL) {
        snprintf(err, errlen, "cannot read the folder %s: %s", p->path, strerror(errno));
        return -1;
    }
    size_t cap = *n;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name), sl = strlen(SUFFIX);
        if (e->d_name[0] == '.' || len <= sl || strcmp(e->d_name + len - sl, SUFFIX) != 0 ||
            bar_symbol_check(e->d_name, len - sl) != 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            char (*q)[BAR_SYMBOL_MAX + 1] = realloc(*names, cap * sizeof **names);
            if (q == NULL) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            *names = q;
        }
        memcpy((*names)[*n], e->d_name, len - sl);
        (*names)[*n][len - sl] = '\0';
        (*n)++;
    }
    closedir(d);
    return rc;
}
