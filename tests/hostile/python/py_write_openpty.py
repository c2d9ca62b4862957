# Opens a file for writing past the guard: os.openpty opens /dev/ptmx
# read-write inside glibc, with no audit event, so the kernel filter is
# what stops it.
import os


def strategy(df):
    os.openpty()
    return []
