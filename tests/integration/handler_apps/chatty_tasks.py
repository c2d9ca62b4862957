"""chatty_tasks.py — a handler whose own thread prints while no job runs
(a metrics or heartbeat thread, as users' workers have), for
test_handler_python: the job chatty_start starts the thread and returns;
half a second later, the job long over, it writes 300 lines of 1,000
bytes, four times what a pipe holds, then a marker file (CHATTY_DONE)."""
import os
import sys
import threading
import time

from tickq import task


def _chatter():
    time.sleep(0.5)
    for i in range(300):
        sys.stdout.write(f"chatty {i:03d} " + "x" * 988 + "\n")
        sys.stdout.flush()
    with open(os.environ["CHATTY_DONE"], "w") as f:
        f.write("done\n")


@task("chatty_start")
def chatty_start(args, job):
    threading.Thread(target=_chatter, daemon=True).start()
    return {}
