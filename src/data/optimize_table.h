/* optimize_table.h — an optimize job's whole ranked table (the database's
 * optimize_results, written by the optimize task) read back as JSON, for
 * `tickq job ID --table` and GET /api/tables/{id}. */
#ifndef TICKQ_OPTIMIZE_TABLE_H
#define TICKQ_OPTIMIZE_TABLE_H

#include <jansson.h>
#include <stddef.h>

#include "data/db.h"

/* Rows offset+1 .. offset+limit of job_id's table, by fold and rank, as a
 * new JSON array of {"rank", "objective" (null: none), "params", "fold"
 * (walk-forward only), "metrics" (absent for a failed combination), "error"
 * (only then)}, and the table's size in
 * *total (0: the job has no table). NULL with err on a database error or a
 * stored row that is not the JSON the task wrote. */
json_t *optimize_table_read(db_t *db, const char *job_id, size_t offset, size_t limit, long long *total,
                            char *err, size_t errlen);

#endif
