# Asks the kernel to signal the worker's whole process group (SIGIO) on
# every read of its output pipe: F_SETOWN to the group, then O_ASYNC. The
# filter traps the F_SETOWN (and the evaluation has a session of its own).
import fcntl
import os


def strategy(df):
    fcntl.fcntl(1, fcntl.F_SETOWN, -os.getpgrp())
    fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) | os.O_ASYNC)
    for _ in range(100):
        print("x" * 1000)
    return []
