# Starts a thread through the low-level _thread module.
import _thread


def strategy(df):
    _thread.start_new_thread(lambda: None, ())
    return []
