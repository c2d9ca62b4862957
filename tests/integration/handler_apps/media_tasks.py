"""media_tasks.py — a second handler's tasks for the pool tests
(test_handler_pools): a pool that does not name this handler must refuse
its type."""
from tickq import task


@task("resize")
def resize(args, job):
    return {"resized": args.get("width", 0)}
