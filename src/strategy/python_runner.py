"""python_runner.py (module tickq_runner) — runs one Python strategy on a df.

Owns the Python side of a Python strategy's evaluation: the `df` it sees
(`make_frame`, `StrategyFrame`: the named columns up front, the parametric
feature columns computed by `_tickq.column` on first use) and `evaluate`:
compile, find the entry point, call it, turn what it returned into JSON, and
name what went wrong in the words the user needs. The C host compiles this
file in as a string; `_tickq` is its builtin module (tests put a fake one in
sys.modules before importing this file).

Invariants:
 (1) `evaluate` never raises: every outcome is a (kind, text, columns)
     tuple, even when the strategy raises SystemExit or the runner itself
     runs out of memory.
 (2) A feature column is only ever computed over df's own rows: derived
     frames (filters, copies) are plain DataFrames, and a StrategyFrame
     whose rows were changed in place (its index no longer 0..rows-1, or
     its ticker and date no longer those of its rows: a sort with
     ignore_index=True, a reset_index after a sort) refuses to compute one.
 (3) The converter walks the result once, stops at the first value it
     refuses (a hostile 10-million-element list fails at element 1) and
     never goes deeper than MAX_DEPTH containers (a cycle fails there).
     Positions and places in messages are 1-based, as on the Lua side.
"""

import builtins
import collections.abc
import datetime
import decimal
import inspect
import io
import json
import re
import reprlib
import sys
import traceback
import types
import warnings

import numpy as np
import pandas as pd
from pandas.errors import PerformanceWarning

import _tickq

NAMED_COLUMNS = ["ticker", "date", "open", "high", "low", "close", "volume", "prev_close", "gap_pct",
                 "return_pct", "volume_ratio", "macd", "macd_signal", "macd_hist"]

STRATEGY_FILE = "<strategy>"
MAX_DEPTH = 8                        # containers, an instance counting as 1 (as strategy_result.c)
MAX_RESULT_BYTES = 256 * 1024 * 1024
MAX_MESSAGE = 900                    # an error's text, clipped in the middle

# sma_20, bb_upper_20: a parametric column's name written in the code.
_LITERAL_COLUMN = re.compile(r"\b[a-z]+(?:_[a-z]+)*_[0-9]+\b")
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 63) - 1
_INF = float("inf")
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"),
                            check_circular=False)  # the converter's output has no cycles
_SHORT = reprlib.Repr()
_SHORT.maxstring = 40
_SHORT.maxother = 40


# --- df --------------------------------------------------------------------

class StrategyFrame(pd.DataFrame):
    """The df a strategy gets: a DataFrame that computes a feature column
    (`_tickq.is_feature`) the first time it is asked for one it does not
    hold, through df["sma_50"], df[["close", "sma_50"]], df.sma_50 and
    df.loc[..., "sma_50"], and keeps it (df.columns lists it after)."""

    @property
    def _constructor(self):
        # Filters and copies hold other rows: they must not compute columns.
        return pd.DataFrame

    def __getitem__(self, key):
        try:
            return super().__getitem__(key)
        except KeyError:
            if not self._add_features(_column_names(key)):
                raise
        return super().__getitem__(key)

    def __getattr__(self, name):
        if name[:1] != "_" and self._add_features((name,)):
            return self[name]
        return super().__getattr__(name)

    @property
    def loc(self):
        return _FeatureLoc(self, super().loc)

    def _add_features(self, names, untouched=False):
        """Computes and appends the feature columns among `names` that df
        does not hold; True when it added any. Raises KeyError when df's
        rows were changed in place (see invariant 2); `untouched`: df is
        as make_frame built it (no strategy code ran on it yet)."""
        columns = self.columns
        missing = [n for n in names if isinstance(n, str) and n not in columns and _tickq.is_feature(n)]
        if not missing:
            return False
        if not untouched and not self._rows_are_the_frames():
            raise KeyError(f"{missing[0]!r} cannot be computed: df's rows were changed in place "
                           f"(inplace=True, or its ticker or date column); read {missing[0]!r} before that")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PerformanceWarning)  # one block per column: that is fine here
            for name in dict.fromkeys(missing):
                pd.DataFrame.__setitem__(self, name, np.frombuffer(_tickq.column(name), dtype=np.float64))
                if name not in self._tickq_added:
                    self._tickq_added.append(name)
        return True


    def _rows_are_the_frames(self):
        """True when df still has the rows make_frame gave it, in order."""
        index = self.index
        if not (type(index) is pd.RangeIndex and index.start == 0 and index.step == 1
                and index.stop == self._tickq_rows):
            return False
        tickers, dates = self._tickq_places
        try:
            return (np.array_equal(pd.DataFrame.__getitem__(self, "ticker").to_numpy(), tickers)
                    and np.array_equal(pd.DataFrame.__getitem__(self, "date").to_numpy(), dates))
        except (KeyError, ValueError, TypeError):  # a column dropped or of another shape
            return False


class _FeatureLoc:
    """df.loc for a StrategyFrame: a missing feature column named in the
    column part of the key is computed, then pandas' .loc runs again."""

    __slots__ = ("_frame", "_loc")

    def __init__(self, frame, loc):
        self._frame = frame
        self._loc = loc

    def __getitem__(self, key):
        try:
            return self._loc[key]
        except KeyError:
            if not (type(key) is tuple and len(key) == 2 and self._frame._add_features(_column_names(key[1]))):
                raise
        return self._loc[key]

    def __setitem__(self, key, value):
        self._loc[key] = value

    def __call__(self, axis=None):
        return self._loc(axis)

    def __getattr__(self, name):
        return getattr(self._loc, name)


def _column_names(key):
    """The column names a df[key] asks for (none for masks, slices ...)."""
    if isinstance(key, str):
        return (key,)
    if type(key) is list:
        return key
    return ()


def make_frame():
    """The df of the frame `_tickq` holds now: NAMED_COLUMNS in order
    (ticker and date str, the others float64), index RangeIndex(rows)."""
    data = {"ticker": np.array(_tickq.tickers(), dtype=object),
            "date": np.array(_tickq.dates(), dtype=object)}
    for name in NAMED_COLUMNS[2:]:
        data[name] = np.frombuffer(_tickq.column(name), dtype=np.float64)
    frame = StrategyFrame(data, columns=NAMED_COLUMNS)
    object.__setattr__(frame, "_tickq_rows", len(data["ticker"]))
    object.__setattr__(frame, "_tickq_places", (data["ticker"], data["date"]))  # what its rows are
    object.__setattr__(frame, "_tickq_added", [])  # parametric columns, in the order added
    return frame


def versions():
    """What the host runs, for `tickq worker --check`."""
    import platform
    return f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}"


def warm_up():
    """Run once in the host before any evaluation: what strategies commonly
    use is imported and exercised here, so that an evaluation finds it
    loaded (no file to read, no first-call cost) in its fork."""
    import bisect, collections, functools, heapq, itertools, math, operator, random, statistics  # noqa: F401
    import platform  # noqa: F401  (versions)
    frame = pd.DataFrame({"ticker": ["A", "A", "B", "B"], "date": ["2024-01-02", "2024-01-03"] * 2,
                          "close": [1.0, 2.0, 3.0, np.nan], "volume": [1.0, 2.0, 3.0, 4.0]})
    closes = frame["close"]
    grouped = frame.groupby("ticker")
    grouped["close"].shift(1), grouped["close"].rolling(2).mean(), grouped.agg({"close": "mean"})
    closes.rolling(2).mean(), closes.rolling(2).std(), closes.ewm(span=2).mean(), closes.pct_change()
    closes.diff(), closes.cumsum(), closes.rank(), closes.clip(0, 1), closes.fillna(0), closes.where(closes > 1)
    frame.query("close > 1"), frame.sort_values(["ticker", "date"]), frame.merge(frame, on=["ticker", "date"])
    frame.pivot(index="date", columns="ticker", values="close"), frame.describe(), frame.nlargest(1, "close")
    pd.to_datetime(frame["date"]).dt.dayofweek, pd.concat([frame, frame]), frame.to_dict("records")
    list(frame.iterrows()), list(frame.itertuples()), frame.apply(lambda r: r["close"], axis=1)
    np.where(closes > 1, 1.0, 0.0), np.log(frame["volume"]), np.corrcoef(frame["volume"], frame["volume"])
    json.dumps({"x": 1.5})


# --- evaluate --------------------------------------------------------------

class _Output(io.TextIOBase):
    """sys.stdout and sys.stderr while a strategy runs: print() goes to
    _tickq.output (which caps it)."""

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        if s:
            _tickq.output(s)
        return len(s)

    def flush(self):
        pass

    def writable(self):
        return True


class _Contract(Exception):
    """The strategy broke the contract: its text follows "Strategy error: "."""


def evaluate(code, entry_point, mode, df, params=None):
    """Runs the strategy `code` (UTF-8 bytes) on df: calls `entry_point`
    (the name the job's args give as "entry"), or the
    one top-level function the code defines, and converts what it returned
    for `mode` ("instances" or "positions"). `params` (JSON text of an
    object, or None) is the strategy's second argument, a dict, given only
    to a function that takes two arguments (def s(df, params=None)): a
    one-argument strategy runs as it is. Returns ("ok", json_text, columns)
    or (kind, message, []) with kind "syntax", "error", "contract" or
    "memory" (message "": the C side names the limit)."""
    saved = sys.stdout, sys.stderr
    try:
        sys.stdout = sys.stderr = _Output()
        return _evaluate(code, entry_point, mode, df, None if params is None else json.loads(params))
    except MemoryError:
        return ("memory", "", [])
    except BaseException as exc:  # a bug of the runner: still a reply, never a raise
        try:
            return ("error", "Strategy error: internal error: " + _exception_text(exc), [])
        except BaseException:
            return ("error", "Strategy error: internal error", [])
    finally:
        sys.stdout, sys.stderr = saved


def _takes_params(function):
    """Whether the strategy function takes a second positional argument."""
    try:
        sig = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin or an odd callable: give it both
        return True
    kinds = [p.kind for p in sig.parameters.values()]
    positional = sum(1 for k in kinds if k in (inspect.Parameter.POSITIONAL_ONLY,
                                               inspect.Parameter.POSITIONAL_OR_KEYWORD))
    return positional >= 2 or inspect.Parameter.VAR_POSITIONAL in kinds


def _evaluate(code, entry_point, mode, df, params=None):
    if mode not in ("instances", "positions"):
        return ("error", f"Strategy error: internal error: unknown mode {mode!r}", [])
    try:
        text = str(code, "utf-8")
    except UnicodeDecodeError as exc:
        return ("syntax", f"Strategy syntax error: the code is not UTF-8 text (byte {exc.start + 1})", [])
    try:
        compiled = compile(text, STRATEGY_FILE, "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"line {exc.lineno}: " if exc.lineno else ""
        return ("syntax", f"Strategy syntax error: {where}{exc.msg or exc}", [])
    except ValueError:  # Python 3.11 refuses a NUL this way
        line = text.count("\n", 0, text.find("\0")) + 1
        return ("syntax", f"Strategy syntax error: line {line}: the code holds a null character", [])
    except RecursionError:
        return ("syntax", "Strategy syntax error: the code is nested too deeply", [])

    try:
        df._add_features(dict.fromkeys(_LITERAL_COLUMN.findall(text)), untouched=True)  # in order of first appearance
        scope = {"__name__": "strategy", "__builtins__": builtins}
        exec(compiled, scope)
        function = _function_to_run(scope, entry_point)
        two = params is not None and _takes_params(function)
        text = _result_json(function(df, params) if two else function(df), mode, df._tickq_rows)
    except _Contract as exc:
        return ("contract", f"Strategy error: {exc}", [])
    except MemoryError:
        return ("memory", "", [])
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the strategy's
        return ("error", _error_message(exc, df), [])
    return ("ok", text, NAMED_COLUMNS + df._tickq_added)


def _result_json(result, mode, rows):
    """What the strategy returned, as JSON text; raises _Contract."""
    value = _instances(result) if mode == "instances" else _positions(result, rows)
    del result  # our last reference to what the strategy built: freed before encoding
    text = _ENCODER.encode(value)
    del value
    try:  # encoding also finds a lone surrogate, which could not cross to C
        size = len(text) if text.isascii() else len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise _Contract("its result holds a string that is not valid text (a lone surrogate)") from None
    if size > MAX_RESULT_BYTES:
        raise _Contract("its result is larger than 256 MiB")
    return text


def _function_to_run(scope, entry_point):
    """The function to call: `entry_point`, or the one top-level function the
    code defined (not a nested or an imported one)."""
    if entry_point is not None:
        function = scope.get(entry_point)
        if function is None or not callable(function):
            raise _Contract(f"the strategy defines no function '{entry_point}'")
        return function
    found = {}  # id -> first name, so that `run = my_strategy` counts once
    for name, value in scope.items():
        if (isinstance(value, types.FunctionType) and value.__code__.co_filename == STRATEGY_FILE
                and "." not in value.__qualname__ and value.__name__ != "<lambda>"):
            found.setdefault(id(value), (name, value))
    if not found:
        raise _Contract("the strategy defines no function: define one, e.g. def my_strategy(df): ...")
    if len(found) > 1:
        names = ", ".join(sorted(name for name, _ in found.values()))
        raise _Contract(f"the strategy defines several functions ({names}): name the one to run "
                        f"with \"entry\"")
    return next(iter(found.values()))[1]


# --- error messages ----------------------------------------------------------

def _exception_text(exc):
    """"KeyError: 'x'": the exception's own line, clipped in the middle."""
    lines = traceback.format_exception_only(type(exc), exc)
    # A SyntaxError's last line is its message; otherwise the first (notes follow it).
    text = (lines[-1] if isinstance(exc, SyntaxError) else lines[0]).strip()
    if len(text) > MAX_MESSAGE:
        half = MAX_MESSAGE // 2
        text = text[:half] + " ... " + text[-half:]
    return text


def _error_message(exc, df):
    notes = []
    line = None
    tb = exc.__traceback__
    while tb is not None:  # the last frame of the user's code: the line that failed
        if tb.tb_frame.f_code.co_filename == STRATEGY_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is not None:
        notes.append(f"line {line}")
    match = _column_match(exc, df)
    if match is not None:
        notes.append(f"did you mean {match!r}?")
    tail = f" ({'; '.join(notes)})" if notes else ""
    return f"Strategy error: {_exception_text(exc)}{tail}"


_NOT_IN_INDEX = re.compile(r"\['([^']*)'\] not in index")


def _column_match(exc, df):
    """For a KeyError naming a column df lacks: the closest column, if any."""
    if not isinstance(exc, KeyError) or len(exc.args) != 1 or not isinstance(exc.args[0], str):
        return None
    word = exc.args[0]
    listed = _NOT_IN_INDEX.fullmatch(word)  # df[["close", "gap_pc"]]
    if listed:
        word = listed.group(1)
    try:
        names = [c for c in df.columns if isinstance(c, str)]
    except Exception:
        return None
    if word in names:
        return None
    return _close_match(word, names)


def _close_match(word, names):
    """The name closest to a misspelt `word` (case ignored, optimal string
    alignment distance), as core/close_match.c picks it: distance 0 first,
    within 1 for words up to 3 characters, 2 up to 7, else 3; ties go to
    the first. None when none is that close."""
    limit = 1 if len(word) <= 3 else 2 if len(word) <= 7 else 3
    best, best_distance, lower = None, limit + 1, word.lower()
    for name in names:
        if name == word:
            continue
        d = _distance(lower, name.lower())
        if d < best_distance:
            best, best_distance = name, d
    return best


def _distance(a, b):
    """Optimal string alignment distance; far for names over 64 characters."""
    if len(a) > 64 or len(b) > 64:
        return 1 << 30
    previous2, previous = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            best = min(previous[j - 1] + cost, previous[j] + 1, row[j - 1] + 1)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, previous2[j - 2] + 1)  # two neighbours swapped
            row[j] = best
        previous2, previous = previous, row
    return previous[len(b)]


# --- converting the result ---------------------------------------------------

class _Refused(Exception):
    """A value the result may not hold. `what` follows its place (": a set
    is not a JSON value", " has a key 5 that is not a string"); `path` is
    the way down to it (str keys, 1-based int indexes), innermost first,
    filled in as the exception climbs."""

    def __init__(self, what):
        super().__init__(what)
        self.what = what
        self.path = []

    def place(self, root, first_key_word):
        parts = list(reversed(self.path))
        text = root
        if first_key_word and parts:
            text += f" key {_SHORT.repr(parts.pop(0))}"
        for part in parts:
            text += f"[{_SHORT.repr(part)}]"
        return text + self.what


_NONE_INSTANCES = ("the strategy returned nothing (None): did it forget 'return instances'? "
                   "(return [] for no signals)")
_NONE_POSITIONS = "the strategy returned nothing (None): did it forget 'return positions'?"


def _instances(result):
    """The instances as JSON-ready lists and dicts; raises _Contract."""
    if result is None:
        raise _Contract(_NONE_INSTANCES)
    if not isinstance(result, (list, tuple)):
        raise _Contract(f"the strategy returned {_a(result)}, not a list of instances{_returned_hint(result)}")
    out = []
    try:
        for instance in result:
            if type(instance) is not dict and not isinstance(instance, collections.abc.Mapping):
                hint = " (row.to_dict() gives one)" if isinstance(instance, pd.Series) else ""
                raise _Refused(f" is {_a(instance)}, not a dict{hint}")
            out.append(_mapping(instance, 1))
    except _Refused as refused:
        raise _Contract(refused.place(f"instance {len(out) + 1}", True)) from None
    return out


def _positions(result, rows):
    """The positions as a JSON-ready list of len(df); raises _Contract."""
    if result is None:
        raise _Contract(_NONE_POSITIONS)
    series = isinstance(result, pd.Series)
    if not (series or isinstance(result, (list, tuple)) or (isinstance(result, np.ndarray) and result.ndim == 1)):
        hint = _returned_hint(result)
        if isinstance(result, pd.DataFrame):
            hint = " (return one of its columns, a Series)"
        raise _Contract(f"the strategy returned {_a(result)}, not a list of positions{hint}")
    if len(result) != rows:
        raise _Contract(f"the positions have {len(result)} entries, df has {rows} rows")
    _refuse_infinite(result)
    if series:
        index = result.index
        if not (type(index) is pd.RangeIndex and index.start == 0 and index.step == 1) \
                and not index.equals(pd.RangeIndex(rows)):
            raise _Contract("the positions Series is not aligned with df's rows (reset_index(drop=True)?)")
        result = result.to_numpy()
    try:
        if isinstance(result, np.ndarray):
            return _array(result, 0)
        return _sequence(result, 0)
    except _Refused as refused:
        index = refused.path.pop()  # the outermost step: the position's own
        raise _Contract(refused.place(f"position {index}", False)) from None


def _refuse_infinite(positions):
    """An infinite position is an error, as in Lua (NaN is flat, and the
    JSON writer would make inf a null: flat too, silently)."""
    values = positions.to_numpy() if isinstance(positions, pd.Series) else positions
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        bad = np.flatnonzero(np.isinf(values))
        if bad.size:
            raise _Contract(f"position {int(bad[0]) + 1} is {values[bad[0]]}; positions go from -1 (short) "
                            f"to 1 (long)")
        return
    if isinstance(values, np.ndarray) and values.dtype.kind != "O":
        return  # integers, booleans: finite
    for i, v in enumerate(values, 1):
        if ((isinstance(v, (float, np.floating)) and (v == _INF or v == -_INF))
                or (isinstance(v, decimal.Decimal) and v.is_infinite())):
            raise _Contract(f"position {i} is {float(v)}; positions go from -1 (short) to 1 (long)")


def _returned_hint(result):
    if isinstance(result, collections.abc.Iterator):
        return "; return a list"  # never iterated: it may be endless
    if isinstance(result, pd.DataFrame):
        return " (df.to_dict('records') gives one)"
    return ""


def _value(v, depth):
    """v as a JSON-ready value; `depth` counts the containers it is in."""
    t = type(v)
    if t is str or t is bool or v is None:
        return v
    if t is float:
        return v if v - v == 0.0 else None  # NaN and +-inf -> null
    if t is int:
        return _int(v)
    if t is dict:
        return _mapping(v, depth + 1)
    if t is list or t is tuple:
        return _sequence(v, depth + 1)
    return _other(v, depth)


def _other(v, depth):
    """The types _value does not check first (subclasses, numpy, dates ...)."""
    if v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return _int(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if f - f == 0.0 else None
    if isinstance(v, str):
        return str(v)
    if isinstance(v, datetime.datetime):  # pd.Timestamp too
        return _datetime_text(v)
    if isinstance(v, datetime.date):
        return f"{v.year:04d}-{v.month:02d}-{v.day:02d}"
    if isinstance(v, np.datetime64):
        if np.isnat(v):
            return None
        moment = v.astype("datetime64[us]").item()
        if not isinstance(moment, datetime.datetime):
            raise _Refused(": a datetime64 outside the years 1 to 9999 is not a JSON value")
        return _datetime_text(moment)
    if isinstance(v, decimal.Decimal):
        if v.is_nan() or v.is_infinite():
            return None
        f = float(v)
        if f - f != 0.0:
            raise _Refused(f": a Decimal beyond a float's range ({_SHORT.repr(v)}) is not a JSON number")
        return f
    if isinstance(v, collections.abc.Mapping):
        return _mapping(v, depth + 1)
    if isinstance(v, (list, tuple)):
        return _sequence(v, depth + 1)
    if isinstance(v, np.ndarray) and v.ndim == 1:
        return _array(v, depth + 1)
    raise _Refused(f": {_a(v)} is not a JSON value{_value_hint(v)}")


def _int(i):
    if _INT_MIN <= i <= _INT_MAX:
        return i
    raise _Refused(f": an integer beyond 64 bits ({_SHORT.repr(i)}) is not a JSON value")


def _datetime_text(d):
    """Aware: in UTC with a Z; naive: taken as UTC, a date alone at midnight."""
    if d.utcoffset() is not None:
        d = d.astimezone(datetime.timezone.utc)
    elif not (d.hour or d.minute or d.second or d.microsecond):
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}Z"


def _mapping(m, depth):
    """m (depth containers deep, counting itself) as a dict of str keys."""
    if depth > MAX_DEPTH:
        raise _Refused(f": nested deeper than {MAX_DEPTH} levels (a cycle?)")
    out = {}
    for k, v in m.items():
        if type(k) is not str:
            if not isinstance(k, str):
                raise _Refused(f" has a key {_SHORT.repr(k)} that is not a string")
            k = str(k)
        try:
            out[k] = _value(v, depth)
        except _Refused as refused:
            refused.path.append(k)
            raise
    return out


def _sequence(s, depth):
    """A list or tuple (depth containers deep, counting itself) as a list."""
    if depth > MAX_DEPTH:
        raise _Refused(f": nested deeper than {MAX_DEPTH} levels (a cycle?)")
    if len(s) >= 32:
        plain = _plain_numbers(s)
        if plain is not None:
            return plain
    out = []
    try:
        for v in s:
            out.append(_value(v, depth))
    except _Refused as refused:
        refused.path.append(len(out) + 1)
        raise
    return out


_PLAIN_NUMBER_TYPES = frozenset((float, int, bool, np.float64))


def _plain_numbers(s):
    """s as a list when it holds only finite floats and 64-bit ints (what
    json writes as they are), checked at C speed; else None."""
    kinds = set(map(type, s))
    if not kinds <= _PLAIN_NUMBER_TYPES:
        return None
    try:
        total = sum(s)  # finite when every element is (or it overflowed: the slow path sorts that out)
    except OverflowError:  # an int too big for a float
        return None
    if total - total != 0:
        return None
    if int in kinds and (min(s) < _INT_MIN or max(s) > _INT_MAX):
        return None
    return s if type(s) is list else list(s)


def _array(a, depth):
    """A 1-d numpy array (depth containers deep, counting itself) as a list."""
    if depth > MAX_DEPTH:
        raise _Refused(f": nested deeper than {MAX_DEPTH} levels (a cycle?)")
    kind = a.dtype.kind
    if kind == "f":
        a = a.astype(np.float64, copy=False)
        finite = np.isfinite(a)
        if finite.all():
            return a.tolist()
        out = a.astype(object)
        out[~finite] = None
        return out.tolist()
    if kind in "biU":
        return a.tolist()
    if kind == "u":
        if a.size and int(a.max()) > _INT_MAX:
            refused = _Refused(f": an integer beyond 64 bits ({int(a.max())}) is not a JSON value")
            refused.path.append(int(np.argmax(a > _INT_MAX)) + 1)
            raise refused
        return a.tolist()
    out = []
    try:
        for v in (a.tolist() if kind == "O" else a):
            out.append(_value(v, depth))
    except _Refused as refused:
        refused.path.append(len(out) + 1)
        raise
    return out


def _a(v):
    """v's type with its article, for messages: "a set", "an int", "a DataFrame"."""
    if isinstance(v, pd.DataFrame):
        name = "DataFrame"
    elif isinstance(v, pd.Series):
        name = "Series"
    elif isinstance(v, np.ndarray):
        name = "numpy array" if v.ndim == 1 else f"{v.ndim}-d numpy array"
    else:
        name = type(v).__name__
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def _value_hint(v):
    if isinstance(v, pd.DataFrame):
        return " (use .to_dict('records'))"
    if isinstance(v, (pd.Series, np.ndarray)):
        return " (use .tolist())"
    if isinstance(v, collections.abc.Iterator):
        return " (make it a list)"
    return ""
