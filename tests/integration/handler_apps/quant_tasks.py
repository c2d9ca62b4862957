"""quant_tasks.py — tasks as a quant team's RQ/arq job code writes them,
for test_handler_python's migration tests, served by `python3 -m
tickq.handler quant_tasks`: results holding numpy scalars (what a pandas
reduction returns). numpy is imported by the task, not at import, so
that the module serves without it too."""
from tickq import task


@task("np_metrics")
def np_metrics(args, job):
    import numpy as np
    volume = np.array(args["volumes"], dtype=np.int64)
    closes = np.array(args["closes"], dtype=np.float32)
    return {"volume": volume.sum(), "last": closes[-1], "up": closes[-1] > closes[0],
            "mean": np.float64(closes.mean()), "small": np.int8(-5), "big": np.uint64(2**63 - 1)}


@task("np_overflow")
def np_overflow(args, job):
    import numpy as np
    return {"n": np.uint64(2**64 - 1)}


def record_attempt(note):
    """A helper deep in the users' RQ code that was never handed the job:
    it asks for the current one, as it asked rq.get_current_job()."""
    from tickq import get_current_job
    job = get_current_job()
    return {"note": note, "id": job.id, "attempt": job.attempt, "type": job.type}


@task("rq_helper")
def rq_helper(args, job):
    from tickq import get_current_job
    return {"deep": record_attempt(args["note"]), "same": get_current_job() is job}


@task("flat_sharpe")
def flat_sharpe(args, job):
    """The Sharpe ratio of a flat equity curve: 0/0, a NaN deep in a result."""
    import numpy as np
    returns = np.zeros(len(args["closes"]) - 1)
    sharpe = float(np.float64(returns.mean()) / np.float64(returns.std())) if len(returns) else 0.0
    return {"symbol": args["symbol"], "metrics": {"trades": 12, "sharpe": sharpe}}
