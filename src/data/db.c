/* db.c — tickq's database: where it is, opening the right driver and
 * running the versioned migrations.
 *
 * Where (db_locate): DATABASE_URL, else the SQLite file given (--db,
 * TICKQ_DB), else the default under the XDG data folder. Every command and
 * log line names it by the same absolute path (or masked URL), so that two
 * commands run from different folders visibly use the same file. Only the
 * default's folders are created: a typo in an explicit path must not
 * create an empty database somewhere else.
 *
 * Migrations are numbered; each has one SQL text per dialect. db_open
 * applies the missing ones in one transaction holding a lock (SQLite: the
 * write lock of BEGIN IMMEDIATE; PostgreSQL: an advisory transaction lock),
 * so two workers starting at once apply them exactly once. */
#include "data/db.h"

#include "core/clock.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/db_driver.h"

typedef struct {
    int version;
    const char *description;
    const char *sqlite;
    const char *postgres;
} migration_t;

static const migration_t migrations[] = {
    { 1, "bars, job history, job retries",
      "CREATE TABLE bars ("
      "  symbol TEXT NOT NULL, interval TEXT NOT NULL, ts INTEGER NOT NULL,"
      "  open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL,"
      "  volume REAL NOT NULL, PRIMARY KEY (symbol, interval, ts)) WITHOUT ROWID;"
      "CREATE TABLE job_history ("
      "  seq INTEGER PRIMARY KEY, job_id TEXT NOT NULL, type TEXT NOT NULL, queue TEXT NOT NULL,"
      "  state TEXT NOT NULL, attempts INTEGER NOT NULL, worker TEXT, started_at TEXT,"
      "  finished_at TEXT NOT NULL, duration_ms REAL, error TEXT);"
      "CREATE INDEX job_history_job ON job_history (job_id);"
      "CREATE INDEX job_history_finished ON job_history (finished_at);"
      "CREATE TABLE job_retries ("
      "  seq INTEGER PRIMARY KEY, job_id TEXT NOT NULL, attempt INTEGER NOT NULL, kind TEXT NOT NULL,"
      "  error TEXT, worker TEXT, at TEXT NOT NULL);"
      "CREATE INDEX job_retries_job ON job_retries (job_id);",
      "CREATE TABLE bars ("
      "  symbol TEXT NOT NULL, interval TEXT NOT NULL, ts BIGINT NOT NULL,"
      "  open DOUBLE PRECISION NOT NULL, high DOUBLE PRECISION NOT NULL, low DOUBLE PRECISION NOT NULL,"
      "  close DOUBLE PRECISION NOT NULL, volume DOUBLE PRECISION NOT NULL,"
      "  PRIMARY KEY (symbol, interval, ts));"
      "CREATE TABLE job_history ("
      "  seq BIGSERIAL PRIMARY KEY, job_id TEXT NOT NULL, type TEXT NOT NULL, queue TEXT NOT NULL,"
      "  state TEXT NOT NULL, attempts INTEGER NOT NULL, worker TEXT, started_at TIMESTAMPTZ,"
      "  finished_at TIMESTAMPTZ NOT NULL, duration_ms DOUBLE PRECISION, error TEXT);"
      "CREATE INDEX job_history_job ON job_history (job_id);"
      "CREATE INDEX job_history_finished ON job_history (finished_at);"
      "CREATE TABLE job_retries ("
      "  seq BIGSERIAL PRIMARY KEY, job_id TEXT NOT NULL, attempt INTEGER NOT NULL, kind TEXT NOT NULL,"
      "  error TEXT, worker TEXT, at TIMESTAMPTZ NOT NULL);"
      "CREATE INDEX job_retries_job ON job_retries (job_id);" },
    { 2, "bars version (worker data caches)",
      "CREATE TABLE bars_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);"
      "INSERT INTO bars_version VALUES (1, 0);",
      "CREATE TABLE bars_version (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);"
      "INSERT INTO bars_version VALUES (1, 0);" },
    { 3, "option quotes, implied volatilities, IV history, opportunity scans",
      "CREATE TABLE option_quotes ("
      "  symbol TEXT NOT NULL, quote_date TEXT NOT NULL, expiry TEXT NOT NULL, strike REAL NOT NULL,"
      "  type TEXT NOT NULL CHECK (type IN ('call', 'put')), bid REAL NOT NULL, ask REAL NOT NULL, last REAL,"
      "  volume INTEGER NOT NULL, open_interest INTEGER NOT NULL, underlying_price REAL,"
      "  PRIMARY KEY (symbol, quote_date, expiry, strike, type)) WITHOUT ROWID;"
      "CREATE TABLE option_iv ("
      "  symbol TEXT NOT NULL, quote_date TEXT NOT NULL, expiry TEXT NOT NULL, strike REAL NOT NULL,"
      "  type TEXT NOT NULL CHECK (type IN ('call', 'put')), underlying_price REAL NOT NULL, mid REAL NOT NULL,"
      "  iv REAL NOT NULL, delta REAL NOT NULL, gamma REAL NOT NULL, theta REAL NOT NULL, vega REAL NOT NULL,"
      "  rho REAL NOT NULL, PRIMARY KEY (symbol, quote_date, expiry, strike, type)) WITHOUT ROWID;"
      "CREATE TABLE iv_history ("
      "  symbol TEXT NOT NULL, date TEXT NOT NULL, atm_iv_30d REAL, atm_method TEXT NOT NULL,"
      "  near_expiry TEXT, near_iv REAL, far_expiry TEXT, far_iv REAL, iv_rank REAL, iv_percentile REAL,"
      "  hv_20 REAL, hv_60 REAL, underlying_price REAL, contracts INTEGER NOT NULL, solved INTEGER NOT NULL,"
      "  skipped INTEGER NOT NULL, atm_open_interest INTEGER NOT NULL, atm_volume INTEGER NOT NULL,"
      "  PRIMARY KEY (symbol, date)) WITHOUT ROWID;"
      "CREATE TABLE opportunities ("
      "  generated_at TEXT NOT NULL, side TEXT NOT NULL CHECK (side IN ('sell_premium', 'buy_premium')),"
      "  rank INTEGER NOT NULL, symbol TEXT NOT NULL, score REAL NOT NULL, date TEXT NOT NULL,"
      "  atm_iv_30d REAL NOT NULL, iv_rank REAL NOT NULL, iv_percentile REAL, hv_20 REAL NOT NULL, hv_60 REAL,"
      "  atm_open_interest INTEGER NOT NULL, atm_volume INTEGER NOT NULL, PRIMARY KEY (generated_at, side, rank));"
      "CREATE INDEX opportunities_symbol ON opportunities (symbol, generated_at);",
      "CREATE TABLE option_quotes ("
      "  symbol TEXT NOT NULL, quote_date DATE NOT NULL, expiry DATE NOT NULL, strike DOUBLE PRECISION NOT NULL,"
      "  type TEXT NOT NULL CHECK (type IN ('call', 'put')), bid DOUBLE PRECISION NOT NULL,"
      "  ask DOUBLE PRECISION NOT NULL, last DOUBLE PRECISION, volume BIGINT NOT NULL, open_interest BIGINT NOT NULL,"
      "  underlying_price DOUBLE PRECISION, PRIMARY KEY (symbol, quote_date, expiry, strike, type));"
      "CREATE TABLE option_iv ("
      "  symbol TEXT NOT NULL, quote_date DATE NOT NULL, expiry DATE NOT NULL, strike DOUBLE PRECISION NOT NULL,"
      "  type TEXT NOT NULL CHECK (type IN ('call', 'put')), underlying_price DOUBLE PRECISION NOT NULL,"
      "  mid DOUBLE PRECISION NOT NULL, iv DOUBLE PRECISION NOT NULL, delta DOUBLE PRECISION NOT NULL,"
      "  gamma DOUBLE PRECISION NOT NULL, theta DOUBLE PRECISION NOT NULL, vega DOUBLE PRECISION NOT NULL,"
      "  rho DOUBLE PRECISION NOT NULL, PRIMARY KEY (symbol, quote_date, expiry, strike, type));"
      "CREATE TABLE iv_history ("
      "  symbol TEXT NOT NULL, date DATE NOT NULL, atm_iv_30d DOUBLE PRECISION, atm_method TEXT NOT NULL,"
      "  near_expiry DATE, near_iv DOUBLE PRECISION, far_expiry DATE, far_iv DOUBLE PRECISION,"
      "  iv_rank DOUBLE PRECISION, iv_percentile DOUBLE PRECISION, hv_20 DOUBLE PRECISION, hv_60 DOUBLE PRECISION,"
      "  underlying_price DOUBLE PRECISION, contracts BIGINT NOT NULL, solved BIGINT NOT NULL,"
      "  skipped BIGINT NOT NULL, atm_open_interest BIGINT NOT NULL, atm_volume BIGINT NOT NULL,"
      "  PRIMARY KEY (symbol, date));"
      "CREATE TABLE opportunities ("
      "  generated_at TIMESTAMPTZ NOT NULL, side TEXT NOT NULL CHECK (side IN ('sell_premium', 'buy_premium')),"
      "  rank INTEGER NOT NULL, symbol TEXT NOT NULL, score DOUBLE PRECISION NOT NULL, date DATE NOT NULL,"
      "  atm_iv_30d DOUBLE PRECISION NOT NULL, iv_rank DOUBLE PRECISION NOT NULL, iv_percentile DOUBLE PRECISION,"
      "  hv_20 DOUBLE PRECISION NOT NULL, hv_60 DOUBLE PRECISION, atm_open_interest BIGINT NOT NULL,"
      "  atm_volume BIGINT NOT NULL, PRIMARY KEY (generated_at, side, rank));"
      "CREATE INDEX opportunities_symbol ON opportunities (symbol, generated_at);" },
    /* Rows stay keyed by seq, so every run of an id keeps its rows; rows
     * written before runs existed are run 1. */
    { 4, "job run numbers",
      "ALTER TABLE job_history ADD COLUMN run INTEGER NOT NULL DEFAULT 1;"
      "ALTER TABLE job_retries ADD COLUMN run INTEGER NOT NULL DEFAULT 1;",
      "ALTER TABLE job_history ADD COLUMN run INTEGER NOT NULL DEFAULT 1;"
      "ALTER TABLE job_retries ADD COLUMN run INTEGER NOT NULL DEFAULT 1;" },
    /* Job history comes from a Redis stream that may deliver an entry twice
     * (a history process killed after its commit, before its ack): a row
     * is written once, keyed by job, run and attempt. created_at (the job
     * record's) tells apart runs of an id reused after its record expired,
     * whose run numbers start at 1 again. Rows from before have no
     * created_at: NULLs are distinct in a unique index, so they never
     * conflict. Rows written since never store NULL: an unknown created_at
     * is "" (SQLite) or -infinity (PostgreSQL), so they do conflict. */
    { 5, "job history written once per job run and attempt",
      "ALTER TABLE job_history ADD COLUMN created_at TEXT;"
      "ALTER TABLE job_retries ADD COLUMN created_at TEXT;"
      "CREATE UNIQUE INDEX job_history_once ON job_history (job_id, run, created_at, attempts);"
      "CREATE UNIQUE INDEX job_retries_once ON job_retries (job_id, run, created_at, attempt);",
      "ALTER TABLE job_history ADD COLUMN created_at TIMESTAMPTZ;"
      "ALTER TABLE job_retries ADD COLUMN created_at TIMESTAMPTZ;"
      "CREATE UNIQUE INDEX job_history_once ON job_history (job_id, run, created_at, attempts);"
      "CREATE UNIQUE INDEX job_retries_once ON job_retries (job_id, run, created_at, attempt);" },
    /* The whole ranked table of an optimize job (task_result holds its top
     * rows): params and metrics as JSON text, as the job wrote them. */
    { 6, "optimize results",
      "CREATE TABLE optimize_results ("
      "  job_id TEXT NOT NULL, fold INTEGER NOT NULL, rank INTEGER NOT NULL, objective REAL,"
      "  params TEXT NOT NULL, metrics TEXT, error TEXT, PRIMARY KEY (job_id, fold, rank)) WITHOUT ROWID;",
      "CREATE TABLE optimize_results ("
      "  job_id TEXT NOT NULL, fold INTEGER NOT NULL, rank INTEGER NOT NULL, objective DOUBLE PRECISION,"
      "  params TEXT NOT NULL, metrics TEXT, error TEXT, PRIMARY KEY (job_id, fold, rank));" },
    /* The job_id indexes of migration 1 repeat the first column of the
     * unique ones of migration 5, which serve a lookup by job_id as well;
     * each row paid for one more index insert at a random place (job ids
     * are mostly random), a third of the history process's time. */
    { 7, "job history: no job_id index beside the unique ones",
      "DROP INDEX IF EXISTS job_history_job;"
      "DROP INDEX IF EXISTS job_retries_job;",
      "DROP INDEX IF EXISTS job_history_job;"
      "DROP INDEX IF EXISTS job_retries_job;" },
};

#define N_MIGRATIONS (sizeof migrations / sizeof migrations[0])

static int migrate(db_t *db, char *err, size_t errlen)
{
    if (db->driver->begin_migration(db, err, errlen) != 0)
        return -1;
    int have = 0;
    if (db->driver->applied_version(db, &have, err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < N_MIGRATIONS; i++) {
        const migration_t *m = &migrations[i];
        if (m->version <= have)
            continue;
        const char *sql = db->kind == DB_SQLITE ? m->sqlite : m->postgres;
        char msg[512];
        if (db->driver->exec(db, sql, msg, sizeof msg) != 0) {
            snprintf(err, errlen, "database migration %d (%s) failed: %s", m->version, m->description, msg);
            goto fail;
        }
        char record[256];
        snprintf(record, sizeof record,
                 "INSERT INTO schema_migrations (version, description) VALUES (%d, '%s')",
                 m->version, m->description);
        if (db->driver->exec(db, record, err, errlen) != 0)
            goto fail;
        have = m->version;
    }
    if (db->driver->exec(db, "COMMIT", err, errlen) != 0)
        goto fail;
    db->version = have;
    return 0;
fail:
    db->driver->exec(db, "ROLLBACK", NULL, 0);
    return -1;
}

/* Appends s[0..n) to out (used so far: *at), cut to fit; out stays a string. */
static void put(char *out, size_t outlen, size_t *at, const char *s, size_t n)
{
    if (*at + 1 >= outlen)
        return;
    if (n > outlen - 1 - *at)
        n = outlen - 1 - *at;
    memcpy(out + *at, s, n);
    *at += n;
    out[*at] = '\0';
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 1 when the URL query parameter name s[0..n), percent-decoded as libpq
 * decodes it, is one whose value is a secret (password, sslpassword). */
static int secret_param(const char *s, size_t n)
{
    char name[16];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%' && i + 2 < n && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
            c = hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]);
            i += 2;
        }
        if (len + 1 >= sizeof name)
            return 0;
        name[len++] = (char)c;
    }
    name[len] = '\0';
    return strcmp(name, "password") == 0 || strcmp(name, "sslpassword") == 0;
}

/* The URL with its secrets replaced by ***, as libpq finds them: the
 * password of the user info (before an '@' that comes before any '/') and
 * the values of the query parameters password and sslpassword. Cut to fit. */
static void mask_url(const char *url, char *out, size_t outlen)
{
    size_t at = 0;
    out[0] = '\0';
    const char *scheme = strstr(url, "://");
    if (scheme == NULL) {
        put(out, outlen, &at, url, strlen(url));
        return;
    }
    const char *copied = url, *rest = scheme + 3;
    size_t auth = strcspn(rest, "@/");
    if (rest[auth] == '@') {
        const char *colon = memchr(rest, ':', auth);
        if (colon != NULL) {
            put(out, outlen, &at, copied, (size_t)(colon + 1 - copied));
            put(out, outlen, &at, "***", 3);
            copied = rest + auth;
        }
        rest += auth + 1;
    }
    const char *query = strchr(rest, '?');
    if (query == NULL) {
        put(out, outlen, &at, copied, strlen(copied));
        return;
    }
    put(out, outlen, &at, copied, (size_t)(query + 1 - copied));
    for (const char *q = query + 1;; ) {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);
        if (eq != NULL && secret_param(q, (size_t)(eq - q))) {
            put(out, outlen, &at, q, (size_t)(eq + 1 - q));
            put(out, outlen, &at, "***", 3);
        } else {
            put(out, outlen, &at, q, n);
        }
        if (q[n] == '\0')
            break;
        put(out, outlen, &at, "&", 1);
        q += n + 1;
    }
}

/* The folder holding the default file: $XDG_DATA_HOME/tickq or
 * $HOME/.local/share/tickq, into out. Returns 0, or -1 with err (a
 * DB_FAILURE_CONFIG: nothing the user set places it). */
static int default_path(char *out, size_t outlen, char *err, size_t errlen)
{
    static const char fix[] = "set TICKQ_DB=/path/to/tickq.db (or pass --db PATH), "
                              "or DATABASE_URL=postgresql://... for PostgreSQL";
    const char *xdg = getenv("XDG_DATA_HOME");
    int n;
    if (xdg != NULL && *xdg) {
        /* The XDG spec ignores a relative value; tickq refuses it rather
         * than put the database somewhere the user did not expect. */
        if (xdg[0] != '/') {
            snprintf(err, errlen, "XDG_DATA_HOME='%s' is not an absolute path, so the default database "
                     "($XDG_DATA_HOME/" DB_DEFAULT_SUBPATH ") has no place: make it absolute, unset it, or %s",
                     xdg, fix);
            return -1;
        }
        n = snprintf(out, outlen, "%s/" DB_DEFAULT_SUBPATH, xdg);
    } else {
        const char *home = getenv("HOME");
        if (home == NULL || *home == '\0') {
            snprintf(err, errlen, "HOME is not set, so the default database ($HOME/.local/share/"
                     DB_DEFAULT_SUBPATH ") has no place: %s", fix);
            return -1;
        }
        if (home[0] != '/') {
            snprintf(err, errlen, "HOME='%s' is not an absolute path, so the default database "
                     "($HOME/.local/share/" DB_DEFAULT_SUBPATH ") has no place: %s", home, fix);
            return -1;
        }
        n = snprintf(out, outlen, "%s/.local/share/" DB_DEFAULT_SUBPATH, home);
    }
    if (n < 0 || (size_t)n >= outlen || (size_t)n >= PATH_MAX) {
        snprintf(err, errlen, "the default database path under %s is too long: %s",
                 xdg && *xdg ? "XDG_DATA_HOME" : "HOME", fix);
        return -1;
    }
    /* The folders below are made on first use (XDG_DATA_HOME too, as the
     * XDG spec asks), but never a home: a HOME that is not there is a
     * misconfigured account, not a place to grow a tree of folders. */
    struct stat st;
    const char *home = getenv("HOME");
    if (!(xdg != NULL && *xdg) && (stat(home, &st) != 0 || !S_ISDIR(st.st_mode))) {
        snprintf(err, errlen, "HOME=%s is not an existing folder, so the default database has no place: %s", home,
                 fix);
        return -1;
    }
    return 0;
}

/* Resolves the folder of the absolute path in loc->where (symbolic links,
 * `.` and `..`) when it exists; leaves it as it is otherwise. */
static void resolve_folder(db_location_t *loc)
{
    char *slash = strrchr(loc->where, '/');
    char dir[PATH_MAX], real[PATH_MAX];
    size_t dlen = (size_t)(slash - loc->where);
    if (dlen == 0 || dlen >= sizeof dir)
        return; /* a file in / */
    memcpy(dir, loc->where, dlen);
    dir[dlen] = '\0';
    if (realpath(dir, real) == NULL)
        return;
    char joined[DB_WHERE_MAX];
    int n = snprintf(joined, sizeof joined, "%s/%s", strcmp(real, "/") == 0 ? "" : real, slash + 1);
    if (n > 0 && (size_t)n < sizeof joined && (size_t)n < PATH_MAX)
        memcpy(loc->where, joined, (size_t)n + 1);
}

int db_locate(const char *database_url, const char *sqlite_path, db_location_t *loc, db_failure_t *failure,
              char *err, size_t errlen)
{
    db_failure_t why;
    if (failure == NULL)
        failure = &why;
    memset(loc, 0, sizeof *loc);
    if (database_url != NULL && *database_url) {
        if (strncmp(database_url, "postgresql://", 13) != 0 && strncmp(database_url, "postgres://", 11) != 0) {
            snprintf(err, errlen, "DATABASE_URL must be a PostgreSQL URL (postgresql://user:password@host:5432/db); "
                     "unset it to use the SQLite file");
            *failure = DB_FAILURE_CONFIG;
            return -1;
        }
        loc->kind = DB_POSTGRES;
        mask_url(database_url, loc->where, sizeof loc->where);
        return 0;
    }
    loc->kind = DB_SQLITE;
    char path[DB_WHERE_MAX];
    if (sqlite_path == NULL) {
        if (default_path(path, sizeof path, err, errlen) != 0) {
            *failure = DB_FAILURE_CONFIG;
            return -1;
        }
        loc->is_default = 1;
    } else if (*sqlite_path == '\0') {
        snprintf(err, errlen, "the SQLite database path is empty: give a file (--db PATH or TICKQ_DB)");
        *failure = DB_FAILURE_CANNOT_CREATE;
        return -1;
    } else if (snprintf(path, sizeof path, "%s", sqlite_path) >= (int)sizeof path) {
        snprintf(err, errlen, "the database path is too long: %.200s...", sqlite_path);
        *failure = DB_FAILURE_CANNOT_CREATE;
        return -1;
    }
    int n;
    if (path[0] == '/') {
        n = snprintf(loc->where, sizeof loc->where, "%s", path);
    } else {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd) == NULL) {
            snprintf(err, errlen, "cannot resolve the database path %s against the current folder: %s", path,
                     strerror(errno));
            *failure = DB_FAILURE_CANNOT_CREATE;
            return -1;
        }
        n = snprintf(loc->where, sizeof loc->where, "%s/%s", cwd, path);
    }
    if (n < 0 || (size_t)n >= sizeof loc->where || (size_t)n >= PATH_MAX) {
        snprintf(err, errlen, "the database path is too long: %.200s...", path);
        *failure = DB_FAILURE_CANNOT_CREATE;
        return -1;
    }
    resolve_folder(loc);
    return 0;
}

int db_old_default(const char *database_url, const char *sqlite_path, char *out, size_t outlen)
{
    struct stat st;
    if ((database_url != NULL && *database_url) || sqlite_path != NULL || stat(DB_OLD_DEFAULT_PATH, &st) != 0 ||
        !S_ISREG(st.st_mode))
        return 0;
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL)
        snprintf(out, outlen, "%s", DB_OLD_DEFAULT_PATH);
    else
        snprintf(out, outlen, "%s/%s", cwd, DB_OLD_DEFAULT_PATH);
    return 1;
}

void db_describe(const char *database_url, const char *sqlite_path, char *out, size_t outlen)
{
    db_location_t loc;
    char err[1024];
    if (db_locate(database_url, sqlite_path, &loc, NULL, err, sizeof err) == 0)
        snprintf(out, outlen, "%s", loc.where);
    else
        snprintf(out, outlen, "(none: %s)", err);
}

/* Creates the default file's missing folders, mode 0700 (as the XDG spec
 * asks); folders that exist are left as they are. 0, or -1 with err. */
static int make_default_folders(const char *path, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create the folder %s for the default database %s: %s "
                     "(set TICKQ_DB=/path/to/tickq.db to put it elsewhere)", buf, path, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    return 0;
}

/* An explicit path's folder must exist: tickq never creates it. 0, or -1
 * with err naming the folder. */
static int check_folder(const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    size_t dlen = (size_t)(slash - path);
    if (dlen == 0)
        return 0; /* / */
    memcpy(dir, path, dlen);
    dir[dlen] = '\0';
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    int e = errno;
    if (stat(dir, &st) == 0 || e == ENOTDIR)
        snprintf(err, errlen, "the folder %s of the database %s is not a folder: choose another path "
                 "(--db PATH or TICKQ_DB)", dir, path);
    else if (e == ENOENT)
        snprintf(err, errlen, "the folder %s of the database %s does not exist: create it (mkdir -p %s) or "
                 "choose another path (--db PATH or TICKQ_DB); tickq creates folders only for its default "
                 "database", dir, path, dir);
    else
        snprintf(err, errlen, "cannot use the folder %s of the database %s: %s", dir, path, strerror(e));
    return -1;
}

int db_ping(db_t *db, char *err, size_t errlen)
{
    int version;
    return db->driver->applied_version(db, &version, err, errlen);
}

int db_connection_lost(db_t *db)
{
    return db->driver->connection_lost != NULL && db->driver->connection_lost(db);
}

int db_open(const char *database_url, const char *sqlite_path, db_t **out, db_failure_t *failure, char *err,
            size_t errlen)
{
    db_failure_t why;
    if (failure == NULL)
        failure = &why;
    *out = NULL;
    db_location_t loc;
    if (db_locate(database_url, sqlite_path, &loc, failure, err, errlen) != 0)
        return -1;
    if (loc.kind == DB_SQLITE) {
        if (loc.is_default ? make_default_folders(loc.where, err, errlen) != 0
                           : check_folder(loc.where, err, errlen) != 0) {
            *failure = DB_FAILURE_CANNOT_CREATE;
            return -1;
        }
        resolve_folder(&loc); /* the default's folder exists now */
    }
    db_t *db = calloc(1, sizeof *db);
    if (db == NULL) {
        snprintf(err, errlen, "out of memory");
        *failure = DB_FAILURE_OUT_OF_MEMORY;
        return -1;
    }
    memcpy(db->where, loc.where, sizeof db->where);
    db->kind = loc.kind;
    int st;
    if (loc.kind == DB_POSTGRES) {
        db->driver = &db_pg_driver;
        st = db_pg_open(db, database_url, err, errlen);
    } else {
        db->driver = &db_sqlite_driver;
        st = db_sqlite_open(db, db->where, err, errlen);
    }
    if (st != 0) {
        *failure = loc.kind == DB_POSTGRES ? DB_FAILURE_UNAVAILABLE : DB_FAILURE_CANNOT_CREATE;
        free(db);
        return -1;
    }
    if (migrate(db, err, errlen) != 0) {
        db_close(db);
        *failure = DB_FAILURE_MIGRATION;
        return -1;
    }
    *out = db;
    return 0;
}

void db_close(db_t *db)
{
    if (db == NULL)
        return;
    if (db->driver != NULL && db->impl != NULL)
        db->driver->close(db);
    free(db);
}

db_kind_t db_kind(const db_t *db) { return db->kind; }
const char *db_kind_name(const db_t *db) { return db->driver->name; }
const char *db_where(const db_t *db) { return db->where; }
int db_schema_version(const db_t *db) { return db->version; }

int db_small_cache(db_t *db, char *err, size_t errlen)
{
    return db->kind == DB_SQLITE ? db->driver->exec(db, "PRAGMA cache_size=-256", err, errlen) : 0;
}

/* Workers cache loaded bars by this version: any change moves it, once
 * per transaction (on PostgreSQL its row lock is held until the commit,
 * so one bump per put would serialise every writer on it for longer). */
static int bump_bars_version(db_t *db, char *err, size_t errlen)
{
    return db->driver->exec(db, "UPDATE bars_version SET version = version + 1 WHERE id = 1", err, errlen);
}

int db_begin(db_t *db, char *err, size_t errlen)
{
    if (db->driver->exec(db, db->kind == DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN", err, errlen) != 0)
        return -1;
    db->in_transaction = 1;
    db->bars_changed = 0;
    return 0;
}

int db_commit(db_t *db, char *err, size_t errlen)
{
    if (db->bars_changed && bump_bars_version(db, err, errlen) != 0)
        return -1; /* the caller rolls back */
    db->in_transaction = db->bars_changed = 0;
    return db->driver->exec(db, "COMMIT", err, errlen);
}

void db_rollback(db_t *db)
{
    db->in_transaction = db->bars_changed = 0;
    db->driver->exec(db, "ROLLBACK", NULL, 0);
}

int db_bars_put(db_t *db, const char *interval, const bar_row_t *rows, size_t n, char *err, size_t errlen)
{
    if (n == 0)
        return 0;
    if (db->driver->bars_put(db, interval, rows, n, err, errlen) != 0)
        return -1;
    if (db->in_transaction) {
        db->bars_changed = 1;
        return 0;
    }
    return bump_bars_version(db, err, errlen);
}

int db_bars_version(db_t *db, long long *version, char *err, size_t errlen)
{
    return db->driver->bars_version(db, version, err, errlen);
}

int db_bars_get(db_t *db, const char *interval, const char *const *symbols, size_t nsymbols,
                int64_t from_ts, int64_t to_ts, bar_set_t *out, char *err, size_t errlen)
{
    snprintf(out->interval, sizeof out->interval, "%s", interval);
    return db->driver->bars_get(db, interval, symbols, nsymbols, from_ts, to_ts, out, err, errlen);
}

int db_bars_summary(db_t *db, bar_summary_t **out, size_t *n, char *err, size_t errlen)
{
    return db->driver->bars_summary(db, out, n, err, errlen);
}

int db_history_prune(db_t *db, int64_t before_us, char *err, size_t errlen)
{
    /* The same text on both drivers: SQLite stores ISO 8601 text, which
     * sorts as time does; PostgreSQL reads the literal as a timestamptz. */
    char cutoff[CLOCK_ISO_LEN], sql[256 + 2 * CLOCK_ISO_LEN];
    clock_iso8601(before_us, cutoff);
    snprintf(sql, sizeof sql,
             "BEGIN; DELETE FROM job_history WHERE finished_at < '%s'; DELETE FROM job_retries WHERE at < '%s'; "
             "COMMIT",
             cutoff, cutoff);
    if (db->driver->exec(db, sql, err, errlen) != 0) {
        db->driver->exec(db, "ROLLBACK", NULL, 0);
        return -1;
    }
    return 0;
}

int db_history_put(db_t *db, const history_rec_t *h, size_t nh, const retry_rec_t *r, size_t nr,
                   char *err, size_t errlen)
{
    if (nh == 0 && nr == 0)
        return 0;
    return db->driver->history_put(db, h, nh, r, nr, err, errlen);
}

int db_history_list(db_t *db, const history_query_t *q, history_row_t **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (q->limit == 0 || q->from_us >= q->before_us)
        return 0;
    return db->driver->history_list(db, q, out, n, err, errlen);
}

void db_history_rows_free(history_row_t *rows, size_t n)
{
    for (size_t i = 0; rows != NULL && i < n; i++) {
        free(rows[i].job_id);
        free(rows[i].type);
        free(rows[i].queue);
        free(rows[i].state);
        free(rows[i].error);
    }
    free(rows);
}

int db_optimize_put(db_t *db, const char *job_id, const optimize_row_t *rows, size_t n, char *err, size_t errlen)
{
    return db->driver->optimize_put(db, job_id, rows, n, err, errlen);
}

int db_optimize_get(db_t *db, const char *job_id, size_t offset, size_t limit, optimize_row_t **out, size_t *n,
                    long long *total, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    return db->driver->optimize_get(db, job_id, offset, limit, out, n, total, err, errlen);
}

void db_optimize_rows_free(optimize_row_t *rows, size_t n)
{
    for (size_t i = 0; rows != NULL && i < n; i++) {
        free(rows[i].params);
        free(rows[i].metrics);
        free(rows[i].error);
    }
    free(rows);
}

int db_option_quotes_put(db_t *db, const option_quote_t *rows, size_t n, char *err, size_t errlen)
{
    return n == 0 ? 0 : db->driver->option_quotes_put(db, rows, n, err, errlen);
}

int db_option_quotes_get(db_t *db, const char *symbol, int64_t quote_date, option_quote_t **out, size_t *n,
                         char *err, size_t errlen)
{
    return db->driver->option_quotes_get(db, symbol, quote_date, out, n, err, errlen);
}

int db_option_summary(db_t *db, option_summary_t **out, size_t *n, char *err, size_t errlen)
{
    return db->driver->option_summary(db, out, n, err, errlen);
}

int db_option_iv_put(db_t *db, const char *symbol, int64_t quote_date, const option_iv_row_t *rows, size_t n,
                     char *err, size_t errlen)
{
    return db->driver->option_iv_put(db, symbol, quote_date, rows, n, err, errlen);
}

int db_iv_history_put(db_t *db, const iv_history_row_t *rows, size_t n, char *err, size_t errlen)
{
    return n == 0 ? 0 : db->driver->iv_history_put(db, rows, n, err, errlen);
}

int db_iv_history_get(db_t *db, const char *symbol, int64_t from_date, int64_t to_date, iv_history_row_t **out,
                      size_t *n, char *err, size_t errlen)
{
    return db->driver->iv_history_get(db, symbol, from_date, to_date, out, n, err, errlen);
}

int db_iv_history_latest(db_t *db, int64_t on_or_before, iv_history_row_t **out, size_t *n, char *err,
                         size_t errlen)
{
    return db->driver->iv_history_get(db, NULL, 0, on_or_before, out, n, err, errlen);
}

int db_opportunities_put(db_t *db, int64_t generated_us, const opportunity_row_t *rows, size_t n, char *err,
                         size_t errlen)
{
    return n == 0 ? 0 : db->driver->opportunities_put(db, generated_us, rows, n, err, errlen);
}

int db_opportunities_latest(db_t *db, int64_t *generated_us, opportunity_entry_t **out, size_t *n, char *err,
                            size_t errlen)
{
    return db->driver->opportunities_latest(db, generated_us, out, n, err, errlen);
}

int db_bars_symbols(db_t *db, const char *interval, bar_symbol_t **out, size_t *n, char *err, size_t errlen)
{
    bar_summary_t *rows = NULL;
    size_t nrows = 0;
    *out = NULL;
    *n = 0;
    if (db_bars_summary(db, &rows, &nrows, err, errlen) != 0)
        return -1;
    *out = malloc((nrows ? nrows : 1) * sizeof **out);
    if (*out == NULL) {
        free(rows);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < nrows; i++)
        if (strcmp(rows[i].interval, interval) == 0)
            memcpy((*out)[(*n)++], rows[i].symbol, sizeof rows[i].symbol);
    free(rows);
    return 0;
}
