/* performance.c — performance statistics of backtests. */
#include "strategy/performance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PERIODS_PER_YEAR 252.0

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void performance_trades(const double *r, size_t n, trade_stats_t *o)
{
    o->trades = n;
    o->total_return = o->avg_return = o->median_return = o->best = o->worst = o->win_rate = o->profit_factor = NAN;
    if (n == 0)
        return;
    double sum = 0, gains = 0, losses = 0;
    size_t wins = 0;
    o->best = o->worst = r[0];
    for (size_t i = 0; i < n; i++) {
        sum += r[i];
        if (r[i] > 0) {
            wins++;
            gains += r[i];
        } else if (r[i] < 0) {
            losses -= r[i];
        }
        if (r[i] > o->best)
            o->best = r[i];
        if (r[i] < o->worst)
            o->worst = r[i];
    }
    o->total_return = sum;
    o->avg_return = sum / (double)n;
    o->win_rate = (double)wins / (double)n;
    o->profit_factor = losses > 0 ? gains / losses : NAN;
    double *s = malloc(n * sizeof *s);
    if (s != NULL) {
        memcpy(s, r, n * sizeof *s);
        qsort(s, n, sizeof *s, cmp_double);
        o->median_return = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
        free(s);
    }
}

void performance_series(const double *r, size_t n, series_stats_t *o)
{
    o->total_return = o->cagr = o->annual_volatility = o->sharpe = o->sortino = o->max_drawdown = o->calmar = NAN;
    if (n == 0)
        return;
    double equity = 1, peak = 1, mdd = 0, sum = 0, down = 0;
    for (size_t i = 0; i < n; i++) {
        equity *= 1 + r[i];
        if (equity > peak)
            peak = equity;
        double dd = equity / peak - 1;
        if (dd < mdd)
            mdd = dd;
        sum += r[i];
        double neg = r[i] < 0 ? r[i] : 0;
        down += neg * neg;
    }
    double mean = sum / (double)n;
    o->total_return = equity - 1;
    o->cagr = equity > 0 ? pow(equity, PERIODS_PER_YEAR / (double)n) - 1 : -1;
    o->max_drawdown = mdd;
    if (n > 1) {
        double q = 0;
        for (size_t i = 0; i < n; i++)
            q += (r[i] - mean) * (r[i] - mean);
        double sd = sqrt(q / (double)(n - 1));
        o->annual_volatility = sd * sqrt(PERIODS_PER_YEAR);
        o->sharpe = sd > 0 ? mean / sd * sqrt(PERIODS_PER_YEAR) : NAN;
    }
    double downside = sqrt(down / (double)n) * sqrt(PERIODS_PER_YEAR);
    o->sortino = downside > 0 ? mean * PERIODS_PER_YEAR / downside : NAN;
    o->calmar = mdd < 0 ? o->cagr / -mdd : NAN;
}
