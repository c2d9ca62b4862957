"""tickq.streams — the users' Streams queue manager, as a thin facade on tickq.

Code written against the users' Redis Streams QueueManager moves by
changing its import:

    from tickq.streams import QueueManager

    qm = QueueManager(queue="backtest")              # $REDIS_URL
    task_id = await qm.submit_task(task_type="backtest", payload={...}, priority=8,
                                   max_retries=3, timeout_seconds=3600)
    qm.get_metrics()

and the worker side, a program that a tickq worker starts from a [handler]
section (command = python3 -m myapp.worker, types = my_task_type):

    qm = QueueManager()
    qm.register_handler("my_task_type", my_async_handler)   # async def h(payload) -> dict
    asyncio.run(qm.start_worker())                            # serves until tickq stops it

Jobs are native tickq jobs (priorities, retries with backoff, dead letters,
timeouts, cancel, history); a handler raising tickq.Retry / tickq.Fail
asks for a retry / fails the job at once, any other exception is retried.

Priorities: tickq has three levels. An int from 1 to 10 (the Streams
manager's scale) maps to high (8-10), normal (4-7) or low (1-3); the names
"high", "normal", "low" are taken as they are. Anything else is a
ValueError.

Metrics (get_metrics) are read from the counters tickq keeps per logical
queue (<prefix>:stats:<queue>, as `tickq stats` reads them) and from the
consumer group, for this manager's queue:
  tasks_submitted  submitted       jobs enqueued (any producer)
  tasks_completed  completed
  tasks_failed     failed + dead   jobs that ended failing: a permanent
                                   error, or retries spent
  tasks_timeout    timeout         attempts that ran past their timeout
  active_tasks     running         the group's pending entries on the
                                   queue's three streams (jobs being run)
"""
import asyncio

from tickq import runtime
from tickq.client import DEFAULT_QUEUE, PRIORITIES, Client, _check_queue

__all__ = ["QueueManager", "priority_name"]


def priority_name(priority):
    """tickq's priority level for `priority` (see the top of this file)."""
    if isinstance(priority, str):
        if priority in PRIORITIES:
            return priority
        raise ValueError(f"invalid priority {priority!r}: use high, normal, low or an integer from 1 to 10")
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 10:
        raise ValueError(f"invalid priority {priority!r}: use high, normal, low or an integer from 1 to 10")
    return "high" if priority >= 8 else "normal" if priority >= 4 else "low"


def _int(v):
    return int(v) if v is not None else 0


class QueueManager:
    """Submits tasks to one logical tickq queue, and serves handlers when
    run by a tickq worker. `redis_url`: as tickq.Client takes it (a URL, a
    redis.Redis, or None for $REDIS_URL); Redis is only connected to when
    first needed, so a worker process that only serves never needs it."""

    def __init__(self, redis_url=None, queue=DEFAULT_QUEUE):
        _check_queue(queue)
        self.queue = queue
        self._redis_url = redis_url
        self._client = None
        self._handlers = {}

    @property
    def client(self):
        """The tickq.Client this manager submits through (made on first use)."""
        if self._client is None:
            self._client = Client(self._redis_url)
        return self._client

    async def submit_task(self, task_type, payload, priority="normal", max_retries=3, timeout_seconds=3600):
        """Enqueues a job of `task_type` with `payload` as its args on this
        manager's queue; returns its id. Raises ValueError for a job tickq
        refuses."""
        client = self.client
        cmd = dict(queue=self.queue, priority=priority_name(priority), max_retries=max_retries,
                   timeout=timeout_seconds)
        client.enqueue_command(task_type, payload, **cmd)  # refuse a bad job here, before the thread
        return await asyncio.to_thread(client.enqueue, task_type, payload, **cmd)

    def register_handler(self, task_type, handler):
        """Serves `task_type` with `handler(payload)` (async def or def),
        whose return value (a JSON value, usually a dict) is the job's
        result. A type registered twice is a ValueError."""
        runtime.check_type_name(task_type)
        if task_type in self._handlers:
            raise ValueError(f"a handler for {task_type!r} is already registered")
        if not callable(handler):
            raise TypeError(f"handler for {task_type!r} is not callable: {handler!r}")
        import inspect
        try:
            inspect.signature(handler).bind(None)
        except TypeError as e:
            raise TypeError(f"handler for {task_type!r} must take one argument (payload): {e}") from None
        except ValueError:
            pass  # no signature to check (a builtin)
        if runtime.is_async(handler):
            async def serve_one(args, job):
                return await handler(args)
        else:
            def serve_one(args, job):
                return handler(args)
        serve_one.__qualname__ = f"{getattr(handler, '__qualname__', 'handler')}[{task_type}]"
        runtime.register(task_type, serve_one, self._handlers)

    async def start_worker(self, max_jobs=1):
        """Serves the registered handlers to the tickq worker that started
        this process (fd 3 and fd 4, docs/handlers.md), up to `max_jobs` at
        once, until tickq closes fd 3; then returns. Raises RuntimeError when
        this process was not started by tickq, SystemExit(2) after a
        malformed request from tickq."""
        if not self._handlers:
            raise RuntimeError("no handlers registered: call register_handler(task_type, handler) before "
                               "start_worker()")
        if isinstance(max_jobs, bool) or not isinstance(max_jobs, int) or not 1 <= max_jobs <= runtime.MAX_JOBS_LIMIT:
            raise ValueError(f"invalid max_jobs {max_jobs!r}: use an integer from 1 to {runtime.MAX_JOBS_LIMIT}")
        problem = runtime.fds_problem()
        if problem is not None:
            types = ", ".join(sorted(self._handlers))
            raise RuntimeError(f"start_worker() serves jobs to a tickq worker, and this process was not started by "
                               f"one ({problem}): put the program in a [handler] section of tickq's config "
                               f"(command = python3 -m your.module, types = {types}) and run `tickq worker "
                               "--config FILE`; see docs/handlers.md")
        status = await runtime.serve_async(dict(self._handlers), max_jobs)
        if status != runtime.EXIT_EOF:
            raise SystemExit(status)

    def get_metrics(self):
        """{"tasks_submitted", "tasks_completed", "tasks_failed",
        "tasks_timeout", "active_tasks"} for this queue (see the top of this
        file for what each counts)."""
        c = self.client
        pipe = c.redis.pipeline(transaction=False)
        pipe.hgetall(f"{c.prefix}:stats:{self.queue}")
        for p in PRIORITIES:
            pipe.xinfo_groups(f"{c.prefix}:queue:{self.queue}_{p}")
        replies = pipe.execute(raise_on_error=False)
        if isinstance(replies[0], Exception):
            raise replies[0]
        counters = {(k.decode() if isinstance(k, bytes) else k): _int(v) for k, v in replies[0].items()}
        active = 0
        for groups in replies[1:]:
            if isinstance(groups, Exception):
                if "no such key" in str(groups):
                    continue  # nothing was ever queued at that level
                raise groups
            for g in groups:
                name = g.get("name")
                if (name.decode() if isinstance(name, bytes) else name) == c.group:
                    active += _int(g.get("pending"))
        return {
            "tasks_submitted": counters.get("submitted", 0),
            "tasks_completed": counters.get("completed", 0),
            "tasks_failed": counters.get("failed", 0) + counters.get("dead", 0),
            "tasks_timeout": counters.get("timeout", 0),
            "active_tasks": active,
        }
