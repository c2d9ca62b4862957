"""arq_optimization.py — the users' arq function run_optimization moved to
a tickq handler (docs/handlers.md, "Migration", case b). Served by [handler
optimization] of tickq.ini beside it, run by its [pool optimization]:

    tickq worker --config examples/handlers/tickq.ini --pool optimization --watch examples/handlers
    tickq enqueue run_optimization '{"closes": [...], "windows": [2, 3, 4]}' --queue optimization

What changed from the arq version: the @task line and the arguments
(args, job) instead of (ctx, params); ctx["job_id"] is job.id and
ctx["job_try"] is job.attempt. WorkerSettings became the [handler] and
[pool] sections (max_jobs = the handler's --max-jobs; job_timeout = the
pool's job_timeout, for jobs enqueued without --timeout)."""
import asyncio

from tickq import task, Fail


@task("run_optimization")
async def run_optimization(params, job):
    closes, windows = params.get("closes"), params.get("windows")
    if not isinstance(closes, list) or not isinstance(windows, list) or not windows:
        raise Fail('params need "closes" (a list of prices) and "windows" (a list of window lengths)')
    best = None
    for n, window in enumerate(windows, 1):
        if not isinstance(window, int) or not 1 <= window < len(closes):
            raise Fail(f"window {window!r} is not a whole number from 1 to {len(closes) - 1}")
        # A stand-in score: the mean distance of the price from its moving average.
        score = sum(abs(closes[i] - sum(closes[i - window:i]) / window)
                    for i in range(window, len(closes))) / (len(closes) - window)
        if best is None or score < best["score"]:
            best = {"window": window, "score": round(score, 6)}
        job.progress(n / len(windows), f"window {window}")
        await asyncio.sleep(0)            # the users' awaits (I/O, a database) go here
    return {"best": best, "tried": len(windows)}
