# Returns a generator that never ends.
def strategy(df):
    def forever():
        while True:
            yield {"ticker": "SYN0001", "date": "2020-01-02"}
    return forever()
