/* db_driver.h — what a database driver implements (db_sqlite.c, db_pg.c);
 * private to the db*.c files. */
#ifndef TICKQ_DB_DRIVER_H
#define TICKQ_DB_DRIVER_H

#include "data/db.h"

typedef struct {
    const char *name;
    void (*close)(db_t *db);
    /* Runs one or more SQL statements that return no rows. */
    int (*exec)(db_t *db, const char *sql, char *err, size_t errlen);
    /* Starts the migration transaction, holding a lock that a second
     * process migrating at the same time waits for. */
    int (*begin_migration)(db_t *db, char *err, size_t errlen);
    /* The highest applied migration (0: none) inside that transaction. */
    int (*applied_version)(db_t *db, int *version, char *err, size_t errlen);
    int (*bars_put)(db_t *db, const char *interval, const bar_row_t *rows, size_t n, char *err, size_t errlen);
    int (*bars_get)(db_t *db, const char *interval, const char *const *symbols, size_t nsymbols,
                    int64_t from_ts, int64_t to_ts, bar_set_t *out, char *err, size_t errlen);
    int (*bars_summary)(db_t *db, bar_summary_t **out, size_t *n, char *err, size_t errlen);
    int (*bars_version)(db_t *db, long long *version, char *err, size_t errlen);
    int (*history_put)(db_t *db, const history_rec_t *h, size_t nh, const retry_rec_t *r, size_t nr,
                       char *err, size_t errlen);
    /* Options data (migration 3). */
    int (*option_quotes_put)(db_t *db, const option_quote_t *rows, size_t n, char *err, size_t errlen);
    int (*option_quotes_get)(db_t *db, const char *symbol, int64_t quote_date, option_quote_t **out, size_t *n,
                             char *err, size_t errlen);
    int (*option_summary)(db_t *db, option_summary_t **out, size_t *n, char *err, size_t errlen);
    int (*option_iv_put)(db_t *db, const char *symbol, int64_t quote_date, const option_iv_row_t *rows, size_t n,
                         char *err, size_t errlen);
    int (*iv_history_put)(db_t *db, const iv_history_row_t *rows, size_t n, char *err, size_t errlen);
    /* Rows of `symbol` in [from_date, to_date] by date; symbol NULL: each
     * symbol's latest row on or before to_date (from_date is ignored). */
    int (*iv_history_get)(db_t *db, const char *symbol, int64_t from_date, int64_t to_date, iv_history_row_t **out,
                          size_t *n, char *err, size_t errlen);
    int (*opportunities_put)(db_t *db, int64_t generated_us, const opportunity_row_t *rows, size_t n, char *err,
                             size_t errlen);
    /* The newest scan (db_opportunities_latest). */
    int (*opportunities_latest)(db_t *db, int64_t *generated_us, opportunity_entry_t **out, size_t *n, char *err,
                                size_t errlen);
    /* job_history rows, newest first (db_history_list). */
    int (*history_list)(db_t *db, const history_query_t *q, history_row_t **out, size_t *n, char *err,
                        size_t errlen);
    /* An optimize job's table (migration 6). */
    int (*optimize_put)(db_t *db, const char *job_id, const optimize_row_t *rows, size_t n, char *err,
                        size_t errlen);
    int (*optimize_get)(db_t *db, const char *job_id, size_t offset, size_t limit, optimize_row_t **out, size_t *n,
                        long long *total, char *err, size_t errlen);
    /* Whether the connection is known to be gone (db_connection_lost);
     * NULL: it never goes (a file). */
    int (*connection_lost)(db_t *db);
} db_driver_t;

struct db {
    const db_driver_t *driver;
    db_kind_t kind;
    char where[DB_WHERE_MAX];    /* db_locate's: set by db_open before the driver opens */
    int version;
    int in_transaction;         /* between db_begin and db_commit/db_rollback */
    int bars_changed;           /* bars were put in it: bump bars_version at commit */
    void *impl;                 /* the driver's connection state */
};

/* Driver constructors: fill db->impl (db->where is set; SQLite's path is
 * absolute and its folder exists). */
int db_sqlite_open(db_t *db, const char *path, char *err, size_t errlen);
int db_pg_open(db_t *db, const char *url, char *err, size_t errlen);

extern const db_driver_t db_sqlite_driver;
extern const db_driver_t db_pg_driver;

#endif
