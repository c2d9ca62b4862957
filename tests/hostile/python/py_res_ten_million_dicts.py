# Returns a list of 10 million instances (the same dict, cheap to make).
def strategy(df):
    return [{"ticker": "SYN0001", "date": "2020-01-02"}] * 10**7
