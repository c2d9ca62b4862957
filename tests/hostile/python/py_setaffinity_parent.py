# Pins its parent (the process the next evaluations are forked from) to
# one CPU: a change that would outlive the job. Trapped.
import os


def strategy(df):
    os.sched_setaffinity(os.getppid(), {0})
    return []
