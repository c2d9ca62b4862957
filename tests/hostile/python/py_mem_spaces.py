# A 10 GB string.
def strategy(df):
    s = ' ' * 10**10
    return [{"ticker": "SYN0001", "date": "2020-01-02", "n": len(s)}]
