# A syntax error: the list is never closed.
def strategy(df):
    return [
