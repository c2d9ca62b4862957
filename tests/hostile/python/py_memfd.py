# Creates an anonymous file (memfd_create): the kernel filter traps it.
import os


def strategy(df):
    os.memfd_create('x')
    return []
