# Sends itself a signal past the guard (signal.raise_signal raises no audit
# event): the kernel filter traps it.
import signal


def strategy(df):
    signal.raise_signal(signal.SIGTERM)
    return []
