"""streams_worker.py — a handler written against the users' Streams
QueueManager, moved to tickq by its import alone (test_handler_python):
run as `python3 -m streams_worker` from a [handler] section."""
import asyncio

from tickq import Fail
from tickq.streams import QueueManager


async def handler(payload):
    await asyncio.sleep(0)
    if payload.get("fail"):
        raise Fail(f"refused {payload.get('n')}")
    return {"doubled": payload["n"] * 2}


if __name__ == "__main__":
    qm = QueueManager()
    qm.register_handler("my_task_type", handler)
    asyncio.run(qm.start_worker())
