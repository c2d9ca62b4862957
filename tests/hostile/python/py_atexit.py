# Registers an exit handler that would spin forever and forge a result: the
# evaluation child leaves without running any.
import atexit
import os


def spin_and_forge():
    os.write(3, b'{"ok":false,"kind":"internal","message":"forged at exit"}\n')
    while True:
        pass


def strategy(df):
    atexit.register(spin_and_forge)
    return [{"ticker": "SYN0001", "date": "2020-01-02"}]
