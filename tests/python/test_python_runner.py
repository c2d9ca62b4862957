"""test_python_runner.py — tests of src/strategy/python_runner.py (module
tickq_runner) against a fake `_tickq`: a synthetic frame of real numbers
(2 tickers x 60 daily bars) whose feature columns are computed here with
pandas, as the C host computes them with its own kernels.

Run from the worktree root:
    /usr/bin/python3 -m unittest discover -s tests/python -v
"""
import importlib.util
import json
import re
import sys
import types
import unittest
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
RUNNER_PATH = ROOT / "src" / "strategy" / "python_runner.py"

NAMED = ["ticker", "date", "open", "high", "low", "close", "volume", "prev_close", "gap_pct", "return_pct",
         "volume_ratio", "macd", "macd_signal", "macd_hist"]
PARAMETRIC = re.compile(r"(sma|ema|rsi|atr|bb_upper|bb_mid|bb_lower|high|low|hv)_([0-9]+)")


# --- the fake _tickq ----------------------------------------------------------

def synthetic_frame(tickers=("AAA", "BBB"), rows=60, seed=13):
    """A plain DataFrame of the named columns, series after series, with a
    few planted gaps (a gap with volume, a gap without, volume without)."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-01-02", periods=rows).strftime("%Y-%m-%d").tolist()
    parts = []
    for k, ticker in enumerate(tickers):
        close = 50.0 * (k + 1) * np.cumprod(1 + rng.normal(0, 0.01, rows))
        prev = np.r_[np.nan, close[:-1]]
        open_ = prev * (1 + rng.normal(0, 0.004, rows))
        open_[0] = close[0]
        volume = rng.uniform(1e6, 2e6, rows).round()
        for i in range(25 + 3 * k, rows, 15):          # gaps up on high volume
            open_[i] = prev[i] * 1.045
            volume[i] = 5e6
        open_[min(33, rows - 1)] = prev[min(33, rows - 1)] * 1.05   # a gap, ordinary volume
        volume[min(21, rows - 1)] = 6e6                            # volume, no gap
        part = pd.DataFrame({"ticker": ticker, "date": dates, "open": open_,
                             "high": np.maximum(open_, close) * 1.01, "low": np.minimum(open_, close) * 0.99,
                             "close": close, "volume": volume, "prev_close": prev})
        part["gap_pct"] = (part.open / part.prev_close - 1) * 100
        part["return_pct"] = (part.close / part.prev_close - 1) * 100
        part["volume_ratio"] = part.volume / part.volume.rolling(20).mean().shift(1)
        fast = part.close.ewm(span=12, adjust=False).mean()
        slow = part.close.ewm(span=26, adjust=False).mean()
        part["macd"] = fast - slow
        part["macd_signal"] = part.macd.ewm(span=9, adjust=False).mean()
        part["macd_hist"] = part.macd - part.macd_signal
        parts.append(part)
    return pd.concat(parts, ignore_index=True)[NAMED]


def feature(frame, name):
    """The fake's parametric columns, per ticker (None: not one)."""
    match = PARAMETRIC.fullmatch(name)
    if match is None:
        return None
    kind, n = match.group(1), int(match.group(2))
    groups = frame.groupby("ticker", sort=False)
    if kind == "sma":
        return groups.close.transform(lambda s: s.rolling(n).mean())
    if kind == "ema":
        return groups.close.transform(lambda s: s.ewm(span=n, adjust=False).mean())
    if kind == "high":
        return groups.high.transform(lambda s: s.rolling(n).max())
    if kind == "low":
        return groups.low.transform(lambda s: s.rolling(n).min())
    raise NotImplementedError(f"the fake _tickq computes sma, ema, high and low only, not {name}")


fake = types.ModuleType("_tickq")
fake.frame = synthetic_frame()
fake.calls = []      # the columns asked for, in order
fake.printed = []    # what output() received
fake.seen = []       # a strategy may put things here (it can import _tickq)


def fake_is_feature(name):
    if name in NAMED[2:]:
        return True
    match = PARAMETRIC.fullmatch(name)
    return match is not None and 2 <= int(match.group(2)) <= 1000


def fake_column(name):
    if not fake_is_feature(name):
        raise KeyError(name)
    fake.calls.append(name)
    values = fake.frame[name] if name in NAMED else feature(fake.frame, name)
    return bytearray(np.ascontiguousarray(values, dtype=np.float64).tobytes())


fake.is_feature = fake_is_feature
fake.column = fake_column
fake.tickers = lambda: fake.frame.ticker.tolist()
fake.dates = lambda: fake.frame.date.tolist()
fake.output = fake.printed.append
sys.modules["_tickq"] = fake

_spec = importlib.util.spec_from_file_location("tickq_runner", RUNNER_PATH)
runner = importlib.util.module_from_spec(_spec)
sys.modules["tickq_runner"] = runner
_spec.loader.exec_module(runner)


# --- helpers -------------------------------------------------------------------

class RunnerCase(unittest.TestCase):
    def setUp(self):
        fake.frame = synthetic_frame()
        self.df = runner.make_frame()
        del fake.calls[:], fake.printed[:], fake.seen[:]

    def run_code(self, code, entry=None, mode="instances", df=None):
        if isinstance(code, str):
            code = code.encode("utf-8")
        result = runner.evaluate(code, entry, mode, self.df if df is None else df)
        self.assertIsInstance(result, tuple)
        self.assertEqual(len(result), 3)
        return result

    def ok(self, code, **kw):
        kind, text, columns = self.run_code(code, **kw)
        self.assertEqual(kind, "ok", text)
        return json.loads(text)

    def fails(self, code, kind, message, **kw):
        self.assertEqual(self.run_code(code, **kw), (kind, message, []))

    def returns(self, expression, preamble=""):
        """The outcome of a strategy returning `expression` (df in scope)."""
        code = ("import datetime, decimal, math\nimport numpy as np\nimport pandas as pd\nimport _tickq\n"
                f"{preamble}\ndef strategy(df):\n    return {expression}\n")
        return self.run_code(code, entry="strategy")


# --- df ------------------------------------------------------------------------

class MakeFrameTest(RunnerCase):
    def test_named_columns_in_order_with_their_dtypes_and_a_range_index(self):
        df = self.df
        self.assertIs(type(df), runner.StrategyFrame)
        self.assertEqual(runner.NAMED_COLUMNS, NAMED)
        self.assertEqual(list(df.columns), NAMED)
        self.assertEqual(df.ticker.dtype, object)
        self.assertEqual(df.date.dtype, object)
        self.assertTrue(all(type(v) is str for v in df.ticker) and all(type(v) is str for v in df.date))
        for name in NAMED[2:]:
            self.assertEqual(df[name].dtype, np.float64, name)
        self.assertIsInstance(df.index, pd.RangeIndex)
        self.assertEqual((df.index.start, df.index.stop, df.index.step), (0, 120, 1))

    def test_values_are_the_hosts_columns(self):
        pd.testing.assert_frame_equal(pd.DataFrame(self.df), fake.frame)
        self.assertEqual(self.df._tickq_added, [])


class LazyColumnTest(RunnerCase):
    def expected(self, name):
        return feature(fake.frame, name).to_numpy()

    def test_getitem_computes_once_and_keeps_the_column(self):
        df = self.df
        np.testing.assert_array_equal(df["sma_7"].to_numpy(), self.expected("sma_7"))
        self.assertEqual(list(df.columns), NAMED + ["sma_7"])
        df["sma_7"]
        self.assertEqual(fake.calls, ["sma_7"])
        self.assertEqual(df._tickq_added, ["sma_7"])

    def test_list_attribute_and_loc(self):
        df = self.df
        both = df[["close", "sma_7"]]
        self.assertEqual(list(both.columns), ["close", "sma_7"])
        np.testing.assert_array_equal(both.sma_7.to_numpy(), self.expected("sma_7"))
        np.testing.assert_array_equal(df.ema_5.to_numpy(), self.expected("ema_5"))
        np.testing.assert_array_equal(df.loc[:, "high_3"].to_numpy(), self.expected("high_3"))
        picked = df.loc[df.close > 0, ["close", "low_4"]]
        np.testing.assert_array_equal(picked.low_4.to_numpy(), self.expected("low_4"))
        self.assertEqual(df._tickq_added, ["sma_7", "ema_5", "high_3", "low_4"])
        self.assertEqual(list(df.columns), NAMED + df._tickq_added)

    def test_loc_still_sets_and_takes_an_axis(self):
        df = self.df
        df.loc[0, "close"] = 1.25
        self.assertEqual(df.close[0], 1.25)
        self.assertEqual(len(df.loc(axis=0)[0:2]), 3)
        self.assertEqual(df.get("sma_3").size, 120)

    def test_unknown_columns_fail_as_pandas_does(self):
        with self.assertRaises(KeyError):
            self.df["no_such_column"]
        with self.assertRaises(KeyError):
            self.df["sma_1"]                 # N out of range: no feature
        with self.assertRaises(KeyError):
            self.df[["close", "nope"]]
        with self.assertRaises(AttributeError):
            self.df.nope
        self.assertEqual(fake.calls, [])

    def test_derived_frames_are_plain_and_compute_nothing(self):
        df = self.df
        for derived in (df[df.gap_pct > 0], df.copy(), df.head(), df[["close"]]):
            self.assertIs(type(derived), pd.DataFrame)
            with self.assertRaises(KeyError):
                derived["sma_7"]
        self.assertEqual(fake.calls, [])

    def test_rows_changed_in_place_refuse_a_column(self):
        df = self.df
        df.sort_values("close", inplace=True)
        with self.assertRaisesRegex(KeyError, "changed in place"):
            df["sma_7"]
        self.assertEqual(fake.calls, [])

    def test_rows_reordered_with_a_fresh_index_refuse_a_column(self):
        for change in ("df.sort_values('close', inplace=True, ignore_index=True)",
                       "df.sort_values('close', inplace=True); df.reset_index(drop=True, inplace=True)",
                       "df.drop(columns=['date'], inplace=True)",
                       "df['ticker'] = 'X'"):
            with self.subTest(change=change):
                df = runner.make_frame()
                del fake.calls[:]
                exec(change, {"df": df})
                with self.assertRaisesRegex(KeyError, "changed in place"):
                    df["sma_7"]
                self.assertEqual(fake.calls, [])

    def test_in_place_changes_that_keep_the_rows_are_fine(self):
        df = self.df
        df.fillna(0.0, inplace=True)
        df.drop(columns=["macd"], inplace=True)
        np.testing.assert_array_equal(df.sma_4.to_numpy(), self.expected("sma_4"))


# --- the users' example ----------------------------------------------------------

GAP_UP = """\
def gap_up_strategy(df):
    instances = []
    df_filtered = df[(df['gap_pct'] > 3.0) & (df['volume_ratio'] > 1.5)]

    for _, row in df_filtered.iterrows():
        instances.append({
            'ticker': row['ticker'],
            'date': str(row['date']),
            'signal': True,
            'gap_percent': row['gap_pct'],
            'message': f"{row['ticker']} gapped up {row['gap_pct']:.1f}%"
        })

    return instances
"""


class ExampleTest(RunnerCase):
    def test_gap_up_strategy(self):
        kind, text, columns = self.run_code(GAP_UP)
        self.assertEqual(kind, "ok", text)
        plain = fake.frame
        hit = plain[(plain.gap_pct > 3.0) & (plain.volume_ratio > 1.5)]
        expected = [{"ticker": t, "date": d, "signal": True, "gap_percent": g, "message": f"{t} gapped up {g:.1f}%"}
                    for t, d, g in zip(hit.ticker, hit.date, hit.gap_pct.tolist())]
        self.assertGreaterEqual(len(expected), 4)
        self.assertEqual(text, json.dumps(expected, ensure_ascii=False, separators=(",", ":")))
        self.assertEqual(json.loads(text)[0]["message"], expected[0]["message"])
        self.assertIn('"signal":true', text)
        self.assertEqual(columns, NAMED)
        self.assertEqual(fake.calls, [])      # no column computed for it
        self.assertEqual(list(self.df.columns), NAMED)

    def test_the_same_strategy_named_as_entry(self):
        self.assertEqual(self.run_code(GAP_UP, entry="gap_up_strategy")[0], "ok")


class LiteralColumnTest(RunnerCase):
    CODE = """\
import _tickq
def strategy(df):
    _tickq.seen.append(list(df.columns))
    n = 9
    df[f"ema_{n}"]                  # computed when asked (the name is not in the code)
    signal = df.sma_5 > df.high_3   # sma_5 again; not_a_feature_3 and sma_1 are no columns
    return [{"columns": list(df.columns)}]
"""

    def test_columns_written_in_the_code_are_there_before_the_call(self):
        kind, text, columns = self.run_code(self.CODE)
        self.assertEqual(kind, "ok", text)
        self.assertEqual(fake.seen[0], NAMED + ["sma_5", "high_3"])
        self.assertEqual(json.loads(text), [{"columns": NAMED + ["sma_5", "high_3", "ema_9"]}])
        self.assertEqual(columns, NAMED + ["sma_5", "high_3", "ema_9"])
        self.assertEqual(fake.calls, ["sma_5", "high_3", "ema_9"])

    def test_df_is_handed_over_not_copied(self):
        self.ok("import _tickq\ndef s(df):\n    _tickq.seen.append(df)\n    return []\n")
        self.assertIs(fake.seen[0], self.df)


# --- entry point -------------------------------------------------------------------

class EntryPointTest(RunnerCase):
    TWO = "def helper(x):\n    return x\n\ndef main(df):\n    return [{'by': 'main'}]\n"

    def test_entry_names_the_function(self):
        self.assertEqual(self.ok(self.TWO, entry="main"), [{"by": "main"}])

    def test_entry_missing_or_not_callable(self):
        self.fails(self.TWO, "contract", "Strategy error: the strategy defines no function 'run'", entry="run")
        self.fails("run = 3\n", "contract", "Strategy error: the strategy defines no function 'run'", entry="run")

    def test_the_one_function(self):
        self.assertEqual(self.ok("def only(df):\n    return [{'a': 1}]\n"), [{"a": 1}])

    def test_a_top_level_lambda_is_no_strategy(self):
        self.assertEqual(self.ok("score = lambda r: r\ndef only(df):\n    return [{'a': score(1)}]\n"), [{"a": 1}])

    def test_no_function(self):
        self.fails("x = 1\n", "contract",
                   "Strategy error: the strategy defines no function: define one, e.g. def my_strategy(df): ...")

    def test_several_functions_sorted(self):
        self.fails("def zeta(df):\n    return []\ndef alpha(df):\n    return []\n", "contract",
                   'Strategy error: the strategy defines several functions (alpha, zeta): name the one to run '
                   'with "entry"')

    def test_nested_imported_and_aliased_functions_do_not_count(self):
        code = """\
from math import sqrt
from os.path import join
import textwrap

def strategy(df):
    def inner(x):
        return sqrt(x)
    return [{"root": inner(4.0)}]

class Helper:
    def method(self):
        return 1

run = strategy
"""
        self.assertEqual(self.ok(code), [{"root": 2.0}])


# --- errors --------------------------------------------------------------------------

class SyntaxErrorTest(RunnerCase):
    def test_syntax_error_names_its_line(self):
        kind, message, columns = self.run_code("def s(df):\n    x = 1\n    return [\n")
        self.assertEqual((kind, columns), ("syntax", []))
        self.assertRegex(message, r"^Strategy syntax error: line 3: '\[' was never closed$")

    def test_indentation_error(self):
        self.fails("def s(df):\nreturn []\n", "syntax",
                   "Strategy syntax error: line 2: expected an indented block after function definition on line 1")

    def test_not_utf8(self):
        code = b"def s(df):\n    return ['\xff']\n"
        byte = code.index(b"\xff") + 1
        self.fails(code, "syntax", f"Strategy syntax error: the code is not UTF-8 text (byte {byte})")

    def test_null_character(self):
        self.fails(b"x = 1\ny = 2\0\n", "syntax", "Strategy syntax error: line 2: the code holds a null character")


class RuntimeErrorTest(RunnerCase):
    def test_the_users_line(self):
        self.fails("def s(df):\n    x = 1\n    return x / 0\n", "error",
                   "Strategy error: ZeroDivisionError: division by zero (line 3)")

    def test_the_users_line_when_pandas_raises(self):
        kind, message, _ = self.run_code("def s(df):\n    m = df['close'].rolling(-1).mean()\n    return []\n")
        self.assertEqual(kind, "error")
        self.assertRegex(message, r"^Strategy error: ValueError: .+ \(line 2\)$")

    def test_the_last_user_frame(self):
        code = "def helper(x):\n    return x['nope_nope_nope']\n\ndef s(df):\n    return helper({})\n"
        self.fails(code, "error", "Strategy error: KeyError: 'nope_nope_nope' (line 2)", entry="s")

    def test_at_module_level(self):
        self.fails("import no_such_module_xyz\n", "error",
                   "Strategy error: ModuleNotFoundError: No module named 'no_such_module_xyz' (line 1)")

    def test_keyerror_with_a_close_column(self):
        code = GAP_UP.replace("df['gap_pct'] > 3.0", "df['gap_pc'] > 3.0")
        self.fails(code, "error", "Strategy error: KeyError: 'gap_pc' (line 3; did you mean 'gap_pct'?)")
        code = "def s(df):\n    return [{'t': row['tickr']} for _, row in df.iterrows()]\n"
        self.fails(code, "error", "Strategy error: KeyError: 'tickr' (line 2; did you mean 'ticker'?)")
        code = "def s(df):\n    x = df[['close', 'Volume']]\n    return []\n"
        self.fails(code, "error",
                   "Strategy error: KeyError: \"['Volume'] not in index\" (line 2; did you mean 'volume'?)")

    def test_errors_while_converting_are_the_strategys(self):
        self.fails("def s(df):\n    return ['\u00e9'.encode('ascii')]\n", "error",
                   "Strategy error: UnicodeEncodeError: 'ascii' codec can't encode character '\\xe9' in position 0: "
                   "ordinal not in range(128) (line 2)")
        code = "import collections.abc\nclass Odd(collections.abc.Mapping):\n" \
               "    def __getitem__(self, k):\n        return 1\n    def __len__(self):\n        return 1\n" \
               "    def __iter__(self):\n        raise RuntimeError('no keys')\n" \
               "def s(df):\n    return [Odd()]\n"
        self.fails(code, "error", "Strategy error: RuntimeError: no keys (line 8)", entry="s")

    def test_keyerror_without_a_close_column(self):
        self.fails("def s(df):\n    return df['zzz_top']\n", "error", "Strategy error: KeyError: 'zzz_top' (line 2)")

    def test_long_messages_keep_both_ends(self):
        kind, message, _ = self.run_code("def s(df):\n    raise ValueError('a' * 5000 + 'END')\n")
        self.assertEqual(kind, "error")
        self.assertLess(len(message), 1000)
        self.assertTrue(message.startswith("Strategy error: ValueError: aaaa"))
        self.assertTrue(message.endswith("aaaEND' (line 2)") or message.endswith("aaaEND (line 2)"), message)

    def test_memory_errors(self):
        self.fails("def s(df):\n    raise MemoryError()\n", "memory", "")
        # 128 TiB: numpy's own MemoryError subclass
        self.fails("import numpy as np\ndef s(df):\n    return np.empty(1 << 44)\n", "memory", "")

    def test_exit_and_interrupt_are_errors(self):
        self.fails("import sys\ndef s(df):\n    sys.exit(3)\n", "error", "Strategy error: SystemExit: 3 (line 3)")
        self.fails("import sys\nsys.exit()\n", "error", "Strategy error: SystemExit (line 2)")
        self.fails("def s(df):\n    raise KeyboardInterrupt\n", "error", "Strategy error: KeyboardInterrupt (line 2)")

    def test_an_exception_that_cannot_be_shown(self):
        code = "class Odd(Exception):\n    def __str__(self):\n        raise SystemExit(1)\n" \
               "def s(df):\n    raise Odd()\n"
        kind, message, _ = self.run_code(code, entry="s")
        self.assertEqual(kind, "error")
        self.assertEqual(message, "Strategy error: strategy.Odd: <exception str() failed> (line 5)")

    def test_never_raises(self):
        self.assertEqual(self.run_code("def s(df):\n    return []\n", mode="bogus")[0], "error")
        self.assertEqual(self.run_code("def s(df):\n    return []\n", df=object())[0], "error")
        self.assertEqual(self.run_code("def s(df):\n    return []\n", entry=5)[0], "contract")


# --- print ---------------------------------------------------------------------------

class OutputTest(RunnerCase):
    def test_print_goes_to_output_and_streams_come_back(self):
        stdout, stderr = sys.stdout, sys.stderr
        code = "import sys\nprint('loading')\ndef s(df):\n    print('rows', len(df))\n" \
               "    print('warn', file=sys.stderr, flush=True)\n    sys.stdout.write('x')\n    return []\n"
        self.ok(code)
        self.assertEqual("".join(fake.printed), "loading\nrows 120\nwarn\nx")
        self.assertIs(sys.stdout, stdout)
        self.assertIs(sys.stderr, stderr)
        self.run_code("import sys\nsys.stdout = None\ndef s(df):\n    1 / 0\n")
        self.assertIs(sys.stdout, stdout)


# --- converting instances ----------------------------------------------------------------

class ConversionTest(RunnerCase):
    EVERYTHING = """{
        "np_int": np.int64(7), "np_int32": np.int32(-3), "np_uint": np.uint64(5), "np_float": np.float64(1.5),
        "np_float32": np.float32(0.25), "np_bool": np.bool_(True), "bool": False,
        "int_min": -2**63, "int_max": 2**63 - 1,
        "nan": float("nan"), "inf": math.inf, "ninf": -np.inf, "np_nan": np.float64("nan"),
        "none": None, "na": pd.NA, "nat": pd.NaT,
        "ts_aware": pd.Timestamp("2024-01-02 09:30", tz="America/New_York"),
        "ts_midnight": pd.Timestamp("2024-01-02"),
        "ts_naive": pd.Timestamp("2024-01-02 15:04:05.9"),
        "dt_aware": datetime.datetime(2024, 1, 2, 1, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
        "dt_naive": datetime.datetime(2024, 3, 4, 5, 6, 7, 890),
        "date": datetime.date(2024, 1, 2),
        "dt64_day": np.datetime64("2024-01-02"),
        "dt64_ns": np.datetime64("2024-01-02T03:04:05.123456789"),
        "dt64_nat": np.datetime64("NaT"),
        "decimal": decimal.Decimal("1.5"), "decimal_nan": decimal.Decimal("NaN"),
        "decimal_inf": decimal.Decimal("-Infinity"),
        "array": np.array([1.0, np.nan, 3.0]), "f32_array": np.array([0.5], dtype=np.float32),
        "int_array": np.arange(3), "bool_array": np.array([True, False]), "str_array": np.array(["a", "b"]),
        "obj_array": np.array([1, "x", None], dtype=object),
        "dt_array": np.array(["2024-01-02", "NaT"], dtype="datetime64[D]"),
        "nested": {"list": [1, (2, 3), {"deep": [np.int8(4)]}], "tuple": (None,)},
        "np_str": np.str_("hi"), "unicode": "\u00e9\u2713",
        "long_floats": [float(i) for i in range(40)],
        "long_mixed": list(range(40)) + [True, 1.5, np.float64(2.5)],
        "long_nan": [1.0] * 39 + [float("nan")],
    }"""

    def test_every_value_rule(self):
        kind, text, columns = self.returns(f"[{self.EVERYTHING}]")
        self.assertEqual(kind, "ok", text)
        [got] = json.loads(text)
        expected = {
            "np_int": 7, "np_int32": -3, "np_uint": 5, "np_float": 1.5, "np_float32": 0.25, "np_bool": True,
            "bool": False, "int_min": -2**63, "int_max": 2**63 - 1,
            "nan": None, "inf": None, "ninf": None, "np_nan": None, "none": None, "na": None, "nat": None,
            "ts_aware": "2024-01-02T14:30:00Z", "ts_midnight": "2024-01-02", "ts_naive": "2024-01-02T15:04:05Z",
            "dt_aware": "2024-01-01T23:00:00Z", "dt_naive": "2024-03-04T05:06:07Z", "date": "2024-01-02",
            "dt64_day": "2024-01-02", "dt64_ns": "2024-01-02T03:04:05Z", "dt64_nat": None,
            "decimal": 1.5, "decimal_nan": None, "decimal_inf": None,
            "array": [1.0, None, 3.0], "f32_array": [0.5], "int_array": [0, 1, 2], "bool_array": [True, False],
            "str_array": ["a", "b"], "obj_array": [1, "x", None], "dt_array": ["2024-01-02", None],
            "nested": {"list": [1, [2, 3], {"deep": [4]}], "tuple": [None]},
            "np_str": "hi", "unicode": "\u00e9\u2713",
            "long_floats": [float(i) for i in range(40)],
            "long_mixed": list(range(40)) + [True, 1.5, 2.5],
            "long_nan": [1.0] * 39 + [None],
        }
        self.assertEqual(got, expected)
        self.assertEqual(list(got), list(expected))   # keys keep their order
        self.assertIn('"np_int":7,', text)             # ints stay ints, bools bools
        self.assertIn('"np_bool":true,', text)
        self.assertIn('"unicode":"\u00e9\u2713"', text)  # not \\u-escaped
        self.assertEqual(columns, NAMED)

    def test_refusals_name_the_place(self):
        cases = [
            ('[{"x": {1, 2}}]', "instance 1 key 'x': a set is not a JSON value"),
            ('[{}, {}, {"x": object()}]', "instance 3 key 'x': an object is not a JSON value"),
            ('[{"x": df["close"]}]', "instance 1 key 'x': a Series is not a JSON value (use .tolist())"),
            ('[{"x": df}]', "instance 1 key 'x': a DataFrame is not a JSON value (use .to_dict('records'))"),
            ('[{"x": np.zeros((2, 2))}]', "instance 1 key 'x': a 2-d numpy array is not a JSON value (use .tolist())"),
            ('[{"x": [1, {"y": {3}}]}]', "instance 1 key 'x'[2]['y']: a set is not a JSON value"),
            ('[{"x": (i for i in range(3))}]', "instance 1 key 'x': a generator is not a JSON value (make it a list)"),
            ('[{"x": b"raw"}]', "instance 1 key 'x': a bytes is not a JSON value"),
            ('[{"x": 2**64}]',
             "instance 1 key 'x': an integer beyond 64 bits (18446744073709551616) is not a JSON value"),
            ('[{"x": np.uint64(2**64 - 1)}]',
             "instance 1 key 'x': an integer beyond 64 bits (18446744073709551615) is not a JSON value"),
            ('[{"x": np.array([1, 2**64 - 1], dtype=np.uint64)}]',
             "instance 1 key 'x'[2]: an integer beyond 64 bits (18446744073709551615) is not a JSON value"),
            ('[{"x": [1] * 39 + [2**70]}]',
             "instance 1 key 'x'[40]: an integer beyond 64 bits (1180591620717411303424) is not a JSON value"),
            ('[{5: 1}]', "instance 1 has a key 5 that is not a string"),
            ('[{"a": 1}, {"x": {(1, 2): 1}}]', "instance 2 key 'x' has a key (1, 2) that is not a string"),
            ('[{}, {}, 5]', "instance 3 is an int, not a dict"),
            ('[row for _, row in df.iterrows()]', "instance 1 is a Series, not a dict (row.to_dict() gives one)"),
            ('[[("a", 1)]]', "instance 1 is a list, not a dict"),
            ('{"a": 1}', "the strategy returned a dict, not a list of instances"),
            ('df', "the strategy returned a DataFrame, not a list of instances (df.to_dict('records') gives one)"),
            ('df.head(3)',
             "the strategy returned a DataFrame, not a list of instances (df.to_dict('records') gives one)"),
            ('None',
             "the strategy returned nothing (None): did it forget 'return instances'? (return [] for no signals)"),
            ('"text"', "the strategy returned a str, not a list of instances"),
        ]
        for expression, message in cases:
            with self.subTest(expression):
                self.assertEqual(self.returns(expression), ("contract", "Strategy error: " + message, []))

    def test_a_generator_is_never_iterated(self):
        preamble = "def gen():\n    _tickq.seen.append('iterated')\n    yield {}\n"
        self.fails_returning("gen()", preamble,
                             "the strategy returned a generator, not a list of instances; return a list")
        self.assertEqual(fake.seen, [])

    def fails_returning(self, expression, preamble, message):
        self.assertEqual(self.returns(expression, preamble), ("contract", "Strategy error: " + message, []))

    def test_cycles_stop_at_depth_8(self):
        path = "instance 1 key 'self'" + "['self']" * 7
        self.fails_returning("[d]", "d = {}\nd['self'] = d\n",
                             path + ": nested deeper than 8 levels (a cycle?)")
        self.fails_returning("[{'l': l}]", "l = []\nl.append(l)\n",
                             "instance 1 key 'l'" + "[1]" * 7 + ": nested deeper than 8 levels (a cycle?)")
        deep = "{'k': " * 7 + "1" + "}" * 7   # instance + 7 dicts = 8 levels: fine
        self.assertEqual(self.returns(f"[{deep}]")[0], "ok")

    def test_ten_million_non_dicts_fail_at_the_first(self):
        self.fails_returning("[0] * 10_000_000", "", "instance 1 is an int, not a dict")

    def test_a_lone_surrogate(self):
        self.fails_returning("[{'x': '\\ud800'}]", "",
                             "its result holds a string that is not valid text (a lone surrogate)")

    def test_mappings_and_tuples(self):
        kind, text, _ = self.returns("({'a': 1}, collections.OrderedDict(b=2), types.MappingProxyType({'c': 3}))",
                                     "import collections, types\n")
        self.assertEqual((kind, text), ("ok", '[{"a":1},{"b":2},{"c":3}]'))


# --- positions -----------------------------------------------------------------------------

class EdgeValueTest(RunnerCase):
    """Values at the edges of what JSON and the C side can hold."""

    def test_an_unsigned_array_just_past_int64_is_refused(self):
        self.assertEqual(self.returns("[{'x': np.array([2**63], dtype=np.uint64)}]"),
                         ("contract", "Strategy error: instance 1 key 'x'[1]: an integer beyond 64 bits "
                                      "(9223372036854775808) is not a JSON value", []))

    def test_int64_limits_cross_as_integers(self):
        kind, text, _ = self.returns("[{'max': 2**63 - 1, 'min': -2**63}]")
        self.assertEqual((kind, json.loads(text)), ("ok", [{"max": 2**63 - 1, "min": -2**63}]))

    def test_a_decimal_beyond_a_float_is_refused(self):
        self.assertEqual(self.returns("[{'x': decimal.Decimal('1e400')}]"),
                         ("contract", "Strategy error: instance 1 key 'x': a Decimal beyond a float's range "
                                      "(Decimal('1E+400')) is not a JSON number", []))


class PositionsTest(RunnerCase):
    def positions(self, expression, preamble=""):
        code = f"import numpy as np\nimport pandas as pd\n{preamble}\ndef strategy(df):\n    return {expression}\n"
        return self.run_code(code, mode="positions")

    def refused(self, expression, message, preamble=""):
        self.assertEqual(self.positions(expression, preamble), ("contract", "Strategy error: " + message, []))

    def test_a_list(self):
        kind, text, columns = self.positions("[0.5] * len(df)")
        self.assertEqual((kind, text, columns), ("ok", "[" + ",".join(["0.5"] * 120) + "]", NAMED))
        kind, text, _ = self.positions("[None, float('nan'), True, 2, np.int64(-1), {'a': 1}] + [0] * 114")
        self.assertEqual(json.loads(text), [None, None, True, 2, -1, {"a": 1}] + [0] * 114)

    def test_an_infinite_position_is_an_error_whatever_holds_it(self):
        for holder in ("[0.0] * 5 + [float('inf')] + [0.0] * 114",
                       "np.array([0.0] * 5 + [float('-inf')] + [0.0] * 114, dtype=object)",
                       "pd.Series([0.0] * 5 + [float('inf')] + [0.0] * 114, dtype='Float64')",
                       "[0] * 5 + [__import__('decimal').Decimal('Infinity')] + [0] * 114",
                       "np.array([0.0] * 5 + [np.inf] + [0.0] * 114)"):
            with self.subTest(holder=holder):
                kind, text, _ = self.positions(holder)
                self.assertEqual(kind, "contract", text)
                self.assertRegex(text, r"^Strategy error: position 6 is -?inf; positions go from -1 \(short\) to 1 "
                                       r"\(long\)$")

    def test_an_array(self):
        kind, text, _ = self.positions("np.where(df.close > df.open, 1.0, np.nan)")
        expected = [1.0 if c > o else None for c, o in zip(fake.frame.close, fake.frame.open)]
        self.assertEqual(json.loads(text), expected)
        self.assertEqual(json.loads(self.positions("np.ones(len(df), dtype=int)")[1]), [1] * 120)

    def test_an_aligned_series(self):
        kind, text, _ = self.positions("(df.close > df.open).astype(float)")
        self.assertEqual(json.loads(text), [float(c > o) for c, o in zip(fake.frame.close, fake.frame.open)])
        kind, text, _ = self.positions("pd.Series([pd.NA] + [0.5] * 119, dtype='Float64')")
        self.assertEqual(json.loads(text), [None] + [0.5] * 119)
        kind, text, _ = self.positions("pd.Series([1.0] * 120, index=list(range(120)))")
        self.assertEqual(kind, "ok")

    def test_a_misaligned_series(self):
        self.refused("df.close.sort_values() * 0",
                     "the positions Series is not aligned with df's rows (reset_index(drop=True)?)")

    def test_wrong_lengths(self):
        self.refused("df.close[df.close > df.open]",
                     f"the positions have {int((fake.frame.close > fake.frame.open).sum())} entries, df has 120 rows")
        self.refused("[0.0] * 7", "the positions have 7 entries, df has 120 rows")
        self.refused("[0] * 10_000_000", "the positions have 10000000 entries, df has 120 rows")

    def test_none_and_other_types(self):
        self.refused("None", "the strategy returned nothing (None): did it forget 'return positions'?")
        self.refused("(x for x in range(120))",
                     "the strategy returned a generator, not a list of positions; return a list")
        self.refused("df", "the strategy returned a DataFrame, not a list of positions "
                           "(return one of its columns, a Series)")
        self.refused("np.zeros((120, 2))", "the strategy returned a 2-d numpy array, not a list of positions")
        self.refused("{'AAA': 1}", "the strategy returned a dict, not a list of positions")

    def test_refused_positions(self):
        self.refused("[0] * 119 + [set()]", "position 120: a set is not a JSON value")
        self.refused("[[1, {2}]] + [0] * 119", "position 1[2]: a set is not a JSON value")
        self.refused("np.array([0] * 119 + [object()], dtype=object)", "position 120: an object is not a JSON value")
        self.refused("[0] * 119 + [2**64]", "position 120: an integer beyond 64 bits (18446744073709551616) "
                                            "is not a JSON value")


# --- a large frame ----------------------------------------------------------------------------

class LargeFrameTest(RunnerCase):
    """On a 50,000-row frame: an empty strategy computes no column, and
    50,000 positions cross whole (their speed is `make bench-strategy`'s)."""

    def setUp(self):
        fake.frame = synthetic_frame(tickers=tuple(f"T{i}" for i in range(10)), rows=5000)
        self.df = runner.make_frame()
        del fake.calls[:], fake.printed[:], fake.seen[:]

    def test_an_empty_strategy_computes_nothing(self):
        self.assertEqual(len(self.df), 50_000)
        self.assertEqual(runner.evaluate(b"def s(df):\n    return []\n", None, "instances", self.df)[:2], ("ok", "[]"))
        self.assertEqual(fake.calls, [])

    def test_fifty_thousand_positions(self):
        kind, text, _ = runner.evaluate(b"def s(df):\n    return [0.5] * len(df)\n", None, "positions", self.df)
        self.assertEqual((kind, json.loads(text)), ("ok", [0.5] * 50_000))
        kind, text, _ = runner.evaluate(b"def s(df):\n    return (df.close > df.open).astype(float)\n", None,
                                        "positions", self.df)
        self.assertEqual((kind, json.loads(text)), ("ok", (self.df.close > self.df.open).astype(float).tolist()))


if __name__ == "__main__":
    unittest.main()
