"""test_strategy_params.py — a strategy's `params` (docs/strategies.md): every
strategy task (backtest, portfolio_backtest, screening) hands the object to
the strategy as its second argument, in Lua (function s(df, params)) and in
Python (def s(df, params=None)); a one-argument strategy runs as it is; the
same code with fixed params gives what a hard-coded copy gives; bad params
are refused naming them. Against a real worker and synthetic bars."""
import json

from harness import SynthBarsTestCase

SYMBOLS = ["SYN0001", "SYN0002"]
WINDOW = {"symbols": SYMBOLS, "start_date": "2020-03-02", "end_date": "2020-12-31"}

LUA_SMA = """
function sma_cross(df, params)
  local fast, slow = df["sma_" .. params.fast], df["sma_" .. params.slow]
  local pos = {}
  for i = 1, df.n do
    if fast[i] == fast[i] and slow[i] == slow[i] and fast[i] > slow[i] then pos[i] = 1 else pos[i] = 0 end
  end
  return pos
end
"""
LUA_FIXED = LUA_SMA.replace('params.fast', '10').replace('params.slow', '30').replace("(df, params)", "(df)")
PY_SMA = """
def sma_cross(df, params=None):
    fast, slow = df[f"sma_{params['fast']}"], df[f"sma_{params['slow']}"]
    return [1 if f > s else 0 for f, s in zip(fast, slow)]
"""
PY_ONE_ARG = "def s(df):\n    return [0] * len(df)\n"
LUA_ECHO = """
function s(df, params)
  return {{ticker = df.ticker[df.n], date = df.date[df.n], signal = true, score = 1, label = params.label,
           n = params.n, nested = params.nested.list[2], flag = params.flag}}
end
"""
PY_ECHO = """
def s(df, params=None):
    row = df.iloc[-1]
    return [{'ticker': row['ticker'], 'date': str(row['date']), 'signal': True, 'score': 1, 'label': params['label'],
             'n': params['n'], 'nested': params['nested']['list'][1], 'flag': params['flag']}]
"""
PARAMS = {"label": "fast/slow", "n": 7, "nested": {"list": [1.5, 2.25]}, "flag": False}


class TestStrategyParams(SynthBarsTestCase):
    SYNTH_ARGS = ("--symbols", "2", "--days", "300", "--start", "2020-01-01")

    def portfolio(self, code, **extra):
        return ("portfolio_backtest", dict(WINDOW, strategy_code=code, **extra))

    def test_params_reach_lua_and_python_strategies_in_every_task(self):
        jobs = [("backtest", dict(WINDOW, strategy_code=LUA_ECHO, params=PARAMS)),
                ("backtest", dict(WINDOW, strategy_code=PY_ECHO, params=PARAMS)),
                ("screening", {"universe": SYMBOLS, "strategy_code": LUA_ECHO, "params": PARAMS}),
                ("screening", {"universe": SYMBOLS, "strategy_code": PY_ECHO, "params": PARAMS})]
        ids, res = self.drain(jobs, env=self.env)
        for i, r in enumerate(res):
            with self.subTest(job=jobs[i][0], code=i % 2):
                data = self.completed_data(r)
                found = data.get("instances") or data.get("ranked_results") or []
                self.assertTrue(found, data)
                row = found[0]
                self.assertEqual((row["label"], row["n"], row["nested"], row["flag"]), ("fast/slow", 7, 2.25, False))

    def test_the_same_code_with_params_matches_a_hard_coded_copy(self):
        params = {"fast": 10, "slow": 30}
        ids, res = self.drain([self.portfolio(LUA_SMA, params=params), self.portfolio(LUA_FIXED),
                               self.portfolio(PY_SMA, params=params)], env=self.env)
        with_params, fixed, python = (self.completed_data(r) for r in res)
        self.assertEqual(with_params["performance_metrics"], fixed["performance_metrics"])
        self.assertEqual(with_params["performance_metrics"], python["performance_metrics"])
        self.assertGreater(with_params["performance_metrics"]["trades"], 0)

    def test_a_one_argument_strategy_ignores_params(self):
        ids, res = self.drain([self.portfolio(PY_ONE_ARG, params={"fast": 1}),
                               self.portfolio("function s(df) local p = {} for i = 1, df.n do p[i] = 0 end "
                                              "return p end", params={"fast": 1})], env=self.env)
        for r in res:
            self.assertEqual(self.completed_data(r)["performance_metrics"]["trades"], 0)

    def test_bad_params_are_refused(self):
        deep = {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}
        cases = [([1, 2], "params must be an object"),
                 (deep, "params is nested more than 8 levels deep"),
                 ({"blob": "x" * 70000}, "over the 64 KiB a strategy's parameters may take")]
        for params, needle in cases:
            with self.subTest(needle=needle):
                p = self.tickq("enqueue", "portfolio_backtest",
                               json.dumps(dict(WINDOW, strategy_code=LUA_FIXED, params=params)))
                self.assertEqual(p.returncode, 65, p.stderr)
                self.assertIn(needle, p.stderr)
        # A Python strategy that takes params but gets none sees None.
        code = "def s(df, params=None):\n    return [0 if params is None else 1] * len(df)\n"
        ids, res = self.drain([self.portfolio(code)], env=self.env)
        self.assertEqual(self.completed_data(res[0])["performance_metrics"]["trades"], 0)
