"""noop_tasks.py — the task `bench make bench-handlers` runs through the
shipped Python runtime: `python3 -m tickq.handler noop_tasks`."""
from tickq import task


@task("py_noop")
def py_noop(args, job):
    return {}
