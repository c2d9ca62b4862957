"""test_options.py — `tickq options`: prices and Greeks against published
values, implied volatility round trips, the no-solution cases with their exit
status and reason, and usage errors. Pure arithmetic: no Redis server runs,
and a REDIS_URL that points nowhere changes nothing."""
import json
import unittest

from harness import tickq

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
        self.assertIn("--vol", self.usage_error("greeks", *PUT))
        self.assertIn("--vol", self.usage_error("greeks", *PUT, "--vol", "0"))
        self.assertIn("--vol", self.usage_error("greeks", *PUT, "--vol", "20%"))
        self.assertIn("--price", self.usage_error("greeks", *PUT, "--vol", "0.2", "--price", "3"))
        self.assertIn("--price", self.usage_error("iv", *PUT))
        self.assertIn("--price", self.usage_error("iv", *PUT, "--price", "-1"))
        self.assertIn("--vol", self.usage_error("iv", *PUT, "--price", "3", "--vol", "0.2"))
        self.assertIn("'extra'", self.usage_error("iv", "extra", *PUT, "--price", "3"))


if __name__ == "__main__":
    unittest.main()
