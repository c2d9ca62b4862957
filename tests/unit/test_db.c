/* test_db.c — where the database is (db_locate): the masked DATABASE_URL;
 * the newest opportunity scan read back from SQLite (db_opportunities_latest). */
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "data/db.h"
#include "unit.h"

static void masked(const char *url, const char *want)
{
    db_location_t loc;
    char err[512] = "";
    if (db_locate(url, NULL, &loc, NULL, err, sizeof err) != 0) {
        unit_fail(__FILE__, __LINE__, "'%s' should be accepted, got: %s", url, err);
        return;
    }
    if (strcmp(loc.where, want) != 0)
        unit_fail(__FILE__, __LINE__, "'%s' is shown as '%s', want '%s'", url, loc.where, want);
}

TEST(db_url_password_masked)
{
    masked("postgresql://tickq:s3cret@db.internal:5432/tickq", "postgresql://tickq:***@db.internal:5432/tickq");
    masked("postgres://u:pa:ss@host/db", "postgres://u:***@host/db");
    masked("postgresql://tickq@localhost/tickq", "postgresql://tickq@localhost/tickq");
    masked("postgresql://localhost:5433/tickq?sslmode=require", "postgresql://localhost:5433/tickq?sslmode=require");
}

/* Found by fuzz/database_url (fuzz/corpus/database_url/pg_query_password):
 * libpq also takes the password from the query string, which was shown
 * as it is. */
TEST(db_url_query_password_masked)
{
    masked("postgresql://tickq@db.internal/tickq?sslmode=prefer&password=s3cret",
           "postgresql://tickq@db.internal/tickq?sslmode=prefer&password=***");
    masked("postgresql://u:pw@h/db?pass%77ord=s3cret&sslpassword=k3y&application_name=x",
           "postgresql://u:***@h/db?pass%77ord=***&sslpassword=***&application_name=x");
    masked("postgresql://h/db?password=a&password=b", "postgresql://h/db?password=***&password=***");
}

/* A fresh SQLite file in a new temporary folder: its path in path. */
static db_t *open_temp_sqlite(char dir[], char *path, size_t pathlen)
{
    char err[512] = "";
    db_t *db = NULL;
    if (mkdtemp(dir) == NULL) {
        unit_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
        return NULL;
    }
    snprintf(path, pathlen, "%s/tickq.db", dir);
    if (db_open(NULL, path, &db, NULL, err, sizeof err) != 0)
        unit_fail(__FILE__, __LINE__, "db_open %s: %s", path, err);
    return db;
}

static void remove_temp_sqlite(const char *dir, const char *path)
{
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    char f[512];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(f, sizeof f, "%s%s", path, suffixes[i]);
        unlink(f);
    }
    rmdir(dir);
}

static iv_history_row_t scan_row(const char *symbol, int64_t date, double iv, double rank, double pct, double hv20,
                                 double hv60, long long oi, long long vol)
{
    iv_history_row_t h;
    memset(&h, 0, sizeof h);
    snprintf(h.symbol, sizeof h.symbol, "%s", symbol);
    snprintf(h.atm_method, sizeof h.atm_method, "interpolated");
    h.date = date;
    h.atm_iv_30d = iv;
    h.iv_rank = rank;
    h.iv_percentile = pct;
    h.hv_20 = hv20;
    h.hv_60 = hv60;
    h.atm_open_interest = oi;
    h.atm_volume = vol;
    return h;
}

/* Equal, NaN equal to NaN (a NULL column). */
static int same_real(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void check_entry(int line, const opportunity_entry_t *e, const opportunity_row_t *want)
{
    const iv_history_row_t *h = want->h;
    if (strcmp(e->side, want->side) != 0 || e->rank != want->rank || strcmp(e->symbol, h->symbol) != 0 ||
        !same_real(e->score, want->score) || e->date != h->date || !same_real(e->atm_iv_30d, h->atm_iv_30d) ||
        !same_real(e->iv_rank, h->iv_rank) || !same_real(e->iv_percentile, h->iv_percentile) ||
        !same_real(e->hv_20, h->hv_20) || !same_real(e->hv_60, h->hv_60) ||
        e->atm_open_interest != h->atm_open_interest || e->atm_volume != h->atm_volume)
        unit_fail(__FILE__, line,
                  "read %s #%d %s score %.17g date %lld iv %.17g rank %.17g pct %.17g hv %.17g/%.17g oi %lld vol %lld;"
                  " want %s #%d %s score %.17g date %lld iv %.17g rank %.17g pct %.17g hv %.17g/%.17g oi %lld vol %lld",
                  e->side, e->rank, e->symbol, e->score, (long long)e->date, e->atm_iv_30d, e->iv_rank,
                  e->iv_percentile, e->hv_20, e->hv_60, e->atm_open_interest, e->atm_volume, want->side, want->rank,
                  h->symbol, want->score, (long long)h->date, h->atm_iv_30d, h->iv_rank, h->iv_percentile, h->hv_20,
                  h->hv_60, h->atm_open_interest, h->atm_volume);
}

static void put_scan(db_t *db, int64_t generated_us, const opportunity_row_t *rows, size_t n)
{
    char err[512] = "";
    if (db_begin(db, err, sizeof err) != 0 || db_opportunities_put(db, generated_us, rows, n, err, sizeof err) != 0 ||
        db_commit(db, err, sizeof err) != 0)
        unit_fail(__FILE__, __LINE__, "writing the scan at %lld: %s", (long long)generated_us, err);
}

/* db_opportunities_latest on an open, empty database (either driver): none,
 * then the newer of two scans, whatever order they were written in, in
 * side then rank order with every field as written. */
static void check_opportunities_latest(db_t *db)
{
    char err[512] = "";
    int64_t at = -1;
    opportunity_entry_t *got = NULL;
    size_t n = 99;
    CHECK_INT(db_opportunities_latest(db, &at, &got, &n, err, sizeof err), 0);
    CHECK_INT(at, 0);
    CHECK_INT(n, 0);
    free(got);

    /* 2024-01-02 (19724) and 2023-12-29 (19720) */
    iv_history_row_t newer_h[4] = {
        scan_row("SPY", 19724, 0.1234567890123456, 91.5, 97.25, 0.101, 0.0987654321, 123456, 7890),
        scan_row("AAPL", 19724, 0.31, 88.0, NAN, 0.29, 0.27, 40000, 1200),
        scan_row("QQQ", 19720, 1.0 / 3.0, 4.75, 2.5, 0.5, NAN, 98765432101LL, 0),
        scan_row("BRK.B", 19724, 0.2, 0.0, 0.0, 0.25, 0.3, 1, 2),
    };
    /* Written out of order: read back buy_premium then sell_premium, by rank. */
    opportunity_row_t newer[4] = {
        { "sell_premium", 2, 12.5, &newer_h[1] },
        { "buy_premium", 2, -0.000123, &newer_h[3] },
        { "sell_premium", 1, 99.75, &newer_h[0] },
        { "buy_premium", 1, 1e-9, &newer_h[2] },
    };
    const int order[4] = { 3, 1, 2, 0 };
    iv_history_row_t older_h[2] = {
        scan_row("IWM", 19700, 0.4, 95.0, 96.0, 0.3, 0.31, 5000, 600),
        scan_row("TLT", 19700, 0.1, 3.0, 4.0, 0.2, 0.21, 7000, 800),
    };
    opportunity_row_t older[2] = {
        { "sell_premium", 1, 50.0, &older_h[0] },
        { "buy_premium", 1, 40.0, &older_h[1] },
    };
    /* The newer scan is written first, and the two differ in their
     * microseconds only, across a second's boundary. */
    const int64_t newer_us = 1704200000000001LL, older_us = 1704199999999999LL;
    put_scan(db, newer_us, newer, 4);
    put_scan(db, older_us, older, 2);

    CHECK_INT(db_opportunities_latest(db, &at, &got, &n, err, sizeof err), 0);
    if (err[0] != '\0')
        unit_fail(__FILE__, __LINE__, "db_opportunities_latest: %s", err);
    CHECK_INT(at, newer_us);
    CHECK_INT(n, 4);
    for (size_t i = 0; got != NULL && i < n && i < 4; i++)
        check_entry(__LINE__, &got[i], &newer[order[i]]);
    free(got);
}

TEST(db_opportunities_latest_sqlite)
{
    char dir[] = "/tmp/tickq-db-XXXXXX", path[256];
    db_t *db = open_temp_sqlite(dir, path, sizeof path);
    if (db == NULL)
        return;
    check_opportunities_latest(db);
    db_close(db);
    remove_temp_sqlite(dir, path);
}

/* A stored value the writer cannot have written is an error that names it,
 * never a default. */
TEST(db_opportunities_latest_sqlite_malformed)
{
    static const struct {
        const char *sql, *want;
    } cases[] = {
        { "UPDATE opportunities SET date = '2024-02-30'", "date '2024-02-30' of sell_premium rank 1" },
        { "UPDATE opportunities SET date = 19724", "date '19724'" },
        { "UPDATE opportunities SET atm_volume = 'many'", "atm_volume 'many'" },
        { "UPDATE opportunities SET atm_open_interest = 1.5", "atm_open_interest '1.5'" },
        { "UPDATE opportunities SET hv_60 = 'high'", "hv_60 'high'" },
        { "UPDATE opportunities SET symbol = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456'", "symbol 'ABCDEFGHIJ" },
        { "UPDATE opportunities SET generated_at = '2024-01-02T12:53:20Z'", "generated_at '2024-01-02T12:53:20Z'" },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char dir[] = "/tmp/tickq-db-XXXXXX", path[256], err[512] = "";
        db_t *db = open_temp_sqlite(dir, path, sizeof path);
        if (db == NULL)
            return;
        iv_history_row_t h = scan_row("SPY", 19724, 0.2, 90.0, 91.0, 0.1, 0.1, 10, 20);
        opportunity_row_t row = { "sell_premium", 1, 5.0, &h };
        put_scan(db, 1704200000000000LL, &row, 1);
        sqlite3 *conn;
        CHECK(sqlite3_open(path, &conn) == SQLITE_OK);
        CHECK(sqlite3_exec(conn, cases[c].sql, NULL, NULL, NULL) == SQLITE_OK);
        sqlite3_close(conn);
        int64_t at = -1;
        opportunity_entry_t *got = NULL;
        size_t n = 99;
        CHECK_INT(db_opportunities_latest(db, &at, &got, &n, err, sizeof err), -1);
        if (strstr(err, cases[c].want) == NULL || strstr(err, "SQLite reading the newest opportunity scan") == NULL)
            unit_fail(__FILE__, __LINE__, "after %s: the error is \"%s\", want it to name \"%s\"", cases[c].sql, err,
                      cases[c].want);
        CHECK(got == NULL);
        CHECK_INT(n, 0);
        CHECK_INT(at, 0);
        db_close(db);
        remove_temp_sqlite(dir, path);
    }
}
