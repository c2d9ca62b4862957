"""versioned.py — the module test_handler_pools edits under load: its task
returns VERSION, read when the module is imported, so a job's result tells
which code ran it. The test copies it to a temp folder and rewrites the
VERSION line there."""
import os
import time

from tickq import task

VERSION = 1


@task("versioned")
def versioned(args, job):
    time.sleep(0.005)   # a slow-ish job, so that the reload finds jobs running
    return {"version": VERSION, "pid": os.getpid(), "n": args.get("n")}
