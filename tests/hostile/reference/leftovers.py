# What an earlier job may have left behind, looked for at the start of every
# Python reference job (run.py puts this file before each of them): a
# changed module, class or builtin, a name or function the strategy defined
# left in one, a module dropped from sys.modules, a tampered df. The
# reference fails loudly, naming what it found.
import builtins
import math
import sys
import types

import numpy as np
import pandas as pd

NAMED = ["ticker", "date", "open", "high", "low", "close", "volume", "prev_close", "gap_pct",
         "return_pct", "volume_ratio", "macd", "macd_signal", "macd_hist"]


def leftovers(df):
    """What an earlier job changed that this one can see: names, empty if none."""
    found = []
    if np.pi != 3.141592653589793 or math.pi != 3.141592653589793:
        found.append("pi")
    places = {"builtins": builtins, "numpy": np, "pandas": pd, "math": math, "sys": sys,
              "DataFrame": pd.DataFrame, "Series": pd.Series, "Index": pd.Index,
              "tickq_runner": sys.modules.get("tickq_runner"), "_tickq": sys.modules.get("_tickq")}
    for where, obj in places.items():
        if obj is None:
            found.append(f"{where} is gone from sys.modules")
            continue
        for name, value in list(vars(obj).items()):
            code = getattr(value, "__code__", None) or getattr(getattr(value, "fget", None), "__code__", None)
            if name.startswith("hostile") or (code is not None and code.co_filename == "<strategy>"):
                found.append(f"{where}.{name}")
    for name in ("len", "sum", "min", "max", "abs", "isinstance", "print", "sorted", "round", "getattr"):
        if type(getattr(builtins, name, None)) is not types.BuiltinFunctionType or getattr(builtins, name).__name__ != name:
            found.append(f"builtins.{name}")
    if (builtins.str, builtins.float, builtins.int, builtins.dict, builtins.list) != ("".__class__, (0.0).__class__,
                                                                                     (0).__class__, {}.__class__,
                                                                                     [].__class__):
        found.append("a builtin type")
    for name, module in list(sys.modules.items()):
        if name.startswith("hostile") or module is None and name in ("numpy", "pandas", "json", "math"):
            found.append(f"sys.modules[{name!r}]")
    if list(df.columns)[:len(NAMED)] != NAMED or not isinstance(df.index, pd.RangeIndex) or df.index.start != 0:
        found.append(f"df's columns or index ({list(df.columns)[:16]}, {type(df.index).__name__})")
    elif df["ticker"].dtype != object or df["close"].dtype != np.float64:
        found.append("df's dtypes")
    return found


def check_leftovers(df):
    found = leftovers(df)
    if found:
        raise RuntimeError("state leaked from an earlier job: " + ", ".join(found))
