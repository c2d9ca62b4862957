# O_ASYNC alone on the output pipe (the owner left as it is): trapped too.
import fcntl
import os


def strategy(df):
    fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) | os.O_ASYNC)
    return []
