# Forks: a child would outlive the evaluation's limits.
import os


def strategy(df):
    if os.fork() == 0:
        while True:
            pass
    return []
