# The reference portfolio backtest in Python: positions from an EMA
# crossover, as a Series aligned with df, so that a second task type, other
# columns (one computed on first access) and numpy's ufuncs are checked too.
# check_leftovers comes from leftovers.py, which run.py puts before this file.
import numpy as np


def reference(df):
    check_leftovers(df)
    fast = df.groupby("ticker")["close"].transform(lambda s: s.ewm(span=3, adjust=False).mean())
    slow = df["ema_" + str(8)]                # computed on first access
    return np.sign(fast - slow).clip(lower=0).fillna(0).astype(int)
