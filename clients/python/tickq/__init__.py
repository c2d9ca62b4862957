"""tickq — Python for tickq: task handlers, and a client for producers.

Handler side (a module served by `python3 -m tickq.handler myapp.tasks`
from a [handler] section of tickq's config; docs/handlers.md):

    from tickq import task, Retry, Fail

    @task("generate_report")
    def generate_report(args, job):          # plain or async def
        job.progress(0.5, "half way")        # job.id, job.attempt, job.queue too
        if args.get("bad"):
            raise Fail("bad input")          # permanent; Retry("why") is transient
        return {"rows": 10}                  # any other exception: transient, with its last frame

Client side: Client (enqueue native jobs, wait with TaskFailed and
TaskTimeout), and the strategy_queue helpers of tickq_client (the users'
list protocol), re-exported here unchanged. tickq.streams has the users'
Streams QueueManager calls.

Importing tickq needs only the standard library; Client needs the redis
package (Debian: python3-redis).
"""
from tickq.runtime import Fail, Job, Retry, get_current_job, task
from tickq.client import Client, JobExists, JobNotFound, TaskFailed, TaskTimeout
from tickq_client import (
    LIST_NAME, RESULT_PREFIX, add_backtest_task, add_portfolio_backtest_task, add_screening_task, add_task,
    get_task_result, wait_for_result)

__version__ = "0.1.0"

__all__ = ["task", "Retry", "Fail", "Job", "get_current_job", "Client", "TaskFailed", "TaskTimeout", "JobExists",
           "JobNotFound",
           "LIST_NAME", "RESULT_PREFIX", "add_task", "add_backtest_task", "add_screening_task",
           "add_portfolio_backtest_task", "get_task_result", "wait_for_result"]
