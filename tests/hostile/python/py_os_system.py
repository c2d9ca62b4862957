# Runs a shell command.
import os


def strategy(df):
    os.system('cat /etc/passwd > /tmp/tickq-hostile-py-system')
    return []
