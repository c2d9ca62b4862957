/* history.h — job history written behind the hot path.
 *
 * Worker children (and the supervisor, for jobs it settles) describe every
 * finished job and every failed attempt in small records sent over a pipe
 * (each write is whole records of at most PIPE_BUF bytes, so writes from
 * several processes never interleave). The history process
 * (history_process.h) collects them and writes them to the database in
 * batches, one transaction each. A process killed at any point loses
 * nothing it had written into the pipe. */
#ifndef TICKQ_HISTORY_H
#define TICKQ_HISTORY_H

#include <limits.h>
#include <stddef.h>

#include "db.h"

/* --- worker child side ---------------------------------------------- */

typedef struct {
    int fd;
    size_t len;
    char buf[PIPE_BUF];
} history_writer_t;

void history_writer_init(history_writer_t *w, int fd);
void history_write_job(history_writer_t *w, const history_rec_t *r);
void history_write_retry(history_writer_t *w, const retry_rec_t *r);
/* Sends what is buffered (blocks while the pipe is full). */
void history_writer_flush(history_writer_t *w);

/* --- reader side (the history process) ------------------------------ */

typedef struct history history_t;

/* Creates the pipe (read end non-blocking, 1 MiB when the system allows). */
int history_pipe(int fds[2]);

/* db may be NULL until a connection is made (history_set_db); records are
 * kept meanwhile. */
history_t *history_new(db_t *db);
void history_set_db(history_t *h, db_t *db);
void history_free(history_t *h);
/* Reads what the writers sent (non-blocking). Returns 0 once every write
 * end is closed (end of file), else 1. */
int history_read(history_t *h, int fd);
/* Records waiting for the database. */
size_t history_pending(const history_t *h);
/* Writes the waiting records; on failure keeps them for the next try
 * (up to a cap, beyond which the oldest are dropped and counted). */
int history_flush(history_t *h, char *err, size_t errlen);
/* Records dropped because the database stayed unavailable. */
unsigned long long history_dropped(const history_t *h);

#endif
