# Changes its working folder (a trapped system call the guard does not name).
import os


def strategy(df):
    os.chdir('/')
    return []
