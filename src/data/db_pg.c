/* db_pg.c — the PostgreSQL driver (libpq), for several worker hosts.
 *
 * Bulk paths avoid a round trip per row: bar upserts COPY into a temporary
 * table and merge with one INSERT ... ON CONFLICT; history COPYs straight
 * into its tables; loads fetch binary results a chunk of symbols at a time
 * in pipeline mode (bounded memory, no text-to-number parsing). */
#include <endian.h>
#include <libpq-fe.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/utf8.h"
#include "data/db_driver.h"

#define LOAD_CHUNK_SYMBOLS 100
#define COPY_BUFFER (256 * 1024)

typedef struct {
    PGconn *conn;
    int have_temp;               /* bars_in exists in this session */
    int prepared_get;            /* tickq_bars_get is prepared */
    char sqlstate[6];            /* of the last statement or COPY that failed */
} pg_t;

static PGconn *conn_of(db_t *db) { return ((pg_t *)db->impl)->conn; }

static int fail(db_t *db, char *err, size_t errlen, const char *what, const char *detail)
{
    if (err != NULL) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", detail ? detail : PQerrorMessage(conn_of(db)));
        size_t n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
        snprintf(err, errlen, "PostgreSQL %s (%s): %s", what, db->where, msg);
    }
    return -1;
}

int db_pg_open(db_t *db, const char *url, char *err, size_t errlen)
{
    /* tickq's defaults first: libpq takes the last value of a key, so what
     * DATABASE_URL sets (?connect_timeout=30, ?application_name=...) wins.
     * Keepalives and a user timeout end a connection whose server or
     * network went silent (a failover that drops packets, a NAT that forgot
     * it) in about a minute; without them a statement sent into it waits
     * for the kernel's retransmissions, a quarter of an hour or more. */
    const char *keys[] = { "connect_timeout", "application_name", "keepalives", "keepalives_idle",
                           "keepalives_interval", "keepalives_count", "tcp_user_timeout", "dbname", NULL };
    const char *vals[] = { "5", "tickq", "1", "30", "10", "3", "60000", url, NULL };
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", conn ? PQerrorMessage(conn) : "out of memory");
        size_t n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
        snprintf(err, errlen, "cannot connect to PostgreSQL at %s (DATABASE_URL): %s", db->where, msg);
        PQfinish(conn);
        return -1;
    }
    pg_t *p = calloc(1, sizeof *p);
    if (p == NULL) {
        PQfinish(conn);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->conn = conn;
    db->impl = p;
    PGresult *r = PQexec(conn, "SET client_min_messages = warning");
    PQclear(r);
    return 0;
}

static void pg_close(db_t *db)
{
    PQfinish(conn_of(db));
    free(db->impl);
    db->impl = NULL;
}

/* Keeps the SQLSTATE of a failed result ("" when it has none). */
static void keep_state(db_t *db, const PGresult *r)
{
    const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    snprintf(((pg_t *)db->impl)->sqlstate, sizeof ((pg_t *)db->impl)->sqlstate, "%s", state ? state : "");
}

/* Whether the last failure was the data's (DB_REFUSED): SQLSTATE class 22
 * (data exception: an encoding, a date) or 23 (a constraint). */
static int refused_data(db_t *db)
{
    const char *state = ((pg_t *)db->impl)->sqlstate;
    return strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0;
}

static int pg_exec(db_t *db, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(conn_of(db), sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        keep_state(db, r);
        fail(db, err, errlen, "statement failed", PQresultErrorMessage(r));
    }
    PQclear(r);
    return ok ? 0 : -1;
}

/* The one value of a query that returns one row (a version): 0 with *v, or
 * -1 with `what`'s error in err. */
static int query_one_int(db_t *db, const char *sql, const char *what, long long *v, char *err, size_t errlen)
{
    PGresult *r = PQexec(conn_of(db), sql);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok)
        *v = atoll(PQgetvalue(r, 0, 0));
    else
        fail(db, err, errlen, what, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

static int pg_begin_migration(db_t *db, char *err, size_t errlen)
{
    /* 0x7469636b71 = "tickq": one lock id for every tickq migration. */
    return pg_exec(db, "BEGIN; SELECT pg_advisory_xact_lock(499968732785)", err, errlen);
}

static int pg_applied_version(db_t *db, int *version, char *err, size_t errlen)
{
    if (pg_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                    " description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                err, errlen) != 0)
        return -1;
    long long v;
    if (query_one_int(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", "reading the schema version", &v,
                      err, errlen) != 0)
        return -1;
    *version = (int)v;
    return 0;
}

/* A COPY ... FROM STDIN in text format, buffered. */
typedef struct {
    db_t *db;
    char *buf;
    size_t len;
    int failed;
} copy_t;

static int copy_start(copy_t *c, db_t *db, const char *sql, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->db = db;
    PGresult *r = PQexec(conn_of(db), sql);
    int ok = PQresultStatus(r) == PGRES_COPY_IN;
    if (!ok)
        fail(db, err, errlen, "COPY failed", PQresultErrorMessage(r));
    PQclear(r);
    if (!ok)
        return -1;
    c->buf = malloc(COPY_BUFFER);
    if (c->buf == NULL) {
        PQputCopyEnd(conn_of(db), "out of memory");
        PQclear(PQgetResult(conn_of(db)));
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void copy_flush(copy_t *c)
{
    if (c->len > 0 && !c->failed && PQputCopyData(conn_of(c->db), c->buf, (int)c->len) != 1)
        c->failed = 1;
    c->len = 0;
}

static void copy_printf(copy_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void copy_printf(copy_t *c, const char *fmt, ...)
{
    if (COPY_BUFFER - c->len < 4096)
        copy_flush(c);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->buf + c->len, COPY_BUFFER - c->len, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < COPY_BUFFER - c->len)
        c->len += (size_t)n;
    else
        c->failed = 1;
}

/* A text field in COPY text format: \N for NULL, escapes for \ tab CR LF;
 * at most `cap` bytes of s, cut at a character (a cut one is no UTF-8). */
static void copy_text_n(copy_t *c, const char *s, size_t cap, int last)
{
    if (s == NULL || *s == '\0') {
        copy_printf(c, "\\N%c", last ? '\n' : '\t');
        return;
    }
    size_t n = utf8_cut(s, strlen(s), cap);
    if (COPY_BUFFER - c->len < 2 * n + 8)
        copy_flush(c);
    if (COPY_BUFFER - c->len < 2 * n + 8) { /* longer than the buffer */
        c->failed = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '\\' || ch == '\t' || ch == '\n' || ch == '\r') {
            c->buf[c->len++] = '\\';
            ch = ch == '\t' ? 't' : ch == '\n' ? 'n' : ch == '\r' ? 'r' : '\\';
        }
        c->buf[c->len++] = ch;
    }
    c->buf[c->len++] = last ? '\n' : '\t';
}

/* A text field whose head is what matters (errors): at most 3000 bytes. */
static void copy_text(copy_t *c, const char *s, int last) { copy_text_n(c, s, 3000, last); }

static void copy_time(copy_t *c, int64_t us, int last)
{
    if (us <= 0) {
        copy_text(c, NULL, last);
        return;
    }
    char iso[CLOCK_ISO_LEN];
    clock_iso8601(us, iso);
    copy_text(c, iso, last);
}

static int copy_end(copy_t *c, char *err, size_t errlen)
{
    copy_flush(c);
    free(c->buf);
    c->buf = NULL;
    if (PQputCopyEnd(conn_of(c->db), c->failed ? "tickq could not send the rows" : NULL) != 1)
        return fail(c->db, err, errlen, "COPY failed", NULL);
    PGresult *r = PQgetResult(conn_of(c->db));
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) {
        keep_state(c->db, r);
        fail(c->db, err, errlen, "COPY failed", PQresultErrorMessage(r));
    }
    PQclear(r);
    while ((r = PQgetResult(conn_of(c->db))) != NULL)
        PQclear(r);
    return ok ? 0 : -1;
}

static int pg_bars_put(db_t *db, const char *interval, const bar_row_t *rows, size_t n, char *err, size_t errlen)
{
    pg_t *p = db->impl;
    if (!p->have_temp) {
        if (pg_exec(db, "CREATE TEMP TABLE IF NOT EXISTS bars_in (LIKE bars)", err, errlen) != 0)
            return -1;
        p->have_temp = 1;
    }
    copy_t c;
    if (copy_start(&c, db, "COPY bars_in (symbol, interval, ts, open, high, low, close, volume) FROM STDIN",
                   err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const bar_row_t *r = &rows[i];
        copy_printf(&c, "%s\t%s\t%lld\t%.17g\t%.17g\t%.17g\t%.17g\t%.17g\n", r->symbol, interval,
                    (long long)r->ts, r->open, r->high, r->low, r->close, r->volume);
    }
    if (copy_end(&c, err, errlen) != 0)
        return -1;
    return pg_exec(db,
                   "INSERT INTO bars SELECT * FROM bars_in ON CONFLICT (symbol, interval, ts) DO UPDATE SET"
                   " open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,"
                   " close = EXCLUDED.close, volume = EXCLUDED.volume; TRUNCATE bars_in",
                   err, errlen);
}

static int64_t be_i64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return (int64_t)be64toh(v);
}

static double be_f64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    v = be64toh(v);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

/* Rows of one symbol's result into a new series (symbol order is the
 * caller's). */
static int take_rows(PGresult *r, const char *symbol, bar_set_t *out)
{
    int rows = PQntuples(r);
    if (rows == 0)
        return 0;
    bar_series_t *s = bar_set_add(out, symbol);
    if (s == NULL)
        return -1;
    for (int i = 0; i < rows; i++)
        if (bar_series_push(s, be_i64(PQgetvalue(r, i, 0)), be_f64(PQgetvalue(r, i, 1)), be_f64(PQgetvalue(r, i, 2)),
                            be_f64(PQgetvalue(r, i, 3)), be_f64(PQgetvalue(r, i, 4)), be_f64(PQgetvalue(r, i, 5))) != 0)
            return -1;
    return 0;
}

/* One index-ordered query per symbol, sent in pipeline mode: a chunk of
 * symbols costs one round trip, and no query sorts (an IN/ANY list would
 * make PostgreSQL 15 sort all the rows, on disk for large loads). */
static int load_chunk(db_t *db, const char *interval, const char *const *symbols, size_t n,
                      const char *from, const char *to, bar_set_t *out, char *err, size_t errlen)
{
    PGconn *c = conn_of(db);
    if (PQenterPipelineMode(c) != 1)
        return fail(db, err, errlen, "loading bars", NULL);
    for (size_t i = 0; i < n; i++) {
        const char *params[4] = { symbols[i], interval, from, to };
        if (PQsendQueryPrepared(c, "tickq_bars_get", 4, params, NULL, NULL, 1) != 1) {
            PQexitPipelineMode(c);
            return fail(db, err, errlen, "loading bars", NULL);
        }
    }
    PQpipelineSync(c);
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        PGresult *r = PQgetResult(c);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            if (status == 0)
                fail(db, err, errlen, "loading bars", PQresultErrorMessage(r));
            status = -1;
        } else if (status == 0 && take_rows(r, symbols[i], out) != 0) {
            snprintf(err, errlen, "out of memory loading bars");
            status = -1;
        }
        PQclear(r);
        PQclear(PQgetResult(c)); /* the NULL that ends each query's results */
    }
    PGresult *sync = PQgetResult(c); /* PGRES_PIPELINE_SYNC */
    PQclear(sync);
    PQexitPipelineMode(c);
    return status;
}

static int pg_bars_get(db_t *db, const char *interval, const char *const *symbols, size_t nsymbols,
                       int64_t from_ts, int64_t to_ts, bar_set_t *out, char *err, size_t errlen)
{
    pg_t *p = db->impl;
    if (!p->prepared_get) {
        PGresult *r = PQprepare(conn_of(db), "tickq_bars_get",
                                "SELECT ts, open, high, low, close, volume FROM bars"
                                " WHERE symbol = $1 AND interval = $2 AND ts >= $3::bigint AND ts <= $4::bigint"
                                " ORDER BY ts", 4, NULL);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            fail(db, err, errlen, "preparing the bar query", PQresultErrorMessage(r));
        PQclear(r);
        if (!ok)
            return -1;
        p->prepared_get = 1;
    }
    char from[24], to[24];
    snprintf(from, sizeof from, "%lld", (long long)from_ts);
    snprintf(to, sizeof to, "%lld", (long long)to_ts);
    for (size_t i = 0; i < nsymbols; i += LOAD_CHUNK_SYMBOLS) {
        size_t n = nsymbols - i < LOAD_CHUNK_SYMBOLS ? nsymbols - i : LOAD_CHUNK_SYMBOLS;
        if (load_chunk(db, interval, symbols + i, n, from, to, out, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* Runs a query with text parameters that returns rows; NULL with err. */
static PGresult *query(db_t *db, const char *sql, int nparams, const char *const *params, const char *what,
                       char *err, size_t errlen)
{
    PGresult *r = PQexecParams(conn_of(db), sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        fail(db, err, errlen, what, PQresultErrorMessage(r));
        PQclear(r);
        return NULL;
    }
    return r;
}

/* query() for a statement whose rows, if any, are not read: 0, or -1 with err. */
static int command(db_t *db, const char *sql, int nparams, const char *const *params, const char *what, char *err,
                   size_t errlen)
{
    PGresult *r = query(db, sql, nparams, params, what, err, errlen);
    PQclear(r);
    return r != NULL ? 0 : -1;
}

/* An array of one element per row of r (at least one), zeroed; NULL with
 * `oom` in err and r cleared when there is no room. */
static void *rows_alloc(PGresult *r, size_t size, const char *oom, char *err, size_t errlen)
{
    int rows = PQntuples(r);
    void *p = calloc(rows ? (size_t)rows : 1, size);
    if (p == NULL) {
        PQclear(r);
        snprintf(err, errlen, "%s", oom);
    }
    return p;
}

/* query() and rows_alloc() in one, the start of every read of many rows:
 * returns the zeroed array (one `size` element per row, at least one) with
 * *r the result to read and clear; NULL with err and nothing to clear. */
static void *query_rows(db_t *db, const char *sql, int nparams, const char *const *params, const char *what,
                        size_t size, const char *oom, PGresult **r, char *err, size_t errlen)
{
    if ((*r = query(db, sql, nparams, params, what, err, errlen)) == NULL)
        return NULL;
    return rows_alloc(*r, size, oom, err, errlen);
}

static int pg_bars_summary(db_t *db, bar_summary_t **out, size_t *n, char *err, size_t errlen)
{
    *n = 0;
    PGresult *r;
    if ((*out = query_rows(db, "SELECT symbol, interval, MIN(ts), MAX(ts), COUNT(*) FROM bars GROUP BY symbol,"
                               " interval ORDER BY symbol COLLATE \"C\", interval COLLATE \"C\"",
                           0, NULL, "listing bars", sizeof **out, "out of memory", &r, err, errlen)) == NULL)
        return -1;
    int rows = PQntuples(r);
    for (int i = 0; i < rows; i++) {
        bar_summary_t *s = &(*out)[i];
        snprintf(s->symbol, sizeof s->symbol, "%s", PQgetvalue(r, i, 0));
        snprintf(s->interval, sizeof s->interval, "%s", PQgetvalue(r, i, 1));
        s->first_ts = atoll(PQgetvalue(r, i, 2));
        s->last_ts = atoll(PQgetvalue(r, i, 3));
        s->count = atoll(PQgetvalue(r, i, 4));
    }
    *n = (size_t)rows;
    PQclear(r);
    return 0;
}

static int pg_bars_version(db_t *db, long long *version, char *err, size_t errlen)
{
    return query_one_int(db, "SELECT version FROM bars_version WHERE id = 1", "reading the bars version", version,
                         err, errlen);
}

#define HISTORY_COLUMNS "job_id, type, queue, state, attempts, worker, started_at, finished_at, duration_ms, error, run," \
                        " created_at"
#define RETRY_COLUMNS "job_id, attempt, kind, error, worker, at, run, created_at"

/* Rows go through temporary tables (emptied at commit), so that a row
 * already written (the same job, run, created_at and attempt) is skipped:
 * COPY itself cannot skip. An unknown created_at is stored as -infinity,
 * never NULL, which never conflicts in a unique index (rows from before
 * migration 5 keep NULL). */
static int pg_history_put(db_t *db, const history_rec_t *h, size_t nh, const retry_rec_t *r, size_t nr,
                          char *err, size_t errlen)
{
    ((pg_t *)db->impl)->sqlstate[0] = '\0';
    if (pg_exec(db, "BEGIN", err, errlen) != 0)
        return -1;
    if (pg_exec(db, "CREATE TEMP TABLE IF NOT EXISTS job_history_in (job_id TEXT, type TEXT, queue TEXT,"
                    " state TEXT, attempts INTEGER, worker TEXT, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ,"
                    " duration_ms DOUBLE PRECISION, error TEXT, run INTEGER, created_at TIMESTAMPTZ)"
                    " ON COMMIT DELETE ROWS;"
                    "CREATE TEMP TABLE IF NOT EXISTS job_retries_in (job_id TEXT, attempt INTEGER, kind TEXT,"
                    " error TEXT, worker TEXT, at TIMESTAMPTZ, run INTEGER, created_at TIMESTAMPTZ)"
                    " ON COMMIT DELETE ROWS", err, errlen) != 0)
        goto fail;
    copy_t c;
    if (nh > 0) {
        if (copy_start(&c, db, "COPY job_history_in (" HISTORY_COLUMNS ") FROM STDIN", err, errlen) != 0)
            goto fail;
        for (size_t i = 0; i < nh; i++) {
            copy_text(&c, h[i].job_id, 0);
            copy_text(&c, h[i].type, 0);
            copy_text(&c, h[i].queue, 0);
            copy_text(&c, h[i].state, 0);
            copy_printf(&c, "%d\t", h[i].attempts);
            copy_text(&c, h[i].worker, 0);
            copy_time(&c, h[i].started_us, 0);
            copy_time(&c, h[i].finished_us > 0 ? h[i].finished_us : clock_now_us(), 0);
            if (h[i].started_us > 0 && h[i].finished_us >= h[i].started_us)
                copy_printf(&c, "%.3f\t", (double)(h[i].finished_us - h[i].started_us) / 1000.0);
            else
                copy_printf(&c, "\\N\t");
            copy_text(&c, h[i].error, 0);
            copy_printf(&c, "%d\t", h[i].run > 0 ? h[i].run : 1);
            copy_text(&c, h[i].created_at != NULL && h[i].created_at[0] ? h[i].created_at : "-infinity", 1);
        }
        if (copy_end(&c, err, errlen) != 0 ||
            pg_exec(db, "INSERT INTO job_history (" HISTORY_COLUMNS ") SELECT " HISTORY_COLUMNS
                        " FROM job_history_in ON CONFLICT DO NOTHING", err, errlen) != 0)
            goto fail;
    }
    if (nr > 0) {
        if (copy_start(&c, db, "COPY job_retries_in (" RETRY_COLUMNS ") FROM STDIN", err, errlen) != 0)
            goto fail;
        for (size_t i = 0; i < nr; i++) {
            copy_text(&c, r[i].job_id, 0);
            copy_printf(&c, "%d\t", r[i].attempt);
            copy_text(&c, r[i].kind, 0);
            copy_text(&c, r[i].error, 0);
            copy_text(&c, r[i].worker, 0);
            copy_time(&c, r[i].at_us > 0 ? r[i].at_us : clock_now_us(), 0);
            copy_printf(&c, "%d\t", r[i].run > 0 ? r[i].run : 1);
            copy_text(&c, r[i].created_at != NULL && r[i].created_at[0] ? r[i].created_at : "-infinity", 1);
        }
        if (copy_end(&c, err, errlen) != 0 ||
            pg_exec(db, "INSERT INTO job_retries (" RETRY_COLUMNS ") SELECT " RETRY_COLUMNS
                        " FROM job_retries_in ON CONFLICT DO NOTHING", err, errlen) != 0)
            goto fail;
    }
    if (pg_exec(db, "COMMIT", err, errlen) != 0)
        return refused_data(db) ? DB_REFUSED : -1;
    return 0;
fail:;
    int refused = refused_data(db);
    pg_exec(db, "ROLLBACK", NULL, 0);
    return refused ? DB_REFUSED : -1;
}

/* --- options data (migration 3): writes run inside the caller's
 * transaction; bulk ones COPY (upserts through a temporary table that is
 * emptied on commit, as bars do); reads are text results. */

static void copy_real(copy_t *c, double v, int last)
{
    if (isfinite(v))
        copy_printf(c, "%.17g%c", v, last ? '\n' : '\t');
    else
        copy_printf(c, "\\N%c", last ? '\n' : '\t');
}

/* A date (days since 1970-01-01) as YYYY-MM-DD; 0 is NULL when null_zero. */
static void copy_date(copy_t *c, int64_t days, int null_zero, int last)
{
    if (null_zero && days == 0) {
        copy_text(c, NULL, last);
        return;
    }
    char buf[CLOCK_DATE_LEN];
    clock_format_date(days * 86400, buf);
    copy_text(c, buf, last);
}

static double get_real(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NAN : strtod(PQgetvalue(r, row, col), NULL);
}

static long long get_int(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : atoll(PQgetvalue(r, row, col));
}

static int pg_option_quotes_put(db_t *db, const option_quote_t *rows, size_t n, char *err, size_t errlen)
{
    if (pg_exec(db, "CREATE TEMP TABLE IF NOT EXISTS option_quotes_in (LIKE option_quotes) ON COMMIT DELETE ROWS",
                err, errlen) != 0)
        return -1;
    copy_t c;
    if (copy_start(&c, db, "COPY option_quotes_in (symbol, quote_date, expiry, strike, type, bid, ask, last, volume,"
                           " open_interest, underlying_price) FROM STDIN", err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const option_quote_t *q = &rows[i];
        copy_text(&c, q->symbol, 0);
        copy_date(&c, q->quote_date, 0, 0);
        copy_date(&c, q->expiry, 0, 0);
        copy_real(&c, q->strike, 0);
        copy_text(&c, option_kind_name(q->kind), 0);
        copy_real(&c, q->bid, 0);
        copy_real(&c, q->ask, 0);
        copy_real(&c, q->last, 0);
        copy_printf(&c, "%lld\t%lld\t", (long long)q->volume, (long long)q->open_interest);
        copy_real(&c, q->underlying, 1);
    }
    if (copy_end(&c, err, errlen) != 0)
        return -1;
    return pg_exec(db,
                   "INSERT INTO option_quotes SELECT * FROM option_quotes_in"
                   " ON CONFLICT (symbol, quote_date, expiry, strike, type) DO UPDATE SET bid = EXCLUDED.bid,"
                   " ask = EXCLUDED.ask, last = EXCLUDED.last, volume = EXCLUDED.volume,"
                   " open_interest = EXCLUDED.open_interest, underlying_price = EXCLUDED.underlying_price;"
                   " TRUNCATE option_quotes_in",
                   err, errlen);
}

static int pg_option_quotes_get(db_t *db, const char *symbol, int64_t quote_date, option_quote_t **out, size_t *n,
                                char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    char date[CLOCK_DATE_LEN];
    clock_format_date(quote_date * 86400, date);
    const char *params[2] = { symbol, date };
    char oom[128];
    snprintf(oom, sizeof oom, "out of memory loading the option chain of %s", symbol);
    PGresult *r;
    if ((*out = query_rows(db,
                           "SELECT expiry - DATE '1970-01-01', strike, type, bid, ask, last, volume, open_interest,"
                           " underlying_price FROM option_quotes WHERE symbol = $1 AND quote_date = $2::date"
                           " ORDER BY expiry, strike, type",
                           2, params, "loading option quotes", sizeof **out, oom, &r, err, errlen)) == NULL)
        return -1;
    int rows = PQntuples(r);
    for (int i = 0; i < rows; i++) {
        option_quote_t *q = &(*out)[i];
        snprintf(q->symbol, sizeof q->symbol, "%s", symbol);
        q->quote_date = quote_date;
        q->expiry = get_int(r, i, 0);
        q->strike = get_real(r, i, 1);
        q->kind = option_kind_stored(PQgetvalue(r, i, 2));
        q->bid = get_real(r, i, 3);
        q->ask = get_real(r, i, 4);
        q->last = get_real(r, i, 5);
        q->volume = get_int(r, i, 6);
        q->open_interest = get_int(r, i, 7);
        q->underlying = get_real(r, i, 8);
    }
    *n = (size_t)rows;
    PQclear(r);
    return 0;
}

static int pg_option_summary(db_t *db, option_summary_t **out, size_t *n, char *err, size_t errlen)
{
    *n = 0;
    PGresult *r;
    if ((*out = query_rows(db,
                           "SELECT symbol, MIN(quote_date) - DATE '1970-01-01', MAX(quote_date) - DATE '1970-01-01',"
                           " COUNT(*) FROM option_quotes GROUP BY symbol ORDER BY symbol COLLATE \"C\"",
                           0, NULL, "listing option quotes", sizeof **out, "out of memory", &r, err, errlen)) == NULL)
        return -1;
    int rows = PQntuples(r);
    for (int i = 0; i < rows; i++) {
        option_summary_t *s = &(*out)[i];
        snprintf(s->symbol, sizeof s->symbol, "%s", PQgetvalue(r, i, 0));
        s->first_date = get_int(r, i, 1);
        s->last_date = get_int(r, i, 2);
        s->rows = get_int(r, i, 3);
    }
    *n = (size_t)rows;
    PQclear(r);
    return 0;
}

static int pg_option_iv_put(db_t *db, const char *symbol, int64_t quote_date, const option_iv_row_t *rows,
                            size_t n, char *err, size_t errlen)
{
    char date[CLOCK_DATE_LEN];
    clock_format_date(quote_date * 86400, date);
    const char *params[2] = { symbol, date };
    if (command(db, "DELETE FROM option_iv WHERE symbol = $1 AND quote_date = $2::date", 2, params,
                "clearing implied volatilities", err, errlen) != 0)
        return -1;
    if (n == 0)
        return 0;
    copy_t c;
    if (copy_start(&c, db, "COPY option_iv (symbol, quote_date, expiry, strike, type, underlying_price, mid, iv,"
                           " delta, gamma, theta, vega, rho) FROM STDIN", err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const option_iv_row_t *v = &rows[i];
        copy_text(&c, symbol, 0);
        copy_text(&c, date, 0);
        copy_date(&c, v->expiry, 0, 0);
        copy_real(&c, v->strike, 0);
        copy_text(&c, option_kind_name(v->kind), 0);
        copy_real(&c, v->underlying, 0);
        copy_real(&c, v->mid, 0);
        copy_real(&c, v->iv, 0);
        copy_real(&c, v->delta, 0);
        copy_real(&c, v->gamma, 0);
        copy_real(&c, v->theta, 0);
        copy_real(&c, v->vega, 0);
        copy_real(&c, v->rho, 1);
    }
    return copy_end(&c, err, errlen);
}

#define IV_HISTORY_COLUMNS \
    "symbol, date, atm_iv_30d, atm_method, near_expiry, near_iv, far_expiry, far_iv, iv_rank, iv_percentile," \
    " hv_20, hv_60, underlying_price, contracts, solved, skipped, atm_open_interest, atm_volume"
#define IV_HISTORY_SELECT \
    "symbol, date - DATE '1970-01-01', atm_iv_30d, atm_method, near_expiry - DATE '1970-01-01', near_iv," \
    " far_expiry - DATE '1970-01-01', far_iv, iv_rank, iv_percentile, hv_20, hv_60, underlying_price, contracts," \
    " solved, skipped, atm_open_interest, atm_volume"

static int pg_iv_history_put(db_t *db, const iv_history_row_t *rows, size_t n, char *err, size_t errlen)
{
    if (pg_exec(db, "CREATE TEMP TABLE IF NOT EXISTS iv_history_in (LIKE iv_history) ON COMMIT DELETE ROWS",
                err, errlen) != 0)
        return -1;
    copy_t c;
    if (copy_start(&c, db, "COPY iv_history_in (" IV_HISTORY_COLUMNS ") FROM STDIN", err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const iv_history_row_t *h = &rows[i];
        copy_text(&c, h->symbol, 0);
        copy_date(&c, h->date, 0, 0);
        copy_real(&c, h->atm_iv_30d, 0);
        copy_text(&c, h->atm_method, 0);
        copy_date(&c, h->near_expiry, 1, 0);
        copy_real(&c, h->near_iv, 0);
        copy_date(&c, h->far_expiry, 1, 0);
        copy_real(&c, h->far_iv, 0);
        copy_real(&c, h->iv_rank, 0);
        copy_real(&c, h->iv_percentile, 0);
        copy_real(&c, h->hv_20, 0);
        copy_real(&c, h->hv_60, 0);
        copy_real(&c, h->underlying, 0);
        copy_printf(&c, "%lld\t%lld\t%lld\t%lld\t%lld\n", h->contracts, h->solved, h->skipped,
                    h->atm_open_interest, h->atm_volume);
    }
    if (copy_end(&c, err, errlen) != 0)
        return -1;
    return pg_exec(db,
                   "INSERT INTO iv_history SELECT * FROM iv_history_in ON CONFLICT (symbol, date) DO UPDATE SET"
                   " atm_iv_30d = EXCLUDED.atm_iv_30d, atm_method = EXCLUDED.atm_method,"
                   " near_expiry = EXCLUDED.near_expiry, near_iv = EXCLUDED.near_iv,"
                   " far_expiry = EXCLUDED.far_expiry, far_iv = EXCLUDED.far_iv, iv_rank = EXCLUDED.iv_rank,"
                   " iv_percentile = EXCLUDED.iv_percentile, hv_20 = EXCLUDED.hv_20, hv_60 = EXCLUDED.hv_60,"
                   " underlying_price = EXCLUDED.underlying_price, contracts = EXCLUDED.contracts,"
                   " solved = EXCLUDED.solved, skipped = EXCLUDED.skipped,"
                   " atm_open_interest = EXCLUDED.atm_open_interest, atm_volume = EXCLUDED.atm_volume;"
                   " TRUNCATE iv_history_in",
                   err, errlen);
}

static int pg_iv_history_get(db_t *db, const char *symbol, int64_t from_date, int64_t to_date,
                             iv_history_row_t **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    char from[CLOCK_DATE_LEN], to[CLOCK_DATE_LEN];
    clock_format_date(from_date * 86400, from);
    clock_format_date(to_date * 86400, to);
    const char *by_symbol[3] = { symbol, from, to }, *latest[1] = { to };
    const char *sql = symbol != NULL
        ? "SELECT " IV_HISTORY_SELECT " FROM iv_history WHERE symbol = $1 AND date >= $2::date AND date <= $3::date"
          " ORDER BY date"
        : "SELECT " IV_HISTORY_SELECT " FROM (SELECT DISTINCT ON (symbol) * FROM iv_history WHERE date <= $1::date"
          " ORDER BY symbol, date DESC) h ORDER BY symbol COLLATE \"C\"";
    PGresult *r;
    if ((*out = query_rows(db, sql, symbol != NULL ? 3 : 1, symbol != NULL ? by_symbol : latest, "loading IV history",
                           sizeof **out, "out of memory loading IV history", &r, err, errlen)) == NULL)
        return -1;
    int rows = PQntuples(r);
    for (int i = 0; i < rows; i++) {
        iv_history_row_t *h = &(*out)[i];
        snprintf(h->symbol, sizeof h->symbol, "%s", PQgetvalue(r, i, 0));
        h->date = get_int(r, i, 1);
        h->atm_iv_30d = get_real(r, i, 2);
        snprintf(h->atm_method, sizeof h->atm_method, "%s", PQgetvalue(r, i, 3));
        h->near_expiry = get_int(r, i, 4);
        h->near_iv = get_real(r, i, 5);
        h->far_expiry = get_int(r, i, 6);
        h->far_iv = get_real(r, i, 7);
        h->iv_rank = get_real(r, i, 8);
        h->iv_percentile = get_real(r, i, 9);
        h->hv_20 = get_real(r, i, 10);
        h->hv_60 = get_real(r, i, 11);
        h->underlying = get_real(r, i, 12);
        h->contracts = get_int(r, i, 13);
        h->solved = get_int(r, i, 14);
        h->skipped = get_int(r, i, 15);
        h->atm_open_interest = get_int(r, i, 16);
        h->atm_volume = get_int(r, i, 17);
    }
    *n = (size_t)rows;
    PQclear(r);
    return 0;
}

static int pg_opportunities_put(db_t *db, int64_t generated_us, const opportunity_row_t *rows, size_t n,
                                char *err, size_t errlen)
{
    char at[CLOCK_DATE_LEN];
    clock_format_datetime_us(generated_us, at);
    copy_t c;
    if (copy_start(&c, db, "COPY opportunities (generated_at, side, rank, symbol, score, date, atm_iv_30d, iv_rank,"
                           " iv_percentile, hv_20, hv_60, atm_open_interest, atm_volume) FROM STDIN",
                   err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const opportunity_row_t *o = &rows[i];
        copy_text(&c, at, 0);
        copy_text(&c, o->side, 0);
        copy_printf(&c, "%d\t", o->rank);
        copy_text(&c, o->h->symbol, 0);
        copy_real(&c, o->score, 0);
        copy_date(&c, o->h->date, 0, 0);
        copy_real(&c, o->h->atm_iv_30d, 0);
        copy_real(&c, o->h->iv_rank, 0);
        copy_real(&c, o->h->iv_percentile, 0);
        copy_real(&c, o->h->hv_20, 0);
        copy_real(&c, o->h->hv_60, 0);
        copy_printf(&c, "%lld\t%lld\n", o->h->atm_open_interest, o->h->atm_volume);
    }
    return copy_end(&c, err, errlen);
}

/* The newest scan (db_opportunities_latest). generated_at and date come
 * back as epoch microseconds and days, NULL when infinite (with their text,
 * to name them): a value the writer cannot have written is an error. */
static int pg_opportunities_latest(db_t *db, int64_t *generated_us, opportunity_entry_t **out, size_t *n,
                                   char *err, size_t errlen)
{
    *generated_us = 0;
    *out = NULL;
    *n = 0;
    PGresult *r = query(db,
                        "SELECT CASE WHEN isfinite(generated_at)"
                        " THEN (EXTRACT(EPOCH FROM generated_at) * 1000000)::bigint END, generated_at::text, side,"
                        " rank, symbol, score, CASE WHEN isfinite(date) THEN date - DATE '1970-01-01' END, date::text,"
                        " atm_iv_30d, iv_rank, iv_percentile, hv_20, hv_60, atm_open_interest, atm_volume"
                        " FROM opportunities WHERE generated_at = (SELECT MAX(generated_at) FROM opportunities)"
                        " ORDER BY side COLLATE \"C\", rank",
                        0, NULL, "reading the newest opportunity scan", err, errlen);
    if (r == NULL)
        return -1;
    int rows = PQntuples(r);
    if (rows == 0) {
        PQclear(r);
        return 0;
    }
    if ((*out = rows_alloc(r, sizeof **out, "out of memory reading the newest opportunity scan", err, errlen)) ==
        NULL)
        return -1;
    char bad[256] = "";
    const char *at = PQgetvalue(r, 0, 1);
    if (PQgetisnull(r, 0, 0))
        snprintf(bad, sizeof bad, "generated_at '%.40s' is not a finite time", at);
    else
        *generated_us = get_int(r, 0, 0);
    for (int i = 0; i < rows && bad[0] == '\0'; i++) {
        opportunity_entry_t *e = &(*out)[i];
        const char *side = PQgetvalue(r, i, 2), *symbol = PQgetvalue(r, i, 4);
        long long rank = get_int(r, i, 3);
        if (strcmp(side, "sell_premium") != 0 && strcmp(side, "buy_premium") != 0) {
            snprintf(bad, sizeof bad, "side '%.40s' of the scan at %s is not sell_premium or buy_premium", side, at);
            break;
        }
        if (rank < 1 || rank > INT_MAX) {
            snprintf(bad, sizeof bad, "rank '%lld' of %s in the scan at %s is not a whole number from 1", rank, side,
                     at);
            break;
        }
        if (*symbol == '\0' || strlen(symbol) > BAR_SYMBOL_MAX) {
            snprintf(bad, sizeof bad, "symbol '%.40s' of %s rank %lld in the scan at %s is not 1 to %d characters",
                     symbol, side, rank, at, BAR_SYMBOL_MAX);
            break;
        }
        if (PQgetisnull(r, i, 6)) {
            snprintf(bad, sizeof bad, "date '%.40s' of %s rank %lld in the scan at %s is not a finite date",
                     PQgetvalue(r, i, 7), side, rank, at);
            break;
        }
        snprintf(e->side, sizeof e->side, "%s", side);
        e->rank = (int)rank;
        snprintf(e->symbol, sizeof e->symbol, "%s", symbol);
        e->score = get_real(r, i, 5);
        e->date = get_int(r, i, 6);
        e->atm_iv_30d = get_real(r, i, 8);
        e->iv_rank = get_real(r, i, 9);
        e->iv_percentile = get_real(r, i, 10);
        e->hv_20 = get_real(r, i, 11);
        e->hv_60 = get_real(r, i, 12);
        e->atm_open_interest = get_int(r, i, 13);
        e->atm_volume = get_int(r, i, 14);
    }
    PQclear(r);
    if (bad[0] != '\0') {
        free(*out);
        *out = NULL;
        *generated_us = 0;
        return fail(db, err, errlen, "reading the newest opportunity scan", bad);
    }
    *n = (size_t)rows;
    return 0;
}

/* Job history rows (db_history_list); NULL parameters leave a filter out. */
static int pg_history_list(db_t *db, const history_query_t *q, history_row_t **out, size_t *n, char *err,
                           size_t errlen)
{
    char from[CLOCK_ISO_LEN], before[CLOCK_ISO_LEN], limit[24];
    clock_iso8601(q->from_us, from);
    clock_iso8601(q->before_us, before);
    snprintf(limit, sizeof limit, "%zu", q->limit);
    const char *params[6] = { q->state, from, before, q->queue, q->type, limit };
    PGresult *r;
    if ((*out = query_rows(db, "SELECT job_id, type, queue, state, attempts,"
                               " (EXTRACT(EPOCH FROM finished_at) * 1000)::bigint, error, run FROM job_history"
                               " WHERE state = $1 AND finished_at >= $2::timestamptz AND finished_at < $3::timestamptz"
                               " AND ($4::text IS NULL OR queue = $4) AND ($5::text IS NULL OR type = $5)"
                               " ORDER BY finished_at DESC LIMIT $6::bigint", 6, params, "reading the job history",
                           sizeof **out, "out of memory reading the job history", &r, err, errlen)) == NULL)
        return -1;
    int rows = PQntuples(r), ok = 1;
    for (int i = 0; i < rows; i++) {
        history_row_t *h = &(*out)[i];
        memset(h, 0, sizeof *h);
        h->job_id = strdup(PQgetvalue(r, i, 0));
        h->type = strdup(PQgetvalue(r, i, 1));
        h->queue = strdup(PQgetvalue(r, i, 2));
        h->state = strdup(PQgetvalue(r, i, 3));
        h->attempts = (int)get_int(r, i, 4);
        h->finished_ms = get_int(r, i, 5);
        h->error = PQgetisnull(r, i, 6) ? NULL : strdup(PQgetvalue(r, i, 6));
        h->run = (int)get_int(r, i, 7);
        ok = ok && h->job_id && h->type && h->queue && h->state && (PQgetisnull(r, i, 6) || h->error);
    }
    PQclear(r);
    *n = (size_t)rows;
    if (!ok) {
        db_history_rows_free(*out, *n);
        *out = NULL;
        *n = 0;
        snprintf(err, errlen, "out of memory reading the job history");
        return -1;
    }
    return 0;
}

/* --- optimize tables (migration 6) --- */

static int pg_optimize_put(db_t *db, const char *job_id, const optimize_row_t *rows, size_t n, char *err,
                           size_t errlen)
{
    const char *params[1] = { job_id };
    if (command(db, "DELETE FROM optimize_results WHERE job_id = $1", 1, params, "replacing an optimize table", err,
                errlen) != 0)
        return -1;
    if (n == 0)
        return 0;
    copy_t c;
    if (copy_start(&c, db, "COPY optimize_results (job_id, fold, rank, objective, params, metrics, error)"
                           " FROM STDIN", err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        copy_text_n(&c, job_id, SIZE_MAX, 0);
        copy_printf(&c, "%d\t%d\t", rows[i].fold, rows[i].rank);
        copy_real(&c, rows[i].objective, 0);
        copy_text_n(&c, rows[i].params, SIZE_MAX, 0);
        copy_text_n(&c, rows[i].metrics, SIZE_MAX, 0);
        copy_text_n(&c, rows[i].error, SIZE_MAX, 1);
    }
    return copy_end(&c, err, errlen);
}

static int pg_optimize_get(db_t *db, const char *job_id, size_t offset, size_t limit, optimize_row_t **out,
                           size_t *n, long long *total, char *err, size_t errlen)
{
    char lim[24], off[24];
    snprintf(lim, sizeof lim, "%zu", limit);
    snprintf(off, sizeof off, "%zu", offset);
    const char *params[3] = { job_id, lim, off };
    PGresult *r = query(db, "SELECT COUNT(*) FROM optimize_results WHERE job_id = $1", 1, params,
                        "reading an optimize table", err, errlen);
    if (r == NULL)
        return -1;
    *total = get_int(r, 0, 0);
    PQclear(r);
    r = query(db, "SELECT rank, objective, params, metrics, error, fold FROM optimize_results WHERE job_id = $1"
                  " ORDER BY fold, rank LIMIT $2::bigint OFFSET $3::bigint", 3, params, "reading an optimize table",
              err, errlen);
    if (r == NULL)
        return -1;
    int rows = PQntuples(r), ok = 1;
    if (rows > 0 && (*out = rows_alloc(r, sizeof **out, "out of memory reading an optimize table", err,
                                       errlen)) == NULL)
        return -1;
    for (int i = 0; i < rows; i++) {
        optimize_row_t *o = &(*out)[i];
        o->rank = (int)get_int(r, i, 0);
        o->objective = get_real(r, i, 1);
        o->params = strdup(PQgetvalue(r, i, 2));
        o->metrics = PQgetisnull(r, i, 3) ? NULL : strdup(PQgetvalue(r, i, 3));
        o->error = PQgetisnull(r, i, 4) ? NULL : strdup(PQgetvalue(r, i, 4));
        o->fold = (int)get_int(r, i, 5);
        ok = ok && o->params && (PQgetisnull(r, i, 3) || o->metrics) && (PQgetisnull(r, i, 4) || o->error);
    }
    PQclear(r);
    *n = (size_t)rows;
    if (!ok) {
        db_optimize_rows_free(*out, *n);
        *out = NULL;
        *n = 0;
        snprintf(err, errlen, "out of memory reading an optimize table");
        return -1;
    }
    return 0;
}

/* A server that went away (a restart's fast shutdown, pg_terminate_backend)
 * sent its FATAL and closed the socket: between statements, reading what
 * is there without waiting (PQconsumeInput) finds that, and libpq then marks
 * the connection bad; a statement that failed on a broken socket marked it
 * already. */
static int pg_connection_lost(db_t *db)
{
    PGconn *c = conn_of(db);
    if (PQstatus(c) == CONNECTION_BAD)
        return 1;
    if (PQtransactionStatus(c) != PQTRANS_IDLE)
        return 0;
    /* An idle connection has nothing to read unless the server spoke on
     * its own: its FATAL, then the end of the stream (two reads). */
    for (int i = 0; i < 4; i++) {
        struct pollfd p = { PQsocket(c), POLLIN, 0 };
        if (p.fd < 0)
            return 1;
        if (poll(&p, 1, 0) <= 0)
            break;
        if (!PQconsumeInput(c))
            return 1;
    }
    return PQstatus(c) == CONNECTION_BAD;
}

const db_driver_t db_pg_driver = {
    "postgresql",
    pg_close,
    pg_exec,
    pg_begin_migration,
    pg_applied_version,
    pg_bars_put,
    pg_bars_get,
    pg_bars_summary,
    pg_bars_version,
    pg_history_put,
    pg_option_quotes_put,
    pg_option_quotes_get,
    pg_option_summary,
    pg_option_iv_put,
    pg_iv_history_put,
    pg_iv_history_get,
    pg_opportunities_put,
    pg_opportunities_latest,
    pg_history_list,
    pg_optimize_put,
    pg_optimize_get,
    pg_connection_lost,
};
