# momentum.py — a signal strategy made for `screening`: tickers whose
# close is above their 50-day SMA, scored by 20-bar momentum (percent),
# with RSI(14) below 75 so that exhausted runs are left out. It signals on
# every qualifying bar, so it also backtests; a screening keeps the
# instances on each ticker's latest bar and ranks them by score.
# The Python twin of momentum.lua: Lua's kernel pct_change(close, 20) is
# the change from the close 20 rows earlier within the same ticker, which
# a shift grouped by ticker gives here (a plain close.shift(20) would
# reach into the previous ticker's rows).
def momentum(df):
    close, sma50, rsi14 = df["close"], df["sma_50"], df["rsi_14"]
    mom = 100.0 * (close / close.groupby(df["ticker"]).shift(20) - 1.0)
    keep = (close > sma50) & (rsi14 < 75) & (mom > 0)
    instances = []
    for ticker, date, m, r in zip(df["ticker"][keep], df["date"][keep], mom[keep], rsi14[keep]):
        instances.append({
            "ticker": ticker, "date": date, "signal": True, "score": m,
            "rsi": r,
            "message": f"{ticker} up {m:.1f}% in 20 bars, RSI {r:.0f}",
        })
    return instances
