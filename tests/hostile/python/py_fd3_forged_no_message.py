# Writes a failure envelope without a message to the result pipe
# (descriptor 3): the error must still say something (it once read "(null)").
import os


def strategy(df):
    os.write(3, b'{"ok":false,"kind":"security"}\n')
    os._exit(0)
