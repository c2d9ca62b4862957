# Raises the recursion limit, then recurses in C (repr of a list nested a
# million deep): the C stack overflows.
import sys


def strategy(df):
    sys.setrecursionlimit(10**6)
    nested = []
    for _ in range(10**6):
        nested = [nested]
    return [{"ticker": "SYN0001", "date": "2020-01-02", "r": repr(nested)}]
