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
    double cagr;             /* (1 + total)^(252 / periods) - 1 */
    double annual_volatility;/* std(r, ddof 1) * sqrt(252) */
    double sharpe;           /* mean(r) / std(r, ddof 1) * sqrt(252), rf 0 */
    double sortino;          /* mean(r) * 252 / (sqrt(mean(min(r, 0)^2)) * sqrt(252)) */
    double max_drawdown;     /* min of equity / running peak - 1 (<= 0) */
    double calmar;           /* cagr / |max_drawdown| */
} series_stats_t;

/* Statistics of n periodic returns (252 periods a year). */
void performance_series(const double *r, size_t n, series_stats_t *out);

#endif
