"""retry_tasks.py — a task for test_flows (a retry running on the worker
slot its first attempt ran on), served by `python3 -m tickq.handler
retry_tasks`: its first attempt holds until the test creates the file
`fail` in args["dir"] and then asks for a retry; a later attempt holds until
the test creates `release` there. Markers, not sleeps: what the test sees
while each attempt runs is not a matter of timing."""
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


@task("fail_then_hold")
def fail_then_hold(args, job):
    marker = "fail" if job.attempt == 1 else "release"
    if not hold_until(os.path.join(args["dir"], marker)):
        raise Fail(f"the marker {marker} never came")
    if job.attempt == 1:
        raise Retry("the first attempt fails, as the test asked")
    return {"attempt": job.attempt}
