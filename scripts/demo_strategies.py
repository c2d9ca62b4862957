#!/usr/bin/python3
"""demo_strategies.py TICKQ LIST — the strategy half of `make demo`.

Submits a signal backtest (in Lua and in Python, the users' pandas way), a
screening and a portfolio backtest the way the
users' clients do (LPUSH onto a list, through clients/python/tickq_client),
runs `tickq worker --burst` to take and run them, and prints the results.
Expects REDIS_URL (unix://...) and TICKQ_DB with synthetic bars imported."""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import redis  # noqa: E402
import tickq_client  # noqa: E402

tickq, list_name, log_path = sys.argv[1], sys.argv[2], sys.argv[3]
url = os.environ["REDIS_URL"]
r = (redis.Redis(unix_socket_path=url[len("unix://"):].split("?")[0], decode_responses=True)
     if url.startswith("unix://") else redis.Redis.from_url(url, decode_responses=True))


def read(name):
    with open(os.path.join(ROOT, "examples", "strategies", name)) as f:
        return f.read()


gap_up, momentum, crossover = read("gap_up.lua"), read("momentum.lua"), read("sma_crossover.lua")
gap_up_py = read("gap_up.py")  # the pandas twin of gap_up.lua
symbols = [f"SYN{i:04d}" for i in range(1, 51)]
run = str(int(time.time()))
ids = {
    "backtest": tickq_client.add_backtest_task(r, f"demo-{run}-backtest", gap_up, symbols, "2021-01-01",
                                               "2022-12-31", hold_bars=3, commission_bps=2, list_name=list_name),
    "python": tickq_client.add_backtest_task(r, f"demo-{run}-python", gap_up_py, symbols, "2021-01-01",
                                             "2022-12-31", hold_bars=3, commission_bps=2, list_name=list_name),
    "screening": tickq_client.add_screening_task(r, f"demo-{run}-screening", momentum, symbols, 5,
                                                 lookback_bars=60, list_name=list_name),
    "portfolio": tickq_client.add_portfolio_backtest_task(r, f"demo-{run}-portfolio", crossover, symbols[:10],
                                                          "2021-01-01", "2022-12-31", initial_capital=1_000_000,
                                                          commission_bps=1, slippage_bps=2,
                                                          list_name=list_name),
}
print(f"demo: pushed a backtest (Lua and Python), a screening and a portfolio backtest onto the list {list_name}")
print("      (as the users' clients do: LPUSH {task_id, task_type, args}); running tickq worker --burst")
with open(log_path, "a") as log:
    subprocess.run([tickq, "worker", "--queues", "backtest", "--workers", "2", "--burst",
                    "--list-queue", list_name, "--log-format", "logfmt"], stderr=log, check=True)
results = {k: tickq_client.get_task_result(r, v) for k, v in ids.items()}
failed = {k: v for k, v in results.items() if not v or v["status"] != "completed"}
if failed:
    print("demo: a strategy task did not complete:", json.dumps(failed, indent=2))
    sys.exit(1)


def pct(x):
    return "n/a" if x is None else f"{100 * x:+.2f}%"


def num(x, fmt="{:.2f}"):
    return "n/a" if x is None else fmt.format(x)


bt = results["backtest"]["data"]
s, m = bt["summary"], bt["performance_metrics"]
print()
print(f"backtest (gap_up.lua, {len(symbols)} symbols, {s['date_range'][0]} .. {s['date_range'][1]}, "
      f"hold 3 bars, 2 bps a side): {bt['execution_time_ms']:.1f} ms in the worker")
print(f"  rows x columns {s['data_shape'][0]} x {s['data_shape'][1]}, symbols with data {s['symbols_processed']}")
print(f"  signals {s['total_instances']}, trades {m['trades']}, winners {s['positive_signals']}, "
      f"win rate {num(m['win_rate'] and 100 * m['win_rate'], '{:.1f}%')}")
print(f"  avg return {pct(m['avg_return'])}, median {pct(m['median_return'])}, best {pct(m['best'])}, "
      f"worst {pct(m['worst'])}, profit factor {num(m['profit_factor'])}")
for inst in bt["instances"][:3]:
    print(f"    {inst['date']} {inst['message']:<45} return {pct(inst['return'])}")

py = results["python"]["data"]
same = py["instances"] == bt["instances"] and py["performance_metrics"] == m
print()
print(f"the same backtest in Python (gap_up.py, pandas, sandboxed): {py['execution_time_ms']:.1f} ms in the worker "
      f"(its first Python job starts the worker's warm interpreter), {py['summary']['total_instances']} signals; "
      f"instances and metrics identical to gap_up.lua's: {'yes' if same else 'NO'}")
if not same:
    sys.exit(1)

sc = results["screening"]["data"]
print()
print(f"screening (momentum.lua, last 60 bars of {sc['universe_size']} symbols): "
      f"{sc['opportunities']} opportunities on the latest bar, top {sc['results_returned']}:")
for row in sc["ranked_results"]:
    print(f"  #{row['rank']} {row['ticker']:<8} score {row['score']:6.2f}  {row['message']}")
if not sc["ranked_results"]:
    print("  (no ticker qualifies on its latest bar)")

pf = results["portfolio"]["data"]
pm, ps = pf["performance_metrics"], pf["summary"]
print()
print(f"portfolio backtest (sma_crossover.lua, 10 symbols, 1,000,000 split equally, 3 bps a side): "
      f"{pf['execution_time_ms']:.1f} ms")
print(f"  final equity {ps['final_equity']:,.0f}, total return {pct(pm['total_return'])}, "
      f"CAGR {pct(pm['cagr'])}, volatility {pct(pm['annual_volatility'])}")
print(f"  Sharpe {num(pm['sharpe'])}, Sortino {num(pm['sortino'])}, max drawdown {pct(pm['max_drawdown'])}, "
      f"Calmar {num(pm['calmar'])}, exposure {num(pm['exposure'] and 100 * pm['exposure'], '{:.1f}%')}, trades {pm['trades']}, "
      f"win rate {num(pm['win_rate'] and 100 * pm['win_rate'], '{:.1f}%')}")
print(f"  equity curve: {len(pf['equity_curve'])} points; first trade: "
      + (json.dumps(pf["trades"][0]) if pf["trades"] else "none"))
