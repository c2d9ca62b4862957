# Lists the descriptors it holds: only stdin (/dev/null), its output pipe
# and its result pipe; no Redis, database, log or host socket.
import os


def strategy(df):
    fds = []
    for fd in range(1024):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            pass
    return [{"ticker": "SYN0001", "date": "2020-01-02", "fds": fds}]
