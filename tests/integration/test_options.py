"""test_options.py — `tickq options`: prices and Greeks against published
values, implied volatility round trips, the no-solution cases with their exit
status and reason, and usage errors. Pure arithmetic: no Redis server runs,
and a REDIS_URL that points nowhere changes nothing."""
import json
import os
import unittest

from harness import ROOT, tickq

# Nothing listens here: the command must not try to connect.
NO_REDIS = {"REDIS_URL": "redis://127.0.0.1:1/0"}

PUT = ["--type", "put", "--spot", "100", "--strike", "95", "--years", "0.5", "--rate", "0.10", "--div", "0.05"]


def options(*args, env=NO_REDIS):
    return tickq("options", *args, env=env, timeout=30)


class TestGreeks(unittest.TestCase):
    def greeks(self, *args):
        p = options("greeks", *args, "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.count("\n"), 1)
        return json.loads(p.stdout)

    def test_published_prices_and_greeks(self):
        g = self.greeks("--type", "call", "--spot", "60", "--strike", "65", "--years", "0.25", "--rate", "0.08",
                        "--vol", "0.30")
        self.assertAlmostEqual(g["price"], 2.1334, places=4)
        g = self.greeks(*PUT, "--vol", "0.2")
        self.assertAlmostEqual(g["price"], 2.4648, places=4)
        g = self.greeks("--type", "call", "--spot", "105", "--strike", "100", "--years", "0.5", "--rate", "0.1",
                        "--div", "0.1", "--vol", "0.36")
        self.assertAlmostEqual(g["delta"], 0.5946, places=4)
        g = self.greeks("--type", "put", "--spot", "105", "--strike", "100", "--years", "0.5", "--rate", "0.1",
                        "--div", "0.1", "--vol", "0.36")
        self.assertAlmostEqual(g["delta"], -0.3566, places=4)
        g = self.greeks("--type", "call", "--spot", "55", "--strike", "60", "--years", "0.75", "--rate", "0.1",
                        "--vol", "0.3")
        self.assertAlmostEqual(g["gamma"], 0.0278, places=4)
        self.assertAlmostEqual(g["vega"], 18.9358, places=4)

    def test_json_is_one_flat_object_with_the_units(self):
        g = self.greeks(*PUT, "--vol", "0.2")
        self.assertEqual(list(g), ["price", "delta", "gamma", "theta_per_year", "theta_per_day", "vega",
                                   "vega_per_point", "rho", "rho_per_point"])
        self.assertTrue(all(isinstance(v, float) for v in g.values()))
        self.assertAlmostEqual(g["theta_per_day"], g["theta_per_year"] / 365, places=12)
        self.assertAlmostEqual(g["vega_per_point"], g["vega"] / 100, places=12)
        self.assertAlmostEqual(g["rho_per_point"], g["rho"] / 100, places=12)
        self.assertLess(g["delta"], 0)
        self.assertLess(g["rho"], 0)

    def test_table_by_default(self):
        p = options("greeks", *PUT, "--vol", "0.2")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertTrue(lines[0].startswith("put S=100 K=95 T=0.5"), lines[0])
        rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
        self.assertAlmostEqual(float(rows["price"][0]), 2.4648, places=4)
        self.assertIn("per calendar day", " ".join(rows["theta_per_day"]))
        self.assertIn("per vol point", " ".join(rows["vega_per_point"]))
        self.assertEqual(p.stderr, "")

    def test_works_without_redis_url(self):
        p = options("greeks", *PUT, "--vol", "0.2", "--json", env={"REDIS_URL": None})
        self.assertEqual(p.returncode, 0, p.stderr)


class TestImpliedVol(unittest.TestCase):
    def iv(self, *args):
        p = options("iv", *args, "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)["iv"]

    def test_round_trip_through_the_cli(self):
        cases = [
            ["--type", "call", "--spot", "100", "--strike", "100", "--years", "1", "--rate", "0.05"],
            ["--type", "put", "--spot", "100", "--strike", "60", "--years", str(1 / 365), "--rate", "0.02"],
            ["--type", "call", "--spot", "100", "--strike", "250", "--years", "0.1", "--rate", "0.01",
             "--div", "0.03"],
            ["--type", "put", "--spot", "100", "--strike", "140", "--years", "2", "--rate", "0.04"],
        ]
        for contract, vol in zip(cases, [0.2, 1.5, 0.8, 0.35]):
            p = options("greeks", *contract, "--vol", str(vol), "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            price = json.loads(p.stdout)["price"]
            # 15 significant digits of price: vol comes back to about 1e-12.
            self.assertAlmostEqual(self.iv(*contract, "--price", repr(price)), vol, delta=1e-10)

    def test_table_by_default(self):
        p = options("iv", *PUT, "--price", "2.4648")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("implied volatility 0.2"), p.stdout)

    def test_no_solution_names_the_bound(self):
        # Call S=100 K=95 r=0.1 T=0.5: lower bound 100 - 95 e^-0.05 = 9.633.
        call = ["--type", "call", "--spot", "100", "--strike", "95", "--years", "0.5", "--rate", "0.1"]
        for price, bound in [("1", "lower"), ("9.6", "lower"), ("100", "upper"), ("150", "upper")]:
            p = options("iv", *call, "--price", price, "--json")
            self.assertEqual(p.returncode, 1, (price, p.stdout, p.stderr))
            self.assertEqual(p.stdout, "")
            self.assertIn("no solution", p.stderr)
            self.assertIn(bound + " no-arbitrage bound", p.stderr)
        p = options("iv", *PUT, "--price", "95")
        self.assertEqual(p.returncode, 1)
        self.assertIn("K e^-rT", p.stderr)
        # Every digit of the price and the bound: "10 is at or below 10"
        # would hide what tells them apart.
        p = options("iv", "--type", "call", "--spot", "100", "--strike", "90", "--years", "0.5", "--rate", "0",
                    "--price", "9.99999999999")
        self.assertEqual(p.returncode, 1)
        self.assertIn("price 9.99999999999 is at or below the lower no-arbitrage bound 10 =", p.stderr)


class TestUsage(unittest.TestCase):
    def usage_error(self, *args):
        p = options(*args)
        self.assertEqual(p.returncode, 64, (args, p.stdout, p.stderr))
        self.assertIn("usage: tickq options", p.stderr)
        return p.stderr.splitlines()[0]

    def test_help(self):
        p = options("--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("usage: tickq options greeks", p.stdout)
        self.assertIn("theta", p.stdout.lower())
        p = tickq("--help")
        self.assertIn("options", p.stdout)

    def test_bad_flags_and_values_name_the_flag(self):
        self.assertIn("missing action", self.usage_error())
        self.assertIn("'price'", self.usage_error("price", *PUT))
        self.assertIn("--no-such", self.usage_error("greeks", "--no-such"))
        self.assertIn("--type", self.usage_error("greeks", "--type", "straddle"))
        self.assertIn("--type", self.usage_error("greeks", "--spot", "1", "--strike", "1", "--years", "1",
                                                 "--rate", "0", "--vol", "0.2"))
        self.assertIn("--spot 'abc'", self.usage_error("greeks", *PUT[:2], "--spot", "abc"))
        self.assertIn("--spot", self.usage_error("greeks", *PUT[:2], "--spot", "-5", *PUT[4:], "--vol", "0.2"))
        self.assertIn("--strike", self.usage_error("greeks", *PUT[:2], "--spot", "100", "--years", "1",
                                                   "--rate", "0", "--vol", "0.2"))
        self.assertIn("--years", self.usage_error("greeks", *PUT[:6], "--years", "0", *PUT[8:], "--vol", "0.2"))
        self.assertIn("--rate", self.usage_error("greeks", *PUT[:6], "--years", "1", "--vol", "0.2"))
        self.assertIn("--rate 'inf'", self.usage_error("greeks", *PUT, "--rate", "inf", "--vol", "0.2"))
        self.assertIn("--years '0x1'", self.usage_error("greeks", *PUT[:6], "--years", "0x1", *PUT[8:], "--vol", "0.2"))
        self.assertIn("--spot ' 100'", self.usage_error("greeks", *PUT[:2], "--spot", " 100", *PUT[4:], "--vol", "0.2"))
        self.assertIn("--vol", self.usage_error("greeks", *PUT))
        self.assertIn("--vol", self.usage_error("greeks", *PUT, "--vol", "0"))
        self.assertIn("--vol '0.2x'", self.usage_error("greeks", *PUT, "--vol", "0.2x"))
        self.assertIn("--price", self.usage_error("greeks", *PUT, "--vol", "0.2", "--price", "3"))
        self.assertIn("--price", self.usage_error("iv", *PUT))
        self.assertIn("--price", self.usage_error("iv", *PUT, "--price", "-1"))
        self.assertIn("--vol", self.usage_error("iv", *PUT, "--price", "3", "--vol", "0.2"))
        self.assertIn("'extra'", self.usage_error("iv", "extra", *PUT, "--price", "3"))


class TestUnitsAndSpellings(unittest.TestCase):
    """A vol or rate written as a percent where a fraction belongs is refused
    with the fix, not priced at 100 times the volatility; `20%`, `--type c`
    and `--days D` are accepted."""

    def run_json(self, *args):
        p = options(*args, "--json")
        self.assertEqual(p.returncode, 0, (args, p.stderr))
        return json.loads(p.stdout)

    def refused(self, *args):
        p = options(*args)
        self.assertEqual(p.returncode, 64, (args, p.stdout, p.stderr))
        self.assertEqual(p.stdout, "")
        return p.stderr.splitlines()[0]

    def test_vol_above_five_is_refused_with_the_fraction_hint(self):
        msg = self.refused("greeks", *PUT, "--vol", "20")
        self.assertIn("--vol '20' would be 2000% a year", msg)
        self.assertIn("volatility is a fraction", msg)
        self.assertIn("--vol 0.2 or --vol 20%", msg)
        self.assertIn("its range is from 1e-09 to 5 (500%)", msg)
        self.assertIn("--vol '600%' is outside the range tickq accepts for volatility: from 1e-09 to 5 (500%)",
                      self.refused("greeks", *PUT, "--vol", "600%"))
        self.refused("greeks", *PUT, "--vol", "5.000001")
        self.refused("greeks", *PUT, "--vol", "500.1%")
        # 5 (500 %) itself is the largest accepted.
        self.assertEqual(self.run_json("greeks", *PUT, "--vol", "5"), self.run_json("greeks", *PUT, "--vol", "500%"))

    def test_vol_states_one_range_at_both_ends(self):
        # Below the range, above it, and as a percent: the same range, the
        # one docs/cli.md states.
        want = "from 1e-09 to 5 (500%)"
        for vol in ("0", "-0.2", "1e-10", "0%", "6", "600%"):
            with self.subTest(vol=vol):
                msg = self.refused("greeks", *PUT, "--vol", vol)
                self.assertIn(f"--vol '{vol}'", msg)
                self.assertIn(want, msg)
                self.assertNotIn("to 100", msg)
        self.assertIn("--vol '0' is outside the range tickq accepts for volatility: " + want,
                      self.refused("greeks", *PUT, "--vol", "0"))
        self.run_json("greeks", *PUT, "--vol", "1e-9")
        with open(os.path.join(ROOT, "docs", "cli.md")) as f:
            self.assertIn("| `--vol` | `greeks`: a fraction (`0.20`) or a percent (`20%`), from 1e-9 to 5 (500%) |",
                          f.read())

    def test_years_beyond_any_option_are_refused_naming_the_flag(self):
        rest = ["--type", "call", "--spot", "100", "--strike", "100", "--vol", "0.2"]
        # The rate is fine; the years are the unit slip, and are named.
        msg = self.refused("greeks", *rest, "--years", "1e300", "--rate", "0.05")
        self.assertEqual(msg, "tickq: --years must be above 0 and at most 100, got 1e+300")
        self.assertEqual(self.refused("greeks", *rest, "--years", "1e300", "--rate", "0"), msg)
        self.assertIn("--years must be above 0 and at most 100, got 101",
                      self.refused("iv", *rest[:-2], "--years", "101", "--rate", "0", "--price", "3"))
        self.assertIn("--days must be a positive number of calendar days, at most 36500 (100 years), got 36501",
                      self.refused("greeks", *rest, "--days", "36501", "--rate", "0"))
        # 100 years (36500 days) at the largest rate is still priced.
        self.assertEqual(self.run_json("greeks", *rest, "--years", "100", "--rate", "1"),
                         self.run_json("greeks", *rest, "--days", "36500", "--rate", "100%"))

    def test_percent_vol_rate_and_div_are_divided_by_100(self):
        fraction = self.run_json("greeks", *PUT, "--vol", "0.20")
        self.assertEqual(self.run_json("greeks", *PUT, "--vol", "20%"), fraction)
        pct = ["--type", "put", "--spot", "100", "--strike", "95", "--years", "0.5", "--rate", "10%", "--div", "5%"]
        self.assertEqual(self.run_json("greeks", *pct, "--vol", "20%"), fraction)
        self.assertEqual(self.run_json("iv", *pct, "--price", "2.4648"),
                         self.run_json("iv", *PUT, "--price", "2.4648"))
        self.assertEqual(self.run_json("greeks", *PUT, "--vol", "0.5%"), self.run_json("greeks", *PUT, "--vol", "0.005"))

    def test_rate_and_div_beyond_100_percent_are_refused(self):
        base = ["--type", "put", "--spot", "100", "--strike", "95", "--years", "0.5", "--vol", "0.2"]
        msg = self.refused("greeks", *base, "--rate", "5")
        self.assertIn("--rate '5' would be 500% a year", msg)
        self.assertIn("--rate 0.05 or --rate 5%", msg)
        self.assertIn("--div -0.02 or --div -2%", self.refused("greeks", *base, "--rate", "0", "--div", "-2"))
        self.assertIn("--rate '150%' is outside the range tickq accepts for the rate: from -1 to 1 (-100% to 100%)",
                      self.refused("greeks", *base, "--rate", "150%"))
        self.assertIn("--rate '5'", self.refused("iv", *base[:-2], "--price", "3", "--rate", "5"))
        # +-1 itself is accepted, and so are negative rates.
        self.run_json("greeks", *base, "--rate", "1")
        self.run_json("greeks", *base, "--rate", "-100%")
        self.run_json("greeks", *base, "--rate", "-0.5%", "--div", "1")

    def test_percent_only_where_a_fraction_belongs(self):
        for flag in ("--spot", "--strike", "--years", "--days"):
            args = {"--spot": "100", "--strike": "95", "--years": "0.5", "--days": "30"}
            args[flag] = "5%"
            if flag == "--days":
                del args["--years"]
            flat = [x for kv in args.items() for x in kv]
            msg = self.refused("greeks", "--type", "put", *flat, "--rate", "0", "--vol", "0.2")
            self.assertIn(f"{flag} '5%': only --vol, --rate and --div take a percent", msg)
        self.assertIn("--price '5%'", self.refused("iv", *PUT, "--price", "5%"))
        self.assertIn("--vol '%'", self.refused("greeks", *PUT, "--vol", "%"))

    def test_type_c_and_p_in_any_case(self):
        call = ["--spot", "60", "--strike", "65", "--years", "0.25", "--rate", "0.08", "--vol", "0.30"]
        want = self.run_json("greeks", "--type", "call", *call)
        for t in ("c", "C", "Call", "CALL"):
            self.assertEqual(self.run_json("greeks", "--type", t, *call), want, t)
        want = self.run_json("greeks", "--type", "put", *call)
        self.assertNotEqual(want, self.run_json("greeks", "--type", "call", *call))
        for t in ("p", "P", "Put"):
            self.assertEqual(self.run_json("greeks", "--type", t, *call), want, t)
        self.assertIn("--type 'cp'", self.refused("greeks", "--type", "cp", *call))

    def test_days_are_calendar_days_over_365(self):
        rest = ["--type", "put", "--spot", "100", "--strike", "95", "--rate", "0.10", "--div", "0.05", "--vol", "0.2"]
        self.assertEqual(self.run_json("greeks", *rest, "--days", "182.5"),
                         self.run_json("greeks", *rest, "--years", "0.5"))
        self.assertEqual(self.run_json("greeks", *rest, "--days", "30"),
                         self.run_json("greeks", *rest, "--years", repr(30 / 365)))
        p = options("greeks", *rest, "--days", "73")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("T=0.2 ", p.stdout)
        self.assertIn("--years or --days, not both", self.refused("greeks", *rest, "--days", "30", "--years", "0.5"))
        self.assertIn("--days must be a positive number", self.refused("greeks", *rest, "--days", "0"))
        self.assertIn("--days must be a positive number", self.refused("greeks", *rest, "--days", "-3"))
        self.assertIn("needs --years T or --days D", self.refused("greeks", *rest))
        iv = ["--type", "put", "--spot", "100", "--strike", "95", "--rate", "0.10", "--price", "2.4648"]
        self.assertEqual(self.run_json("iv", *iv, "--days", "182.5"), self.run_json("iv", *iv, "--years", "0.5"))


if __name__ == "__main__":
    unittest.main()
