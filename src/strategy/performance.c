/* performance.c — performance statistics of backtests. */
#include "strategy/performance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/bars.h"

#define TRADING_DAYS 252.0       /* a year of daily bars (empyrical's DAILY) */
#define WEEKS 52.0               /* a year of weekly bars (empyrical's WEEKLY) */
#define SESSION_SECONDS 23400.0  /* an intraday bar's day: a 6.5-hour session (9:30 to 16:00) */

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

double performance_periods_per_year(const char *interval)
{
    long n;
    int64_t unit;
    if (bar_interval_parts(interval, &n, &unit) != 0)
        return NAN;
    if (unit == 7 * 86400)
        return WEEKS / (double)n;
    if (unit == 86400) /* N trading days a bar, as 1d is one */
        return TRADING_DAYS / (double)n;
    return TRADING_DAYS * SESSION_SECONDS / ((double)unit * (double)n);
}

void performance_series(const double *r, size_t n, double periods_per_year, series_stats_t *o)
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
    o->cagr = equity > 0 ? pow(equity, periods_per_year / (double)n) - 1 : -1;
    o->max_drawdown = mdd;
    if (n > 1) {
        double q = 0;
        for (size_t i = 0; i < n; i++)
            q += (r[i] - mean) * (r[i] - mean);
        double sd = sqrt(q / (double)(n - 1));
        o->annual_volatility = sd * sqrt(periods_per_year);
        o->sharpe = sd > 0 ? mean / sd * sqrt(periods_per_year) : NAN;
    }
    double downside = sqrt(down / (double)n) * sqrt(periods_per_year);
    o->sortino = downside > 0 ? mean * periods_per_year / downside : NAN;
    o->calmar = mdd < 0 ? o->cagr / -mdd : NAN;
}
