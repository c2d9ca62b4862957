"""unreadable_tasks.py — tasks for test_handler_python's results that
Python's json module writes and tickq's reader refuses (an integer beyond
64 bits, a NUL in a string or a key, a key given twice), texts with a NUL
where tickq takes them (an error, a progress message), a slow async task
to run beside them in a --max-jobs handler, and a task that ends the
process after writing much to stderr. Served by `python3 -m tickq.handler
--max-jobs N unreadable_tasks`."""
import asyncio
import os
import sys
import time

from tickq import Fail, task


@task("big_int")
def big_int(args, job):
    return {"n": 2**64}


@task("big_negative")
def big_negative(args, job):
    return [1, -(2**63) - 1]


@task("int64_edges")
def int64_edges(args, job):
    return {"min": -(2**63), "max": 2**63 - 1}


@task("nul_text")
def nul_text(args, job):
    return {"s": "a\x00b"}


@task("nul_key")
async def nul_key(args, job):
    return {"rows": [{"k\x00": 1}]}


@task("key_twice")
def key_twice(args, job):
    return {1: "a", "1": "b"}


@task("nul_fail")
def nul_fail(args, job):
    raise Fail("bad\x00input")


@task("nul_progress")
def nul_progress(args, job):
    job.progress(0.5, "half\x00way")
    while not os.path.exists(args["marker"]):   # the test makes it once it has seen the progress
        time.sleep(0.01)
    return {"ok": True}


@task("slow")
async def slow(args, job):
    await asyncio.sleep(args.get("s", 2))
    return {"slept": args.get("s", 2), "pid": os.getpid()}


@task("exit_after_stderr")
def exit_after_stderr(args, job):
    """args["lines"] lines of 60 characters on stderr (with a non-ASCII
    character in each), then the process ends as sys.exit(0) ends it."""
    for i in range(args.get("lines", 100)):
        print(f"stderr line {i:04d} \u20ac ".ljust(60, "x"), file=sys.stderr)
    sys.stderr.flush()
    sys.exit(0)
