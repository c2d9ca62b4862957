# Writes 100 MB straight to descriptor 1, past print and sys.stdout.
import os


def strategy(df):
    block = b"q" * (1 << 20)
    for _ in range(100):
        os.write(1, block)
    return []
