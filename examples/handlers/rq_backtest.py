"""rq_backtest.py — the users' RQ job backtest_worker moved to a tickq
handler (docs/handlers.md, "Migration", case a). Served by [handler
backtest] of tickq.ini beside it; enqueued with

    tickq enqueue backtest_worker '{"symbol": "AAPL", "closes": [...]}' \
        --queue backtest --id TASK_ID --max-retries 3 --timeout 3600

What changed from the RQ version: the @task line, the signature (the
payload first, the job second; the task id is job.id), and the try/except
around the work is gone: tickq records every failed attempt itself (the
job's `retries`, the job_retries table) and retries any exception but Fail.
run_backtest stands in for the users' own code, which does not change."""
from tickq import task, Fail


def run_backtest(payload):
    """A stand-in: a moving-average crossover over payload["closes"]."""
    closes = payload.get("closes")
    if not isinstance(closes, list) or len(closes) < 3:
        raise Fail('payload needs "closes", a list of at least 3 prices')
    short, long_ = payload.get("short", 2), payload.get("long", 3)
    if not (isinstance(short, int) and isinstance(long_, int) and 1 <= short < long_ < len(closes)):
        raise Fail('"short" and "long" are window lengths, short < long < the number of closes')

    def mean(n, i):
        return sum(closes[i - n + 1:i + 1]) / n

    equity, held = 1.0, False
    for i in range(long_, len(closes)):
        if held:
            equity *= closes[i] / closes[i - 1]
        held = mean(short, i) > mean(long_, i)
    return {"symbol": payload.get("symbol"), "return": round(equity - 1.0, 6)}


@task("backtest_worker")
def backtest_worker(payload, job):
    task_id = job.id                      # the id given to tickq enqueue --id
    print("backtest", task_id, "attempt", job.attempt, "of", job.max_retries + 1)
    return run_backtest(payload)
