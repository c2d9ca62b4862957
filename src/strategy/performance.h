/* performance.h — performance statistics of backtests: of a list of trade
 * returns (signal backtests) and of a daily return series (portfolio
 * backtests, with the empyrical definitions). Undefined values are NaN,
 * which the results turn into JSON null. */
#ifndef TICKQ_PERFORMANCE_H
#define TICKQ_PERFORMANCE_H

#include <stddef.h>

typedef struct {
    size_t trades;
    double total_return;     /* sum of r */
    double avg_return;       /* mean of r */
    double median_return;
    double best, worst;
    double win_rate;         /* fraction with r > 0 */
    double profit_factor;    /* gross gains / gross losses; NaN without losses */
} trade_stats_t;

/* Statistics of n trade returns (n may be 0: everything NaN but trades). */
void performance_trades(const double *r, size_t n, trade_stats_t *out);

typedef struct {
    double total_return;     /* equity[end] / equity[0] - 1 */
    double cagr;             /* (1 + total)^(P / periods) - 1, P the periods a year */
    double annual_volatility;/* std(r, ddof 1) * sqrt(P) */
    double sharpe;           /* mean(r) / std(r, ddof 1) * sqrt(P), rf 0 */
    double sortino;          /* mean(r) * P / (sqrt(mean(min(r, 0)^2)) * sqrt(P)) */
    double max_drawdown;     /* min of equity / running peak - 1 (<= 0) */
    double calmar;           /* cagr / |max_drawdown| */
} series_stats_t;

/* The bars a year of an interval ("1d", "1wk", "1h", "5m": bars.h): 252
 * of daily bars (252 / N of N-day ones: "7d" is seven trading days, not a
 * week), 52 of weekly (52 / N), and of intraday ones 252 sessions of 6.5
 * hours (1h: 1,638; 1m: 98,280). NaN for text that is no interval. */
double performance_periods_per_year(const char *interval);

/* Statistics of n periodic returns, periods_per_year of them a year
 * (performance_periods_per_year; 252 for daily bars). */
void performance_series(const double *r, size_t n, double periods_per_year, series_stats_t *out);

#endif
