"""streams_data_fetch.py — the users' Streams handler data_fetch, served by
tickq (docs/handlers.md, "Migration", case c). Only the import changed;
the program is started by a tickq worker from [handler data] of tickq.ini
beside it (command = python3 -m streams_data_fetch), not by hand.
Producers keep calling `await qm.submit_task(task_type="data_fetch",
payload={...})`, now through the same facade."""
import asyncio

from tickq.streams import QueueManager   # was: from queue_manager import QueueManager


async def handle_data_fetch(payload):
    """A stand-in for the users' fetch: `days` made-up daily bars."""
    symbol, days = payload.get("symbol"), payload.get("days", 5)
    if not isinstance(symbol, str) or not isinstance(days, int) or days < 1:
        raise ValueError('payload needs "symbol" (a string) and "days" (a whole number, 1 or more)')
    await asyncio.sleep(0.01)             # the users' HTTP request goes here
    bars = [{"day": d, "close": 100.0 + d} for d in range(days)]
    return {"symbol": symbol, "bars": len(bars), "last_close": bars[-1]["close"]}


qm = QueueManager(queue="data")
qm.register_handler("data_fetch", handle_data_fetch)

if __name__ == "__main__":
    asyncio.run(qm.start_worker())
