/* test_performance.c — trade statistics and the empyrical series metrics,
 * against values worked out by hand. */
#include <math.h>

#include "strategy/performance.h"
#include "unit.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-12 * (1 + fabs(b)))

TEST(performance_trades_by_hand)
{
    const double r[] = { 0.10, -0.05, 0.02, -0.01, 0.04 };
    trade_stats_t m;
    performance_trades(r, 5, &m);
    CHECK_INT(m.trades, 5);
    CHECK(NEAR(m.total_return, 0.10));
    CHECK(NEAR(m.avg_return, 0.02));
    CHECK(NEAR(m.median_return, 0.02));
    CHECK(NEAR(m.best, 0.10));
    CHECK(NEAR(m.worst, -0.05));
    CHECK(NEAR(m.win_rate, 0.6));
    CHECK(NEAR(m.profit_factor, 0.16 / 0.06));
    performance_trades(r, 4, &m); /* even count: mean of the middle two */
    CHECK(NEAR(m.median_return, (0.02 + -0.01) / 2));
}

TEST(performance_trades_undefined_is_nan)
{
    trade_stats_t m;
    performance_trades(NULL, 0, &m);
    CHECK_INT(m.trades, 0);
    CHECK(isnan(m.total_return) && isnan(m.avg_return) && isnan(m.win_rate) && isnan(m.median_return));
    CHECK(isnan(m.best) && isnan(m.worst) && isnan(m.profit_factor));
    const double wins[] = { 0.01, 0.03 };
    performance_trades(wins, 2, &m);
    CHECK(isnan(m.profit_factor)); /* no losses */
    CHECK(NEAR(m.win_rate, 1.0));
    const double flat[] = { 0.0 };
    performance_trades(flat, 1, &m);
    CHECK(NEAR(m.win_rate, 0.0)); /* r = 0 is not a win */
}

TEST(performance_series_by_hand)
{
    /* Equity 1 -> 1.1 -> 0.99 -> 1.089: peak 1.1, trough 0.99. */
    const double r[] = { 0.10, -0.10, 0.10 };
    series_stats_t m;
    performance_series(r, 3, 252, &m);
    CHECK(NEAR(m.total_return, 1.1 * 0.9 * 1.1 - 1));
    CHECK(NEAR(m.cagr, pow(1.089, 252.0 / 3) - 1));
    CHECK(NEAR(m.max_drawdown, 0.99 / 1.1 - 1));
    double mean = 0.1 / 3, sd = sqrt((2 * pow(0.1 - mean, 2) + pow(-0.1 - mean, 2)) / 2);
    CHECK(NEAR(m.annual_volatility, sd * sqrt(252)));
    CHECK(NEAR(m.sharpe, mean / sd * sqrt(252)));
    CHECK(NEAR(m.sortino, mean * 252 / (sqrt(0.01 / 3) * sqrt(252))));
    CHECK(NEAR(m.calmar, m.cagr / (1 - 0.99 / 1.1)));
}

TEST(performance_series_degenerate)
{
    series_stats_t m;
    const double up[] = { 0.01, 0.01 };
    performance_series(up, 2, 252, &m);
    CHECK(NEAR(m.max_drawdown, 0.0));
    CHECK(isnan(m.sortino));   /* no downside */
    CHECK(isnan(m.calmar));    /* no drawdown */
    CHECK(isnan(m.sharpe));    /* zero variance */
    const double one[] = { -0.02 };
    performance_series(one, 1, 252, &m);
    CHECK(isnan(m.annual_volatility)); /* ddof 1 needs two returns */
    CHECK(NEAR(m.max_drawdown, -0.02));
    performance_series(NULL, 0, 252, &m);
    CHECK(isnan(m.total_return) && isnan(m.cagr) && isnan(m.max_drawdown));
}

TEST(performance_periods_a_year_follow_the_interval)
{
    /* A year of bars of each interval (empyrical's 252 and 52; intraday,
     * 252 sessions of 6.5 hours): weekly bars annualised as days made a
     * year of 8.7% a CAGR of 48% and its volatility 2.2 times too high. */
    CHECK(performance_periods_per_year("1d") == 252);
    CHECK(performance_periods_per_year("2d") == 126);
    CHECK(performance_periods_per_year("7d") == 36); /* seven trading days a bar, not a week */
    CHECK(performance_periods_per_year("1wk") == 52);
    CHECK(performance_periods_per_year("2wk") == 26);
    CHECK(performance_periods_per_year("1h") == 1638);
    CHECK(performance_periods_per_year("30m") == 3276);
    CHECK(performance_periods_per_year("1m") == 98280);
    CHECK(isnan(performance_periods_per_year("1y")) && isnan(performance_periods_per_year("")));
    const double r[] = { 0.02, -0.01, 0.03 };
    series_stats_t d, w;
    performance_series(r, 3, 252, &d);
    performance_series(r, 3, 52, &w);
    CHECK(NEAR(w.total_return, d.total_return));
    CHECK(NEAR(w.cagr, pow(1.02 * 0.99 * 1.03, 52.0 / 3) - 1));
    CHECK(NEAR(w.annual_volatility, d.annual_volatility * sqrt(52.0 / 252)));
    CHECK(NEAR(w.sharpe, d.sharpe * sqrt(52.0 / 252)));
}
