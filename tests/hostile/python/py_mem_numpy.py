# A numpy array far over the limit (numpy's own allocator, not Python's).
import numpy as np


def strategy(df):
    a = np.ones((50000, 50000))
    return [{"ticker": "SYN0001", "date": "2020-01-02", "n": float(a.sum())}]
