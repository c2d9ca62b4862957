/* db.h — tickq's database: an SQLite file by default (one host), PostgreSQL
 * when DATABASE_URL is set (several hosts). Both hold the same schema,
 * created and upgraded by versioned migrations when the database is opened.
 *
 * Functions return 0 on success or -1 with a message in err (db_history_put
 * may also return DB_REFUSED). */
#ifndef TICKQ_DB_H
#define TICKQ_DB_H

#include <stddef.h>
#include <stdint.h>

#include "data/bars.h"
#include "data/option_kind.h"

/* The default SQLite file, which does not depend on the current directory:
 * $XDG_DATA_HOME/tickq/tickq.db, or $HOME/.local/share/tickq/tickq.db when
 * XDG_DATA_HOME is unset (the XDG base directory layout). Its folders are
 * created on first use (mode 0700); an explicit path's never are. */
#define DB_DEFAULT_SUBPATH "tickq/tickq.db"
#define DB_WHERE_MAX 4096

typedef struct db db_t;
typedef enum { DB_SQLITE, DB_POSTGRES } db_kind_t;

/* Where db_open opens a database. */
typedef struct {
    db_kind_t kind;
    int is_default;              /* the default SQLite file (sqlite_path NULL) */
    char where[DB_WHERE_MAX];    /* the absolute SQLite path, or the URL with its password masked */
} db_location_t;

/* Why db_locate or db_open failed, for a command to turn into its exit
 * status (cmd/db_exit.h). */
typedef enum {
    DB_FAILURE_CONFIG,           /* a URL that is not PostgreSQL, no usable HOME / XDG_DATA_HOME */
    DB_FAILURE_CANNOT_CREATE,    /* the SQLite file or the default's folder cannot be created or opened,
                                  * an explicit path's folder does not exist, an empty or too long path */
    DB_FAILURE_UNAVAILABLE,      /* PostgreSQL cannot be reached */
    DB_FAILURE_MIGRATION,        /* a migration failed */
    DB_FAILURE_OUT_OF_MEMORY
} db_failure_t;

/* Where db_open(database_url, sqlite_path) opens, without opening or
 * creating anything: PostgreSQL when database_url is set, else the SQLite
 * file sqlite_path (relative to the current directory), else the default
 * above. The SQLite path is absolute, its folder resolved (symbolic links,
 * `..`) when it exists. Returns 0, or -1 with err and, unless failure is
 * NULL, why in *failure: DB_FAILURE_CONFIG for a URL that is not
 * PostgreSQL, or no usable HOME / XDG_DATA_HOME for the default;
 * DB_FAILURE_CANNOT_CREATE for an empty or too long path. */
int db_locate(const char *database_url, const char *sqlite_path, db_location_t *loc, db_failure_t *failure,
              char *err, size_t errlen);

/* The file that was the default before it moved under XDG_DATA_HOME:
 * var/tickq.db in the current folder. When the default is in use (no
 * database_url, no sqlite_path) and that file exists, writes its absolute
 * path to out and returns 1 (its data is not in the default database: the
 * caller warns); else 0. */
#define DB_OLD_DEFAULT_PATH "var/tickq.db"
int db_old_default(const char *database_url, const char *sqlite_path, char *out, size_t outlen);

/* db_locate's `where` for a log line, or why it cannot be placed. */
void db_describe(const char *database_url, const char *sqlite_path, char *out, size_t outlen);

/* Opens and migrates the database db_locate names. The default SQLite
 * file's folders are created; an explicit path's folder must exist.
 * Returns 0 with *out, or -1 with err (the message names the place) and,
 * unless failure is NULL, why in *failure. */
int db_open(const char *database_url, const char *sqlite_path, db_t **out, db_failure_t *failure, char *err,
            size_t errlen);
void db_close(db_t *db);
/* Whether the open database still answers: one read (the schema version
 * applied), no write. 0, or -1 with err. */
int db_ping(db_t *db, char *err, size_t errlen);
/* 1 when the connection to the database server is gone: the server closed
 * it (a restart, a failover, an administrator's pg_terminate_backend, an
 * idle timeout), or a statement failed because it broke. Such a handle
 * fails every statement from then on: close it and open the database
 * again. Asks the server nothing (it reads what the server already sent,
 * without waiting); a SQLite file is never gone (0). */
int db_connection_lost(db_t *db);

db_kind_t db_kind(const db_t *db);

/* Keeps a SQLite connection's page cache small (256 KiB),
 * for a long-lived process that only appends (the job history): the 64 MiB
 * every connection gets for imports would fill over hours and stay. No-op
 * for PostgreSQL. 0, or -1 with err. */
int db_small_cache(db_t *db, char *err, size_t errlen);
/* "sqlite" or "postgresql". */
const char *db_kind_name(const db_t *db);
/* The absolute SQLite path, or the URL with its password masked. */
const char *db_where(const db_t *db);
/* The schema version after migrations. */
int db_schema_version(const db_t *db);

int db_begin(db_t *db, char *err, size_t errlen);
int db_commit(db_t *db, char *err, size_t errlen);
void db_rollback(db_t *db);

typedef struct {
    const char *symbol;
    int64_t ts;
    double open, high, low, close, volume;
} bar_row_t;

/* Upserts bars (unique on symbol + interval + ts) inside a transaction. */
int db_bars_put(db_t *db, const char *interval, const bar_row_t *rows, size_t n,
                char *err, size_t errlen);

/* A number that changes whenever bars are written (for caches). */
int db_bars_version(db_t *db, long long *version, char *err, size_t errlen);

/* Loads the bars of `symbols` (sorted, distinct) with from_ts <= ts <= to_ts
 * into *out, one series per symbol that has bars, in symbol order. */
int db_bars_get(db_t *db, const char *interval, const char *const *symbols, size_t nsymbols,
                int64_t from_ts, int64_t to_ts, bar_set_t *out, char *err, size_t errlen);

typedef struct {
    char symbol[BAR_SYMBOL_MAX + 1];
    char interval[BAR_INTERVAL_MAX + 1];
    int64_t first_ts, last_ts;
    long long count;
} bar_summary_t;

/* One row per symbol and interval, sorted; *out is malloc'd. */
int db_bars_summary(db_t *db, bar_summary_t **out, size_t *n, char *err, size_t errlen);

/* The symbols with bars at `interval`, sorted; *out is malloc'd (never
 * NULL on success, even when *n is 0). */
int db_bars_symbols(db_t *db, const char *interval, bar_symbol_t **out, size_t *n, char *err, size_t errlen);

/* A finished job (job_history) and a failed attempt (job_retries). `run`
 * is the job's run number (1 for its first run; a finished id enqueued
 * again runs as run 2, ...), so the rows of several runs of one id are
 * told apart (migration 4); created_at is the job record's (ISO 8601, NULL
 * or "": unknown), which tells apart runs of an id reused after its record
 * expired. A row is written once: one that exists (same job, run,
 * created_at and attempt) is left as it is (migration 5). */
typedef struct {
    const char *job_id, *type, *queue, *state, *worker, *error;
    int attempts;
    int64_t started_us, finished_us; /* 0: unknown */
    int run;
    const char *created_at;
} history_rec_t;

typedef struct {
    const char *job_id, *kind, *error, *worker;
    int attempt;
    int64_t at_us;
    int run;
    const char *created_at;
} retry_rec_t;

/* Deletes history and retry records from before `before_us` (epoch
 * microseconds), in one transaction. */
int db_history_prune(db_t *db, int64_t before_us, char *err, size_t errlen);

/* What db_history_put returns when the database refused a value of the
 * rows (a data error: PostgreSQL's SQLSTATE classes 22 and 23, SQLite's
 * constraint, too big and mismatch errors), which writing the same rows
 * again would meet again; -1 is for the rest (the database is unreachable
 * or busy: try again later). */
#define DB_REFUSED (-2)

/* Writes history and retry records in one transaction; records already
 * there are skipped. 0, -1 or DB_REFUSED with err. */
int db_history_put(db_t *db, const history_rec_t *h, size_t nh, const retry_rec_t *r, size_t nr,
                   char *err, size_t errlen);

/* A finished run read back from job_history (db_history_list); strings
 * are owned (error NULL: none). */
typedef struct {
    char *job_id, *type, *queue, *state, *error;
    int attempts, run;
    int64_t finished_ms;
} history_row_t;

/* Which rows db_history_list reads: state, finished_at in [from_us,
 * before_us), queue and type when not NULL, newest first, at most limit. */
typedef struct {
    const char *state, *queue, *type;
    int64_t from_us, before_us;
    size_t limit;
} history_query_t;

/* The job_history rows q selects into *out (malloc'd; db_history_rows_free). */
int db_history_list(db_t *db, const history_query_t *q, history_row_t **out, size_t *n, char *err, size_t errlen);
void db_history_rows_free(history_row_t *rows, size_t n);

/* Options data (migration 3; docs/database.md). Dates are days since
 * 1970-01-01 (clock_days_from_civil), stored as YYYY-MM-DD text in SQLite
 * and DATE in PostgreSQL. NaN stands for SQL NULL in every double below. */
typedef struct {
    char symbol[BAR_SYMBOL_MAX + 1]; /* the underlying */
    int64_t quote_date, expiry;
    double strike;
    option_kind_t kind;
    double bid, ask;
    double last;                 /* NaN: none */
    int64_t volume, open_interest;
    double underlying;           /* the underlying's price the chain was quoted at; NaN: none */
} option_quote_t;

/* Upserts quotes (unique on symbol + quote_date + expiry + strike + type);
 * the caller holds the transaction (db_begin). Rows must be distinct. */
int db_option_quotes_put(db_t *db, const option_quote_t *rows, size_t n, char *err, size_t errlen);

/* The chain of `symbol` quoted on `quote_date`, by expiry, strike, call
 * before put, into *out (malloc'd; *n may be 0). */
int db_option_quotes_get(db_t *db, const char *symbol, int64_t quote_date, option_quote_t **out, size_t *n,
                         char *err, size_t errlen);

typedef struct {
    char symbol[BAR_SYMBOL_MAX + 1];
    int64_t first_date, last_date;
    long long rows;
} option_summary_t;

/* One row per symbol with quotes, in symbol order; *out is malloc'd. */
int db_option_summary(db_t *db, option_summary_t **out, size_t *n, char *err, size_t errlen);

/* A contract's implied volatility and Greeks (theta per calendar day, vega
 * and rho per point) at its mid price. */
typedef struct {
    int64_t expiry;
    double strike;
    option_kind_t kind;
    double underlying, mid, iv;
    double delta, gamma, theta, vega, rho;
} option_iv_row_t;

/* Replaces the rows of `symbol` on `quote_date` with these; the caller
 * holds the transaction. */
int db_option_iv_put(db_t *db, const char *symbol, int64_t quote_date, const option_iv_row_t *rows, size_t n,
                     char *err, size_t errlen);

#define IV_METHOD_MAX 15

/* One symbol's day in iv_history. */
typedef struct {
    char symbol[BAR_SYMBOL_MAX + 1];
    int64_t date;
    double atm_iv_30d;           /* NaN: no expiry had a solvable ATM contract */
    char atm_method[IV_METHOD_MAX + 1]; /* iv_analysis.h: interpolated, exact, nearest_short, ... */
    int64_t near_expiry, far_expiry; /* 0: none */
    double near_iv, far_iv;
    double iv_rank, iv_percentile; /* NaN: undefined (short history, flat range) */
    double hv_20, hv_60;
    double underlying;
    long long contracts, solved, skipped;
    long long atm_open_interest, atm_volume; /* calls and puts at the ATM strikes used */
} iv_history_row_t;

/* Upserts rows (unique on symbol + date); the caller holds the transaction. */
int db_iv_history_put(db_t *db, const iv_history_row_t *rows, size_t n, char *err, size_t errlen);

/* The rows of `symbol` with from_date <= date <= to_date, in date order. */
int db_iv_history_get(db_t *db, const char *symbol, int64_t from_date, int64_t to_date, iv_history_row_t **out,
                      size_t *n, char *err, size_t errlen);

/* Each symbol's latest row dated on or before `on_or_before`, in symbol
 * order. */
int db_iv_history_latest(db_t *db, int64_t on_or_before, iv_history_row_t **out, size_t *n, char *err,
                         size_t errlen);

/* One ranked entry of an opportunity scan. */
typedef struct {
    const char *side;            /* "sell_premium" or "buy_premium" */
    int rank;                    /* 1 is the best of its side */
    double score;
    const iv_history_row_t *h;   /* the history row it was ranked from */
} opportunity_row_t;

/* Writes one scan's ranked list under generated_us (epoch microseconds);
 * the caller holds the transaction. */
int db_opportunities_put(db_t *db, int64_t generated_us, const opportunity_row_t *rows, size_t n, char *err,
                         size_t errlen);

/* One entry of a stored scan, as read back. */
typedef struct {
    char side[16];               /* "sell_premium" or "buy_premium" */
    int rank;                    /* 1 is the best of its side */
    char symbol[BAR_SYMBOL_MAX + 1];
    double score;
    int64_t date;                /* the iv_history row's day, as iv_history_row_t.date holds it */
    double atm_iv_30d, iv_rank, iv_percentile, hv_20, hv_60;  /* NaN where the column is NULL */
    long long atm_open_interest, atm_volume;
} opportunity_entry_t;

/* The newest stored scan (the greatest generated_at): *generated_us its
 * time (0 and no entries when none is stored) and its entries, side
 * ("buy_premium" first, then "sell_premium") then rank order; *out is
 * malloc'd (free it). 0, or -1 with err. */
int db_opportunities_latest(db_t *db, int64_t *generated_us, opportunity_entry_t **out, size_t *n, char *err,
                            size_t errlen);

/* One combination of an optimize job's whole table (migration 6): its
 * walk-forward fold (0: none; else 1, 2, ...: ranked on that fold's train
 * window), its rank in the fold (1 is the best), the objective's value
 * (NaN: none), its params and metrics as JSON text (metrics NULL when the
 * combination failed; error then says why). Strings read back are owned
 * (db_optimize_rows_free). */
typedef struct {
    int fold;
    int rank;
    double objective;
    char *params, *metrics, *error;
} optimize_row_t;

/* Replaces job_id's table with these rows (a job aggregated again, a run
 * of a reused id, writes its table once); the caller holds the
 * transaction. */
int db_optimize_put(db_t *db, const char *job_id, const optimize_row_t *rows, size_t n, char *err, size_t errlen);

/* Rows offset+1 .. offset+limit of job_id's table, by fold and rank, into *out
 * (malloc'd, *n may be 0), and the table's size in *total (0: no table). */
int db_optimize_get(db_t *db, const char *job_id, size_t offset, size_t limit, optimize_row_t **out, size_t *n,
                    long long *total, char *err, size_t errlen);
void db_optimize_rows_free(optimize_row_t *rows, size_t n);

#endif
