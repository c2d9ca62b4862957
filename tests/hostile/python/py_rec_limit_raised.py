# Raises the recursion limit to 10**9, then recurses without end: Python
# 3.11 keeps Python frames on the heap, so this is a memory bomb, which the
# memory limit must end. Most of its time is the unwinding after the
# limit: allocations failing and the frames' memory freed 16 KiB (one
# munmap) at a time, slow on a loaded machine. So the catalogue gives it
# the least memory_mb (64: 460,000 frames, 7 s alone, up to 22 s beside
# the load jobs on 2 loaded cores) and a time limit of 120 s, which only a
# recursion the memory limit failed to end reaches.
import sys


def strategy(df):
    def deeper(n):
        return deeper(n + 1) + 1
    sys.setrecursionlimit(10**9)
    return deeper(0)
