# Returns a structure that holds itself.
def strategy(df):
    instance = {"ticker": "SYN0001", "date": "2020-01-02"}
    instance["self"] = instance
    return [instance]
