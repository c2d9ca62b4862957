# A list that grows forever.
def strategy(df):
    grow = []
    while True:
        grow.append([len(grow)] * 1000)
