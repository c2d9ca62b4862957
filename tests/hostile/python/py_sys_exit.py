# Raises SystemExit: an error like any other, on the user's line.
import sys


def strategy(df):
    sys.exit(3)
