# Allocates about twice memory_mb (256 MB of float64 against 128 MiB) and
# touches it: only the address-space cap refuses this (no machine-size
# limit is near).
import numpy as np


def strategy(df):
    a = np.ones(32_000_000)
    return [{"ticker": "SYN0001", "date": df["date"].iloc[0], "sum": float(a.sum())}]
