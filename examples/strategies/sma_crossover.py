# sma_crossover.py — a position strategy for `portfolio_backtest`: long
# while the 20-day SMA is above the 50-day SMA, flat otherwise.
# It returns one target position per df row (1 = fully long, 0 = flat,
# -1 = fully short); the position decided on a bar's close earns the next
# bar's return. df["sma_20"] and df["sma_50"] are warmed up by the history
# before start_date, so the first days of the window already have values.
# The Python twin of sma_crossover.lua: a Series aligned with df's rows (a
# comparison with NaN is False, so a row without both SMAs is flat).
def sma_crossover(df):
    return (df["sma_20"] > df["sma_50"]).astype(int)
