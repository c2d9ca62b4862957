# A Python strategy given memory_mb under Python's minimum of 64.
def strategy(df):
    return []
