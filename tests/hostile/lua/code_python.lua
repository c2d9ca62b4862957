# Python, not Lua.
import pandas as pd
def strategy(df):
    return []
