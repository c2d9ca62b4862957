"""schema_tasks.py — Python tasks that announce argument schemas, for
test_handler_schema: `report` checked by tickq before it runs (each job it
does see is noted in $SCHEMA_NOTES, so a test can tell that a refused job
never reached it), `free` announced without a schema (args unchecked)."""
import json
import os

from tickq import task

REPORT_ARGS = [
    {"name": "day", "type": "date", "required": True, "doc": "the trading day"},
    {"name": "format", "type": "enum", "choices": ["pdf", "html"], "default": "pdf", "doc": "the output format"},
    {"name": "top", "type": "integer", "min": 1, "max": 100, "default": 10, "doc": "rows in the table"},
    {"name": "symbols", "type": "list", "max": 50, "doc": "symbols to cover (all when left out)"},
]


def note(job, args):
    with open(os.environ["SCHEMA_NOTES"], "a") as f:
        f.write(json.dumps({"id": job.id, "type": job.type, "args": args}) + "\n")


@task("report", args=REPORT_ARGS)
def report(args, job):
    note(job, args)
    return {"day": args["day"], "format": args.get("format", "pdf"), "top": args.get("top", 10)}


@task("free")
def free(args, job):
    note(job, args)
    return {"got": args}
