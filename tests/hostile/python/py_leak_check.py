# Runs after py_leak_set: fails loudly when it sees any of its changes (on
# whichever worker child runs it; each child also runs a reference job,
# which looks for the same, after each entry).
import builtins
import math
import sys

import numpy as np
import pandas as pd


def strategy(df):
    seen = []
    if np.pi != 3.141592653589793 or math.pi != 3.141592653589793:
        seen.append("pi")
    for where, obj in (("numpy", np), ("pandas", pd), ("DataFrame", pd.DataFrame), ("Series", pd.Series),
                       ("builtins", builtins), ("sys", sys), ("tickq_runner", sys.modules.get("tickq_runner")),
                       ("_tickq", sys.modules.get("_tickq"))):
        seen += [f"{where}.{n}" for n in dir(obj) if n.startswith("hostile")]
    if "hostile_module" in sys.modules:
        seen.append("sys.modules")
    if builtins.sorted([2, 1]) != [1, 2] or pd.Series([1.0, 3.0]).mean() != 2.0 or len(pd.DataFrame({"a": [1]})) != 1:
        seen.append("a replaced function")
    if "HOSTILE" in set(df["ticker"]) or "hostile_column" in df.columns or "gap_pct" not in df.columns:
        seen.append("df")
    if df["close"].max() > 10000:
        seen.append("df's close")
    if seen:
        raise RuntimeError("saw an earlier job's changes: " + ", ".join(seen))
    return []
