# Kills its parent, the Python host.
import os
import signal


def strategy(df):
    os.kill(os.getppid(), signal.SIGKILL)
    return []
