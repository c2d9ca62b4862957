# Closes its result pipe (descriptor 3), then returns: its result has
# nowhere to go.
import os


def strategy(df):
    os.close(3)
    return [{"ticker": "SYN0001", "date": "2020-01-02"}]
