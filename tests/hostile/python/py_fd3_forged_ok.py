# Writes its own "ok" envelope to the result pipe (descriptor 3) and leaves:
# no more than returning the same instances would give it.
import os


def strategy(df):
    os.write(3, b'{"ok":true,"columns":[],"raw":true}\n[{"ticker":"SYN0001","date":"2020-01-02","forged":true}]')
    os._exit(0)
