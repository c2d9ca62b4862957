/* db_exit.h — the exit status of a command whose database would not open:
 * db_open fails with a reason (db.h), the command boundary turns it into
 * a sysexits code. */
#ifndef TICKQ_DB_EXIT_H
#define TICKQ_DB_EXIT_H

#include "data/db.h"

/* 78 (EX_CONFIG), 73 (EX_CANTCREAT), 69 (EX_UNAVAILABLE), 70
 * (EX_SOFTWARE: a migration failed) or 71 (EX_OSERR: out of memory). */
int db_exit_status(db_failure_t failure);

#endif
