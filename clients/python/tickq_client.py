"""tickq_client — submit strategy tasks to tickq workers from Python.

Speaks the protocol the users' clients already use: a task is a JSON object
LPUSHed onto the ``strategy_queue`` list, and its result appears at
``task_result:<task_id>``. tickq workers move each task from the list into
their own queue atomically, so a task survives a worker dying at any point.
A task pushed again while its first push is still waiting or running (same
task_id) runs once (the worker logs the duplicate); pushed again after it
finished, it runs again and its new result replaces the old one. add_task
removes the id's previous result in the same transaction as the push, so
wait_for_result never returns the previous run's result for a new push.

The arguments each task takes, with types, ranges and defaults, are printed
by ``tickq tasks TYPE`` (``--json`` for programs); unknown keys are refused.

    import redis, tickq_client
    r = redis.Redis(decode_responses=True)
    tickq_client.add_backtest_task(r, "bt-1", code, ["AAPL", "MSFT"],
                                   "2024-01-01", "2024-12-31", hold_bars=5)
    result = tickq_client.wait_for_result(r, "bt-1", timeout=60)
    if result["status"] == "completed":
        print(result["data"]["performance_metrics"])

Results look like ``{"status": "running" | "completed" | "error", "data":
{...}, "updated_at": "..."}``; ``running`` stays until the task has finished
for good (including between retries). Needs only the ``redis`` package
(Debian: python3-redis).
"""
import json
import time

LIST_NAME = "strategy_queue"
RESULT_PREFIX = "task_result:"
FINAL_STATUSES = ("completed", "error")

__all__ = ["add_backtest_task", "add_screening_task", "add_portfolio_backtest_task", "add_task",
           "get_task_result", "wait_for_result", "TaskTimeout"]


class TaskTimeout(Exception):
    """The task's result did not become final within the timeout."""


def _check_id(task_id):
    """The worker's rule (src/lua/list_import.lua): 1-128 bytes of UTF-8, no
    space or control character (DEL included). An id it refuses would get
    no task_result at all (the entry is only kept in tickq's rejected
    stream), so wait_for_result would wait its whole timeout for nothing."""
    try:
        size = len(task_id.encode("utf-8")) if isinstance(task_id, str) else 0
    except UnicodeEncodeError:
        size = 0
    if not 0 < size <= 128 or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in task_id):
        raise ValueError("task_id must be a string of 1-128 bytes (UTF-8) without spaces or control characters")


def add_task(redis_client, task_id, task_type, args, list_name=LIST_NAME):
    """Pushes any task type ({"task_id", "task_type", "args"}) onto the list;
    returns task_id. Raises ValueError for a bad task_id or args that are not
    a dict (the worker would reject them anyway, with an error result)."""
    _check_id(task_id)
    if not isinstance(task_type, str) or not task_type:
        raise ValueError("task_type must be a non-empty string")
    if not isinstance(args, dict):
        raise ValueError("args must be a dict")
    entry = json.dumps({"task_id": task_id, "task_type": task_type, "args": args}, allow_nan=False)
    # One transaction: a poller never sees the previous run's result after
    # this push (a re-run of a finished id replaces it; a duplicate of a
    # waiting or running one gets that job's result when it ends).
    pipe = redis_client.pipeline(transaction=True)
    pipe.delete(RESULT_PREFIX + task_id)
    pipe.lpush(list_name, entry)
    pipe.execute()
    return task_id


def add_backtest_task(redis_client, task_id, strategy_code, symbols, start_date, end_date, **options):
    """Queues a signal backtest of `strategy_code` (Python, `def s(df)`, or Lua) over `symbols` from
    start_date to end_date (ISO 8601 dates). Options go into the task's args
    as they are (`tickq tasks backtest` lists them); list_name picks another
    list."""
    list_name = options.pop("list_name", LIST_NAME)
    args = {"strategy_code": strategy_code, "symbols": list(symbols), "start_date": start_date,
            "end_date": end_date}
    args.update(options)
    return add_task(redis_client, task_id, "backtest", args, list_name)


def add_screening_task(redis_client, task_id, strategy_code, universe, limit, **options):
    """Queues a screening of `universe` that returns the top `limit`
    opportunities by score. Options go into the task's args as they are
    (`tickq tasks screening` lists them); list_name picks another list."""
    list_name = options.pop("list_name", LIST_NAME)
    args = {"strategy_code": strategy_code, "universe": list(universe), "limit": limit}
    args.update(options)
    return add_task(redis_client, task_id, "screening", args, list_name)


def add_portfolio_backtest_task(redis_client, task_id, strategy_code, symbols, start_date, end_date, **options):
    """Queues a position backtest. Options go into the task's args as they
    are (`tickq tasks portfolio_backtest` lists them); list_name picks
    another list."""
    list_name = options.pop("list_name", LIST_NAME)
    args = {"strategy_code": strategy_code, "symbols": list(symbols), "start_date": start_date,
            "end_date": end_date}
    args.update(options)
    return add_task(redis_client, task_id, "portfolio_backtest", args, list_name)


def get_task_result(redis_client, task_id):
    """The task's result as a dict, or None while no worker has taken it yet
    (or after its result expired)."""
    raw = redis_client.get(RESULT_PREFIX + task_id)
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    return json.loads(raw)


def wait_for_result(redis_client, task_id, timeout=300.0, poll_interval=0.05):
    """Polls until the result is completed or error and returns it; raises
    TaskTimeout after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = get_task_result(redis_client, task_id)
        if result is not None and result.get("status") in FINAL_STATUSES:
            return result
        if time.monotonic() >= deadline:
            raise TaskTimeout(f"task {task_id} not finished after {timeout} s "
                              f"(last status: {result and result.get('status')})")
        time.sleep(poll_interval)
