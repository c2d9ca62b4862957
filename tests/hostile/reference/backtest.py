# The reference backtest in Python: run after hostile Python entries, its
# result must be the same as on a fresh worker. It first checks for
# leftovers of earlier jobs (check_leftovers, from leftovers.py, which run.py
# puts before this file), then leans on what a hostile strategy might try
# to poison: df's named, literal and lazily computed columns, pandas
# (filters, groupby, ewm, iterrows), numpy, builtins, string formatting.
import math

import numpy as np


def reference(df):
    check_leftovers(df)
    slow = df[f"sma_{2 * 5}"]                 # computed on first access
    fast = df["sma_5"]                        # written literally: built before the run
    ema = df.groupby("ticker")["close"].transform(lambda s: s.ewm(span=3, adjust=False).mean())
    up = (fast > slow) & (df["close"] > df["open"]) & (df["ticker"].shift(1) == df["ticker"])
    out = []
    for i, row in df[up].iterrows():
        out.append({
            "ticker": row["ticker"],
            "date": str(row["date"]),
            "tag": f"{row['ticker'].lower()}/{math.floor(row['close'])}/{i}",
            "gap": row["gap_pct"],
            "ema": round(float(ema[i]), 6),
            "rank": int(np.searchsorted(np.sort(df["close"].to_numpy()), row["close"])),
            "cols": len(df.columns),
            "rep": "ab" * 2,
        })
    return out
