# Leaves through os._exit without any result.
import os


def strategy(df):
    os._exit(0)
