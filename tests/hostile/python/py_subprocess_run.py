# Runs a program through subprocess (already imported by the warm
# interpreter's libraries, so no import stops it).
import subprocess


def strategy(df):
    subprocess.run(['id'])
    return []
