# Prints 100 MB.
def strategy(df):
    line = "p" * 999
    for _ in range(100000):
        print(line)
    return []
