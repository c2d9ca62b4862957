# Arms a timer signal.
import signal


def strategy(df):
    signal.alarm(1)
    return []
