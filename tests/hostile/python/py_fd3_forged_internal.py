# Writes an envelope to the result pipe (descriptor 3) claiming the sandbox
# failed: that would make the job retried ("could not start") instead of
# failed for good.
import os


def strategy(df):
    os.write(3, b'{"ok":false,"kind":"internal","message":"forged: the sandbox broke"}\n')
    os._exit(0)
