"""app_tasks.py — Python tasks for the handler tests (test_handler_python,
test_handler_pools, test_flows), served by `python3 -m tickq.handler app_tasks`: a
plain and an async task, Retry then success, Fail, an uncaught exception,
progress, a retry held by markers, and tasks that hold until the test creates a marker file (so
that what the test sees while they run is not a matter of timing)."""
import asyncio
import os
import time

from tickq import Fail, Retry, task

HOLD_LIMIT_S = 30   # a marker never made: the task gives up, the test has failed already


def hold_until(path):
    """Waits for the file at `path`; False when it never came."""
    deadline = time.monotonic() + HOLD_LIMIT_S
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@task("greet")
def greet(args, job):
    return {"hello": args.get("name", "world"), "attempt": job.attempt, "queue": job.queue, "id": job.id}


@task("async_sum")
async def async_sum(args, job):
    await asyncio.sleep(0)
    return {"sum": sum(args["numbers"]), "id": job.id}


@task("flaky")
def flaky(args, job):
    if job.attempt == 1:
        raise Retry("not yet: the feed is warming up")
    return {"attempt": job.attempt}


@task("refuse")
def refuse(args, job):
    raise Fail("bad input: no symbol")


@task("boom")
def boom(args, job):
    table = {"a": 1}
    return table[args["key"]]   # KeyError here: the line the test looks for


@task("progress_wait")
def progress_wait(args, job):
    job.progress(0.5, "half way")
    if not hold_until(args["marker"]):
        raise Fail("the marker never came")
    return {"saw_marker": True}


@task("hold")
def hold(args, job):
    if not hold_until(args["marker"]):
        raise Fail("the marker never came")
    return {"held": True}


@task("fail_then_hold")
def fail_then_hold(args, job):
    """test_flows: a retry running on the worker slot its first attempt ran
    on. The first attempt holds until the test creates `fail` in
    args["dir"] and then asks for a retry; a later attempt holds until the
    test creates `release` there."""
    marker = "fail" if job.attempt == 1 else "release"
    if not hold_until(os.path.join(args["dir"], marker)):
        raise Fail(f"the marker {marker} never came")
    if job.attempt == 1:
        raise Retry("the first attempt fails, as the test asked")
    return {"attempt": job.attempt}
