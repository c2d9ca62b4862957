# Loops inside C code (a catastrophic regular expression): nothing of
# Python's runs until it returns, so only the wall clock stops it.
import re


def strategy(df):
    re.match(r'(a*)*b', 'a' * 64)
    return []
