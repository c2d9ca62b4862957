# Returns a list of 10 million elements that are not instances.
def strategy(df):
    return [0] * 10**7
