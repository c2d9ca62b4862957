/* optimize_table.c — an optimize job's table as JSON (optimize_table.h). */
#include "data/optimize_table.h"

#include <math.h>
#include <stdio.h>

/* A stored JSON text as a value; NULL with err naming the row and column. */
static json_t *stored(const char *text, const char *job_id, int rank, const char *column, char *err, size_t errlen)
{
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
    if (v == NULL)
        snprintf(err, errlen, "the optimize table of job %s, rank %d: %s is not JSON (%s)", job_id, rank, column,
                 je.text);
    return v;
}

json_t *optimize_table_read(db_t *db, const char *job_id, size_t offset, size_t limit, long long *total,
                            char *err, size_t errlen)
{
    optimize_row_t *rows;
    size_t n;
    if (db_optimize_get(db, job_id, offset, limit, &rows, &n, total, err, errlen) != 0)
        return NULL;
    json_t *out = json_array();
    for (size_t i = 0; i < n && out != NULL; i++) {
        const optimize_row_t *r = &rows[i];
        json_t *params = stored(r->params, job_id, r->rank, "params", err, errlen);
        json_t *metrics = r->metrics ? stored(r->metrics, job_id, r->rank, "metrics", err, errlen) : NULL;
        if (params == NULL || (r->metrics != NULL && metrics == NULL)) {
            json_decref(params);
            json_decref(metrics);
            json_decref(out);
            out = NULL;
            break;
        }
        json_t *row = json_pack("{s:i, s:o, s:o}", "rank", r->rank, "objective",
                                isfinite(r->objective) ? json_real(r->objective) : json_null(), "params", params);
        if (r->fold > 0)
            json_object_set_new(row, "fold", json_integer(r->fold));
        if (metrics != NULL)
            json_object_set_new(row, "metrics", metrics);
        if (r->error != NULL)
            json_object_set_new(row, "error", json_string(r->error));
        json_array_append_new(out, row);
    }
    db_optimize_rows_free(rows, n);
    return out;
}
