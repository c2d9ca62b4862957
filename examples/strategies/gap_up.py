# gap_up.py — a signal strategy for `backtest` and `screening`: stocks
# that open more than 3% above yesterday's close on heavy volume.
# Each instance is a signal on its bar; a backtest buys the next bar's open.
# The score ranks screening results (bigger gaps on more volume first).
# The Python twin of gap_up.lua: the same signals, in df's order, with the
# same fields and values.
def gap_up_strategy(df):
    hits = df[(df["gap_pct"] > 3.0) & (df["volume_ratio"] > 1.5)]
    instances = []
    for ticker, date, gap, vr in zip(hits["ticker"], hits["date"], hits["gap_pct"], hits["volume_ratio"]):
        instances.append({
            "ticker": ticker, "date": date, "signal": True,
            "gap_percent": gap, "volume_ratio": vr,
            "score": gap * min(vr, 5),
            "message": f"{ticker} gapped up {gap:.1f}% on {vr:.1f}x volume",
        })
    return instances
