# Raises the recursion limit to 10**9, then recurses without end: Python
# 3.11 keeps Python frames on the heap, so this is a memory bomb.
import sys


def strategy(df):
    def deeper(n):
        return deeper(n + 1) + 1
    sys.setrecursionlimit(10**9)
    return deeper(0)
