# Prints, then fails: what it printed is kept with the error.
def strategy(df):
    print("before the failure")
    raise ValueError("failed on purpose")
