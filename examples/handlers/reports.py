"""reports.py — the quick start of docs/handlers.md: one task type,
generate_report, served by [handler reports] of tickq.ini beside it."""
from tickq import task, Fail


@task("generate_report")
def generate_report(args, job):
    if "day" not in args:
        raise Fail('args need "day", e.g. {"day": "2026-12-03"}')
    job.progress(0.5, "half way")
    print("report for", args["day"], "attempt", job.attempt)   # goes to tickq's log
    return {"day": args["day"], "rows": 10}
