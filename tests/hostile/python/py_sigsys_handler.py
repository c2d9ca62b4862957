# Catches SIGSYS, the signal the kernel filter traps a forbidden call with,
# so that the trap would not end it, then makes a forbidden call.
import signal


def strategy(df):
    caught = []
    signal.signal(signal.SIGSYS, lambda sig, frame: caught.append(sig))
    signal.alarm(1)
    return [{"ticker": "SYN0001", "date": "2020-01-02", "caught": len(caught)}]
