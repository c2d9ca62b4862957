"""placeholder runner (replaced by the helper's)"""
import json, sys, traceback
import numpy as np
import pandas as pd
import _tickq

NAMED_COLUMNS = ["ticker", "date", "open", "high", "low", "close", "volume", "prev_close", "gap_pct",
                 "return_pct", "volume_ratio", "macd", "macd_signal", "macd_hist"]

def warm_up():
    pass

def versions():
    import platform
    return f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}"


def make_frame():
    cols = {"ticker": _tickq.tickers(), "date": _tickq.dates()}
    for n in NAMED_COLUMNS[2:]:
        cols[n] = np.frombuffer(_tickq.column(n), dtype=np.float64)
    return pd.DataFrame(cols)

class _Out:
    def write(self, s):
        return _tickq.output(s)
    def flush(self):
        pass

def evaluate(code, entry, mode, df):
    sys.stdout = sys.stderr = _Out()
    try:
        c = compile(code.decode(), "<strategy>", "exec")
    except SyntaxError as e:
        return ("syntax", f"Strategy syntax error: line {e.lineno}: {e.msg}", [])
    g = {"__name__": "strategy"}
    try:
        exec(c, g)
        fns = [v for v in g.values() if callable(v) and getattr(getattr(v, "__code__", None), "co_filename", "") == "<strategy>"]
        fn = g[entry] if entry else fns[0]
        r = fn(df)
    except MemoryError:
        return ("memory", "", [])
    except BaseException as e:
        return ("error", "Strategy error: " + traceback.format_exception_only(type(e), e)[-1].strip(), [])
    def conv(v):
        if isinstance(v, dict): return {k: conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)): return [conv(x) for x in v]
        if isinstance(v, np.generic): return v.item()
        return v
    return ("ok", json.dumps(conv(r)), list(NAMED_COLUMNS))
