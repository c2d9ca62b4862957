/* synth.h — deterministic synthetic daily bars, so that demos, tests and
 * benchmarks have market data without a network. */
#ifndef TICKQ_SYNTH_H
#define TICKQ_SYNTH_H

#include <stdint.h>

#include "data/db.h"

typedef struct {
    int symbols;                 /* SYN0001, SYN0002, ... */
    int days;                    /* trading days (Monday to Friday) per symbol */
    uint64_t seed;
    int64_t start_ts;            /* first day, epoch seconds at 00:00 UTC */
} synth_opts_t;

/* Generates the bars symbol by symbol, each in date order, and hands them
 * to emit in chunks (rows valid during the call). Same options, same bars.
 * Returns 0, or the first non-zero value emit returned. */
int synth_generate(const synth_opts_t *o, int (*emit)(const bar_row_t *rows, size_t n, void *ctx), void *ctx);

/* The name of symbol i (0-based) among n: SYN0001 ... */
void synth_symbol(int i, int n, char out[BAR_SYMBOL_MAX + 1]);

#endif
