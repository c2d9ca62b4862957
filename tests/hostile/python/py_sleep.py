# Sleeps past the time limit (no CPU time used: the wall clock must stop it).
import time


def strategy(df):
    time.sleep(3600)
    return []
