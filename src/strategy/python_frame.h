/* python_frame.h — the frame a Python host holds: the bars the worker sent
 * (BARS), the window of each series (WINDOW) and their feature columns,
 * which the `_tickq` module (python_module.h) gives the runner.
 *
 * The BARS payload: a python_bars_head_t, nseries python_bars_series_t,
 * then per series its ts (int64), open, high, low, close and volume
 * (double) arrays of n values each: every part a multiple of 8 bytes, so
 * the host uses the arrays where they arrived. */
#ifndef TICKQ_PYTHON_FRAME_H
#define TICKQ_PYTHON_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "data/bars.h"

typedef struct {
    uint32_t nseries;
    uint32_t daily;              /* dates as YYYY-MM-DD, else ISO 8601 */
    char interval[16];
} python_bars_head_t;

typedef struct {
    char symbol[40];
    uint64_t n;
} python_bars_series_t;

/* Bytes of the BARS payload for set. */
size_t python_bars_size(const bar_set_t *set);
/* Writes the BARS payload of set into buf (python_bars_size bytes). */
void python_bars_write(const bar_set_t *set, int daily, char *buf);

/* In the host: takes the BARS payload (malloc'd; owned from here on, also
 * on failure). 0, or -1 with err for a malformed one. */
int python_frame_set_bars(char *payload, size_t len, char *err, size_t errlen);
/* In the host: the WINDOW payload (2 x nseries uint64: lo then hi). */
int python_frame_set_window(const char *payload, size_t len, char *err, size_t errlen);
/* Rows of the window (df's length). */
size_t python_frame_rows(void);
/* The series, in df's order: series i's symbol, bar times and window
 * [lo, hi) (valid until the next BARS or WINDOW). */
size_t python_frame_series_count(void);
void python_frame_series(size_t i, const char **symbol, const int64_t **ts, size_t *lo, size_t *hi);
/* 1: dates as YYYY-MM-DD, else ISO 8601 times. */
int python_frame_daily(void);
/* Writes column `name` (a feature_name_check name) over the window's rows
 * into out (python_frame_rows() values). 0, or -1 with err (out of
 * memory). */
int python_frame_column(const char *name, double *out, char *err, size_t errlen);

#endif
