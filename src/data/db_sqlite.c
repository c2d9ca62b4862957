/* db_sqlite.c — the SQLite driver: one file in WAL mode, the default for a
 * single host. Writers wait up to 10 s for the write lock (busy timeout);
 * prepared statements are kept for the hot paths (bar upserts, loads,
 * history). */
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "data/db_driver.h"

typedef struct {
    sqlite3 *conn;
    sqlite3_stmt *version;
    sqlite3_stmt *put_bar;
    sqlite3_stmt *get_bars;
    sqlite3_stmt *put_history;
    sqlite3_stmt *put_retry;
} lite_t;

static lite_t *lite_of(db_t *db) { return db->impl; }

static int fail(db_t *db, char *err, size_t errlen, const char *what)
{
    if (err != NULL)
        snprintf(err, errlen, "SQLite %s (%s): %s", what, db->where, sqlite3_errmsg(lite_of(db)->conn));
    return -1;
}

/* Runs a prepared statement for one row and resets it for the next:
 * 0, or -1 when the step failed (the connection holds the error). */
static int step_row(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* step_row for each row of a write through a statement prepared per call
 * (lite_prepare_once): 0, or -1 with `what`'s error in err and st
 * finalized, so the caller only returns. */
static int step_or_fail(db_t *db, sqlite3_stmt *st, const char *what, char *err, size_t errlen)
{
    if (step_row(st) == 0)
        return 0;
    fail(db, err, errlen, what);
    sqlite3_finalize(st);
    return -1;
}

/* Makes room for one more element in *p (of *cap); 0 or -1. */
static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    void *q = realloc(*p, c * size);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* The end of a query read into a growing array (*out, *n), rc the last
 * step's: finalizes the statement; 0 when every row was read, else -1 with
 * `oom` (a row was left, there was no room for it) or the error of `what`,
 * and the array freed. */
static int rows_end(db_t *db, sqlite3_stmt *st, int rc, void **out, size_t *n, const char *oom, const char *what,
                    char *err, size_t errlen)
{
    if (rc == SQLITE_ROW)
        snprintf(err, errlen, "%s", oom);
    else if (rc != SQLITE_DONE)
        fail(db, err, errlen, what);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    free(*out);
    *out = NULL;
    *n = 0;
    return -1;
}

int db_sqlite_open(db_t *db, const char *abs, char *err, size_t errlen)
{
    lite_t *l = calloc(1, sizeof *l);
    if (l == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    db->impl = l;
    if (sqlite3_open_v2(abs, &l->conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open the SQLite database %s: %s", abs,
                 l->conn ? sqlite3_errmsg(l->conn) : "out of memory");
        sqlite3_close(l->conn);
        free(l);
        db->impl = NULL;
        return -1;
    }
    sqlite3_busy_timeout(l->conn, 10000);
    /* A 64 MiB page cache keeps a large import's B-tree pages in memory until
     * commit instead of spilling them to the WAL again and again. */
    const char *setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                        " PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;";
    char *msg = NULL;
    /* Switching a new file to WAL takes an exclusive lock, and SQLite does
     * not wait for it in every case (deadlock avoidance) when several
     * processes open the same new file at once: try again for a while. */
    int rc;
    for (int tries = 0; (rc = sqlite3_exec(l->conn, setup, NULL, NULL, &msg)) == SQLITE_BUSY && tries < 200; tries++) {
        sqlite3_free(msg);
        msg = NULL;
        clock_sleep_ms(50, NULL);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot set up the SQLite database %s: %s (is it a database file?)", abs,
                 msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(l->conn);
        free(l);
        db->impl = NULL;
        return -1;
    }
    return 0;
}

static void lite_close(db_t *db)
{
    lite_t *l = lite_of(db);
    sqlite3_finalize(l->version);
    sqlite3_finalize(l->put_bar);
    sqlite3_finalize(l->get_bars);
    sqlite3_finalize(l->put_history);
    sqlite3_finalize(l->put_retry);
    sqlite3_close(l->conn);
    free(l);
    db->impl = NULL;
}

static int lite_exec(db_t *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(lite_of(db)->conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
        if (err != NULL)
            snprintf(err, errlen, "SQLite (%s): %s", db->where, msg ? msg : "error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int lite_begin_migration(db_t *db, char *err, size_t errlen)
{
    return lite_exec(db, "BEGIN IMMEDIATE", err, errlen);
}

static int lite_applied_version(db_t *db, int *version, char *err, size_t errlen)
{
    if (lite_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                      " description TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT"
                      " (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))", err, errlen) != 0)
        return -1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(lite_of(db)->conn, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", -1, &st, NULL) != SQLITE_OK)
        return fail(db, err, errlen, "reading the schema version");
    int rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : fail(db, err, errlen, "reading the schema version");
}

static int prepare(db_t *db, sqlite3_stmt **st, const char *sql, char *err, size_t errlen)
{
    if (*st != NULL)
        return 0;
    if (sqlite3_prepare_v3(lite_of(db)->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return fail(db, err, errlen, "preparing a statement");
    return 0;
}

static int lite_bars_put(db_t *db, const char *interval, const bar_row_t *rows, size_t n, char *err, size_t errlen)
{
    lite_t *l = lite_of(db);
    if (prepare(db, &l->put_bar,
                "INSERT INTO bars (symbol, interval, ts, open, high, low, close, volume)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                " ON CONFLICT (symbol, interval, ts) DO UPDATE SET open = excluded.open,"
                " high = excluded.high, low = excluded.low, close = excluded.close, volume = excluded.volume",
                err, errlen) != 0)
        return -1;
    sqlite3_stmt *st = l->put_bar;
    sqlite3_bind_text(st, 2, interval, -1, SQLITE_STATIC);
    for (size_t i = 0; i < n; i++) {
        const bar_row_t *r = &rows[i];
        sqlite3_bind_text(st, 1, r->symbol, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, r->ts);
        sqlite3_bind_double(st, 4, r->open);
        sqlite3_bind_double(st, 5, r->high);
        sqlite3_bind_double(st, 6, r->low);
        sqlite3_bind_double(st, 7, r->close);
        sqlite3_bind_double(st, 8, r->volume);
        if (step_row(st) != 0)
            return fail(db, err, errlen, "writing bars");
    }
    return 0;
}

static int lite_bars_get(db_t *db, const char *interval, const char *const *symbols, size_t nsymbols,
                         int64_t from_ts, int64_t to_ts, bar_set_t *out, char *err, size_t errlen)
{
    lite_t *l = lite_of(db);
    if (prepare(db, &l->get_bars,
                "SELECT ts, open, high, low, close, volume FROM bars"
                " WHERE symbol = ?1 AND interval = ?2 AND ts >= ?3 AND ts <= ?4 ORDER BY ts",
                err, errlen) != 0)
        return -1;
    sqlite3_stmt *st = l->get_bars;
    sqlite3_bind_text(st, 2, interval, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, from_ts);
    sqlite3_bind_int64(st, 4, to_ts);
    for (size_t i = 0; i < nsymbols; i++) {
        sqlite3_bind_text(st, 1, symbols[i], -1, SQLITE_STATIC);
        bar_series_t *s = NULL;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (s == NULL && (s = bar_set_add(out, symbols[i])) == NULL)
                break;
            if (bar_series_push(s, sqlite3_column_int64(st, 0), sqlite3_column_double(st, 1),
                                sqlite3_column_double(st, 2), sqlite3_column_double(st, 3),
                                sqlite3_column_double(st, 4), sqlite3_column_double(st, 5)) != 0) {
                rc = SQLITE_NOMEM;
                break;
            }
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            if (rc == SQLITE_ROW || rc == SQLITE_NOMEM)
                snprintf(err, errlen, "out of memory loading bars of %s", symbols[i]);
            else
                fail(db, err, errlen, "loading bars");
            return -1;
        }
    }
    return 0;
}

static int lite_bars_summary(db_t *db, bar_summary_t **out, size_t *n, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(lite_of(db)->conn,
                           "SELECT symbol, interval, MIN(ts), MAX(ts), COUNT(*) FROM bars"
                           " GROUP BY symbol, interval ORDER BY symbol, interval", -1, &st, NULL) != SQLITE_OK)
        return fail(db, err, errlen, "listing bars");
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)out, &cap, *n, sizeof **out) != 0)
            break;
        bar_summary_t *s = &(*out)[(*n)++];
        snprintf(s->symbol, sizeof s->symbol, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(s->interval, sizeof s->interval, "%s", (const char *)sqlite3_column_text(st, 1));
        s->first_ts = sqlite3_column_int64(st, 2);
        s->last_ts = sqlite3_column_int64(st, 3);
        s->count = sqlite3_column_int64(st, 4);
    }
    return rows_end(db, st, rc, (void **)out, n, "out of memory listing bars", "listing bars", err, errlen);
}

static int lite_bars_version(db_t *db, long long *version, char *err, size_t errlen)
{
    lite_t *l = lite_of(db);
    if (prepare(db, &l->version, "SELECT version FROM bars_version WHERE id = 1", err, errlen) != 0)
        return -1;
    int rc = sqlite3_step(l->version);
    *version = rc == SQLITE_ROW ? sqlite3_column_int64(l->version, 0) : -1;
    sqlite3_reset(l->version);
    return rc == SQLITE_ROW ? 0 : fail(db, err, errlen, "reading the bars version");
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s != NULL && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_time(sqlite3_stmt *st, int i, int64_t us, char buf[CLOCK_ISO_LEN])
{
    if (us > 0) {
        clock_iso8601(us, buf);
        sqlite3_bind_text(st, i, buf, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, i);
    }
}

/* created_at is part of the rows' unique key (migration 5): a row whose job
 * record had none stores "" (SQLite) or -infinity (PostgreSQL), never NULL,
 * which never conflicts in a unique index, so that a row delivered twice is
 * written once. NULL stays for rows written before migration 5. */
static int lite_history_put(db_t *db, const history_rec_t *h, size_t nh, const retry_rec_t *r, size_t nr,
                            char *err, size_t errlen)
{
    lite_t *l = lite_of(db);
    if (prepare(db, &l->put_history,
                "INSERT INTO job_history (job_id, type, queue, state, attempts, worker, started_at,"
                " finished_at, duration_ms, error, run, created_at)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT DO NOTHING",
                err, errlen) != 0 ||
        prepare(db, &l->put_retry,
                "INSERT INTO job_retries (job_id, attempt, kind, error, worker, at, run, created_at)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING", err, errlen) != 0)
        return -1;
    if (lite_exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    char t1[CLOCK_ISO_LEN], t2[CLOCK_ISO_LEN];
    sqlite3_stmt *st = NULL;
    int rc = SQLITE_OK;
    for (size_t i = 0; i < nh; i++) {
        st = l->put_history;
        sqlite3_bind_text(st, 1, h[i].job_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, h[i].type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, h[i].queue, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, h[i].state, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, h[i].attempts);
        bind_text_or_null(st, 6, h[i].worker);
        bind_time(st, 7, h[i].started_us, t1);
        bind_time(st, 8, h[i].finished_us > 0 ? h[i].finished_us : clock_now_us(), t2);
        if (h[i].started_us > 0 && h[i].finished_us >= h[i].started_us)
            sqlite3_bind_double(st, 9, (double)(h[i].finished_us - h[i].started_us) / 1000.0);
        else
            sqlite3_bind_null(st, 9);
        bind_text_or_null(st, 10, h[i].error);
        sqlite3_bind_int(st, 11, h[i].run > 0 ? h[i].run : 1);
        sqlite3_bind_text(st, 12, h[i].created_at ? h[i].created_at : "", -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE)
            goto fail;
        sqlite3_reset(st);
    }
    for (size_t i = 0; i < nr; i++) {
        st = l->put_retry;
        sqlite3_bind_text(st, 1, r[i].job_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, r[i].attempt);
        sqlite3_bind_text(st, 3, r[i].kind, -1, SQLITE_STATIC);
        bind_text_or_null(st, 4, r[i].error);
        bind_text_or_null(st, 5, r[i].worker);
        bind_time(st, 6, r[i].at_us > 0 ? r[i].at_us : clock_now_us(), t1);
        sqlite3_bind_int(st, 7, r[i].run > 0 ? r[i].run : 1);
        sqlite3_bind_text(st, 8, r[i].created_at ? r[i].created_at : "", -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE)
            goto fail;
        sqlite3_reset(st);
    }
    return lite_exec(db, "COMMIT", err, errlen);
fail:
    fail(db, err, errlen, "writing job history");
    sqlite3_reset(st);
    lite_exec(db, "ROLLBACK", NULL, 0);
    /* A value it cannot store (db.h, DB_REFUSED), not a busy or broken file. */
    rc &= 0xff;
    return rc == SQLITE_CONSTRAINT || rc == SQLITE_TOOBIG || rc == SQLITE_MISMATCH ? DB_REFUSED : -1;
}

/* --- options data (migration 3): not hot paths, so statements are
 * prepared per call; every write runs inside the caller's transaction. */

static int lite_prepare_once(db_t *db, sqlite3_stmt **st, const char *sql, char *err, size_t errlen)
{
    if (sqlite3_prepare_v2(lite_of(db)->conn, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return fail(db, err, errlen, "preparing a statement");
    }
    return 0;
}

/* Binds a date (days since 1970-01-01) as YYYY-MM-DD; 0 binds NULL when
 * null_zero is set. */
static void bind_date(sqlite3_stmt *st, int i, int64_t days, int null_zero)
{
    if (null_zero && days == 0) {
        sqlite3_bind_null(st, i);
        return;
    }
    char buf[CLOCK_DATE_LEN];
    clock_format_date(days * 86400, buf);
    sqlite3_bind_text(st, i, buf, -1, SQLITE_TRANSIENT);
}

static void bind_real_or_null(sqlite3_stmt *st, int i, double v)
{
    if (isfinite(v))
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* A YYYY-MM-DD column as days since 1970-01-01; NULL (or junk) gives 0. */
static int64_t column_date(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    int64_t ts;
    if (s == NULL || clock_parse_date(s, strlen(s), &ts) != 0)
        return 0;
    return ts / 86400;
}

static double column_real_or_nan(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

/* Steps st to SQLITE_DONE; on failure fills err, and in every case
 * finalizes st. */
static int step_done(db_t *db, sqlite3_stmt *st, const char *what, char *err, size_t errlen)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        fail(db, err, errlen, what);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int lite_option_quotes_put(db_t *db, const option_quote_t *rows, size_t n, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (lite_prepare_once(db, &st,
                          "INSERT INTO option_quotes (symbol, quote_date, expiry, strike, type, bid, ask, last,"
                          " volume, open_interest, underlying_price) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                          " ON CONFLICT (symbol, quote_date, expiry, strike, type) DO UPDATE SET bid = excluded.bid,"
                          " ask = excluded.ask, last = excluded.last, volume = excluded.volume,"
                          " open_interest = excluded.open_interest, underlying_price = excluded.underlying_price",
                          err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const option_quote_t *q = &rows[i];
        sqlite3_bind_text(st, 1, q->symbol, -1, SQLITE_STATIC);
        bind_date(st, 2, q->quote_date, 0);
        bind_date(st, 3, q->expiry, 0);
        sqlite3_bind_double(st, 4, q->strike);
        sqlite3_bind_text(st, 5, option_kind_name(q->kind), -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 6, q->bid);
        sqlite3_bind_double(st, 7, q->ask);
        bind_real_or_null(st, 8, q->last);
        sqlite3_bind_int64(st, 9, q->volume);
        sqlite3_bind_int64(st, 10, q->open_interest);
        bind_real_or_null(st, 11, q->underlying);
        if (step_or_fail(db, st, "writing option quotes", err, errlen) != 0)
            return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

static int lite_option_quotes_get(db_t *db, const char *symbol, int64_t quote_date, option_quote_t **out, size_t *n,
                                  char *err, size_t errlen)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    if (lite_prepare_once(db, &st,
                          "SELECT expiry, strike, type, bid, ask, last, volume, open_interest, underlying_price"
                          " FROM option_quotes WHERE symbol = ?1 AND quote_date = ?2 ORDER BY expiry, strike, type",
                          err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, symbol, -1, SQLITE_STATIC);
    bind_date(st, 2, quote_date, 0);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)out, &cap, *n, sizeof **out) != 0)
            break;
        option_quote_t *q = &(*out)[(*n)++];
        memset(q, 0, sizeof *q);
        snprintf(q->symbol, sizeof q->symbol, "%s", symbol);
        q->quote_date = quote_date;
        q->expiry = column_date(st, 0);
        q->strike = sqlite3_column_double(st, 1);
        const char *type = (const char *)sqlite3_column_text(st, 2);
        q->kind = option_kind_stored(type);
        q->bid = sqlite3_column_double(st, 3);
        q->ask = sqlite3_column_double(st, 4);
        q->last = column_real_or_nan(st, 5);
        q->volume = sqlite3_column_int64(st, 6);
        q->open_interest = sqlite3_column_int64(st, 7);
        q->underlying = column_real_or_nan(st, 8);
    }
    char oom[128];
    snprintf(oom, sizeof oom, "out of memory loading the option chain of %s", symbol);
    return rows_end(db, st, rc, (void **)out, n, oom, "loading option quotes", err, errlen);
}

static int lite_option_summary(db_t *db, option_summary_t **out, size_t *n, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    if (lite_prepare_once(db, &st,
                          "SELECT symbol, MIN(quote_date), MAX(quote_date), COUNT(*) FROM option_quotes"
                          " GROUP BY symbol ORDER BY symbol", err, errlen) != 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)out, &cap, *n, sizeof **out) != 0)
            break;
        option_summary_t *s = &(*out)[(*n)++];
        snprintf(s->symbol, sizeof s->symbol, "%s", (const char *)sqlite3_column_text(st, 0));
        s->first_date = column_date(st, 1);
        s->last_date = column_date(st, 2);
        s->rows = sqlite3_column_int64(st, 3);
    }
    return rows_end(db, st, rc, (void **)out, n, "out of memory listing option quotes", "listing option quotes",
                    err, errlen);
}

static int lite_option_iv_put(db_t *db, const char *symbol, int64_t quote_date, const option_iv_row_t *rows,
                              size_t n, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (lite_prepare_once(db, &st, "DELETE FROM option_iv WHERE symbol = ?1 AND quote_date = ?2", err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, symbol, -1, SQLITE_STATIC);
    bind_date(st, 2, quote_date, 0);
    if (step_done(db, st, "clearing implied volatilities", err, errlen) != 0)
        return -1;
    if (n == 0)
        return 0;
    if (lite_prepare_once(db, &st,
                          "INSERT INTO option_iv (symbol, quote_date, expiry, strike, type, underlying_price, mid, iv,"
                          " delta, gamma, theta, vega, rho)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)", err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, symbol, -1, SQLITE_STATIC);
    bind_date(st, 2, quote_date, 0);
    for (size_t i = 0; i < n; i++) {
        const option_iv_row_t *r = &rows[i];
        bind_date(st, 3, r->expiry, 0);
        sqlite3_bind_double(st, 4, r->strike);
        sqlite3_bind_text(st, 5, option_kind_name(r->kind), -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 6, r->underlying);
        sqlite3_bind_double(st, 7, r->mid);
        sqlite3_bind_double(st, 8, r->iv);
        sqlite3_bind_double(st, 9, r->delta);
        sqlite3_bind_double(st, 10, r->gamma);
        sqlite3_bind_double(st, 11, r->theta);
        sqlite3_bind_double(st, 12, r->vega);
        sqlite3_bind_double(st, 13, r->rho);
        if (step_or_fail(db, st, "writing implied volatilities", err, errlen) != 0)
            return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

#define IV_HISTORY_COLUMNS \
    "symbol, date, atm_iv_30d, atm_method, near_expiry, near_iv, far_expiry, far_iv, iv_rank, iv_percentile," \
    " hv_20, hv_60, underlying_price, contracts, solved, skipped, atm_open_interest, atm_volume"

static int lite_iv_history_put(db_t *db, const iv_history_row_t *rows, size_t n, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (lite_prepare_once(db, &st,
                          "INSERT INTO iv_history (" IV_HISTORY_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                          " ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) ON CONFLICT (symbol, date) DO UPDATE SET"
                          " atm_iv_30d = excluded.atm_iv_30d, atm_method = excluded.atm_method,"
                          " near_expiry = excluded.near_expiry, near_iv = excluded.near_iv,"
                          " far_expiry = excluded.far_expiry, far_iv = excluded.far_iv, iv_rank = excluded.iv_rank,"
                          " iv_percentile = excluded.iv_percentile, hv_20 = excluded.hv_20, hv_60 = excluded.hv_60,"
                          " underlying_price = excluded.underlying_price, contracts = excluded.contracts,"
                          " solved = excluded.solved, skipped = excluded.skipped,"
                          " atm_open_interest = excluded.atm_open_interest, atm_volume = excluded.atm_volume",
                          err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const iv_history_row_t *h = &rows[i];
        sqlite3_bind_text(st, 1, h->symbol, -1, SQLITE_STATIC);
        bind_date(st, 2, h->date, 0);
        bind_real_or_null(st, 3, h->atm_iv_30d);
        sqlite3_bind_text(st, 4, h->atm_method, -1, SQLITE_STATIC);
        bind_date(st, 5, h->near_expiry, 1);
        bind_real_or_null(st, 6, h->near_iv);
        bind_date(st, 7, h->far_expiry, 1);
        bind_real_or_null(st, 8, h->far_iv);
        bind_real_or_null(st, 9, h->iv_rank);
        bind_real_or_null(st, 10, h->iv_percentile);
        bind_real_or_null(st, 11, h->hv_20);
        bind_real_or_null(st, 12, h->hv_60);
        bind_real_or_null(st, 13, h->underlying);
        sqlite3_bind_int64(st, 14, h->contracts);
        sqlite3_bind_int64(st, 15, h->solved);
        sqlite3_bind_int64(st, 16, h->skipped);
        sqlite3_bind_int64(st, 17, h->atm_open_interest);
        sqlite3_bind_int64(st, 18, h->atm_volume);
        if (step_or_fail(db, st, "writing IV history", err, errlen) != 0)
            return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

static int lite_iv_history_get(db_t *db, const char *symbol, int64_t from_date, int64_t to_date,
                               iv_history_row_t **out, size_t *n, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    const char *sql = symbol != NULL
        ? "SELECT " IV_HISTORY_COLUMNS " FROM iv_history WHERE symbol = ?1 AND date >= ?2 AND date <= ?3 ORDER BY date"
        : "SELECT " IV_HISTORY_COLUMNS " FROM iv_history JOIN (SELECT symbol AS s, MAX(date) AS d FROM iv_history"
          " WHERE date <= ?3 GROUP BY symbol) ON symbol = s AND date = d ORDER BY symbol";
    if (lite_prepare_once(db, &st, sql, err, errlen) != 0)
        return -1;
    if (symbol != NULL) {
        sqlite3_bind_text(st, 1, symbol, -1, SQLITE_STATIC);
        bind_date(st, 2, from_date, 0);
    }
    bind_date(st, 3, to_date, 0);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)out, &cap, *n, sizeof **out) != 0)
            break;
        iv_history_row_t *h = &(*out)[(*n)++];
        memset(h, 0, sizeof *h);
        snprintf(h->symbol, sizeof h->symbol, "%s", (const char *)sqlite3_column_text(st, 0));
        h->date = column_date(st, 1);
        h->atm_iv_30d = column_real_or_nan(st, 2);
        snprintf(h->atm_method, sizeof h->atm_method, "%s", (const char *)sqlite3_column_text(st, 3));
        h->near_expiry = column_date(st, 4);
        h->near_iv = column_real_or_nan(st, 5);
        h->far_expiry = column_date(st, 6);
        h->far_iv = column_real_or_nan(st, 7);
        h->iv_rank = column_real_or_nan(st, 8);
        h->iv_percentile = column_real_or_nan(st, 9);
        h->hv_20 = column_real_or_nan(st, 10);
        h->hv_60 = column_real_or_nan(st, 11);
        h->underlying = column_real_or_nan(st, 12);
        h->contracts = sqlite3_column_int64(st, 13);
        h->solved = sqlite3_column_int64(st, 14);
        h->skipped = sqlite3_column_int64(st, 15);
        h->atm_open_interest = sqlite3_column_int64(st, 16);
        h->atm_volume = sqlite3_column_int64(st, 17);
    }
    return rows_end(db, st, rc, (void **)out, n, "out of memory loading IV history", "loading IV history", err,
                    errlen);
}

static int lite_opportunities_put(db_t *db, int64_t generated_us, const opportunity_row_t *rows, size_t n,
                                  char *err, size_t errlen)
{
    sqlite3_stmt *st;
    char at[CLOCK_DATE_LEN];
    clock_format_datetime_us(generated_us, at);
    if (lite_prepare_once(db, &st,
                          "INSERT INTO opportunities (generated_at, side, rank, symbol, score, date, atm_iv_30d,"
                          " iv_rank, iv_percentile, hv_20, hv_60, atm_open_interest, atm_volume)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)", err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, at, -1, SQLITE_STATIC);
    for (size_t i = 0; i < n; i++) {
        const opportunity_row_t *o = &rows[i];
        sqlite3_bind_text(st, 2, o->side, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, o->rank);
        sqlite3_bind_text(st, 4, o->h->symbol, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 5, o->score);
        bind_date(st, 6, o->h->date, 0);
        sqlite3_bind_double(st, 7, o->h->atm_iv_30d);
        sqlite3_bind_double(st, 8, o->h->iv_rank);
        bind_real_or_null(st, 9, o->h->iv_percentile);
        sqlite3_bind_double(st, 10, o->h->hv_20);
        bind_real_or_null(st, 11, o->h->hv_60);
        sqlite3_bind_int64(st, 12, o->h->atm_open_interest);
        sqlite3_bind_int64(st, 13, o->h->atm_volume);
        if (step_or_fail(db, st, "writing opportunities", err, errlen) != 0)
            return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

/* clock_format_datetime_us's text back as epoch microseconds; -1 unless it is exactly that
 * form. */
static int parse_iso_us(const char *s, int64_t *us)
{
    int64_t epoch_s, frac = 0;
    if (s == NULL || strlen(s) != 27 || s[19] != '.' || s[26] != 'Z' || clock_parse_datetime(s, 19, &epoch_s) != 0)
        return -1;
    for (int i = 20; i < 26; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        frac = frac * 10 + (s[i] - '0');
    }
    *us = epoch_s * 1000000 + frac;
    return 0;
}

/* A REAL column of the scan: NaN for NULL; -1 for a value that is not a
 * number (SQLite keeps text that does not look like one as text). */
static int column_real_checked(sqlite3_stmt *st, int i, double *v)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        *v = NAN;
        return 0;
    case SQLITE_FLOAT:
    case SQLITE_INTEGER:
        *v = sqlite3_column_double(st, i);
        return 0;
    default:
        return -1;
    }
}

#define OPPORTUNITY_COLUMNS \
    "generated_at, side, rank, symbol, score, date, atm_iv_30d, iv_rank, iv_percentile, hv_20, hv_60," \
    " atm_open_interest, atm_volume"

/* One row of the newest scan into *e (*generated_us from the first row: the
 * others hold the same text); 0, or -1 with what is wrong in bad. */
static int opportunity_entry(sqlite3_stmt *st, int first, int64_t *generated_us, opportunity_entry_t *e, char *bad,
                             size_t badlen)
{
    static const char *const names[] = { "score", "atm_iv_30d", "iv_rank", "iv_percentile", "hv_20", "hv_60" };
    static const int cols[] = { 4, 6, 7, 8, 9, 10 };
    double *reals[] = { &e->score, &e->atm_iv_30d, &e->iv_rank, &e->iv_percentile, &e->hv_20, &e->hv_60 };
    const char *at = (const char *)sqlite3_column_text(st, 0);
    if (first && parse_iso_us(at, generated_us) != 0) {
        snprintf(bad, badlen, "generated_at '%.40s' is not a time (YYYY-MM-DDTHH:MM:SS.uuuuuuZ)", at ? at : "NULL");
        return -1;
    }
    const char *side = (const char *)sqlite3_column_text(st, 1);
    if (side == NULL || (strcmp(side, "sell_premium") != 0 && strcmp(side, "buy_premium") != 0)) {
        snprintf(bad, badlen, "side '%.40s' of the scan at %s is not sell_premium or buy_premium",
                 side ? side : "NULL", at);
        return -1;
    }
    snprintf(e->side, sizeof e->side, "%s", side);
    sqlite3_int64 rank = sqlite3_column_int64(st, 2);
    if (sqlite3_column_type(st, 2) != SQLITE_INTEGER || rank < 1 || rank > INT_MAX) {
        snprintf(bad, badlen, "rank '%.40s' of %s in the scan at %s is not a whole number from 1",
                 sqlite3_column_type(st, 2) == SQLITE_NULL ? "NULL" : (const char *)sqlite3_column_text(st, 2), side,
                 at);
        return -1;
    }
    e->rank = (int)rank;
    const char *symbol = (const char *)sqlite3_column_text(st, 3);
    if (symbol == NULL || *symbol == '\0' || strlen(symbol) > BAR_SYMBOL_MAX) {
        snprintf(bad, badlen, "symbol '%.40s' of %s rank %d in the scan at %s is not 1 to %d characters",
                 symbol ? symbol : "NULL", side, e->rank, at, BAR_SYMBOL_MAX);
        return -1;
    }
    snprintf(e->symbol, sizeof e->symbol, "%s", symbol);
    const char *date = (const char *)sqlite3_column_text(st, 5);
    int64_t ts;
    if (date == NULL || clock_parse_date(date, strlen(date), &ts) != 0) {
        snprintf(bad, badlen, "date '%.40s' of %s rank %d in the scan at %s is not a date (YYYY-MM-DD)",
                 date ? date : "NULL", side, e->rank, at);
        return -1;
    }
    e->date = ts / 86400;
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
        if (column_real_checked(st, cols[k], reals[k]) != 0) {
            snprintf(bad, badlen, "%s '%.40s' of %s rank %d in the scan at %s is not a number", names[k],
                     (const char *)sqlite3_column_text(st, cols[k]), side, e->rank, at);
            return -1;
        }
    }
    if (isnan(e->score)) {
        snprintf(bad, badlen, "score of %s rank %d in the scan at %s is NULL", side, e->rank, at);
        return -1;
    }
    for (int c = 11; c <= 12; c++) {
        if (sqlite3_column_type(st, c) != SQLITE_INTEGER) {
            snprintf(bad, badlen, "%s '%.40s' of %s rank %d in the scan at %s is not a whole number",
                     c == 11 ? "atm_open_interest" : "atm_volume",
                     sqlite3_column_type(st, c) == SQLITE_NULL ? "NULL" : (const char *)sqlite3_column_text(st, c),
                     side, e->rank, at);
            return -1;
        }
    }
    e->atm_open_interest = sqlite3_column_int64(st, 11);
    e->atm_volume = sqlite3_column_int64(st, 12);
    return 0;
}

/* The newest scan (db_opportunities_latest): generated_at is clock_format_datetime_us's
 * fixed-width text, so the greatest text is the newest time. */
static int lite_opportunities_latest(db_t *db, int64_t *generated_us, opportunity_entry_t **out, size_t *n,
                                     char *err, size_t errlen)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    *generated_us = 0;
    *out = NULL;
    *n = 0;
    if (lite_prepare_once(db, &st,
                          "SELECT " OPPORTUNITY_COLUMNS " FROM opportunities"
                          " WHERE generated_at = (SELECT MAX(generated_at) FROM opportunities) ORDER BY side, rank",
                          err, errlen) != 0)
        return -1;
    int rc;
    char bad[256] = "";
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)out, &cap, *n, sizeof **out) != 0)
            break;
        opportunity_entry_t *e = &(*out)[*n];
        memset(e, 0, sizeof *e);
        if (opportunity_entry(st, *n == 0, generated_us, e, bad, sizeof bad) != 0)
            break;
        (*n)++;
    }
    if (bad[0] != '\0') {
        snprintf(err, errlen, "SQLite reading the newest opportunity scan (%s): %s", db->where, bad);
        sqlite3_finalize(st);
        free(*out);
        *out = NULL;
        *n = 0;
        *generated_us = 0;
        return -1;
    }
    if (rows_end(db, st, rc, (void **)out, n, "out of memory reading the newest opportunity scan",
                 "reading the newest opportunity scan", err, errlen) != 0) {
        *generated_us = 0;
        return -1;
    }
    return 0;
}

/* Job history rows (db_history_list). finished_at is ISO 8601 text, which
 * sorts as time does; julianday reads it back as epoch ms. */
static int lite_history_list(db_t *db, const history_query_t *q, history_row_t **out, size_t *n, char *err,
                             size_t errlen)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    char from[CLOCK_ISO_LEN], before[CLOCK_ISO_LEN];
    if (lite_prepare_once(db, &st,
                          "SELECT job_id, type, queue, state, attempts,"
                          " CAST(ROUND((julianday(finished_at) - 2440587.5) * 86400000.0) AS INTEGER), error, run"
                          " FROM job_history WHERE state = ?1 AND finished_at >= ?2 AND finished_at < ?3"
                          " AND (?4 IS NULL OR queue = ?4) AND (?5 IS NULL OR type = ?5)"
                          " ORDER BY finished_at DESC LIMIT ?6", err, errlen) != 0)
        return -1;
    clock_iso8601(q->from_us, from);
    clock_iso8601(q->before_us, before);
    sqlite3_bind_text(st, 1, q->state, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, before, -1, SQLITE_STATIC);
    bind_text_or_null(st, 4, q->queue);
    bind_text_or_null(st, 5, q->type);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)q->limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)out, &cap, *n, sizeof **out) != 0)
            break;
        history_row_t *h = &(*out)[*n];
        memset(h, 0, sizeof *h);
        const char *text[5];
        for (int c = 0; c < 4; c++)
            text[c] = (const char *)sqlite3_column_text(st, c);
        text[4] = (const char *)sqlite3_column_text(st, 6);
        h->job_id = strdup(text[0] ? text[0] : "");
        h->type = strdup(text[1] ? text[1] : "");
        h->queue = strdup(text[2] ? text[2] : "");
        h->state = strdup(text[3] ? text[3] : "");
        h->error = text[4] ? strdup(text[4]) : NULL;
        h->attempts = sqlite3_column_int(st, 4);
        h->finished_ms = sqlite3_column_int64(st, 5);
        h->run = sqlite3_column_int(st, 7);
        (*n)++;
        if (!h->job_id || !h->type || !h->queue || !h->state || (text[4] && !h->error))
            break;
    }
    if (rc == SQLITE_ROW) { /* out of memory: free what was read */
        db_history_rows_free(*out, *n);
        *out = NULL;
        *n = 0;
        sqlite3_finalize(st);
        snprintf(err, errlen, "out of memory reading the job history");
        return -1;
    }
    return rows_end(db, st, rc, (void **)out, n, "out of memory reading the job history", "reading the job history",
                    err, errlen);
}

/* --- optimize tables (migration 6) --- */

static int lite_optimize_put(db_t *db, const char *job_id, const optimize_row_t *rows, size_t n, char *err,
                             size_t errlen)
{
    sqlite3_stmt *st;
    if (lite_prepare_once(db, &st, "DELETE FROM optimize_results WHERE job_id = ?1", err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    if (step_done(db, st, "replacing an optimize table", err, errlen) != 0)
        return -1;
    if (lite_prepare_once(db, &st,
                          "INSERT INTO optimize_results (job_id, rank, objective, params, metrics, error, fold)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int(st, 2, rows[i].rank);
        bind_real_or_null(st, 3, rows[i].objective);
        sqlite3_bind_text(st, 4, rows[i].params, -1, SQLITE_STATIC);
        bind_text_or_null(st, 5, rows[i].metrics);
        bind_text_or_null(st, 6, rows[i].error);
        sqlite3_bind_int(st, 7, rows[i].fold);
        if (step_or_fail(db, st, "writing an optimize table", err, errlen) != 0)
            return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

/* A text column as a new string; NULL for SQL NULL (and *oom set when the
 * copy failed). */
static char *column_strdup(sqlite3_stmt *st, int i, int *oom)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    if (t == NULL)
        return NULL;
    char *copy = strdup(t);
    *oom |= copy == NULL;
    return copy;
}

static int lite_optimize_get(db_t *db, const char *job_id, size_t offset, size_t limit, optimize_row_t **out,
                             size_t *n, long long *total, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (lite_prepare_once(db, &st, "SELECT COUNT(*) FROM optimize_results WHERE job_id = ?1", err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        fail(db, err, errlen, "reading an optimize table");
        sqlite3_finalize(st);
        return -1;
    }
    *total = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (lite_prepare_once(db, &st,
                          "SELECT rank, objective, params, metrics, error, fold FROM optimize_results"
                          " WHERE job_id = ?1 ORDER BY fold, rank LIMIT ?2 OFFSET ?3", err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)offset);
    size_t cap = 0;
    int rc, oom = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)out, &cap, *n, sizeof **out) != 0)
            break;
        optimize_row_t *r = &(*out)[(*n)++];
        r->rank = sqlite3_column_int(st, 0);
        r->objective = column_real_or_nan(st, 1);
        r->params = column_strdup(st, 2, &oom);
        r->metrics = column_strdup(st, 3, &oom);
        r->error = column_strdup(st, 4, &oom);
        r->fold = sqlite3_column_int(st, 5);
        if (oom || r->params == NULL)
            break;
    }
    if (rc == SQLITE_ROW) { /* out of memory: free what was read */
        db_optimize_rows_free(*out, *n);
        *out = NULL;
        *n = 0;
        sqlite3_finalize(st);
        snprintf(err, errlen, "out of memory reading an optimize table");
        return -1;
    }
    if (rc != SQLITE_DONE) { /* rows_end frees the array, not what its rows hold */
        db_optimize_rows_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rows_end(db, st, rc, (void **)out, n, "out of memory reading an optimize table",
                    "reading an optimize table", err, errlen);
}

const db_driver_t db_sqlite_driver = {
    "sqlite",
    lite_close,
    lite_exec,
    lite_begin_migration,
    lite_applied_version,
    lite_bars_put,
    lite_bars_get,
    lite_bars_summary,
    lite_bars_version,
    lite_history_put,
    lite_option_quotes_put,
    lite_option_quotes_get,
    lite_option_summary,
    lite_option_iv_put,
    lite_iv_history_put,
    lite_iv_history_get,
    lite_opportunities_put,
    lite_opportunities_latest,
    lite_history_list,
    lite_optimize_put,
    lite_optimize_get,
    NULL, /* a file: never gone */
};
