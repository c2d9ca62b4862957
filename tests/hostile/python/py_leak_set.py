# Changes everything it can reach, in place, and completes: df's values,
# columns and index, numpy and pandas module attributes and classes,
# builtins, math, sys.modules, the runner's and _tickq's functions. The
# next job (py_leak_check, and the reference job after this one on the same
# child) must see none of it.
import builtins
import math
import sys

import numpy as np
import pandas as pd


def strategy(df):
    df["close"] *= 1000
    df.loc[0, "ticker"] = "HOSTILE"
    df["hostile_column"] = 1
    df.drop(columns=["gap_pct"], inplace=True)
    np.pi = 3
    math.pi = 3
    np.hostile_flag = True
    pd.hostile_flag = True
    pd.DataFrame.hostile_attr = 1
    pd.Series.hostile_attr = 1
    pd.Series.mean = lambda self, *a, **k: 42
    builtins.hostile_builtin = True
    builtins.sorted = lambda *a, **k: []
    sys.hostile_flag = True
    sys.modules["hostile_module"] = math
    runner = sys.modules.get("tickq_runner")
    if runner is not None:
        runner.hostile_flag = True
    tickq = sys.modules.get("_tickq")
    if tickq is not None:
        tickq.hostile_flag = True
    df.reset_index(drop=True, inplace=True)
    pd.DataFrame.__len__ = lambda self: 0
    return []
