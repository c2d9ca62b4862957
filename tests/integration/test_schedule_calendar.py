"""test_schedule_calendar.py — `tickq schedule calendar`: the XNYS holidays,
closures and early closes of a range of days, as a table and as JSON, the
trading days around a date, the closures of the configuration file, and
the usage errors. The dates are NYSE's published 2026/2027 calendar (and the
rules in src/sched/market_calendar.c). No Redis is needed."""
import json
import os
import shutil
import tempfile
import unittest
from datetime import datetime
from zoneinfo import ZoneInfo

from harness import ROOT, tickq

NO_CONFIG = {"TICKQ_CONFIG": None}


def calendar(*args, env=NO_CONFIG):
    p = tickq("schedule", "calendar", *args, env=env)
    assert p.returncode == 0, p.stderr
    return p.stdout


def calendar_json(*args, env=NO_CONFIG):
    out = calendar(*args, "--json", env=env)
    assert out.count("\n") == 1, out
    return json.loads(out)


def rows(text):
    """The table's rows (after its DATE header) as lists of cells."""
    lines = text.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("DATE "))
    out = []
    for line in lines[start + 1:]:
        if line.startswith(("next trading day:", "previous trading day:", "market now:")):
            break
        date, day, rest = line.split(None, 2)
        status, detail = rest.split("  ", 1) if "  " in rest else (rest, "")
        out.append([date, day, status.strip(), detail.strip()])
    return out


def line_value(text, label):
    return next(x for x in text.splitlines() if x.startswith(label + ": ")).split(": ", 1)[1]


class TestCalendarDays(unittest.TestCase):
    def test_thanksgiving_and_the_early_close_after_it(self):
        # 2026-11-26 is the fourth Thursday of November; the Friday after
        # closes at 13:00. The weekends in between are not listed.
        out = calendar("--from", "2026-11-20", "--days", "14")
        self.assertEqual(out.splitlines()[0],
                         "XNYS, 2026-11-20 to 2026-12-03: holidays, closures and early closes (weekends not listed)")
        self.assertEqual(rows(out), [["2026-11-26", "Thu", "holiday", "Thanksgiving Day"],
                                     ["2026-11-27", "Fri", "early close", "closes at 13:00"]])
        self.assertEqual(line_value(out, "next trading day"), "2026-11-23")
        self.assertEqual(line_value(out, "previous trading day"), "2026-11-19")
        self.assertNotIn("market now", out)

    def test_christmas_eve_christmas_and_new_year(self):
        # 2026: Christmas Eve is a Thursday (early close), Christmas a Friday;
        # New Year's Day 2027 a Friday.
        got = rows(calendar("--from", "2026-12-24", "--days", "10"))
        self.assertEqual(got, [["2026-12-24", "Thu", "early close", "closes at 13:00"],
                               ["2026-12-25", "Fri", "holiday", "Christmas Day"],
                               ["2027-01-01", "Fri", "holiday", "New Year's Day"]])

    def test_a_saturday_holiday_is_observed_on_friday_without_an_early_close(self):
        # July 4 2026 is a Saturday: closed Friday July 3, no 13:00 close on
        # Thursday July 2 (the July 3 rule needs July 3 to trade).
        got = rows(calendar("--from", "2026-06-29", "--days", "7"))
        self.assertEqual(got, [["2026-07-03", "Fri", "holiday", "Independence Day (observed)"]])

    def test_the_2026_full_year(self):
        """Every NYSE holiday and early close of 2026, in order, and nothing else."""
        d = calendar_json("--from", "2026-01-01", "--days", "365")
        self.assertEqual((d["from"], d["to"], d["days"]), ("2026-01-01", "2026-12-31", 365))
        got = [(x["date"], x["kind"], x.get("name", x.get("close"))) for x in d["closures_and_early_closes"]]
        self.assertEqual(got, [
            ("2026-01-01", "holiday", "New Year's Day"),
            ("2026-01-19", "holiday", "Martin Luther King Jr. Day"),
            ("2026-02-16", "holiday", "Washington's Birthday"),
            ("2026-04-03", "holiday", "Good Friday"),
            ("2026-05-25", "holiday", "Memorial Day"),
            ("2026-06-19", "holiday", "Juneteenth"),
            ("2026-07-03", "holiday", "Independence Day (observed)"),
            ("2026-09-07", "holiday", "Labor Day"),
            ("2026-11-26", "holiday", "Thanksgiving Day"),
            ("2026-11-27", "early_close", "13:00"),
            ("2026-12-24", "early_close", "13:00"),
            ("2026-12-25", "holiday", "Christmas Day"),
        ])

    def test_a_range_without_special_days_says_so(self):
        out = calendar("--from", "2026-03-02", "--days", "5")
        self.assertIn("none: every weekday is a full trading day\n", out)
        self.assertNotIn("DATE ", out)
        self.assertEqual(calendar_json("--from", "2026-03-02", "--days", "5")["closures_and_early_closes"], [])

    def test_built_in_unscheduled_closure_is_a_closure(self):
        got = rows(calendar("--from", "2025-01-06", "--days", "5"))
        self.assertEqual(got, [["2025-01-09", "Thu", "closure",
                                "unscheduled closure (national day of mourning, President Carter)"]])


class TestTradingDaysAround(unittest.TestCase):
    def cases(self):
        # (from, next, previous): across Christmas and the weekend after it,
        # the Martin Luther King Jr. Day weekend of 2027 (Monday 2027-01-18),
        # Good Friday 2026-04-03, and from a holiday itself.
        return [("2026-12-24", "2026-12-28", "2026-12-23"),
                ("2027-01-15", "2027-01-19", "2027-01-14"),
                ("2027-01-19", "2027-01-20", "2027-01-15"),
                ("2026-04-06", "2026-04-07", "2026-04-02"),
                ("2026-11-26", "2026-11-27", "2026-11-25")]

    def test_next_and_previous_trading_day(self):
        for start, nxt, prev in self.cases():
            with self.subTest(start=start):
                out = calendar("--from", start, "--days", "1")
                self.assertEqual(line_value(out, "next trading day"), nxt)
                self.assertEqual(line_value(out, "previous trading day"), prev)
                d = calendar_json("--from", start, "--days", "1")
                self.assertEqual((d["next_trading_day"], d["previous_trading_day"]), (nxt, prev))

    def test_the_first_day_of_the_calendar_has_no_previous_trading_day(self):
        out = calendar("--from", "2000-01-03", "--days", "1")
        self.assertEqual(line_value(out, "previous trading day"), "none since 2000")
        self.assertEqual(line_value(out, "next trading day"), "2000-01-04")
        self.assertIsNone(calendar_json("--from", "2000-01-03", "--days", "1")["previous_trading_day"])


class TestCalendarDocs(unittest.TestCase):
    def test_the_example_in_docs_scheduler_md_is_the_output(self):
        """docs/scheduler.md's example, run as written, prints what it shows."""
        with open(os.path.join(ROOT, "docs", "scheduler.md")) as f:
            text = f.read()
        start = text.index("    $ tickq schedule calendar ")
        block = []
        for line in text[start:].splitlines():
            if not line.startswith("    "):
                break
            block.append(line[4:])
        args = block[0].split()[4:]  # after "$ tickq schedule calendar"
        self.assertEqual(calendar(*args), "\n".join(block[1:]) + "\n")


class TestCalendarJson(unittest.TestCase):
    def test_shape_with_from(self):
        d = calendar_json("--from", "2026-11-20", "--days", "14")
        self.assertEqual(list(d), ["calendar", "from", "to", "days", "closures_and_early_closes",
                                   "next_trading_day", "previous_trading_day"])
        self.assertEqual(d["calendar"], "XNYS")
        self.assertEqual(d["closures_and_early_closes"], [
            {"date": "2026-11-26", "weekday": "Thu", "kind": "holiday", "name": "Thanksgiving Day"},
            {"date": "2026-11-27", "weekday": "Fri", "kind": "early_close", "close": "13:00"}])

    def test_without_from_today_in_new_york_and_the_market_now(self):
        before = datetime.now(ZoneInfo("America/New_York"))
        d = calendar_json()
        after = datetime.now(ZoneInfo("America/New_York"))
        self.assertIn(d["from"], {before.date().isoformat(), after.date().isoformat()})
        self.assertEqual(d["days"], 14)
        now = datetime.fromisoformat(d["now"])
        self.assertEqual(now.utcoffset(), now.astimezone(ZoneInfo("America/New_York")).utcoffset())
        self.assertIsInstance(d["open_now"], bool)
        minute = now.hour * 60 + now.minute
        if now.weekday() >= 5 or not 570 <= minute <= 960:
            self.assertFalse(d["open_now"], d)
        special = {x["date"]: x for x in d["closures_and_early_closes"]}
        today = special.get(now.date().isoformat())
        if today is not None and today["kind"] != "early_close":
            self.assertFalse(d["open_now"], d)
        out = calendar()
        self.assertRegex(line_value(out, "market now"), r"^(open|closed) \(New York time \d{4}-\d\d-\d\dT")


class TestCalendarConfig(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickq-cal-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_closures_of_the_scheduler_section_are_listed(self):
        # Tuesday 2026-03-10 is a trading day; the file closes it. (A
        # Saturday or a holiday is refused: test_a_closure_that_is_closed_anyway_is_refused.)
        path = self.write("c.ini", "[scheduler]\nclosures = 2026-03-10\n\n"
                                   "[schedule a]\ncron = 0 10 * * *\ntask = echo\n")
        args = ("--from", "2026-03-09", "--days", "7")
        self.assertEqual(rows(calendar(*args, "--config", path)),
                         [["2026-03-10", "Tue", "closure", "unscheduled closure (configured)"]])
        self.assertEqual(line_value(calendar("--from", "2026-03-09", "--days", "1", "--config", path),
                                    "next trading day"), "2026-03-11")
        self.assertEqual(line_value(calendar("--from", "2026-03-11", "--days", "1", "--config", path),
                                    "previous trading day"), "2026-03-09")
        # $TICKQ_CONFIG names the file as --config does; without either, no closure.
        self.assertEqual(calendar_json(*args, env={"TICKQ_CONFIG": path})["closures_and_early_closes"],
                         [{"date": "2026-03-10", "weekday": "Tue", "kind": "closure",
                           "name": "unscheduled closure (configured)"}])
        self.assertIn("none: every weekday", calendar(*args))

    def test_a_closure_on_a_weekend_or_twice_is_refused(self):
        """closures lists trading days the exchange will close: a weekend or
        a date listed twice is a mistake (the wrong year, a typo), refused
        naming the day (exit 78), never taken as a closure that changes
        nothing. A holiday or a built-in closure is taken as it stands: a
        closure a later version builds in must not break a file."""
        cases = [("2027-01-09", "closures: 2027-01-09 is a Saturday, not a trading day: XNYS is closed on weekends "
                                "anyway; list only trading days the exchange announced it will close"),
                 ("2027-01-10", "closures: 2027-01-10 is a Sunday, not a trading day"),
                 ("2027-01-06, 2027-01-06", "closures: 2027-01-06 is listed twice")]
        for i, (closures, said) in enumerate(cases):
            with self.subTest(closures=closures):
                path = self.write(f"closed{i}.ini", f"[scheduler]\nclosures = {closures}\n\n"
                                                    "[schedule a]\ncron = 0 10 * * *\ntask = echo\n")
                for cmd in (("schedule", "calendar"), ("schedule", "list")):
                    p = tickq(*cmd, "--config", path, env=NO_CONFIG)
                    self.assertEqual(p.returncode, 78, (cmd, p.stdout, p.stderr))
                    self.assertIn(f"{path}:2: {said}", p.stderr, cmd)
        for closures in ("2026-12-25", "2027-07-05", "2025-01-09, 2027-01-06"):
            with self.subTest(closures=closures):
                path = self.write("known.ini", f"[scheduler]\nclosures = {closures}\n\n"
                                               "[schedule a]\ncron = 0 10 * * *\ntask = echo\n")
                p = tickq("schedule", "list", "--config", path, env=NO_CONFIG)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(rows(calendar("--from", "2025-01-09", "--days", "1", "--config", path)),
                         [["2025-01-09", "Thu", "closure", "unscheduled closure (national day of mourning, "
                           "President Carter)"]])
        # A trading day that closes early may close for the whole day.
        path = self.write("early.ini", "[scheduler]\nclosures = 2026-11-27\n\n"
                                       "[schedule a]\ncron = 0 10 * * *\ntask = echo\n")
        self.assertEqual(rows(calendar("--from", "2026-11-27", "--days", "1", "--config", path)),
                         [["2026-11-27", "Fri", "closure", "unscheduled closure (configured)"]])

    def test_a_bad_or_missing_file_exits_78(self):
        bad = self.write("bad.ini", "[scheduler]\nclosures = 2026-13-01\n")
        p = tickq("schedule", "calendar", "--config", bad, env=NO_CONFIG)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn(f"{bad}:2: closures: '2026-13-01' is not a date", p.stderr)
        self.assertEqual(p.stdout, "")
        missing = os.path.join(self.tmp, "missing.ini")
        p = tickq("schedule", "calendar", "--config", missing, env=NO_CONFIG)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn(f"cannot read {missing}", p.stderr)


class TestCalendarUsage(unittest.TestCase):
    def test_bad_values_and_flags_exit_64_naming_the_flag(self):
        cases = [(["--days", "0"], "--days '0' is not a number from 1 to 3660"),
                 (["--days", "3661"], "--days '3661' is not a number from 1 to 3660"),
                 (["--days", "two"], "--days 'two'"),
                 (["--from", "2026-02-30"], "--from '2026-02-30' is not a date: write it as YYYY-MM-DD"),
                 (["--from", "2026-11-20T10:00:00Z"], "--from '2026-11-20T10:00:00Z' is not a date"),
                 (["--from", "1999-12-31"], "covers 2000-01-01 to 9999-12-31 only"),
                 (["--from", "9999-12-30", "--days", "3"], "covers 2000-01-01 to 9999-12-31 only"),
                 (["--bogus"], "unknown option '--bogus'"),
                 (["--tz", "UTC"], "leave out --tz"),
                 (["-n", "3"], "leave out --tz, --calendar, --market-hours, --offset-from-close and -n"),
                 (["extra"], "unexpected argument 'extra'")]
        for args, needle in cases:
            with self.subTest(args=args):
                p = tickq("schedule", "calendar", *args, env=NO_CONFIG)
                self.assertEqual(p.returncode, 64, p.stderr)
                self.assertIn(needle, p.stderr)
                self.assertIn("usage: tickq schedule", p.stderr)
                self.assertEqual(p.stdout, "")

    def test_calendar_flags_are_refused_by_list_and_next(self):
        for args in (["next", "* * * * *", "--json"], ["list", "--days", "3"]):
            with self.subTest(args=args):
                p = tickq("schedule", *args, env=NO_CONFIG)
                self.assertEqual(p.returncode, 64, p.stderr)
                self.assertIn("--days and --json belong to schedule calendar", p.stderr)

    def test_help_names_the_action(self):
        p = tickq("schedule", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("tickq schedule calendar [--from YYYY-MM-DD] [--days N] [--config FILE]", p.stdout)
        self.assertIn("weekends are not listed", p.stdout)
        p = tickq("schedule", "yearly")
        self.assertEqual(p.returncode, 64)
        self.assertIn("use list, next or calendar", p.stderr)


if __name__ == "__main__":
    unittest.main()
