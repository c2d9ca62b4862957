"""concurrent_tasks.py — async tasks for test_handler_concurrency: a
barrier that completes only once `n` jobs are running together in this
process, a sleeper that records how many ran at once, a crash, and a job
that waits to be cancelled, and one that ignores its cancel."""
import asyncio
import json
import os
import time

from tickq import Fail, task

_arrived = 0
_running = 0


@task("barrier")
async def barrier(args, job):
    """Ends once args["n"] barrier jobs have arrived in this process (so
    only if tickq sends them together); fails after args["wait"] seconds."""
    global _arrived
    _arrived += 1
    for _ in range(int(args.get("wait", 10) * 50)):
        if _arrived >= args["n"]:
            return {"arrived": _arrived, "pid": os.getpid()}
        await asyncio.sleep(0.02)
    raise Fail(f"only {_arrived} of {args['n']} jobs arrived together")


@task("overlap")
async def overlap(args, job):
    """Sleeps (on its first attempt only); appends the number running at its
    start to args["log"]."""
    global _running
    _running += 1
    try:
        with open(args["log"], "a") as f:
            f.write(json.dumps({"event": "start", "id": job.id, "running": _running, "pid": os.getpid()}) + "\n")
        await asyncio.sleep(args.get("s", 0.2) if job.attempt == 1 else 0)
        with open(args["log"], "a") as f:
            f.write(json.dumps({"event": "end", "id": job.id}) + "\n")
        return {"pid": os.getpid()}
    finally:
        _running -= 1


@task("die")
async def die(args, job):
    """Waits until args["n"] jobs run here, then ends the process."""
    for _ in range(500):
        if _running >= args["n"]:
            break
        await asyncio.sleep(0.02)
    os._exit(3)


@task("wait_cancel")
async def wait_cancel(args, job):
    """Sleeps far longer than any timeout: tickq's cancel message stops it."""
    await asyncio.sleep(3600)


@task("stubborn")
def stubborn(args, job):
    """A plain function (run in the runtime's threads): a cancel only sets
    job.cancelled, which it ignores, so tickq kills the process."""
    for _ in range(36000):
        time.sleep(0.1)
