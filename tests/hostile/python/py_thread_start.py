# Starts a thread that would keep running past the evaluation.
import threading


def strategy(df):
    t = threading.Thread(target=lambda: [None for _ in iter(int, 1)])
    t.start()
    return []
